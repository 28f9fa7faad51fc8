// Quoting for SQL, postgresql.conf and libpq connection strings (names need no quoting anywhere:
// the protocol's schemas restrict them), and redaction of secrets from error messages.

export const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const sqlIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** A value in postgresql.conf / postgresql.auto.conf (as ALTER SYSTEM writes it). */
export const confString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
/** A libpq connection string from key/value pairs (undefined values left out). */
export function conninfo(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);
