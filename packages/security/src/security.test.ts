import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyAgainstNobody, verifyPassword } from './password.ts';
import { openSecret, sealSecret } from './secrets.ts';
import { randomToken, sha256Hex } from './tokens.ts';
import { base32Decode, base32Encode, totpCode, totpUri, verifyTotp } from './totp.ts';

beforeAll(() => {
  process.env.TANDEM_ENCRYPTION_KEY ??= randomBytes(32).toString('base64');
  process.env.TANDEM_BCRYPT_COST ??= '4';
});

describe('TOTP (RFC 6238 test vectors, SHA-1)', () => {
  const secret = base32Encode(Buffer.from('12345678901234567890'));

  it('encodes the RFC key as the well-known base32 string and back', () => {
    expect(secret).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode(secret).toString()).toBe('12345678901234567890');
  });

  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('at %i s the code is %s', (seconds, code) => {
    expect(totpCode(secret, seconds * 1000)).toBe(code);
  });

  it('accepts one step of clock drift either way and nothing further', () => {
    const now = 1_700_000_000_000;
    expect(verifyTotp(secret, totpCode(secret, now - 30_000), now)).toBe(true);
    expect(verifyTotp(secret, totpCode(secret, now + 30_000), now)).toBe(true);
    expect(verifyTotp(secret, totpCode(secret, now - 90_000), now)).toBe(false);
    expect(verifyTotp(secret, 'abcdef', now)).toBe(false);
  });

  it('builds an otpauth URI authenticator apps understand', () => {
    expect(totpUri(secret, 'a@b.test')).toBe(
      `otpauth://totp/Tandem%3Aa%40b.test?secret=${secret}&issuer=Tandem&algorithm=SHA1&digits=6&period=30`,
    );
  });
});

describe('sealed secrets', () => {
  it('round-trips and never contains the plaintext', () => {
    const sealed = sealSecret('dns-key-material', 'credential:1');
    expect(sealed).not.toContain('dns-key-material');
    expect(openSecret(sealed, 'credential:1')).toBe('dns-key-material');
  });

  it('refuses a ciphertext moved to another row (context) or tampered with', () => {
    const sealed = sealSecret('s3cret', 'user:a');
    expect(() => openSecret(sealed, 'user:b')).toThrow();
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => openSecret(parts.join('.'), 'user:a')).toThrow();
  });

  it('seals the same plaintext differently each time', () => {
    expect(sealSecret('x')).not.toBe(sealSecret('x'));
  });
});

describe('passwords and tokens', () => {
  it('verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).not.toContain('correct');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('wrong', hash)).toBe(false);
    expect(await verifyAgainstNobody('anything')).toBe(false);
  });

  it('makes unguessable URL-safe tokens and stores only their hash', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
