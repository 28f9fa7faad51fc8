// Block signatures let the checksum mirror send only what differs: each side hashes a file in
// fixed-size blocks (128 KiB, sha256 each) and the source sends just the blocks whose hashes do not
// match the target's. Fixed blocks (not rolling rsync-style windows) are right for what we replicate:
// databases, VM images and documents change in place far more often than they shift by insertions,
// and both sides can hash independently in one sequential read. All-zero blocks are recognised with
// a memcmp and get a precomputed hash, so a mostly-sparse 1 GiB file costs a read, not a hash.
// Big files are hashed in parallel block ranges on a few worker threads (hashpool.ts).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { hashedRanges } from './hashpool.ts';

export const BLOCK_SIZE = 128 * 1024;
export const HASH_BYTES = 32;

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);
const ZERO_BLOCK_HASH = createHash('sha256').update(ZERO_BLOCK).digest();

export function isZero(buf: Buffer): boolean {
  if (buf.length === BLOCK_SIZE) return buf.equals(ZERO_BLOCK);
  return buf.equals(ZERO_BLOCK.subarray(0, buf.length));
}

/** sha256 of one block, with the all-zero shortcut. */
export function hashBlock(buf: Buffer): Buffer {
  if (buf.length === BLOCK_SIZE && buf.equals(ZERO_BLOCK)) return ZERO_BLOCK_HASH;
  return createHash('sha256').update(buf).digest();
}

export interface Signature {
  blockSize: number;
  size: number;
  /** blockCount × 32 bytes of sha256, block i at i*32. */
  hashes: Buffer;
}

export function blockCount(size: number, blockSize = BLOCK_SIZE): number {
  return Math.ceil(size / blockSize);
}

/**
 * Signature of a file (its size as read; a concurrent writer is the caller's business). Big files
 * are hashed on the worker pool in parallel ranges (hashpool.ts), small ones on this thread.
 */
export async function signFile(file: string): Promise<Signature> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const hashes = Buffer.alloc(blockCount(size) * HASH_BYTES);
    let read = 0;
    for await (const r of hashedRanges(fh, size, false)) {
      r.hashes.copy(hashes, (r.pos / BLOCK_SIZE) * HASH_BYTES);
      read = r.pos + r.read;
    }
    return { blockSize: BLOCK_SIZE, size: read, hashes: hashes.subarray(0, blockCount(read) * HASH_BYTES) };
  } finally {
    await fh.close();
  }
}

/** Whether block `index` of the other side (signature `sig`) differs from a block hashed `hash` of length `len`. */
export function blockDiffers(sig: Signature | undefined, index: number, hash: Buffer, len: number): boolean {
  if (!sig || sig.blockSize !== BLOCK_SIZE) return true;
  const count = sig.hashes.length / HASH_BYTES;
  if (index >= count) return true;
  const theirLen = index === count - 1 ? sig.size - index * BLOCK_SIZE : BLOCK_SIZE;
  if (theirLen !== len) return true;
  return !hash.equals(sig.hashes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES));
}

/** Indices of the blocks of a file described by `ours` that differ from `theirs` (and so must be sent). */
export function diffSignatures(ours: Signature, theirs: Signature | undefined): number[] {
  const out: number[] = [];
  const count = ours.hashes.length / HASH_BYTES;
  for (let i = 0; i < count; i++) {
    const len = i === count - 1 ? ours.size - i * BLOCK_SIZE : BLOCK_SIZE;
    if (blockDiffers(theirs, i, ours.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), len)) out.push(i);
  }
  return out;
}
