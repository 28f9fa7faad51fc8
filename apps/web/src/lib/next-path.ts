/**
 * Where to go after signing in or out: only a path on this site (never another origin, `//host`
 * or a backslash trick), so a crafted link cannot send someone elsewhere after they sign in.
 */
export function safeNextPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 500) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  return value;
}
