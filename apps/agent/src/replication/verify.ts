// Verify on demand: compare the source's and the target's copies of a root, content AND metadata,
// over the pair's data channel, and re-send exactly what differs.
//
// PROTOCOL (one session, its own channel): S sends VERIFY {rules, paths?}; T walks its copy (the
// whole root, or only the given paths and what lies below them), hashes every file and streams the
// description back (VERIFY_ENTRIES chunks, then VERIFY_END); S does the same on its side at the same
// time, compares, and ends with BYE. Nothing is written on either side.
// - Content digest of a file = sha256 of its block signature (blocks.ts: 128 KiB blocks, sha256
//   each), so both sides hash in one sequential read, all-zero blocks cost a memcmp, and the
//   digest is equal exactly when every block is.
// - A difference is one of: `missing` (on the source, not on the target), `extra` (on the target,
//   inside the set, not on the source), `content` (type, size, bytes or symlink target differ), or
//   `metadata` (content equal; mode, owner, group or mtime differ; directories included). The
//   applier's temp files are never reported. Rules are evaluated on both sides.
// - Verify compares two moving trees when replication is running: a change still in the queue shows
//   up as a difference (compare with lag 0 for a meaningful answer).
//
// RE-SEND: `resend()` is a mirror session restricted to the differing paths (mirror.ts `scope`) in
// checksum mode: for each file the target returns its block signature and only the differing
// blocks travel (metadata-only differences send no content); missing directories are created with
// their metadata; extra entries are handled by the orphan policy (default delete: re-send makes the
// target equal). While continuous replication runs to a ContinuousTarget, use
// `ContinuousSource.resend()` instead, which queues the paths into the continuous engine (probe +
// block delta per path) rather than replacing its session.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Channel, ChannelError } from './channel.ts';
import { signFile } from './blocks.ts';
import { isTempName, type ManifestEntry, walk, walkPaths } from './manifest.ts';
import { mirror, type MirrorOptions, type MirrorResult } from './mirror.ts';
import { errorSchema, MSG, PROTOCOL_VERSION, type OrphanPolicy, verifyEndSchema, verifyEntriesSchema, verifySchema } from './protocol.ts';
import { matches, type ReplicationRule } from './set.ts';

export type DifferenceKind = 'missing' | 'extra' | 'content' | 'metadata';

export interface Difference {
  path: string;
  kind: DifferenceKind;
  /** Human-readable, e.g. `mode 644 != 600`. */
  detail: string;
}

export interface VerifyResult {
  /** Sorted by path (parents first). Empty = the copies are equal. */
  differing: Difference[];
  /** Files hashed on the source, and their bytes. */
  checkedFiles: number;
  checkedBytes: number;
  /** Entries (files, directories, symlinks) compared on the source side / described by the target. */
  sourceEntries: number;
  targetEntries: number;
  /** Entries either side could not read, prefixed `source:` or `target:`. */
  skipped: string[];
  ms: number;
}

export interface VerifyProgress {
  filesHashed: number;
  bytesHashed: number;
}

export interface VerifyOptions {
  channel: Channel;
  /** Absolute source root. */
  root: string;
  rules?: readonly ReplicationRule[];
  /** Only these paths and what lies below them; unset = the whole root. */
  paths?: readonly string[];
  onProgress?: (p: VerifyProgress) => void;
}

/** A manifest entry with the content digest of a file. */
export type DescribedEntry = ManifestEntry & { digest?: string };

const CHUNK = 1000;
const MAX_SCOPE = 50_000;
const HASH_CONCURRENCY = 4;
const MTIME_TOLERANCE_MS = 0.005;

/** Walks (all or some paths of) a root and hashes its files. */
export async function describeTree(
  root: string,
  opts: { rules?: readonly ReplicationRule[]; paths?: readonly string[]; onFile?: (bytes: number) => void } = {},
): Promise<{ entries: DescribedEntry[]; skipped: { path: string; reason: string }[] }> {
  const ignore = (_rel: string, name: string) => isTempName(name);
  const m = opts.paths ? await walkPaths(root, opts.paths, { rules: opts.rules, ignore }) : await walk(root, { rules: opts.rules, ignore });
  const entries: DescribedEntry[] = m.entries;
  const skipped = [...m.skipped];
  const files = entries.filter((e) => e.type === 'file');
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const e = files[next++]!;
      try {
        const sig = await signFile(path.join(root, ...e.path.split('/')));
        e.size = sig.size; // as read: a file growing under us is compared as it was hashed
        e.digest = createHash('sha256').update(sig.hashes).digest('hex');
        opts.onFile?.(sig.size);
      } catch (err) {
        skipped.push({ path: e.path, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  return { entries, skipped };
}

const octal = (n: number) => n.toString(8);

/** The differences between a source and a target description (rules filter the target's side). */
export function compareTrees(source: readonly DescribedEntry[], target: readonly DescribedEntry[], rules: readonly ReplicationRule[] = []): Difference[] {
  const out: Difference[] = [];
  const theirs = new Map(target.map((e) => [e.path, e]));
  for (const s of source) {
    const t = theirs.get(s.path);
    theirs.delete(s.path);
    if (!t) {
      out.push({ path: s.path, kind: 'missing', detail: `${s.type} missing on target` });
      continue;
    }
    if (t.type !== s.type) {
      out.push({ path: s.path, kind: 'content', detail: `type ${s.type} != ${t.type}` });
      continue;
    }
    if (s.type === 'file') {
      if (s.size !== t.size) {
        out.push({ path: s.path, kind: 'content', detail: `size ${s.size} != ${t.size}` });
        continue;
      }
      if (!s.digest || !t.digest || s.digest !== t.digest) {
        out.push({ path: s.path, kind: 'content', detail: s.digest && t.digest ? 'content hash differs' : 'could not hash' });
        continue;
      }
    }
    if (s.type === 'symlink' && s.target !== t.target) {
      out.push({ path: s.path, kind: 'content', detail: `link target ${s.target ?? ''} != ${t.target ?? ''}` });
      continue;
    }
    const meta: string[] = [];
    if (s.type !== 'symlink' && s.mode !== t.mode) meta.push(`mode ${octal(s.mode)} != ${octal(t.mode)}`);
    if (s.uid !== t.uid) meta.push(`uid ${s.uid} != ${t.uid}`);
    if (s.gid !== t.gid) meta.push(`gid ${s.gid} != ${t.gid}`);
    if (Math.abs(s.mtimeMs - t.mtimeMs) >= MTIME_TOLERANCE_MS) meta.push(`mtime ${s.mtimeMs} != ${t.mtimeMs}`);
    if (meta.length) out.push({ path: s.path, kind: 'metadata', detail: meta.join(', ') });
  }
  for (const t of theirs.values()) {
    if (matches(rules, t.path)) out.push({ path: t.path, kind: 'extra', detail: `${t.type} not on source` });
  }
  return out.sort((a, b) => comparePathsLocal(a.path, b.path));
}

function comparePathsLocal(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Source side: asks the target for its description, hashes the source meanwhile, compares. */
export async function verify(opts: VerifyOptions): Promise<VerifyResult> {
  const { channel } = opts;
  const t0 = performance.now();
  const rules = [...(opts.rules ?? [])];
  try {
    await channel.send(MSG.VERIFY, { version: PROTOCOL_VERSION, rules, ...(opts.paths ? { paths: [...opts.paths] } : {}) });
    const theirsP = receiveDescription(channel);
    theirsP.catch(() => undefined);
    const progress: VerifyProgress = { filesHashed: 0, bytesHashed: 0 };
    const mine = await describeTree(opts.root, {
      rules,
      paths: opts.paths,
      onFile: (n) => {
        progress.filesHashed++;
        progress.bytesHashed += n;
        if (progress.filesHashed % 100 === 0) opts.onProgress?.({ ...progress });
      },
    });
    opts.onProgress?.({ ...progress });
    const theirs = await theirsP;
    await channel.send(MSG.BYE, {});
    await channel.close();
    return {
      differing: compareTrees(mine.entries, theirs.entries, rules),
      checkedFiles: progress.filesHashed,
      checkedBytes: progress.bytesHashed,
      sourceEntries: mine.entries.length,
      targetEntries: theirs.entries.length,
      skipped: [...mine.skipped.map((s) => `source: ${s.path}: ${s.reason}`), ...theirs.skipped.map((s) => `target: ${s.path}: ${s.reason}`)],
      ms: performance.now() - t0,
    };
  } catch (err) {
    channel.destroy(err instanceof Error ? err : undefined);
    throw err;
  }
}

async function receiveDescription(channel: Channel): Promise<{ entries: DescribedEntry[]; skipped: { path: string; reason: string }[] }> {
  const entries: DescribedEntry[] = [];
  for (;;) {
    const m = await channel.receive();
    if (!m) throw new ChannelError('the target closed the data channel during verify');
    if (m.corrupt) throw new ChannelError('a frame from the target failed its CRC; verify aborted');
    if (m.type === MSG.VERIFY_ENTRIES) entries.push(...verifyEntriesSchema.parse(m.header).entries);
    else if (m.type === MSG.VERIFY_END) {
      const end = verifyEndSchema.parse(m.header);
      if (end.count !== entries.length) throw new ChannelError(`verify: target described ${end.count} entries, ${entries.length} arrived`);
      return { entries, skipped: end.skipped };
    } else if (m.type === MSG.ERROR) throw new ChannelError(`target: ${errorSchema.parse(m.header).message}`);
    else throw new ChannelError(`unexpected message ${m.type} from the target during verify`);
  }
}

/** Target side of a verify session (the first message on the channel is VERIFY). Writes nothing. */
export async function serveVerify(opts: { channel: Channel; root: string }): Promise<{ entries: number }> {
  const { channel } = opts;
  try {
    const m = await channel.receive();
    if (!m) throw new ChannelError('the source closed the data channel before verify');
    if (m.corrupt) throw new ChannelError('the verify request failed its CRC');
    if (m.type !== MSG.VERIFY) throw new ChannelError(`expected VERIFY, got ${m.type}`);
    const req = verifySchema.parse(m.header);
    const { entries, skipped } = await describeTree(opts.root, { rules: req.rules, paths: req.paths });
    for (let i = 0; i < entries.length; i += CHUNK) await channel.send(MSG.VERIFY_ENTRIES, { entries: entries.slice(i, i + CHUNK) });
    await channel.send(MSG.VERIFY_END, { count: entries.length, skipped });
    const bye = await channel.receive();
    if (bye && !bye.corrupt && bye.type !== MSG.BYE) throw new ChannelError(`expected BYE, got ${bye.type}`);
    await channel.close();
    return { entries: entries.length };
  } catch (err) {
    await channel.send(MSG.ERROR, { message: (err as Error).message }).catch(() => undefined);
    channel.destroy(err instanceof Error ? err : undefined);
    throw err;
  }
}

export interface ResendOptions extends Omit<MirrorOptions, 'mode' | 'scope' | 'orphans' | 'delta'> {
  /** What verify reported (or plain relative paths). */
  paths: readonly (string | Difference)[];
  /** What to do with `extra` entries; default 'delete' (the target ends equal to the source). */
  orphans?: OrphanPolicy;
}

/**
 * Fixes exactly the given paths on the target: a checksum-mode mirror session restricted to them
 * (only differing blocks travel). The target side is applyMirror (or a ContinuousTarget).
 */
export async function resend(opts: ResendOptions): Promise<MirrorResult> {
  const paths = opts.paths.map((p) => (typeof p === 'string' ? p : p.path));
  const { paths: _p, orphans, ...rest } = opts;
  // Past the protocol's scope limit a whole-root checksum pass is cheaper anyway.
  return mirror({ ...rest, mode: 'checksum', orphans: orphans ?? 'delete', ...(paths.length <= MAX_SCOPE ? { scope: paths } : {}) });
}
