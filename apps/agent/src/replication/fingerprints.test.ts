// Block fingerprints (hashpool.ts) and the signature cache that keeps them (signatures.ts): a
// re-read file keeps the SHA-256 of blocks whose fingerprint did not move and hashes the others.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE, HASH_BYTES, signFile } from './blocks.ts';
import { FINGERPRINT_BYTES, type FingerprintBasis, hashedRanges, POOL_MIN_BYTES } from './hashpool.ts';
import { SignatureCache } from './signatures.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-fp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = POOL_MIN_BYTES * 2 + BLOCK_SIZE / 2; // on the pool, with a partial last block
const blocks = Math.ceil(SIZE / BLOCK_SIZE);

function sha256Blocks(file: string): Buffer {
  const data = readFileSync(file);
  const out = Buffer.alloc(blocks * HASH_BYTES);
  for (let i = 0; i < blocks; i++) createHash('sha256').update(data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)).digest().copy(out, i * HASH_BYTES);
  return out;
}

async function hashAll(file: string, basis?: FingerprintBasis): Promise<{ hashes: Buffer; fingerprints?: Buffer }> {
  const fh = await open(file, 'r');
  try {
    const hashes = Buffer.alloc(blocks * HASH_BYTES);
    const fingerprints = Buffer.alloc(blocks * FINGERPRINT_BYTES);
    let withFp = true;
    for await (const r of hashedRanges(fh, SIZE, false, basis)) {
      r.hashes.copy(hashes, (r.pos / BLOCK_SIZE) * HASH_BYTES);
      if (r.fingerprints) r.fingerprints.copy(fingerprints, (r.pos / BLOCK_SIZE) * FINGERPRINT_BYTES);
      else withFp = false;
    }
    return { hashes, fingerprints: withFp ? fingerprints : undefined };
  } finally {
    await fh.close();
  }
}

function rewriteBlocks(file: string, indices: number[]): void {
  const fd = openSync(file, 'r+');
  try {
    for (const i of indices) writeSync(fd, randomBytes(Math.min(BLOCK_SIZE, SIZE - i * BLOCK_SIZE)), 0, undefined, i * BLOCK_SIZE);
  } finally {
    closeSync(fd);
  }
}

describe('block fingerprints', () => {
  const file = path.join(dir, 'big.bin');
  const key = randomBytes(16);

  it('hash every block with SHA-256 as before and add one 16-byte fingerprint per block', async () => {
    writeFileSync(file, Buffer.concat([randomBytes(BLOCK_SIZE * 3), Buffer.alloc(BLOCK_SIZE * 2), randomBytes(SIZE - BLOCK_SIZE * 5)]));
    const first = await hashAll(file, { key });
    expect(first.hashes.equals(sha256Blocks(file))).toBe(true);
    expect(first.fingerprints?.length).toBe(blocks * FINGERPRINT_BYTES);
    // The same content under the same key gives the same fingerprints; another key gives others.
    expect((await hashAll(file, { key })).fingerprints?.equals(first.fingerprints!)).toBe(true);
    expect((await hashAll(file, { key: randomBytes(16) })).fingerprints?.equals(first.fingerprints!)).toBe(false);
  });

  it('after a change, re-hash only the blocks whose fingerprint moved and still match a full SHA-256 pass', async () => {
    const before = await hashAll(file, { key });
    rewriteBlocks(file, [1, 70, blocks - 1]);
    const after = await hashAll(file, { key, fingerprints: before.fingerprints, hashes: before.hashes });
    expect(after.hashes.equals(sha256Blocks(file))).toBe(true);
    for (let i = 0; i < blocks; i++) {
      const same = after.fingerprints!.subarray(i * FINGERPRINT_BYTES, (i + 1) * FINGERPRINT_BYTES).equals(before.fingerprints!.subarray(i * FINGERPRINT_BYTES, (i + 1) * FINGERPRINT_BYTES));
      expect(same, `block ${i}`).toBe(![1, 70, blocks - 1].includes(i));
    }
  });

  it('take an unchanged block’s hash from the basis instead of hashing it (shown with a planted hash)', async () => {
    const basis = await hashAll(file, { key });
    const planted = Buffer.from(basis.hashes);
    planted.fill(0xab, 5 * HASH_BYTES, 6 * HASH_BYTES); // block 5 did not change: its basis hash is kept as given
    const out = await hashAll(file, { key, fingerprints: basis.fingerprints, hashes: planted });
    expect(out.hashes.subarray(5 * HASH_BYTES, 6 * HASH_BYTES).equals(Buffer.alloc(HASH_BYTES, 0xab))).toBe(true);
    // A basis from another key never matches, so every block is hashed afresh.
    const otherKey = await hashAll(file, { key: randomBytes(16), fingerprints: basis.fingerprints, hashes: planted });
    expect(otherKey.hashes.equals(sha256Blocks(file))).toBe(true);
  });
});

describe('signature cache with fingerprints', () => {
  it('offer a changed file’s previous version as a basis, for the same inode only', async () => {
    const file = path.join(dir, 'cached.bin');
    writeFileSync(file, randomBytes(BLOCK_SIZE * 8));
    const cache = new SignatureCache();
    const st = statSync(file);
    const hashes = (await signFile(file)).hashes;
    const fps = randomBytes(8 * FINGERPRINT_BYTES);
    cache.set(file, st, hashes, fps);
    expect(cache.get(file, st)?.hashes.equals(hashes)).toBe(true);
    const changed = { ...st, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs + 1000, ctimeMs: st.ctimeMs + 1000 };
    expect(cache.get(file, changed)).toBeUndefined();
    expect(cache.own(file, st).exact?.hashes.equals(hashes)).toBe(true);
    const { exact, basis } = cache.own(file, changed);
    expect(exact).toBeUndefined();
    expect(basis.fingerprints?.equals(fps)).toBe(true);
    expect(basis.hashes?.equals(hashes)).toBe(true);
    const other = cache.own(file, { ...changed, ino: st.ino + 1 });
    expect(other.basis.fingerprints).toBeUndefined();
    expect(other.basis.key.equals(basis.key)).toBe(true);
  });

  it('persist the key and fingerprints in a file only its owner can read, and ignore a file of the old format', async () => {
    const file = path.join(dir, 'persisted.bin');
    writeFileSync(file, randomBytes(BLOCK_SIZE * 8));
    const st = statSync(file);
    const store = path.join(dir, 'signatures.json');
    const a = new SignatureCache(store);
    const hashes = (await signFile(file)).hashes;
    const fps = randomBytes(8 * FINGERPRINT_BYTES);
    a.set(file, st, hashes, fps);
    await a.flush();
    expect(statSync(store).mode & 0o777).toBe(0o600);
    const b = new SignatureCache(store);
    await b.load();
    expect(b.get(file, st)?.hashes.equals(hashes)).toBe(true);
    const moved = { ...st, mtimeMs: st.mtimeMs + 1 };
    expect(b.own(file, moved).basis.key.equals(a.own(file, moved).basis.key)).toBe(true);
    expect(b.own(file, moved).basis.fingerprints?.equals(fps)).toBe(true);

    writeFileSync(store, JSON.stringify([[file, st.ino, st.size, st.mtimeMs, st.ctimeMs, hashes.toString('base64')]]));
    const c = new SignatureCache(store);
    await c.load();
    expect(c.get(file, st)).toBeUndefined();
  });
});
