// The initial mirror, target side: applies what the source sends to the target's copy of a root.
// Guarantees:
// - File content (FILE_BEGIN/DATA/FILE_END, FILE_WHOLE) is applied by receive.ts, shared with the
//   continuous target: a reader never sees a half-written file (temp beside the destination,
//   renamed when complete, intact and stamped), sparse files stay sparse, deltas build on the
//   current file, several files are applied at once.
// - Checksum mode: the block signature of a file the target already holds comes from the
//   signature cache when it is still valid for that exact file (signatures.ts), else it is read.
// - Paths from the peer are validated (relative, no `..`), and every ancestor of a path we write is
//   checked to be a real directory (a symlink there is replaced), so nothing is written outside the root.
// - Ownership is set before the mode (chown clears setuid/setgid), mtime last; directory metadata
//   at the end of each round, deepest first, since creating children changes a directory's mtime,
//   and the root's own (sent with ROUND_END) after them.
// - Hard links (a manifest entry with `link`, see mirror.ts): the name is made a link to the
//   linked file with link() at the end of the round, once every file has landed (a file replaced this
//   round got a new inode), before the directories' metadata. A file whose inode the target shares
//   with an earlier file the source does not link to it is sent again, whole (its replacement gets
//   an inode of its own), so a link broken on the source is broken here too. Names the set's rules
//   leave out are not part of any group.
// - Orphans (entries absent from the source manifest): kept, deleted, or moved aside into
//   `<parent of root>/.tandem-orphans/<root name>-<timestamp>/` (or `orphansDir`), keeping their
//   relative paths. A type conflict (a directory where the source has a file, or the reverse) is
//   resolved by removing the target's entry whatever the policy.
// - With the set's `rules` (a restore into the original source), the root is walked through them:
//   what the set leaves out is neither compared nor an orphan, so it is never touched.
// - A round may carry a `scope` (verify's re-send): then only those paths and what lies below them
//   are compared, and orphans are looked for only there.
// - `onApplied` reports every path changed (for an onward pair when this root is itself a source).
// - Durability: files are not fsync'ed one by one (that would make a mirror of small files crawl);
//   the next round or a checksum pass after a crash repairs anything lost in the page cache.
import { type Stats } from 'node:fs';
import { link, lstat, mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { type z } from 'zod';
import { signFile } from './blocks.ts';
import { type Channel, ChannelError } from './channel.ts';
import { inodeKey, inScope, isTempName, walk, walkPaths } from './manifest.ts';
import {
  type entrySchema,
  manifestChunkSchema,
  MSG,
  type OrphanPolicy,
  roundEndSchema,
  roundSchema,
} from './protocol.ts';
import { applyMeta, FileReceiver } from './receive.ts';
import { type ReplicationRule } from './set.ts';
import { type SignatureCache } from './signatures.ts';

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
  /** Block signatures remembered across sessions (checksum mode and deltas read less). */
  signatures?: SignatureCache;
  /**
   * The set's rules, when this root also holds files the set leaves out (a restore into the
   * original source): only paths the rules select can be orphans. Unset: every path can.
   */
  rules?: readonly ReplicationRule[];
}

export interface ApplyResult {
  rounds: number;
  filesApplied: number;
  filesRejected: number;
  crcErrors: number;
  orphans: number;
  errors: string[];
}

type Entry = z.infer<typeof entrySchema>;

const sameTime = (a: number, b: number) => Math.abs(a - b) < MTIME_TOLERANCE_MS;
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;
let tempSeq = 0;

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
  let lastEnded = 0;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const orphansDir = opts.orphansDir ?? path.join(path.dirname(root), '.tandem-orphans', `${path.basename(root)}-${stamp}`);

  const abs = (rel: string) => path.join(root, ...rel.split('/'));
  const tempPath = (rel: string) => path.join(path.dirname(abs(rel)), `.tandem-${tempSeq++}-${process.pid.toString(16)}.tmp`);

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
    if (!st) {
      // Files are applied concurrently: another one may have just created it.
      await mkdir(p, { mode: 0o700 }).catch(async (err: unknown) => {
        if (code(err) !== 'EEXIST' || !(await lstat(p)).isDirectory()) throw err;
      });
    }
    safeDirs.add(rel);
  }

  const receiver = new FileReceiver({
    root,
    ensureParents,
    tempPath,
    signatures: opts.signatures,
    onResult: async (fid, rel, r) => {
      if (r.ok) {
        result.filesApplied++;
        opts.onApplied?.(rel);
      } else {
        result.filesRejected++;
        if (r.local) result.errors.push(r.error);
      }
      await channel.send(MSG.ACK, r.ok ? { fid, ok: true } : { fid, ok: false, error: r.error }).catch(() => undefined);
    },
  });

  async function computeNeeds(): Promise<void> {
    const stale: string[] = [];
    const ignore = (rel: string, name: string) => {
      if (isTempName(name)) stale.push(rel);
      return isTempName(name);
    };
    const mine = round.scope ? await walkPaths(root, round.scope, { ignore, rules: opts.rules }) : await walk(root, { ignore, rules: opts.rules });
    for (const rel of stale) await rm(abs(rel), { force: true });
    const have = new Map(mine.entries.map((e) => [e.path, e]));
    // Hard links: for each inode here with several names, the first of them (walk order) that the
    // source has as a file of its own (not as a link to another file).
    const firstOwn = new Map<string, string>();
    for (const e of mine.entries) {
      const key = inodeKey(e);
      const s = sourcePaths.get(e.path);
      if (key !== undefined && !firstOwn.has(key) && s?.type === 'file' && s.link === undefined) firstOwn.set(key, e.path);
    }
    /**
     * Our copy of `e` shares its inode with an earlier file the source has apart from it: `e` must
     * get an inode of its own (the earlier one keeps it). Names the source links to some file are
     * re-linked at the end of the round, and names the source no longer has are orphans.
     */
    const wronglyLinked = (e: Entry, cur: Entry | undefined): boolean => {
      const key = cur && inodeKey(cur);
      const first = key === undefined ? undefined : firstOwn.get(key);
      return first !== undefined && first !== e.path;
    };
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
          const tmp = tempPath(e.path);
          await symlink(e.target ?? '', tmp);
          await rename(tmp, p);
        }
        await applyMeta(p, e).catch((err: unknown) => result.errors.push(`${e.path}: ${(err as Error).message}`));
        opts.onApplied?.(e.path);
        continue;
      }
      if (e.type !== 'file' || e.link !== undefined) continue; // links are made at the end of the round
      const unlink = wronglyLinked(e, cur);
      const same = cur?.type === 'file' && cur.size === e.size && sameTime(cur.mtimeMs, e.mtimeMs) && !unlink;
      const needed = round.mode !== 'differences' || !same || round.force.has(e.path);
      if (!needed) {
        if (cur && (cur.mode !== e.mode || cur.uid !== e.uid || cur.gid !== e.gid)) {
          await applyMeta(p, e).catch((err: unknown) => result.errors.push(`${e.path}: ${(err as Error).message}`));
          opts.onApplied?.(e.path);
        }
        continue;
      }
      count++;
      // A delta of equal content would only restamp the shared inode: to unlink, the file comes whole.
      if ((round.mode === 'checksum' || round.delta) && cur?.type === 'file' && !unlink) {
        const st = await lstat(p).catch(() => undefined);
        const sig = st?.isFile() ? await (opts.signatures ? opts.signatures.sign(p, st) : signFile(p)) : undefined;
        if (sig) await channel.send(MSG.NEED, { path: e.path, sig: { size: sig.size, blockSize: sig.blockSize } }, sig.hashes);
        else await channel.send(MSG.NEED, { path: e.path });
      } else {
        await channel.send(MSG.NEED, { path: e.path });
      }
    }
    await channel.send(MSG.NEEDS_END, { count });
  }

  /** Makes every linked name of the manifest a hard link to its file (which has landed by now). */
  async function makeLinks(): Promise<void> {
    for (const e of entries) {
      if (e.type !== 'file' || e.link === undefined) continue;
      const first = sourcePaths.get(e.link);
      if (first?.type !== 'file' || first.link !== undefined) {
        result.errors.push(`${e.path}: the source links it to ${e.link}, which is not a file of the manifest`);
        continue;
      }
      const to = abs(e.link);
      const p = abs(e.path);
      const [a, b] = await Promise.all([lstat(to).catch(() => undefined), lstat(p).catch(() => undefined)]);
      // Not here: the file failed to arrive, and the source sends it again next round.
      if (!a?.isFile()) continue;
      if (b && b.dev === a.dev && b.ino === a.ino) continue;
      try {
        await ensureParents(e.path);
        if (b?.isDirectory()) await rm(p, { recursive: true, force: true });
        // Beside the name, then renamed over it: a reader sees the old file or the linked one.
        const tmp = tempPath(e.path);
        await link(to, tmp);
        await rename(tmp, p).catch(async (err: unknown) => {
          await rm(tmp, { force: true });
          throw err;
        });
        opts.onApplied?.(e.path);
      } catch (err) {
        result.errors.push(`${e.path}: ${(err as Error).message}`);
      }
    }
  }

  async function endRound(): Promise<number> {
    await makeLinks();
    let orphans = 0;
    const ignore = (_rel: string, name: string) => isTempName(name);
    const mine = round.scope ? await walkPaths(root, round.scope, { ignore, rules: opts.rules }) : await walk(root, { ignore, rules: opts.rules });
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
          receiver.poisonOpen();
          continue;
        }
        throw new ChannelError('a control frame from the source failed its CRC; session aborted');
      }
      // A file's own frames (begin, data, abort, end, whole) go to the shared receiver.
      if (await receiver.handleFileFrame(m)) continue;
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
        case MSG.ROUND_END: {
          const { round: r, root: rootMeta } = roundEndSchema.parse(m.header);
          if (r <= lastEnded) break; // a re-sent ROUND_END
          receiver.abandonOpen('incomplete (a frame was lost)');
          await receiver.idle();
          const before = result.errors.length;
          const orphans = await endRound();
          // The root's own metadata last: everything above changed its mtime.
          if (rootMeta) await applyMeta(root, { type: 'dir', ...rootMeta }).catch((err: unknown) => result.errors.push(`.: ${(err as Error).message}`));
          result.orphans += orphans;
          lastEnded = r;
          state = 'idle';
          await channel.send(MSG.ROUND_DONE, { round: r, orphans, errors: result.errors.slice(before) });
          break;
        }
        case MSG.BYE:
          await receiver.dispose();
          await channel.close();
          return result;
        case MSG.ERROR:
          throw new ChannelError(`source: ${String(m.header.message)}`);
        default:
          throw new ChannelError(`unexpected message ${m.type} from the source`);
      }
    }
  } catch (err) {
    await receiver.dispose();
    await channel.send(MSG.ERROR, { message: (err as Error).message }).catch(() => undefined);
    channel.destroy(err instanceof Error ? err : undefined);
    throw err;
  }
}
