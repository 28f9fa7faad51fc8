// SCRAM-SHA-256: the replication password is sent to the server as the verifier computed here, so
// it never appears in a statement the server could log.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** SASLprep (RFC 4013), enough for PostgreSQL's behaviour: map, NFKC; prohibited output → raw password. */
export function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const mapToNothing = (c: number) => c === 0xad || c === 0x34f || c === 0x1806 || (c >= 0x180b && c <= 0x180d) || (c >= 0x200b && c <= 0x200d) || c === 0x2060 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff;
  const space = (c: number) => c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000;
  const mapped = [...password]
    .filter((ch) => !mapToNothing(ch.codePointAt(0)!))
    .map((ch) => (space(ch.codePointAt(0)!) ? ' ' : ch))
    .join('')
    .normalize('NFKC');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u06dd\u070f\u180e\u200e\u200f\u2028-\u202e\u206a-\u206f\ufff9-\ufffd\ue000-\uf8ff]/.test(mapped)) return password;
  return mapped;
}

/** The SCRAM-SHA-256 verifier PostgreSQL stores for a password (what `\password` sends). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(saslprep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether a stored rolpassword is the SCRAM verifier of `password`. */
export function verifierMatches(stored: string | null, password: string): boolean {
  const m = stored ? /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$/.exec(stored) : null;
  if (!m) return false;
  return scramVerifier(password, Buffer.from(m[2]!, 'base64'), Number(m[1])) === stored;
}
