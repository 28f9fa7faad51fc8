import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Secrets at rest (TOTP seeds, DNS keys, domain passwords) are sealed with AES-256-GCM under the
// server key TANDEM_ENCRYPTION_KEY (32 bytes, base64). Format: v1.<iv>.<tag>.<ciphertext>, base64url.

function key(): Buffer {
  const raw = process.env.TANDEM_ENCRYPTION_KEY;
  if (!raw) throw new Error('TANDEM_ENCRYPTION_KEY is not set');
  const k = Buffer.from(raw, 'base64');
  if (k.length !== 32) throw new Error('TANDEM_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  return k;
}

export function sealSecret(plaintext: string, context = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(), iv);
  // The context (e.g. "user:<id>:totp") binds a ciphertext to its row: it cannot be copied to another.
  cipher.setAAD(Buffer.from(context));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
}

export function openSecret(sealed: string, context = ''): string {
  const [version, iv, tag, ct] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key(), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
