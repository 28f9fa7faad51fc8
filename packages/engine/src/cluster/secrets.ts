// A stored cluster configuration may hold secrets (a fence device's password, a resource's API
// key). Before a configuration is shown (the portal's diff), the values of secret-looking
// parameters are replaced: in a Pacemaker CIB the nvpairs whose name says so, in a Windows
// manifest (JSON) the properties — and {Name, Value} parameters — whose name says so.

const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|credential|private|psk|community|(^|[-_.])(api)?key($|[-_.])/i;
export const HIDDEN_VALUE = '(hidden)';

export const isSecretName = (name: string) => SECRET_NAME.test(name);

function hideJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(hideJson);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const named = typeof o.Name === 'string' && isSecretName(o.Name);
  return Object.fromEntries(
    Object.entries(o).map(([k, x]) => [k, (named && k === 'Value') || (isSecretName(k) && typeof x !== 'object') ? HIDDEN_VALUE : hideJson(x)]),
  );
}

/** The configuration with secret-looking values replaced by "(hidden)"; the rest unchanged. */
export function hideClusterSecrets(text: string): string {
  const start = text.trimStart()[0];
  if (start === '{' || start === '[') {
    try {
      return JSON.stringify(hideJson(JSON.parse(text)), null, 2);
    } catch {
      // Not JSON after all: treated as text below.
    }
  }
  return text.replace(/<nvpair\b[^>]*>/g, (tag) => {
    const m = /\bname\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(tag);
    const name = m?.[1] ?? m?.[2];
    if (!name || !isSecretName(name)) return tag;
    return tag.replace(/\bvalue\s*=\s*(?:"[^"]*"|'[^']*')/, `value="${HIDDEN_VALUE}"`);
  });
}
