// The initial mirror, target side: applies what the source sends to the target's copy of a root.
// Guarantees:
// - A reader never sees a half-written file: content goes into `.tandem-<n>.tmp` beside the
//   destination (same directory, so same filesystem) and is renamed over it only when complete,
//   intact (every frame passed its CRC) and stamped with its final mode, owner and mtime.
// - Sparse files stay sparse: the temp file is sized with ftruncate and only non-zero blocks are
//   written, so blocks the source sent as zeros (or skipped) remain holes. In checksum mode the
//   unchanged blocks are copied from the current file the same way (zero blocks skipped). Node has
//   no SEEK_DATA/SEEK_HOLE, so a hole is detected by content (an all-zero 128 KiB block), which also
//   turns explicit zero blocks into holes — same content, fewer blocks.
// - Paths from the peer are validated (relative, no `..`), and every ancestor of a path we write is
//   checked to be a real directory (a symlink there is replaced), so nothing is written outside the root.
// - Ownership is set before the mode (chown clears setuid/setgid), mtime last; directory metadata
//   at the end of each round, deepest first, since creating children changes a directory's mtime.
// - Orphans (entries absent from the source manifest): kept, deleted, or moved aside into
//   `<parent of root>/.tandem-orphans/<root name>-<timestamp>/` (or `orphansDir`), keeping their
//   relative paths. A type conflict (a directory where the source has a file, or the reverse) is
//   resolved by removing the target's entry whatever the policy.
// - A round may carry a `scope` (verify's re-send): then only those paths and what lies below them
//   are compared, and orphans are looked for only there.
// - `onApplied` reports every path changed (for an onward pair when this root is itself a source).
// - Durability: files are not fsync'ed one by one (that would make a mirror of small files crawl);
//   the next round or a checksum pass after a crash repairs anything lost in the page cache.
import { constants, type Stats } from 'node:fs';
import { chmod, chown, lchown, lstat, lutimes, mkdir, open, readlink, rename, rm, symlink, type FileHandle, utimes } from 'node:fs/promises';
import path from 'node:path';
import { type z } from 'zod';
import { BLOCK_SIZE, blockCount, isZero, signFile } from './blocks.ts';
import { type Channel, ChannelError } from './channel.ts';
import { inScope, isTempName, walk, walkPaths } from './manifest.ts';
import {
  dataSchema,
  type entrySchema,
  fidSchema,
  fileBeginSchema,
  fileEndSchema,
  manifestChunkSchema,
  MSG,
  type OrphanPolicy,
  roundEndSchema,
  roundSchema,
} from './protocol.ts';

/** Modification times closer than this (ms) are equal: they go through a double in seconds. */
export const MTIME_TOLERANCE_MS = 0.005;

export interface ApplyOptions {
  /** Absolute target root; created if missing. */
  root: string;
  channel: Channel;
  /** Where move-aside puts orphans; default `<dirname(root)>/.tandem-orphans/<basename(root)>-<timestamp>`. */
  orphansDir?: string;
  /** Called with each path this session changed (see ContinuousTargetOptions.onApplied). */
  onApplied?: (relPath: string) => void;
}

export interface ApplyResult {
  rounds: number;
  filesApplied: number;
  filesRejected: number;
  crcErrors: number;
  orphans: number;
  errors: string[];
}

interface Current {
  fid: number;
  path: string;
  size: number;
  delta: boolean;
  poisoned: boolean;
  tmp?: string;
  fh?: FileHandle;
}

type Entry = z.infer<typeof entrySchema>;

const sameTime = (a: number, b: number) => Math.abs(a - b) < MTIME_TOLERANCE_MS;
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Serves one mirror session on the target; resolves when the source says goodbye. */
export async function applyMirror(opts: ApplyOptions): Promise<ApplyResult> {
  const { channel } = opts;
  const root = path.resolve(opts.root);
  await mkdir(root, { recursive: true });
  const result: ApplyResult = { rounds: 0, filesApplied: 0, filesRejected: 0, crcErrors: 0, orphans: 0, errors: [] };
  let state: 'idle' | 'manifest' | 'files' = 'idle';
  let round = { round: 0, mode: 'full' as string, orphans: 'keep' as OrphanPolicy, force: new Set<string>(), delta: false, scope: undefined as string[] | undefined };
  let entries: Entry[] = [];
  let sourcePaths = new Map<string, Entry>();
  let safeDirs = new Set<string>();
  let current: Current | undefined;
  let tempSeq = 0;
  let lastEnded = 0;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const orphansDir = opts.orphansDir ?? path.join(path.dirname(root), '.tandem-orphans', `${path.basename(root)}-${stamp}`);

  const abs = (rel: string) => path.join(root, ...rel.split('/'));

  /** Makes every ancestor of `rel` a real directory (creating, or replacing a non-directory). */
  async function ensureParents(rel: string): Promise<void> {
    const parts = rel.split('/');
    let sofar = '';
    for (let i = 0; i < parts.length - 1; i++) {
      sofar = sofar ? `${sofar}/${parts[i]}` : parts[i]!;
      if (safeDirs.has(sofar)) continue;
      await ensureDir(sofar);
    }
  }

  async function ensureDir(rel: string): Promise<void> {
    const p = abs(rel);
    let st: Stats | undefined;
    try {
      st = await lstat(p);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    if (st && !st.isDirectory()) {
      await rm(p, { force: true });
      st = undefined;
    }
    if (!st) await mkdir(p, { mode: 0o700 });
    safeDirs.add(rel);
  }

  async function applyMeta(p: string, e: { type?: string; mode: number; uid: number; gid: number; mtimeMs: number }): Promise<void> {
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

  async function discard(c: Current | undefined): Promise<void> {
    if (!c) return;
    await c.fh?.close().catch(() => undefined);
    if (c.tmp) await rm(c.tmp, { force: true });
  }

  async function ack(fid: number, ok: boolean, error?: string): Promise<void> {
    if (ok) result.filesApplied++;
    else result.filesRejected++;
    await channel.send(MSG.ACK, error ? { fid, ok, error } : { fid, ok });
  }

  async function openTemp(c: Current): Promise<FileHandle> {
    if (c.fh) return c.fh;
    await ensureParents(c.path);
    const dir = path.dirname(abs(c.path));
    c.tmp = path.join(dir, `.tandem-${tempSeq++}-${process.pid.toString(16)}.tmp`);
    c.fh = await open(c.tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    await c.fh.truncate(c.size);
    return c.fh;
  }

  /** Checksum mode: copies the blocks the source did not send from the current file into the temp. */
  async function copyUnchanged(c: Current, fh: FileHandle, changed: number[]): Promise<void> {
    const skip = new Set(changed);
    let old: FileHandle;
    try {
      old = await open(abs(c.path), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (changed.length >= blockCount(c.size)) return;
      throw err;
    }
    try {
      const oldSize = (await old.stat()).size;
      const n = Math.min(blockCount(c.size), blockCount(oldSize));
      const buf = Buffer.allocUnsafe(BLOCK_SIZE);
      for (let i = 0; i < n; i++) {
        if (skip.has(i)) continue;
        const len = Math.min(BLOCK_SIZE, c.size - i * BLOCK_SIZE);
        const { bytesRead } = await old.read(buf, 0, len, i * BLOCK_SIZE);
        if (bytesRead !== len) throw new Error('the target file changed under the mirror');
        const block = buf.subarray(0, len);
        if (!isZero(block)) await fh.write(block, 0, len, i * BLOCK_SIZE);
      }
    } finally {
      await old.close();
    }
  }

  async function finishFile(c: Current, end: z.infer<typeof fileEndSchema>): Promise<void> {
    const dest = abs(c.path);
    let existing: Stats | undefined;
    try {
      existing = await lstat(dest);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    if (c.delta && end.changed?.length === 0 && existing?.isFile() && existing.size === end.size) {
      await applyMeta(dest, end); // identical content: metadata only, in place
      return;
    }
    const fh = await openTemp(c);
    if (c.delta && existing?.isFile()) await copyUnchanged(c, fh, end.changed ?? []);
    await fh.chown(end.uid, end.gid);
    await fh.chmod(end.mode);
    await fh.utimes(end.mtimeMs / 1000, end.mtimeMs / 1000);
    await fh.close();
    c.fh = undefined;
    if (existing?.isDirectory()) await rm(dest, { recursive: true, force: true });
    await rename(c.tmp!, dest);
    c.tmp = undefined;
  }

  async function computeNeeds(): Promise<void> {
    const stale: string[] = [];
    const ignore = (rel: string, name: string) => {
      if (isTempName(name)) stale.push(rel);
      return isTempName(name);
    };
    const mine = round.scope ? await walkPaths(root, round.scope, { ignore }) : await walk(root, { ignore });
    for (const rel of stale) await rm(abs(rel), { force: true });
    const have = new Map(mine.entries.map((e) => [e.path, e]));
    safeDirs = new Set();
    // Directories first (manifest order: parents before children).
    for (const e of entries) if (e.type === 'dir') await ensureParents(e.path).then(() => ensureDir(e.path));
    let count = 0;
    for (const e of entries) {
      const p = abs(e.path);
      const cur = have.get(e.path);
      if (e.type === 'symlink') {
        await ensureParents(e.path);
        if (!cur || cur.type !== 'symlink' || (await readlink(p)) !== e.target) {
          if (cur?.type === 'dir') await rm(p, { recursive: true, force: true });
          const tmp = path.join(path.dirname(p), `.tandem-${tempSeq++}-${process.pid.toString(16)}.tmp`);
          await symlink(e.target ?? '', tmp);
          await rename(tmp, p);
        }
        await applyMeta(p, e).catch((err: unknown) => result.errors.push(`${e.path}: ${(err as Error).message}`));
        opts.onApplied?.(e.path);
        continue;
      }
      if (e.type !== 'file') continue;
      const same = cur?.type === 'file' && cur.size === e.size && sameTime(cur.mtimeMs, e.mtimeMs);
      const needed = round.mode !== 'differences' || !same || round.force.has(e.path);
      if (!needed) {
        if (cur && (cur.mode !== e.mode || cur.uid !== e.uid || cur.gid !== e.gid)) {
          await applyMeta(p, e).catch((err: unknown) => result.errors.push(`${e.path}: ${(err as Error).message}`));
          opts.onApplied?.(e.path);
        }
        continue;
      }
      count++;
      if ((round.mode === 'checksum' || round.delta) && cur?.type === 'file') {
        const sig = await signFile(p);
        await channel.send(MSG.NEED, { path: e.path, sig: { size: sig.size, blockSize: sig.blockSize } }, sig.hashes);
      } else {
        await channel.send(MSG.NEED, { path: e.path });
      }
    }
    await channel.send(MSG.NEEDS_END, { count });
  }

  async function endRound(): Promise<number> {
    let orphans = 0;
    const ignore = (_rel: string, name: string) => isTempName(name);
    const mine = round.scope ? await walkPaths(root, round.scope, { ignore }) : await walk(root, { ignore });
    const orphanDirs = new Set<string>();
    for (const e of mine.entries) {
      if (sourcePaths.get(e.path)?.type === e.type) continue;
      if (round.scope && !inScope(round.scope, e.path)) continue; // a scoped round judges only its scope
      const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
      const under = orphanDirs.has(parent);
      if (e.type === 'dir') orphanDirs.add(e.path);
      if (under) continue;
      if (sourcePaths.has(e.path)) continue; // type mismatch being resolved by the round; not an orphan
      orphans++;
      if (round.orphans !== 'keep') opts.onApplied?.(e.path);
      if (round.orphans === 'delete') await rm(abs(e.path), { recursive: true, force: true });
      else if (round.orphans === 'move-aside') {
        const dest = path.join(orphansDir, ...e.path.split('/'));
        await mkdir(path.dirname(dest), { recursive: true });
        await rename(abs(e.path), dest).catch(async (err: unknown) => {
          if (code(err) !== 'EXDEV') throw err;
          result.errors.push(`${e.path}: orphans directory on another filesystem; deleted instead`);
          await rm(abs(e.path), { recursive: true, force: true });
        });
      }
    }
    // Directory metadata last, deepest first.
    const dirs = entries.filter((e) => e.type === 'dir').sort((a, b) => b.path.split('/').length - a.path.split('/').length);
    for (const d of dirs) {
      await applyMeta(abs(d.path), d).catch((err: unknown) => result.errors.push(`${d.path}: ${(err as Error).message}`));
      opts.onApplied?.(d.path);
    }
    return orphans;
  }

  try {
    for (;;) {
      const m = await channel.receive();
      if (!m) throw new ChannelError('the source closed the data channel before the mirror ended');
      if (m.corrupt) {
        result.crcErrors++;
        await channel.send(MSG.CORRUPT, {});
        if (state === 'files') {
          if (current) current.poisoned = true;
          continue;
        }
        throw new ChannelError('a control frame from the source failed its CRC; session aborted');
      }
      switch (m.type) {
        case MSG.ROUND: {
          const r = roundSchema.parse(m.header);
          round = { round: r.round, mode: r.mode, orphans: r.orphans, force: new Set(r.force), delta: r.delta ?? false, scope: r.scope };
          result.rounds = r.round;
          entries = [];
          state = 'manifest';
          break;
        }
        case MSG.MANIFEST:
          if (state !== 'manifest') throw new ChannelError('manifest outside a round');
          entries.push(...manifestChunkSchema.parse(m.header).entries);
          break;
        case MSG.MANIFEST_END:
          if (state !== 'manifest') throw new ChannelError('manifest end outside a round');
          sourcePaths = new Map(entries.map((e) => [e.path, e]));
          await computeNeeds();
          state = 'files';
          break;
        case MSG.FILE_BEGIN: {
          const b = fileBeginSchema.parse(m.header);
          if (current) {
            await discard(current);
            await ack(current.fid, false, 'incomplete (a frame was lost)');
          }
          current = { ...b, poisoned: false };
          break;
        }
        case MSG.DATA: {
          const d = dataSchema.parse(m.header);
          if (!current || current.fid !== d.fid || current.poisoned) break;
          if (d.off + m.body.length > current.size) {
            current.poisoned = true;
            break;
          }
          if (isZero(m.body)) break;
          const fh = await openTemp(current);
          await fh.write(m.body, 0, m.body.length, d.off);
          break;
        }
        case MSG.FILE_ABORT: {
          const { fid } = fidSchema.parse(m.header);
          if (current?.fid === fid) {
            await discard(current);
            current = undefined;
          }
          break;
        }
        case MSG.FILE_END: {
          const end = fileEndSchema.parse(m.header);
          const c = current;
          current = undefined;
          if (!c || c.fid !== end.fid || c.poisoned || c.path !== end.path || c.size !== end.size) {
            await discard(c);
            if (c && c.fid !== end.fid) await ack(c.fid, false, 'incomplete (a frame was lost)');
            await ack(end.fid, false, 'a frame failed its integrity check');
            break;
          }
          try {
            await finishFile(c, end);
            opts.onApplied?.(c.path);
            await ack(end.fid, true);
          } catch (err) {
            await discard(c);
            result.errors.push(`${c.path}: ${(err as Error).message}`);
            await ack(end.fid, false, (err as Error).message);
          }
          break;
        }
        case MSG.ROUND_END: {
          const { round: r } = roundEndSchema.parse(m.header);
          if (r <= lastEnded) break; // a re-sent ROUND_END
          if (current) {
            await discard(current);
            await ack(current.fid, false, 'incomplete (a frame was lost)');
            current = undefined;
          }
          const before = result.errors.length;
          const orphans = await endRound();
          result.orphans += orphans;
          lastEnded = r;
          state = 'idle';
          await channel.send(MSG.ROUND_DONE, { round: r, orphans, errors: result.errors.slice(before) });
          break;
        }
        case MSG.BYE:
          await channel.close();
          return result;
        case MSG.ERROR:
          throw new ChannelError(`source: ${String(m.header.message)}`);
        default:
          throw new ChannelError(`unexpected message ${m.type} from the source`);
      }
    }
  } catch (err) {
    await discard(current);
    await channel.send(MSG.ERROR, { message: (err as Error).message }).catch(() => undefined);
    channel.destroy(err instanceof Error ? err : undefined);
    throw err;
  }
}

