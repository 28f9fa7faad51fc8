// Block maths (blocks.ts): block counts, zero detection, signatures of real files, and which blocks
// a delta must send (including size changes and a partial last block).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE, blockCount, blockDiffers, diffSignatures, HASH_BYTES, hashBlock, isZero, type Signature, signFile } from './blocks.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-blocks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The signature of `data`, computed here independently of signFile. */
function signBuffer(data: Buffer): Signature {
  const n = blockCount(data.length);
  const hashes = Buffer.alloc(n * HASH_BYTES);
  for (let i = 0; i < n; i++) createHash('sha256').update(data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)).digest().copy(hashes, i * HASH_BYTES);
  return { blockSize: BLOCK_SIZE, size: data.length, hashes };
}

describe('blockCount', () => {
  it.each([
    [0, 0],
    [1, 1],
    [BLOCK_SIZE - 1, 1],
    [BLOCK_SIZE, 1],
    [BLOCK_SIZE + 1, 2],
    [10 * BLOCK_SIZE, 10],
  ])('%i bytes → %i blocks', (size, n) => expect(blockCount(size)).toBe(n));

  it('takes another block size', () => expect(blockCount(10_000, 4096)).toBe(3));
});

describe('isZero and hashBlock', () => {
  it('recognises all-zero buffers of any length up to a block, and nothing else', () => {
    expect(isZero(Buffer.alloc(BLOCK_SIZE))).toBe(true);
    expect(isZero(Buffer.alloc(100))).toBe(true);
    expect(isZero(Buffer.alloc(0))).toBe(true);
    const b = Buffer.alloc(BLOCK_SIZE);
    b[BLOCK_SIZE - 1] = 1;
    expect(isZero(b)).toBe(false);
  });

  it('hashes like sha256, the zero shortcut included', () => {
    for (const b of [Buffer.alloc(BLOCK_SIZE), randomBytes(BLOCK_SIZE), randomBytes(17), Buffer.alloc(5)]) {
      expect(hashBlock(b).equals(createHash('sha256').update(b).digest())).toBe(true);
    }
  });
});

describe('signFile', () => {
  it('hashes a file block by block, partial last block and empty file included', async () => {
    for (const size of [0, 1, BLOCK_SIZE, 3 * BLOCK_SIZE + 123]) {
      const data = randomBytes(size);
      const f = path.join(dir, `f${size}`);
      writeFileSync(f, data);
      const sig = await signFile(f);
      expect(sig.size).toBe(size);
      expect(sig.hashes.equals(signBuffer(data).hashes)).toBe(true);
    }
  });
});

describe('diffSignatures / blockDiffers', () => {
  const base = randomBytes(5 * BLOCK_SIZE + 1000);

  it('sends nothing for equal content and every block when the other side has nothing', () => {
    expect(diffSignatures(signBuffer(base), signBuffer(base))).toEqual([]);
    expect(diffSignatures(signBuffer(base), undefined)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('sends exactly the blocks that changed', () => {
    const changed = Buffer.from(base);
    changed[BLOCK_SIZE + 5]! ^= 0xff;
    changed[4 * BLOCK_SIZE]! ^= 0xff;
    expect(diffSignatures(signBuffer(changed), signBuffer(base))).toEqual([1, 4]);
  });

  it('appending sends the old partial last block and the new ones', () => {
    const longer = Buffer.concat([base, randomBytes(2 * BLOCK_SIZE)]);
    expect(diffSignatures(signBuffer(longer), signBuffer(base))).toEqual([5, 6, 7]);
  });

  it('truncating to a block boundary sends nothing; inside a block sends that block', () => {
    expect(diffSignatures(signBuffer(base.subarray(0, 3 * BLOCK_SIZE)), signBuffer(base))).toEqual([]);
    expect(diffSignatures(signBuffer(base.subarray(0, 3 * BLOCK_SIZE + 10)), signBuffer(base))).toEqual([3]);
  });

  it('a signature made with another block size matches nothing', () => {
    const other = { ...signBuffer(base), blockSize: 4096 };
    expect(blockDiffers(other, 0, signBuffer(base).hashes.subarray(0, HASH_BYTES), BLOCK_SIZE)).toBe(true);
  });

  it('a block past the end of the other side always differs', () => {
    const sig = signBuffer(base);
    expect(blockDiffers(sig, 6, hashBlock(Buffer.alloc(BLOCK_SIZE)), BLOCK_SIZE)).toBe(true);
  });
});
