// Target side of file content, shared by the mirror applier (apply.ts) and the continuous target
// (continuous.ts): FILE_BEGIN / DATA / FILE_ABORT / FILE_END and FILE_WHOLE frames become files.
// - Atomic per file: content goes into a temp file beside the destination (same directory, so
//   same filesystem) and is renamed over it only when complete, CRC-intact and stamped with its
//   final owner, mode and mtime (owner before mode: chown clears setuid/setgid; mtime last).
// - Sparse files stay sparse: the temp is sized with ftruncate and all-zero 4 KiB pages are never
//   written (HOLE_GRAIN, as rsync -S does; the block signatures stay at 128 KiB). Node has no
//   SEEK_DATA/SEEK_HOLE, so a hole is detected by content, which also turns explicit zero pages
//   into holes — same content, fewer blocks.
// - Deltas (only the blocks that differ travel): as soon as FILE_BEGIN says "delta" the current
//   file is copied into the temp by the kernel (a reflink where the filesystem shares extents, as
//   XFS and btrfs do, so the copy is nearly free; else copy_file_range, no user-space copy), while the
//   source is still reading and hashing; received blocks overwrite it. A sparse current file is
//   instead copied block by block at the end, skipping zero blocks, to keep its holes. On Linux the
//   copy goes into the temp's inode through /proc/self/fd (no name lookup) without COPYFILE_EXCL,
//   which on ext4 starts the copy's write-back when it ends instead of inside the final rename.
// - In place (FILE_BEGIN `inPlace`, a per-pair choice for big files): the changed blocks are written
//   into the destination file itself, so a delta costs the changed bytes instead of a copy of the
//   whole file. Trade-off, documented to the user: a reader of the target may see a change half
//   applied, and an update cut short (abort, CRC failure, crash) leaves the file part new: the
//   writes have moved its mtime and ctime, so the source's retry, the next differences pass and the
//   signature cache all see it as changed and send it again. Only a regular, non-sparse file with a
//   single link is updated in place (anything else takes the copy path): writing through one name of
//   a hard-linked file would change the others, and zero blocks written in place would fill holes.
//   Owner, mode and mtime are stamped after the data, as for a temp file.
// - A replaced big file (>= 8 MiB) is held open across the rename and closed after the
//   acknowledgement: freeing its pages and extents (~0.3 s/GiB) is then not on the path of the next
//   change to that file; dispose() waits for it.
// - Small files (FILE_WHOLE) are written whole by a dedicated writer thread (writer.ts), so the
//   event loop keeps decrypting and parsing frames while inodes are created.
// - Several files are applied at once (their frames may interleave; each carries its fid), so
//   small files do not wait for each other's fs round trips. Operations on related paths (the same
//   path, or one below the other) run in arrival order: `run()` lets the caller order its own
//   operations (deletes, directories, probes) the same way.
// - A frame that failed its CRC cannot be attributed to a file, so it poisons every file still
//   open: those are answered with an error and the source sends them again.
// - Signatures (signatures.ts): after a delta the target knows the new file's block hashes (the old
//   ones + those of the blocks it wrote) and remembers them, so the next delta needs no read.
import { closeSync, constants, existsSync, fchmodSync, fchownSync, ftruncateSync, futimesSync, open as openCallback, type Stats, writeSync } from 'node:fs';
import { chmod, chown, copyFile, lchown, lstat, lutimes, open, rename, rm, type FileHandle, utimes } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type z } from 'zod';
import { BLOCK_SIZE, blockCount, HASH_BYTES, hashBlock, isZero, type Signature } from './blocks.ts';
import { dataSchema, fidSchema, fileBeginSchema, fileEndSchema, fileWholeSchema, MSG } from './protocol.ts';
import { type SignatureCache } from './signatures.ts';
import { writerAvailable, writeWholeFile, WriterError } from './writer.ts';

/** Files applied at once; more wait (which back-pressures the channel). */
const MAX_ACTIVE = 16;
/** Bytes of one file's received blocks not yet written before the receive loop waits for them. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** A replaced file at least this big is released after its successor is acknowledged (see finish). */
const RELEASE_LATER_BYTES = 8 * 1024 * 1024;

export type FileResult = { ok: true } | { ok: false; error: string; /** the apply failed here (not a lost frame) */ local: boolean };

export interface FileReceiverOptions {
  /** Absolute root of the copy. */
  root: string;
  /** Makes every ancestor of `rel` a real directory (a symlink or file there is replaced). */
  ensureParents: (rel: string) => Promise<void>;
  /** A fresh temp-file path beside `rel`'s destination (a name isTempName() recognises). */
  tempPath: (rel: string) => string;
  /** Temp-file bookkeeping (the continuous target logs them for clean-up after a crash). */
  onTemp?: (tmp: string) => void;
  onTempDone?: (tmp: string) => void;
  /** A directory at a file's destination was removed to make room for the file. */
  onDirReplaced?: (rel: string) => void;
  signatures?: SignatureCache;
  /** Each file's outcome, once (the caller acknowledges it to the source). */
  onResult: (fid: number, rel: string, result: FileResult) => void | Promise<void>;
}

type Begin = z.infer<typeof fileBeginSchema>;
type End = z.infer<typeof fileEndSchema>;
type Whole = z.infer<typeof fileWholeSchema>;
type Meta = { type?: string; mode: number; uid: number; gid: number; mtimeMs: number };

interface Incoming {
  fid: number;
  path: string;
  size: number;
  delta: boolean;
  poisoned: boolean;
  tmp?: string;
  fh?: FileHandle;
  /** Asked for by the source; see `updating` for whether it happens. */
  inPlace?: boolean;
  /** The delta is written into the destination itself (this inode): fh is the destination, no temp. */
  updating?: { ino: number };
  /** The current file was copied whole into the temp (a delta onto a non-sparse file), or is updated in place. */
  copied?: { size: number };
  /** The current file's signature when the delta began (to derive the new one). */
  base?: Signature;
  /** Deltas: the non-zero blocks written, with their hashes when there is a base to update. */
  written?: Map<number, Buffer | undefined>;
  track?: { key: number; finish: (p: Promise<void>) => void };
  /** The file this one replaced, held open so the rename does not free it (released after the ack). */
  replaced?: FileHandle;
  pendingBytes: number;
  /** Its recent write steps, oldest first (back-pressure waits on them one at a time). */
  steps: Promise<void>[];
  /** Its operations so far, in order. */
  work: Promise<void>;
  /** Set once the operations it waited for (related paths) are done. */
  ready: boolean;
  error?: Error;
}

const openFd = promisify(openCallback);
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;
let hasProcFd: boolean | undefined;
const procFd = () => (hasProcFd ??= process.platform === 'linux' && existsSync('/proc/self/fd'));

/**
 * Makes a path's metadata equal to `e` (owner, then mode, then mtime; symlinks: owner and mtime).
 * Nanoseconds: Node sets times through libuv, which cuts them to whole microseconds (checked on
 * Node 20: utimes/futimes/lutimes with 1700000000.123456789 give …123456000 ns), and the seconds
 * travel as a double. rsync keeps the nanoseconds; from Node the only way would be a process per
 * file (`touch -d @s.ns`), far too slow for thousands of files a second, so the target keeps the
 * microsecond and comparisons allow 5 µs (MTIME_TOLERANCE_MS).
 */
export async function applyMeta(p: string, e: Meta): Promise<void> {
  const t = e.mtimeMs / 1000;
  if (e.type === 'symlink') {
    await lchown(p, e.uid, e.gid);
    await lutimes(p, t, t);
    return;
  }
  await chown(p, e.uid, e.gid);
  await chmod(p, e.mode);
  await utimes(p, t, t);
}

/**
 * Holes are kept at the file system's page granularity (as rsync -S does), not the 128 KiB of the
 * block signatures: a file with data every few KiB keeps its holes between them.
 */
export const HOLE_GRAIN = 4096;

/**
 * The runs of `body` (to be written at file offset `off`) that are not `grain`-aligned all-zero
 * pieces: those are left unwritten and stay holes, so skip them only where the destination holds
 * a hole already (a fresh temp), else pass BLOCK_SIZE (source never sends all-zero blocks).
 * `onBlock` sees each non-zero BLOCK_SIZE-aligned block.
 */
function nonZeroRuns(body: Buffer, off: number, onBlock?: (index: number, block: Buffer) => void, grain = BLOCK_SIZE): [number, number][] {
  if (onBlock) {
    for (let p = 0; p < body.length; ) {
      const abs = off + p;
      const len = Math.min(body.length - p, BLOCK_SIZE - (abs % BLOCK_SIZE));
      const piece = body.subarray(p, p + len);
      if (abs % BLOCK_SIZE === 0 && !isZero(piece)) onBlock(abs / BLOCK_SIZE, piece);
      p += len;
    }
  }
  const runs: [number, number][] = [];
  let runStart = -1;
  for (let p = 0; p < body.length; ) {
    const len = Math.min(body.length - p, grain - ((off + p) % grain));
    const zero = isZero(body.subarray(p, p + len));
    if (zero) {
      if (runStart >= 0) runs.push([runStart, p]);
      runStart = -1;
    } else if (runStart < 0) runStart = p;
    p += len;
  }
  if (runStart >= 0) runs.push([runStart, body.length]);
  return runs;
}

async function writeSkippingZeros(fh: FileHandle, body: Buffer, off: number, onBlock?: (index: number, block: Buffer) => void, grain = BLOCK_SIZE): Promise<void> {
  for (const [a, b] of nonZeroRuns(body, off, onBlock, grain)) await writeAll(fh, body.subarray(a, b), off + a);
}

async function writeAll(fh: FileHandle, buf: Buffer, pos: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
    done += bytesWritten;
  }
}

export class FileReceiver {
  /** Streamed files whose FILE_END has not arrived. */
  private readonly open = new Map<number, Incoming>();
  /** Every operation not finished yet (files and the caller's run()s), by a unique key. */
  private readonly active = new Map<number, { path: string; done: Promise<void>; closed: boolean; ready: boolean }>();
  private nextKey = 0;
  /** Replaced files being released (see finish); dispose() waits for them. */
  private readonly releasing = new Set<Promise<void>>();

  constructor(private readonly opts: FileReceiverOptions) {}

  private abs(rel: string): string {
    return path.join(this.opts.root, ...rel.split('/'));
  }

  /** Operations in progress on `rel`, on a path below it, or on one of its ancestors. */
  private related(rel: string): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const a of this.active.values()) {
      if (a.path === rel || a.path.startsWith(rel + '/') || rel.startsWith(a.path + '/') || a.path === '' || rel === '') waits.push(a.done);
    }
    return waits.length ? Promise.all(waits).then(() => undefined) : Promise.resolve();
  }

  private track(rel: string, closed: boolean, prior: Promise<void>): { key: number; finish: (p: Promise<void>) => void } {
    const key = this.nextKey++;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const entry = { path: rel, done, closed, ready: false };
    this.active.set(key, entry);
    void prior.then(() => (entry.ready = true));
    return {
      key,
      finish: (p) =>
        void p.finally(() => {
          this.active.delete(key);
          resolve();
        }),
    };
  }

  /**
   * Waits while too many operations are in progress — only for those that can finish without a
   * further frame (closed, and not waiting behind an open file), or the loop could deadlock.
   */
  private async admit(): Promise<void> {
    while (this.active.size >= MAX_ACTIVE) {
      const closed = [...this.active.values()].filter((a) => a.closed && a.ready).map((a) => a.done);
      if (!closed.length) return;
      await Promise.race(closed);
    }
  }

  /**
   * Runs `fn` after the operations in progress on related paths, without blocking the caller's
   * receive loop (unless too much is in flight). Resolves once it is queued; `fn` reports its own result.
   * `after`: also wait for the operations on this path (a hard link waits for the file it links to).
   */
  async run(rel: string, fn: () => Promise<void>, after?: string): Promise<void> {
    await this.admit();
    const prior = after === undefined ? this.related(rel) : Promise.all([this.related(rel), this.related(after)]).then(() => undefined);
    const t = this.track(rel, true, prior);
    t.finish(prior.then(fn).catch(() => undefined));
  }

  /** Resolves when nothing is in progress. */
  async idle(): Promise<void> {
    while (this.active.size) await Promise.all([...this.active.values()].map((a) => a.done));
  }

  /**
   * Handles a frame that carries a file's data (begin, data, abort, end, whole); false for any
   * other frame, which the caller handles. The mirror and continuous targets share this.
   */
  async handleFileFrame(m: { type: number; header: Record<string, unknown>; body: Buffer }): Promise<boolean> {
    switch (m.type) {
      case MSG.FILE_BEGIN:
        await this.begin(fileBeginSchema.parse(m.header));
        return true;
      case MSG.DATA: {
        const d = dataSchema.parse(m.header);
        await this.data(d.fid, d.off, m.body);
        return true;
      }
      case MSG.FILE_ABORT:
        this.abort(fidSchema.parse(m.header).fid);
        return true;
      case MSG.FILE_END:
        this.end(fileEndSchema.parse(m.header));
        return true;
      case MSG.FILE_WHOLE:
        await this.whole(fileWholeSchema.parse(m.header), m.body);
        return true;
      default:
        return false;
    }
  }

  async begin(b: Begin): Promise<void> {
    await this.admit();
    const stale = this.open.get(b.fid);
    if (stale) stale.poisoned = true;
    const f: Incoming = { ...b, poisoned: false, pendingBytes: 0, steps: [], work: Promise.resolve(), ready: false };
    const prior = this.related(b.path);
    // Finished when its FILE_END (or abort) is handled: see close().
    f.track = this.track(b.path, false, prior);
    f.work = prior.then(() => {
      f.ready = true;
      return this.guard(f, () => (!f.delta ? Promise.resolve() : f.inPlace ? this.prepareInPlace(f) : this.prepareDelta(f)));
    });
    this.open.set(b.fid, f);
  }

  async data(fid: number, off: number, body: Buffer): Promise<void> {
    const f = this.open.get(fid);
    if (!f || f.poisoned) return;
    if (off + body.length > f.size) {
      f.poisoned = true;
      return;
    }
    f.pendingBytes += body.length;
    const step = f.work.then(() =>
      this.guard(f, async () => {
        const fh = await this.openTemp(f);
        // A copy of the current file, or the file itself, holds old bytes where a fresh temp has holes.
        const grain = f.copied || f.inPlace ? BLOCK_SIZE : HOLE_GRAIN;
        await writeSkippingZeros(fh, body, off, f.written ? (i, block) => f.written!.set(i, f.base ? hashBlock(block) : undefined) : undefined, grain);
      }).finally(() => (f.pendingBytes -= body.length)),
    );
    f.work = step;
    f.steps.push(step);
    // Too much of this file waits in memory: wait until it is back under half the limit (not until
    // everything queued is written, which would leave the disk idle while the next frames arrive).
    if (f.ready && f.pendingBytes > MAX_PENDING_BYTES) {
      while (f.steps.length && f.pendingBytes > MAX_PENDING_BYTES / 2) await f.steps.shift();
    }
    while (f.steps.length > 64) void f.steps.shift(); // bounded: only the recent ones matter above
  }

  abort(fid: number): void {
    const f = this.open.get(fid);
    if (!f) return;
    this.open.delete(fid);
    this.close(f, f.work.then(() => this.discard(f)));
  }

  end(e: End): void {
    const f = this.open.get(e.fid);
    this.open.delete(e.fid);
    if (!f || f.poisoned || f.path !== e.path || f.size !== e.size) {
      const failed = (async () => {
        if (f) {
          await f.work;
          await this.discard(f);
        }
        await this.opts.onResult(e.fid, e.path, { ok: false, error: 'a frame failed its integrity check', local: false });
      })();
      if (f) this.close(f, failed);
      else void failed;
      return;
    }
    this.close(f, f.work.then(() => this.complete(f, () => this.finish(f, e))));
  }

  /** A whole file in one frame: applied like BEGIN + DATA + END, in the background. */
  async whole(w: Whole, body: Buffer): Promise<void> {
    await this.admit();
    const f: Incoming = { fid: w.fid, path: w.path, size: w.size, delta: false, poisoned: false, pendingBytes: 0, steps: [], work: Promise.resolve(), ready: false };
    if (body.length !== w.size) {
      await this.opts.onResult(w.fid, w.path, { ok: false, error: 'a frame failed its integrity check', local: false });
      return;
    }
    const prior = this.related(w.path);
    const t = this.track(w.path, true, prior);
    t.finish(prior.then(() => this.complete(f, () => this.writeWhole(f, w, body))));
  }

  /**
   * A small file in one go, on the writer thread (writer.ts) when there is one, else inline:
   * creating it (inode allocation, the directory's lock) and renaming it over its destination on
   * the thread pool (they can take hundreds of microseconds, and other files' frames keep being
   * received meanwhile), the rest synchronously (a few microseconds each in the page cache).
   */
  private async writeWhole(f: Incoming, w: Whole, body: Buffer): Promise<void> {
    await this.opts.ensureParents(f.path);
    f.tmp = this.opts.tempPath(f.path);
    this.opts.onTemp?.(f.tmp);
    const dest = this.abs(f.path);
    let renamed = false;
    if (writerAvailable()) {
      try {
        await writeWholeFile({ tmp: f.tmp, dest, body, size: w.size, uid: w.uid, gid: w.gid, mode: w.mode, mtimeMs: w.mtimeMs });
        renamed = true;
      } catch (err) {
        // Only a refused rename is finished here (a directory at the destination); anything else fails the file.
        if (!(err instanceof WriterError && err.atRename)) throw err;
      }
    } else {
      const fd = await openFd(f.tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
      try {
        let end = 0;
        for (const [a, b] of nonZeroRuns(body, 0, undefined, HOLE_GRAIN)) {
          for (let done = a; done < b; ) done += writeSync(fd, body, done, b - done, done);
          end = b;
        }
        if (end < w.size) ftruncateSync(fd, w.size); // trailing zero blocks: a hole
        fchownSync(fd, w.uid, w.gid);
        fchmodSync(fd, w.mode);
        futimesSync(fd, w.mtimeMs / 1000, w.mtimeMs / 1000);
      } finally {
        closeSync(fd);
      }
    }
    if (!renamed) {
      try {
        await rename(f.tmp, dest);
      } catch (err) {
        if (code(err) !== 'EISDIR' && code(err) !== 'ENOTEMPTY' && code(err) !== 'EEXIST') throw err;
        await rm(dest, { recursive: true, force: true }); // a directory where the source has a file
        this.opts.onDirReplaced?.(f.path);
        await rename(f.tmp, dest);
      }
    }
    this.opts.onTempDone?.(f.tmp);
    f.tmp = undefined;
    this.opts.signatures?.delete(dest);
  }

  hasOpen(): boolean {
    return this.open.size > 0;
  }

  /** A frame failed its CRC: every file still open may have lost it. */
  poisonOpen(): void {
    for (const f of this.open.values()) f.poisoned = true;
  }

  /** Gives up on every file still open (e.g. its FILE_END was lost), answering each with `reason`. */
  abandonOpen(reason: string): void {
    for (const f of [...this.open.values()]) {
      this.open.delete(f.fid);
      this.close(
        f,
        f.work.then(async () => {
          await this.discard(f);
          await this.opts.onResult(f.fid, f.path, { ok: false, error: reason, local: false });
        }),
      );
    }
  }

  /** Discards everything still open without answering (the session is over). */
  async dispose(): Promise<void> {
    for (const f of [...this.open.values()]) {
      this.open.delete(f.fid);
      this.close(f, f.work.then(() => this.discard(f)));
    }
    await this.idle();
    await Promise.all(this.releasing);
  }

  private close(f: Incoming, p: Promise<void>): void {
    const t = f.track;
    const guarded = p.catch(() => undefined);
    if (!t) return void guarded;
    const a = this.active.get(t.key);
    if (a) a.closed = true;
    t.finish(guarded);
  }

  /** Runs one step of a file unless an earlier one failed (the error is reported at its end). */
  private async guard(f: Incoming, fn: () => Promise<void>): Promise<void> {
    if (f.error || f.poisoned) return;
    try {
      await fn();
    } catch (err) {
      f.error = err as Error;
    }
  }

  /** Finishes a file and reports its outcome; on failure its temp file goes. */
  private async complete(f: Incoming, fn: () => Promise<void>): Promise<void> {
    if (!f.error) {
      try {
        await fn();
      } catch (err) {
        f.error = err as Error;
      }
    }
    if (f.error) {
      await this.discard(f);
      await this.opts.onResult(f.fid, f.path, { ok: false, error: `${f.path}: ${f.error.message}`, local: true });
      return;
    }
    await this.opts.onResult(f.fid, f.path, { ok: true });
    this.release(f);
  }

  /** Closes the replaced file we held: the kernel frees it now, after the new file is in place and acknowledged. */
  private release(f: Incoming): void {
    const old = f.replaced;
    f.replaced = undefined;
    if (!old) return;
    const p: Promise<void> = old
      .close()
      .catch(() => undefined)
      .finally(() => this.releasing.delete(p));
    this.releasing.add(p);
  }

  private async openTemp(f: Incoming): Promise<FileHandle> {
    if (f.fh) return f.fh;
    await this.opts.ensureParents(f.path);
    f.tmp = this.opts.tempPath(f.path);
    this.opts.onTemp?.(f.tmp);
    f.fh = await open(f.tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    await f.fh.truncate(f.size);
    return f.fh;
  }

  private async discard(f: Incoming): Promise<void> {
    const fh = f.fh;
    f.fh = undefined;
    await fh?.close().catch(() => undefined);
    this.release(f);
    if (f.tmp) {
      await rm(f.tmp, { force: true });
      this.opts.onTempDone?.(f.tmp);
      f.tmp = undefined;
    }
  }

  /** Delta written into the destination itself (see the header), or the copy path when the file does not qualify. */
  private async prepareInPlace(f: Incoming): Promise<void> {
    await this.opts.ensureParents(f.path);
    const dest = this.abs(f.path);
    const st = await lstat(dest).catch(() => undefined);
    if (!st?.isFile() || st.nlink !== 1 || st.blocks * 512 < st.size) return this.prepareDelta(f);
    // O_NONBLOCK: never hang on a FIFO swapped in since the lstat; the fstat below catches any swap.
    const fh = await open(dest, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
    if (!fh) return this.prepareDelta(f);
    const now = await fh.stat();
    if (now.ino !== st.ino || !now.isFile() || now.nlink !== 1) {
      await fh.close();
      return this.prepareDelta(f);
    }
    f.base = this.opts.signatures?.get(dest, st);
    this.opts.signatures?.delete(dest); // it is about to change
    f.written = new Map();
    f.fh = fh;
    f.updating = { ino: st.ino };
    f.copied = { size: st.size };
  }

  /** Delta onto a non-sparse current file: copy it into the temp now, while the source is still hashing. */
  private async prepareDelta(f: Incoming): Promise<void> {
    await this.opts.ensureParents(f.path);
    const dest = this.abs(f.path);
    let st: Stats;
    try {
      st = await lstat(dest);
    } catch {
      return; // nothing to build on: every block arrives (or is a hole)
    }
    if (!st.isFile()) return;
    f.base = this.opts.signatures?.get(dest, st);
    f.written = new Map();
    if (st.blocks * 512 < st.size) return; // sparse: copied block by block at the end, holes kept
    f.tmp = this.opts.tempPath(f.path);
    this.opts.onTemp?.(f.tmp);
    if (procFd()) {
      // Into the inode we just created, through its /proc/self/fd link (no name lookup anyone could
      // redirect). Without COPYFILE_EXCL libuv truncates the destination first, and on ext4
      // (auto_da_alloc) closing a truncated file starts its write-back: that happens here, while the
      // source is still hashing, instead of inside the final rename over the old file (~0.3 s/GiB).
      f.fh = await open(f.tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
      await copyFile(dest, `/proc/self/fd/${f.fh.fd}`, constants.COPYFILE_FICLONE);
    } else {
      await copyFile(dest, f.tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      f.fh = await open(f.tmp, constants.O_WRONLY | constants.O_NOFOLLOW);
    }
    const copied = (await f.fh.stat()).size;
    if (copied !== st.size) throw new Error('the target file changed under the replication');
    if (copied !== f.size) await f.fh.truncate(f.size);
    f.copied = { size: copied };
  }

  private async finish(f: Incoming, end: Meta & { size: number; changed?: number[] }): Promise<void> {
    await this.opts.ensureParents(f.path);
    const dest = this.abs(f.path);
    let existing: Stats | undefined;
    try {
      existing = await lstat(dest);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    const changed = end.changed ?? [];
    if (f.delta && changed.length === 0 && existing?.isFile() && existing.size === end.size) {
      // Identical content: metadata only, in place.
      await this.discard(f);
      await applyMeta(dest, end);
      if (f.base) this.remember(dest, f.base.hashes, await lstat(dest));
      return;
    }
    if (f.updating) return this.finishInPlace(f, dest, existing, end, changed);
    const fh = await this.openTemp(f);
    if (f.delta && existing?.isFile()) {
      if (f.copied) await this.zeroUnsent(f, fh, changed);
      else await copyUnchanged(dest, end.size, fh, changed);
    }
    await fh.chown(end.uid, end.gid);
    await fh.chmod(end.mode);
    await fh.utimes(end.mtimeMs / 1000, end.mtimeMs / 1000);
    const written = f.base ? await fh.stat() : undefined;
    await fh.close();
    f.fh = undefined;
    if (existing?.isDirectory()) {
      await rm(dest, { recursive: true, force: true });
      this.opts.onDirReplaced?.(f.path);
    }
    if (existing?.isFile() && existing.size >= RELEASE_LATER_BYTES) {
      // Freeing a big file (its cached pages, its extents) is the costliest part of replacing it
      // (~0.3 s per GiB on ext4) and happens in the rename that drops its last name. Held open, it
      // is freed by our close after the acknowledgement instead: the new file is in place just as
      // early, the next change to this path need not wait for it. (O_NONBLOCK: never hang on a
      // FIFO swapped in since the lstat.)
      f.replaced = await open(dest, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
    }
    await rename(f.tmp!, dest);
    this.opts.onTempDone?.(f.tmp!);
    f.tmp = undefined;
    const hashes = f.delta && existing?.isFile() ? this.newHashes(f, end.size, changed) : undefined;
    if (hashes) {
      // The rename changed the ctime: take it from the file now, if it is still the one we wrote.
      const now = await lstat(dest).catch(() => undefined);
      if (now && written && now.ino === written.ino && now.size === written.size && now.mtimeMs === written.mtimeMs) this.remember(dest, hashes, now);
      else this.opts.signatures?.delete(dest);
    } else this.opts.signatures?.delete(dest);
  }

  /** Completes an in-place delta: size, the changed blocks the source left out (zeros), metadata. */
  private async finishInPlace(f: Incoming, dest: string, existing: Stats | undefined, end: Meta & { size: number }, changed: number[]): Promise<void> {
    const fh = f.fh!;
    if (existing?.ino !== f.updating!.ino) throw new Error('the target file was replaced during the update');
    await this.zeroUnsent(f, fh, changed);
    if ((await fh.stat()).size !== end.size) await fh.truncate(end.size);
    await fh.chown(end.uid, end.gid);
    await fh.chmod(end.mode);
    await fh.utimes(end.mtimeMs / 1000, end.mtimeMs / 1000);
    const written = await fh.stat();
    f.fh = undefined;
    await fh.close();
    const hashes = this.newHashes(f, end.size, changed);
    if (hashes) this.remember(dest, hashes, written);
  }

  private remember(dest: string, hashes: Buffer, st: Stats): void {
    this.opts.signatures?.set(dest, st, hashes);
  }

  /** Copy-based delta: changed blocks the source did not send are all zeros; the copy still holds the old bytes there. */
  private async zeroUnsent(f: Incoming, fh: FileHandle, changed: number[]): Promise<void> {
    const copiedBlocks = blockCount(f.copied!.size);
    for (const i of changed) {
      if (i >= copiedBlocks || f.written?.has(i)) continue;
      const len = Math.min(BLOCK_SIZE, f.size - i * BLOCK_SIZE);
      if (len <= 0) continue;
      await writeAll(fh, Buffer.alloc(len), i * BLOCK_SIZE);
    }
  }

  /** The new file's block hashes: the base's, with the changed blocks replaced. */
  private newHashes(f: Incoming, size: number, changed: number[]): Buffer | undefined {
    if (!f.base || !f.written || size < 1 || !f.copied) return undefined; // sparse bases are read again at the end: not tracked
    const count = blockCount(size);
    const out = Buffer.allocUnsafe(count * HASH_BYTES);
    const isChanged = new Set(changed);
    const baseCount = f.base.hashes.length / HASH_BYTES;
    for (let i = 0; i < count; i++) {
      const len = Math.min(BLOCK_SIZE, size - i * BLOCK_SIZE);
      let h: Buffer | undefined;
      if (isChanged.has(i)) h = f.written.get(i) ?? hashBlock(Buffer.alloc(len));
      else if (i < baseCount) h = f.base.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      if (!h) return undefined;
      h.copy(out, i * HASH_BYTES);
    }
    return out;
  }
}

/** Sparse delta base: copies the blocks the source did not send from the current file, skipping zero blocks. */
async function copyUnchanged(dest: string, size: number, fh: FileHandle, changed: number[]): Promise<void> {
  const skip = new Set(changed);
  let old: FileHandle;
  try {
    old = await open(dest, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (changed.length >= blockCount(size)) return;
    throw err;
  }
  try {
    const oldSize = (await old.stat()).size;
    const n = Math.min(blockCount(size), blockCount(oldSize));
    const buf = Buffer.allocUnsafe(BLOCK_SIZE);
    for (let i = 0; i < n; i++) {
      if (skip.has(i)) continue;
      const len = Math.min(BLOCK_SIZE, size - i * BLOCK_SIZE);
      const { bytesRead } = await old.read(buf, 0, len, i * BLOCK_SIZE);
      if (bytesRead !== len) throw new Error('the target file changed under the replication');
      // The temp holds holes here (only changed blocks were written): keep the old file's holes.
      await writeSkippingZeros(fh, buf.subarray(0, len), i * BLOCK_SIZE, undefined, HOLE_GRAIN);
    }
  } finally {
    await old.close();
  }
}
