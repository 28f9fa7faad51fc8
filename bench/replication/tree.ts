// Deterministic test data for the replication benchmark: a seeded PRNG picks the layout and sizes,
// AES-256-CTR over zeros (keyed by the seed, IV = file number) makes the content — incompressible,
// reproducible, and produced at GB/s so generation does not dominate the run.
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import path from 'node:path';

export const MiB = 1024 * 1024;
const CHUNK = 8 * MiB;
const ZEROS = Buffer.alloc(CHUNK);

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deterministic byte stream: stream(seed, n) yields the same bytes every run. */
export function contentStream(seed: string, n: number) {
  const key = createHash('sha256').update(`tandem-bench:${seed}`).digest();
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(n, 12);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return (len: number): Buffer => (len <= CHUNK ? cipher.update(ZEROS.subarray(0, len)) : cipher.update(Buffer.alloc(len)));
}

/** Writes `size` deterministic bytes to `file` (created or truncated). */
export function writeContent(file: string, size: number, seed: string, n: number): void {
  const next = contentStream(seed, n);
  const fd = openSync(file, 'w', 0o644);
  try {
    for (let off = 0; off < size; ) {
      const len = Math.min(CHUNK, size - off);
      const buf = next(len);
      let done = 0;
      while (done < len) done += writeSync(fd, buf, done, len - done, off + done);
      off += len;
    }
  } finally {
    closeSync(fd);
  }
}

export interface TreeStats {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  small: { files: number; bytes: number };
  medium: { files: number; bytes: number };
  large: { files: number; bytes: number };
}

/**
 * A mixed tree of about `totalMiB`: ~25 % of the bytes in many small files (1–64 KiB, spread over
 * nested directories), ~25 % in medium files (1–16 MiB), ~50 % in a few large files (the rest split
 * into up to 4). Plus a few empty directories and symlinks. Fixed mtimes so every run is identical.
 */
export function buildMixedTree(root: string, totalMiB: number, seed = 4): TreeStats {
  const rnd = prng(seed);
  const total = totalMiB * MiB;
  const stats: TreeStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0, small: { files: 0, bytes: 0 }, medium: { files: 0, bytes: 0 }, large: { files: 0, bytes: 0 } };
  let n = 0;
  const mtime = 1_700_000_000;
  const dirs: string[] = [];
  const mk = (rel: string) => {
    mkdirSync(path.join(root, rel), { recursive: true });
    stats.dirs++;
    dirs.push(rel);
  };
  mkdirSync(root, { recursive: true });
  // Small files: 16 top-level dirs × up to 8 subdirs × a few levels.
  for (let a = 0; a < 16; a++) for (let b = 0; b < 8; b++) mk(`docs/d${a}/s${b}`);
  for (let a = 0; a < 8; a++) mk(`src/m${a}/deep/er/still`);
  const put = (rel: string, size: number, kind: 'small' | 'medium' | 'large') => {
    const file = path.join(root, rel);
    writeContent(file, size, 'tree', n++);
    utimesSync(file, mtime + n, mtime + n);
    stats.files++;
    stats.bytes += size;
    stats[kind].files++;
    stats[kind].bytes += size;
  };
  const smallBudget = total * 0.25;
  for (let used = 0, i = 0; used < smallBudget; i++) {
    const size = 1024 + Math.floor(rnd() * rnd() * 127 * 1024); // skewed toward small: mean ≈ 33 KiB
    put(`${dirs[Math.floor(rnd() * dirs.length)]}/file-${i}.dat`, size, 'small');
    used += size;
  }
  mk('media');
  const mediumBudget = total * 0.25;
  for (let used = 0, i = 0; used < mediumBudget; i++) {
    const size = Math.min(mediumBudget - used, MiB + Math.floor(rnd() * 15 * MiB));
    put(`media/clip-${i}.bin`, Math.max(1, Math.round(size)), 'medium');
    used += size;
  }
  mk('images');
  const largeBudget = Math.max(MiB, total - stats.bytes);
  const largeCount = Math.max(1, Math.min(4, Math.round(largeBudget / (128 * MiB))));
  for (let i = 0; i < largeCount; i++) put(`images/vm-${i}.img`, Math.round(largeBudget / largeCount), 'large');
  for (let i = 0; i < 4; i++) mk(`empty/e${i}`);
  symlinkSync('../media', path.join(root, 'docs/media-link'));
  symlinkSync('images/vm-0.img', path.join(root, 'current.img'));
  stats.symlinks = 2;
  return stats;
}

/**
 * Rewrites `fraction` of the `blockSize` blocks of `file` (chosen at random, seeded) with new
 * content; returns the changed block indices and bytes.
 */
export function changeBlocks(file: string, size: number, blockSize: number, fraction: number, seed = 7): { blocks: number[]; bytes: number } {
  const count = Math.ceil(size / blockSize);
  const want = Math.max(1, Math.round(count * fraction));
  const rnd = prng(seed);
  const chosen = new Set<number>();
  while (chosen.size < want) chosen.add(Math.floor(rnd() * count));
  const blocks = [...chosen].sort((a, b) => a - b);
  const next = contentStream('delta-change', seed);
  const fd = openSync(file, 'r+');
  let bytes = 0;
  try {
    for (const b of blocks) {
      const len = Math.min(blockSize, size - b * blockSize);
      writeSync(fd, next(len), 0, len, b * blockSize);
      bytes += len;
    }
  } finally {
    closeSync(fd);
  }
  return { blocks, bytes };
}
