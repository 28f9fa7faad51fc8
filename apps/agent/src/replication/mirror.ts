// The initial mirror, source side: make the target's copy of a root equal to the source's.
// One session = one root over one channel, in ROUNDS:
//   1. S walks its root (filtered by the set's rules) and sends the manifest.
//   2. T compares with its own walk and answers which files it needs (in checksum mode with its
//      block signature when it already holds the file); dirs, symlinks and metadata-only changes it
//      applies itself from the manifest.
//   3. S sends the needed files, several at once (their frames interleave, each carries its fid):
//      a small file whole in one FILE_WHOLE frame; a bigger one in DATA frames of up to 1 MiB, all
//      of it (all-zero blocks are skipped so holes stay holes) or only the blocks whose hashes
//      differ (checksum) with the new size. With a cached signature of an unchanged file
//      (signatures.ts) only the differing blocks are read.
//   4. T applies each file into a temp file beside the destination and renames it (receive.ts;
//      or, for deltas of big files when the pair is set to, writes the changed blocks in place),
//      acknowledges each file (acks are not waited for: they are counted at the end of the round),
//      handles orphans and directory metadata, and ends the round.
// CONSISTENCY RULE for files that change during the mirror: S fstat()s the open file before and
// after reading it; if size, mtime or ctime moved, it tells T to discard that copy (FILE_ABORT) and
// retries the file next round. After every round S re-walks the source and runs another round in
// `differences` mode (with block deltas when the first was a checksum round; plus every file that
// was aborted or failed its CRC), until a round has
// nothing to send — so a file modified after it was sent is caught by the next walk. A tree that
// never stops changing ends after `maxRounds` with `converged: false` and the unstable paths; the
// continuous replication that follows a mirror owns those changes.
// A frame that fails its CRC is never applied: if it belonged to a file, T drops that file and S
// re-sends it next round; a corrupted control frame aborts the session (nothing half-applied: files
// only land by rename), and the caller starts a new one, which in differences mode costs a walk.
// HARD LINKS are kept, as rsync -H does: the manifest groups the names of one (device, inode) among
// the entries the set selects (manifest.ts markLinks): the first name travels as a file, every
// other one as "link to <first name>", which the target makes with link() at the end of the round
// (apply.ts), so the names share one inode there too. Extended attributes and ACLs are not copied
// (Node has no xattr API); atime is not preserved. The root directory's own metadata (mode, owner,
// mtime) travels in ROUND_END and is applied after the round's directories, as rsync -a does.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { type z } from 'zod';
import { BLOCK_SIZE, blockCount, blockDiffers, diffSignatures, HASH_BYTES, isZero, type Signature } from './blocks.ts';
import { type Channel, ChannelError, type Message } from './channel.ts';
import { FINGERPRINT_BYTES, hashedRanges } from './hashpool.ts';
import { isTempName, type ManifestEntry, normalizeScope, walk, walkPaths } from './manifest.ts';
import { ackSchema, errorSchema, MSG, type MirrorMode, needSchema, type OrphanPolicy, PROTOCOL_VERSION, roundDoneSchema } from './protocol.ts';
import { type ReplicationRule } from './set.ts';
import { type OwnHashes, type SignatureCache } from './signatures.ts';

export { applyMirror, type ApplyOptions, type ApplyResult } from './apply.ts';
export type { MirrorMode, OrphanPolicy } from './protocol.ts';

export interface MirrorProgress {
  round: number;
  filesLeft: number;
  bytesLeft: number;
  filesDone: number;
  bytesDone: number;
}

export interface MirrorOptions {
  /** Absolute source root (one root of a replication set). */
  root: string;
  rules?: readonly ReplicationRule[];
  channel: Channel;
  mode: MirrorMode;
  orphans: OrphanPolicy;
  /**
   * differences mode only: files whose size or mtime differ are sent as block deltas against the
   * target's copy (as in checksum mode) instead of whole. Used by continuous replication's resume.
   */
  delta?: boolean;
  /**
   * Only these paths (relative to the root) and what lies below them: the manifest carries just
   * those plus their ancestor directories, and the target looks for orphans only there. Used by
   * verify's re-send. Unset = the whole root.
   */
  scope?: readonly string[];
  /** Rounds before giving up on a tree that keeps changing; default 5. */
  maxRounds?: number;
  onProgress?: (p: MirrorProgress) => void;
  /** Our own block signatures remembered across sessions: an unchanged file is not read to be compared. */
  signatures?: SignatureCache;
  /** Deltas of files at least this big are applied in place on the target (receive.ts); unset: never. */
  inPlaceMinBytes?: number;
  /** Each round's walk of the root (the continuous source keeps its hard-link index from it). */
  onManifest?: (entries: readonly ManifestEntry[]) => void;
  /** Test hook, awaited after each file is fully read (before its end-of-file check). */
  afterRead?: (relPath: string) => void | Promise<void>;
}

export interface MirrorResult {
  rounds: number;
  converged: boolean;
  /** Paths still aborted or failed after the last round. */
  unstable: string[];
  filesSent: number;
  /** Bytes of file content sent in DATA frames (before compression). */
  contentBytesSent: number;
  /** Frames on the wire in both directions, compressed, with framing. */
  wireBytesSent: number;
  wireBytesReceived: number;
  /** Files re-sent because they changed while being read. */
  filesAborted: number;
  /** Files re-sent because the target rejected them (CRC mismatch or apply error). */
  filesRejected: number;
  orphans: number;
  errors: string[];
}

type Need = z.infer<typeof needSchema> & { hashes?: Buffer };

/** Reads the target's answers in the background so acknowledgements never block our sends. */
class Inbox {
  needs: Need[] = [];
  acks = new Map<number, { ok: boolean; error?: string }>();
  corruptNotices = 0;
  private waiters = new Map<number, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  readonly done: Promise<void>;
  constructor(private readonly channel: Channel) {
    this.done = this.pump().catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
  }
  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.values()) w.reject(this.failure);
    this.waiters.clear();
  }
  /** Waits for the next message of this type (NEEDS_END, ROUND_DONE). */
  wait(type: number): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.set(type, { resolve, reject }));
  }
  private async pump(): Promise<void> {
    for (;;) {
      const m: Message | null = await this.channel.receive();
      if (!m) {
        this.fail(new ChannelError('the target closed the data channel'));
        return;
      }
      if (m.corrupt) throw new ChannelError('a frame from the target failed its CRC; session aborted');
      switch (m.type) {
        case MSG.NEED: {
          const need: Need = needSchema.parse(m.header);
          if (need.sig) need.hashes = m.body;
          this.needs.push(need);
          break;
        }
        case MSG.ACK: {
          const a = ackSchema.parse(m.header);
          this.acks.set(a.fid, a);
          break;
        }
        case MSG.CORRUPT:
          this.corruptNotices++;
          this.waiters.get(-MSG.CORRUPT)?.resolve(m.header);
          break;
        case MSG.ERROR:
          throw new ChannelError(`target: ${errorSchema.parse(m.header).message}`);
        default: {
          const w = this.waiters.get(m.type);
          if (!w) throw new ChannelError(`unexpected message ${m.type} from the target`);
          this.waiters.delete(m.type);
          w.resolve(m.header);
        }
      }
    }
  }
}

const MANIFEST_CHUNK = 2000;
/** Files read and sent at once. */
const SENDERS = 8;
/** Files up to this size travel in one FILE_WHOLE frame (when sent whole). */
export const WHOLE_MAX = 1024 * 1024;
/** Bytes read per call, and the largest DATA frame. */
const READ_CHUNK = 1024 * 1024;
const PROGRESS_EVERY = 8 * 1024 * 1024;

/** Runs a mirror session from the source side; resolves when the target acknowledged the last round. */
export async function mirror(opts: MirrorOptions): Promise<MirrorResult> {
  const { channel } = opts;
  const inbox = new Inbox(channel);
  const maxRounds = opts.maxRounds ?? 5;
  const result: MirrorResult = {
    rounds: 0,
    converged: false,
    unstable: [],
    filesSent: 0,
    contentBytesSent: 0,
    wireBytesSent: 0,
    wireBytesReceived: 0,
    filesAborted: 0,
    filesRejected: 0,
    orphans: 0,
    errors: [],
  };
  let retry = new Set<string>();
  let fid = 0;
  const scope = opts.scope ? normalizeScope(opts.scope) : undefined;
  try {
    for (let round = 1; round <= maxRounds; round++) {
      result.rounds = round;
      const mode: MirrorMode = round === 1 ? opts.mode : 'differences';
      // The applier's temp files never travel (they matter when this root is itself a target: A→B→C).
      const ignore = (_rel: string, name: string) => isTempName(name);
      const { entries } = scope ? await walkPaths(opts.root, scope, { rules: opts.rules, ignore, ancestors: true, links: true }) : await walk(opts.root, { rules: opts.rules, ignore, links: true });
      opts.onManifest?.(entries);
      await channel.send(MSG.ROUND, {
        version: PROTOCOL_VERSION,
        round,
        mode,
        orphans: opts.orphans,
        force: [...retry],
        // After a checksum round, files caught changing are re-sent as block deltas too.
        ...(opts.delta || (round > 1 && opts.mode === 'checksum') ? { delta: true } : {}),
        ...(scope ? { scope } : {}),
      });
      for (let i = 0; i < entries.length; i += MANIFEST_CHUNK) {
        await channel.send(MSG.MANIFEST, { entries: entries.slice(i, i + MANIFEST_CHUNK) });
      }
      inbox.needs = [];
      const needsEnd = inbox.wait(MSG.NEEDS_END);
      needsEnd.catch(() => undefined);
      await channel.send(MSG.MANIFEST_END, { count: entries.length });
      await needsEnd;
      const needs = inbox.needs;
      const byPath = new Map(entries.map((e) => [e.path, e]));
      const progress: MirrorProgress = {
        round,
        filesLeft: needs.length,
        bytesLeft: needs.reduce((n, nd) => n + (byPath.get(nd.path)?.size ?? 0), 0),
        filesDone: 0,
        bytesDone: 0,
      };
      opts.onProgress?.({ ...progress });
      const nextRetry = new Set<string>();
      const sentFids = new Map<number, string>();
      // Several files in flight: while one waits for the disk, another is on the wire (their frames
      // interleave; each carries its fid).
      let next = 0;
      const worker = async () => {
        // This lane's buffer for small files: sendFile has handed the bytes to the channel (which
        // copies them into its frame) before it returns, so the next file may reuse it.
        const scratch = Buffer.allocUnsafeSlow(WHOLE_MAX + 1);
        while (next < needs.length) {
          const need = needs[next++]!;
          const entry = byPath.get(need.path);
          let done = 0;
          if (entry?.type === 'file') {
            const id = fid++;
            const outcome = await sendFile(opts, entry, need, id, result, scratch, (n) => {
              done += n;
              progress.bytesDone += n;
              progress.bytesLeft = Math.max(0, progress.bytesLeft - n);
              if (Math.floor(progress.bytesDone / PROGRESS_EVERY) !== Math.floor((progress.bytesDone - n) / PROGRESS_EVERY)) opts.onProgress?.({ ...progress });
            });
            if (outcome === 'sent') sentFids.set(id, need.path);
            else if (outcome === 'changed') {
              result.filesAborted++;
              nextRetry.add(need.path);
            } else if (outcome !== 'gone') nextRetry.add(need.path);
          }
          progress.bytesLeft = Math.max(0, progress.bytesLeft - ((entry?.size ?? 0) - done));
          progress.filesDone++;
          progress.filesLeft--;
          opts.onProgress?.({ ...progress });
        }
      };
      await Promise.all(Array.from({ length: SENDERS }, worker));
      // End the round; if the target reports a corrupted frame after our ROUND_END, that may have
      // been the ROUND_END itself, so send it again (the target ignores duplicates).
      const done = inbox.wait(MSG.ROUND_DONE);
      done.catch(() => undefined);
      const end = { round, ...(await rootMeta(opts.root)) };
      await channel.send(MSG.ROUND_END, end);
      let summary: Record<string, unknown> | undefined;
      while (!summary) {
        const resend = inbox.wait(-MSG.CORRUPT).then(() => undefined);
        summary = await Promise.race([done, resend]);
        if (!summary) await channel.send(MSG.ROUND_END, end);
      }
      const rd = roundDoneSchema.parse(summary);
      result.orphans += rd.orphans;
      result.errors.push(...rd.errors);
      for (const [id, p] of sentFids) {
        const ack = inbox.acks.get(id);
        if (!ack?.ok) {
          result.filesRejected++;
          nextRetry.add(p);
        }
      }
      result.filesSent += sentFids.size;
      if (needs.length === 0 && nextRetry.size === 0) {
        result.converged = true;
        break;
      }
      retry = nextRetry;
      result.unstable = [...nextRetry];
    }
    if (result.converged) result.unstable = [];
    await channel.send(MSG.BYE, {});
  } catch (err) {
    channel.destroy(err instanceof Error ? err : undefined);
    throw err;
  } finally {
    result.wireBytesSent = channel.stats.wireBytesSent;
    result.wireBytesReceived = channel.stats.wireBytesReceived;
  }
  await channel.close();
  await inbox.done;
  return result;
}

type SendOutcome = 'sent' | 'changed' | 'gone' | 'error';

/** Reads up to `buf.length` bytes at `pos`; fewer only at end of file. */
async function readAt(fh: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

const moved = (a: Stats, b: Stats) => a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ctimeMs !== b.ctimeMs;

/**
 * Reads a small file with synchronous calls (each a few microseconds from the page cache, far less
 * than a thread-pool round trip; the file is at most WHOLE_MAX), one byte more than its size to
 * notice growth. Undefined when it is gone or not a file. `st1` is taken after `afterRead`.
 */
export async function readSmall(
  abs: string,
  afterRead?: () => void | Promise<void>,
  /** Read into this when it is big enough (the caller must be done with `data` before reusing it). */
  scratch?: Buffer,
): Promise<{ st0: Stats; st1: Stats; data: Buffer; read: number } | undefined> {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st0 = fstatSync(fd);
    if (!st0.isFile()) return undefined;
    const buf = scratch && scratch.length >= st0.size + 1 ? scratch.subarray(0, st0.size + 1) : Buffer.allocUnsafe(st0.size + 1);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, read);
      if (!n) break;
      read += n;
    }
    await afterRead?.();
    return { st0, st1: fstatSync(fd), data: buf.subarray(0, Math.min(read, st0.size)), read };
  } finally {
    closeSync(fd);
  }
}

async function sendFile(
  opts: MirrorOptions,
  entry: ManifestEntry,
  need: Need,
  fid: number,
  result: MirrorResult,
  scratch: Buffer,
  onBytes: (n: number) => void,
): Promise<SendOutcome> {
  const { channel } = opts;
  const abs = path.join(opts.root, entry.path);
  if (!need.sig && entry.size <= WHOLE_MAX) {
    // Small file: one frame, no per-file round trips.
    const small = await readSmall(abs, () => opts.afterRead?.(entry.path), scratch).catch((err: unknown) => {
      result.errors.push(`${entry.path}: ${(err as Error).message}`);
      return null;
    });
    if (small === null) return 'error';
    if (!small) return 'gone';
    const { st0, st1, data, read } = small;
    onBytes(data.length);
    if (read !== st0.size || moved(st0, st1) || st0.size > WHOLE_MAX) return 'changed';
    result.contentBytesSent += st0.size;
    await channel.send(MSG.FILE_WHOLE, { fid, path: entry.path, size: st0.size, mode: st0.mode & 0o7777, uid: st0.uid, gid: st0.gid, mtimeMs: st0.mtimeMs }, data);
    return 'sent';
  }
  let fh;
  try {
    fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return 'gone'; // deleted or replaced by a non-file since the walk; the next round's walk settles it
  }
  let begun = false;
  try {
    const st0 = await fh.stat();
    if (!st0.isFile()) return 'gone';
    const theirs: Signature | undefined = need.sig && need.hashes ? { blockSize: need.sig.blockSize, size: need.sig.size, hashes: need.hashes } : undefined;
    const meta = { fid, path: entry.path, size: st0.size, mode: st0.mode & 0o7777, uid: st0.uid, gid: st0.gid, mtimeMs: st0.mtimeMs };
    const delta = !!theirs;
    await channel.send(MSG.FILE_BEGIN, { fid, path: entry.path, size: st0.size, delta, ...inPlaceFlag(delta, st0.size, opts.inPlaceMinBytes) });
    begun = true;
    const sendData = async (buf: Buffer, off: number) => {
      result.contentBytesSent += buf.length;
      await channel.send(MSG.DATA, { fid, off }, buf);
    };
    const { changed, read, hashes, fingerprints } = await streamBlocks(fh, st0, theirs, opts.signatures?.own(abs, st0), sendData, onBytes);
    await opts.afterRead?.(entry.path);
    const st1 = await fh.stat();
    if (read !== st0.size || moved(st0, st1)) {
      await channel.send(MSG.FILE_ABORT, { fid });
      return 'changed';
    }
    if (hashes) opts.signatures?.set(abs, st0, hashes, fingerprints);
    await channel.send(MSG.FILE_END, { ...meta, ...(delta ? { changed } : {}) });
    return 'sent';
  } catch (err) {
    if (err instanceof ChannelError) throw err;
    result.errors.push(`${entry.path}: ${(err as Error).message}`);
    if (begun) await channel.send(MSG.FILE_ABORT, { fid });
    return 'error';
  } finally {
    await fh.close();
  }
}

/** The FILE_BEGIN flag asking the target to apply a delta in place (see receive.ts). */
export function inPlaceFlag(delta: boolean, size: number, minBytes: number | undefined): { inPlace?: true } {
  return delta && minBytes !== undefined && size >= minBytes ? { inPlace: true } : {};
}

/**
 * Sends a file's content (through `send`, one call per DATA frame of up to READ_CHUNK): all of it (all-zero blocks left out, so
 * holes stay holes), or with `theirs` only the blocks whose hashes differ. When our own signature
 * of this exact file is cached (`own.exact`), only the differing blocks are read at all; else
 * `own.basis` (our fingerprints of its previous version, hashpool.ts) spares the SHA-256 of
 * unchanged blocks. Returns the changed block indices, the bytes read (= the size unless the file shrank), and the
 * file's hashes (and fingerprints) when they were computed (for the cache).
 */
export async function streamBlocks(
  fh: FileHandle,
  st0: Stats,
  theirs: Signature | undefined,
  own: OwnHashes | undefined,
  send: (buf: Buffer, off: number) => Promise<void>,
  onBytes: (n: number) => void = () => undefined,
): Promise<{ changed: number[]; read: number; hashes?: Buffer; fingerprints?: Buffer }> {
  const size = st0.size;
  const count = blockCount(size);
  const ours = own?.exact;
  const basis = own?.basis;
  const changed: number[] = [];
  if (theirs && ours && ours.size === size) {
    const want = diffSignatures(ours, theirs);
    onBytes(size);
    for (let k = 0; k < want.length; ) {
      // A run of consecutive changed blocks, read in one call.
      let end = k + 1;
      while (end < want.length && want[end] === want[end - 1]! + 1 && end - k < READ_CHUNK / BLOCK_SIZE) end++;
      const first = want[k]!;
      const off = first * BLOCK_SIZE;
      const len = Math.min(size, (want[end - 1]! + 1) * BLOCK_SIZE) - off;
      const buf = Buffer.allocUnsafe(len);
      const got = await readAt(fh, buf, off);
      if (got !== len) return { changed, read: off + got };
      for (let i = first; i <= want[end - 1]!; i++) changed.push(i);
      await sendRuns(buf, off, () => true, send);
      k = end;
    }
    return { changed, read: size };
  }
  if (theirs) {
    // Hash every block (in parallel ranges on the worker pool for a big file, see hashpool.ts) and
    // send the ones that differ as each range comes in, in file order: the first changed block
    // leaves while later ranges are still being read. The bytes sent are the bytes hashed.
    const hashes = Buffer.allocUnsafe(count * HASH_BYTES);
    let fingerprints = basis ? Buffer.allocUnsafe(count * FINGERPRINT_BYTES) : undefined;
    let read = 0;
    for await (const r of hashedRanges(fh, size, true, basis)) {
      onBytes(r.read);
      read = r.pos + r.read;
      r.hashes.copy(hashes, (r.pos / BLOCK_SIZE) * HASH_BYTES);
      if (fingerprints && r.fingerprints) r.fingerprints.copy(fingerprints, (r.pos / BLOCK_SIZE) * FINGERPRINT_BYTES);
      else fingerprints = undefined; // hashed inline: no fingerprints for this file
      const first = r.pos / BLOCK_SIZE;
      await sendRuns(
        r.data!,
        r.pos,
        (block, index) => {
          const k = index - first;
          if (!blockDiffers(theirs, index, r.hashes.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES), block.length)) return false;
          changed.push(index);
          return true;
        },
        send,
      );
    }
    return read === size ? { changed, read, hashes, fingerprints } : { changed, read };
  }
  let read = 0;
  // One buffer for the whole file: send() copies the bytes into its frame before it resolves.
  const whole = Buffer.allocUnsafe(Math.min(READ_CHUNK, size));
  while (read < size) {
    const buf = whole.subarray(0, Math.min(READ_CHUNK, size - read));
    const got = await readAt(fh, buf, read);
    if (got === 0) break; // the file shrank under us; the caller's re-stat notices
    const chunk = buf.subarray(0, got);
    const base = read;
    onBytes(got);
    read += got;
    await sendRuns(chunk, base, () => true, send);
    if (got < buf.length) break;
  }
  return { changed, read };
}

/**
 * Sends the blocks of `chunk` (at file offset `off`, block-aligned) that `wanted` selects, as runs
 * of consecutive non-zero blocks of at most READ_CHUNK (views of the chunk: no copy). Zero blocks are selected but not
 * sent: the target's temp is sized with holes.
 */
async function sendRuns(chunk: Buffer, off: number, wanted: (block: Buffer, index: number) => boolean, send: (buf: Buffer, off: number) => Promise<void>): Promise<void> {
  let run = -1;
  for (let p = 0; p < chunk.length; p += BLOCK_SIZE) {
    const block = chunk.subarray(p, p + BLOCK_SIZE);
    const take = wanted(block, (off + p) / BLOCK_SIZE) && !isZero(block);
    if ((!take || p - run >= READ_CHUNK) && run >= 0) {
      await send(chunk.subarray(run, p), off + run);
      run = -1;
    }
    if (take && run < 0) run = p;
  }
  if (run >= 0) await send(chunk.subarray(run), off + run);
}

/** The root directory's own metadata for ROUND_END (nothing if it cannot be read: the round still ends). */
async function rootMeta(root: string): Promise<{ root?: { mode: number; uid: number; gid: number; mtimeMs: number } }> {
  try {
    const st = await lstat(root);
    return st.isDirectory() ? { root: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs } } : {};
  } catch {
    return {};
  }
}
