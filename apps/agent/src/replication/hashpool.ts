// Block hashing of big files on a small pool of worker threads, so hashing a 1 GiB file takes the
// time of reading it on all cores instead of SHA-256 on one (both sides of a delta hash whole files:
// the source when its own signature is stale, the target when it has none cached).
// - Pool: one worker per available core (os.availableParallelism(); TANDEM_HASH_THREADS overrides,
//   0 = never use threads), created on first use and unref'd while idle so they never keep a
//   process alive. The workers' code is an inline CommonJS string run with `eval: true`: the agent
//   is bundled into one file (apps/agent/build.mjs) and tests run the TypeScript sources, so there
//   is no worker file to point at; the string needs neither.
// - Work unit: a RANGE of 64 blocks (8 MiB) read with one large block-aligned pread in the worker
//   (the fd is the caller's: fds are per process), hashed block by block with the same digest as
//   blocks.ts (SHA-256 per 128 KiB block, all-zero blocks recognised with a memcmp). SHA-256 stays:
//   with the CPU's SHA extensions it is the fastest 128-bit-secure digest node:crypto offers here
//   (measured: sha256 ≈ 1.45 GiB/s, blake2b512 ≈ 1.1, sha512-256 ≈ 0.9 per core).
// - Streaming: hashedRanges() keeps 2 ranges per worker in flight and yields them IN FILE ORDER as
//   they complete, so a caller sends the first changed block while later ranges are still being
//   read (no full-file pass first). With `keepData` the range's bytes come back too (its buffer is
//   transferred, not copied, and recycled for a later range once the caller moves on): the bytes
//   sent for a block are exactly the bytes that were hashed.
// - Fingerprints (optional, `basis` argument): next to its SHA-256 each block gets a 16-byte keyed
//   fingerprint, GMAC (the AES-128-GCM tag of the block as associated data, fixed nonce) under a
//   secret key that never leaves this machine (signatures.ts). GHASH runs on the CPU's carry-less
//   multiply: ~0.2 s per GiB against ~0.65 s for SHA-256. Given the fingerprints and hashes of the
//   file's previous version, a block whose fingerprint did not change keeps its previous SHA-256
//   and only the others are hashed again, so re-reading a big file after a small change costs the
//   read plus GMAC. For a key unknown to whoever wrote the data, two different blocks share a tag
//   with probability below 2^-115 (GHASH is a polynomial universal hash); SHA-256 stays the digest
//   that crosses the wire and that verify compares.
// - Small files (< POOL_MIN_BYTES) are hashed inline: a thread hand-off costs more than it saves
//   (inline hashing computes SHA-256 only, no fingerprints).
// - The caller's fd must stay open until the iteration ends: the generator's `finally` waits for
//   every range still in a worker, also when the caller stops early or a read fails, so an fd is
//   never closed (and its number reused by another file) under a worker's read.
// - A worker that dies fails its ranges (the caller's file operation fails and is retried like any
//   read error) and is replaced on next use; if threads cannot be created at all, hashing is inline.
import { createHash } from 'node:crypto';
import { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** Files smaller than this are hashed on the calling thread. */
export const POOL_MIN_BYTES = 8 * 1024 * 1024;
const BLOCK = 128 * 1024;
const HASH_BYTES = 32;
export const FINGERPRINT_BYTES = 16;
/** Bytes per work unit (64 blocks): one pread, one message each way. */
export const RANGE_BYTES = 64 * BLOCK;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createCipheriv, createHash } = require('node:crypto');
const BLOCK = ${BLOCK};
const HASH_BYTES = ${HASH_BYTES};
const FP_BYTES = ${FINGERPRINT_BYTES};
const ZERO = Buffer.alloc(BLOCK);
const ZERO_HASH = createHash('sha256').update(ZERO).digest();
const NONCE = Buffer.alloc(12);
const zeroFp = new Map();
let scratch;
function gmac(key, b) {
  const c = createCipheriv('aes-128-gcm', key, NONCE);
  c.setAAD(b);
  c.final();
  return c.getAuthTag();
}
parentPort.on('message', (t) => {
  try {
    const buf = t.buf ? Buffer.from(t.buf, 0, t.len) : (scratch ??= Buffer.allocUnsafe(${RANGE_BYTES})).subarray(0, t.len);
    let got = 0;
    while (got < t.len) {
      const n = readSync(t.fd, buf, got, t.len - got, t.pos + got);
      if (n === 0) break;
      got += n;
    }
    const count = Math.ceil(got / BLOCK);
    const out = new ArrayBuffer(count * HASH_BYTES);
    const hashes = Buffer.from(out);
    const fpOut = t.fp ? new ArrayBuffer(count * FP_BYTES) : undefined;
    const fps = fpOut && Buffer.from(fpOut);
    const key = t.fp && Buffer.from(t.fp.key);
    const prevFp = t.fp && t.fp.prevFp && Buffer.from(t.fp.prevFp);
    const prevHashes = t.fp && t.fp.prevHashes && Buffer.from(t.fp.prevHashes);
    for (let i = 0; i < count; i++) {
      const b = buf.subarray(i * BLOCK, Math.min(got, (i + 1) * BLOCK));
      const zero = b.length === BLOCK && b.equals(ZERO);
      if (!fps) {
        (zero ? ZERO_HASH : createHash('sha256').update(b).digest()).copy(hashes, i * HASH_BYTES);
        continue;
      }
      let fp;
      if (zero) {
        const k = key.toString('hex');
        fp = zeroFp.get(k);
        if (!fp) zeroFp.set(k, (fp = gmac(key, ZERO)));
      } else fp = gmac(key, b);
      fp.copy(fps, i * FP_BYTES);
      const same = prevFp && prevHashes && (i + 1) * FP_BYTES <= prevFp.length && (i + 1) * HASH_BYTES <= prevHashes.length
        && fp.equals(prevFp.subarray(i * FP_BYTES, (i + 1) * FP_BYTES));
      if (same) prevHashes.copy(hashes, i * HASH_BYTES, i * HASH_BYTES, (i + 1) * HASH_BYTES);
      else (zero ? ZERO_HASH : createHash('sha256').update(b).digest()).copy(hashes, i * HASH_BYTES);
    }
    const transfer = fpOut ? [out, fpOut] : [out];
    if (t.buf) transfer.push(t.buf);
    parentPort.postMessage({ id: t.id, read: got, hashes: out, fps: fpOut, buf: t.buf }, transfer);
  } catch (err) {
    parentPort.postMessage({ id: t.id, error: String(err && err.message), code: err && err.code, buf: t.buf }, t.buf ? [t.buf] : []);
  }
});
`;

interface Task {
  id: number;
  fd: number;
  pos: number;
  len: number;
  buf?: ArrayBuffer;
  /** Fingerprint the blocks too; reuse prevHashes[i] where prevFp[i] matches (the range's slices). */
  fp?: { key: Uint8Array; prevFp?: Uint8Array; prevHashes?: Uint8Array };
}

interface Reply {
  id: number;
  read?: number;
  hashes?: ArrayBuffer;
  fps?: ArrayBuffer;
  buf?: ArrayBuffer;
  error?: string;
  code?: string;
}

export interface HashedRange {
  /** File offset of the range (block-aligned). */
  pos: number;
  /** Bytes asked for; `read` < `len` means the file ended early (it shrank under us). */
  len: number;
  read: number;
  /** One 32-byte digest per block read (the last one may cover a partial block). */
  hashes: Buffer;
  /** With a basis: one 16-byte fingerprint per block read (absent when hashed inline). */
  fingerprints?: Buffer;
  /** With keepData: the bytes read (valid until the iteration moves on). */
  data?: Buffer;
}

type Pending = { resolve: (r: Reply) => void; reject: (e: Error) => void };

class PoolWorker {
  readonly pending = new Map<number, Pending>();
  dead = false;
  constructor(readonly worker: Worker) {}
}

class HashPool {
  private workers: PoolWorker[] = [];
  private nextId = 0;
  private rr = 0;

  constructor(readonly size: number) {}

  private spawn(): PoolWorker {
    const w = new PoolWorker(new Worker(WORKER_SOURCE, { eval: true }));
    w.worker.unref();
    const fail = (err: Error) => {
      if (w.dead) return;
      w.dead = true;
      this.workers = this.workers.filter((x) => x !== w);
      for (const p of w.pending.values()) p.reject(err);
      w.pending.clear();
      void w.worker.terminate().catch(() => undefined);
    };
    w.worker.on('message', (r: Reply) => {
      const p = w.pending.get(r.id);
      if (!p) return;
      w.pending.delete(r.id);
      if (w.pending.size === 0) w.worker.unref();
      p.resolve(r);
    });
    w.worker.on('error', fail);
    w.worker.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
    return w;
  }

  /** Reads and hashes one range on the least busy worker. */
  run(task: Omit<Task, 'id'>): Promise<Reply> {
    while (this.workers.length < this.size) this.workers.push(this.spawn());
    let w = this.workers[this.rr++ % this.workers.length]!;
    for (const x of this.workers) if (x.pending.size < w.pending.size) w = x;
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (w.pending.size === 0) w.worker.ref();
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage({ ...task, id } satisfies Task, task.buf ? [task.buf] : []);
    });
  }
}

let pool: HashPool | null | undefined;

/** The process-wide pool, or null when hashing stays on the calling thread. */
function getPool(): HashPool | null {
  if (pool !== undefined) return pool;
  const env = process.env.TANDEM_HASH_THREADS;
  const n = env !== undefined && env !== '' ? Number(env) : Math.min(8, os.availableParallelism?.() ?? os.cpus().length);
  pool = Number.isInteger(n) && n > 0 ? new HashPool(n) : null;
  return pool;
}

const ZERO_BLOCK = Buffer.alloc(BLOCK);
const ZERO_HASH = createHash('sha256').update(ZERO_BLOCK).digest();

function hashInline(buf: Buffer, hashes: Buffer): void {
  for (let i = 0; i * BLOCK < buf.length; i++) {
    const b = buf.subarray(i * BLOCK, (i + 1) * BLOCK);
    const h = b.length === BLOCK && b.equals(ZERO_BLOCK) ? ZERO_HASH : createHash('sha256').update(b).digest();
    h.copy(hashes, i * HASH_BYTES);
  }
}

/** What fingerprinting needs: the machine's key and, when known, the file's previous version. */
export interface FingerprintBasis {
  key: Buffer;
  /** The previous version's fingerprints and SHA-256 hashes, block i at i×16 and i×32. */
  fingerprints?: Buffer;
  hashes?: Buffer;
}

/**
 * Reads `fh` from offset 0 to `size` in block-aligned ranges and hashes every block, yielding the
 * ranges in file order (see the header). Stops after a short range (the file shrank). With `basis`
 * the blocks are fingerprinted too and unchanged ones keep their previous hash.
 */
export async function* hashedRanges(fh: FileHandle, size: number, keepData: boolean, basis?: FingerprintBasis): AsyncGenerator<HashedRange> {
  const p = size >= POOL_MIN_BYTES ? getPool() : null;
  if (!p) {
    const buf = Buffer.allocUnsafe(Math.min(RANGE_BYTES, Math.max(1, size)));
    for (let pos = 0; pos < size; ) {
      const len = Math.min(RANGE_BYTES, size - pos);
      let read = 0;
      while (read < len) {
        const { bytesRead } = await fh.read(buf, read, len - read, pos + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const hashes = Buffer.allocUnsafe(Math.ceil(read / BLOCK) * HASH_BYTES);
      hashInline(buf.subarray(0, read), hashes);
      yield { pos, len, read, hashes, data: keepData ? buf.subarray(0, read) : undefined };
      if (read < len) return;
      pos += len;
    }
    return;
  }
  const depth = p.size * 2;
  const free: ArrayBuffer[] = [];
  const inflight: { pos: number; len: number; reply: Promise<Reply> }[] = [];
  let next = 0;
  const launch = () => {
    while (inflight.length < depth && next < size) {
      const len = Math.min(RANGE_BYTES, size - next);
      const buf = keepData ? (free.pop() ?? new ArrayBuffer(RANGE_BYTES)) : undefined;
      const reply = p.run({ fd: fh.fd, pos: next, len, buf, fp: basis && fingerprintTask(basis, next, len) });
      reply.catch(() => undefined); // awaited in order below; never an unhandled rejection
      inflight.push({ pos: next, len, reply });
      next += len;
    }
  };
  try {
    launch();
    while (inflight.length) {
      const { pos, len, reply } = inflight.shift()!;
      const r = await reply;
      if (r.error !== undefined) throw Object.assign(new Error(r.error), r.code ? { code: r.code } : {});
      const read = r.read!;
      yield { pos, len, read, hashes: Buffer.from(r.hashes!), fingerprints: r.fps && Buffer.from(r.fps), data: r.buf ? Buffer.from(r.buf, 0, read) : undefined };
      if (r.buf) free.push(r.buf);
      if (read < len) return;
      launch();
    }
  } finally {
    // Never let the caller close the fd while a worker may still read it.
    await Promise.allSettled(inflight.map((x) => x.reply));
  }
}

/** The slices of a basis that one range needs, as their own small arrays (~3 KiB; a view would clone its whole buffer). */
function fingerprintTask(basis: FingerprintBasis, pos: number, len: number): Task['fp'] {
  const first = pos / BLOCK;
  const count = Math.ceil(len / BLOCK);
  const prev = basis.fingerprints && basis.hashes && first * FINGERPRINT_BYTES < basis.fingerprints.length;
  return {
    key: new Uint8Array(basis.key),
    prevFp: prev ? new Uint8Array(basis.fingerprints!.subarray(first * FINGERPRINT_BYTES, (first + count) * FINGERPRINT_BYTES)) : undefined,
    prevHashes: prev ? new Uint8Array(basis.hashes!.subarray(first * HASH_BYTES, (first + count) * HASH_BYTES)) : undefined,
  };
}
