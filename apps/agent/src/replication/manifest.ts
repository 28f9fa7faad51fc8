// The manifest is the list of what a root holds, with the metadata the mirror must reproduce. The
// source sends it to the target, which compares it with its own walk to decide what it needs, and
// tests compare manifests to prove two trees equal. The walk never follows symlinks (a link is an
// entry of its own, with its target text), sorts names so the order is deterministic, and works on
// any name Node can represent (Unicode, spaces). Names that are not valid UTF-8 cannot round-trip
// through a JS string and are reported in `skipped` rather than mangled.
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { matches, prunable, type ReplicationRule } from './set.ts';

export type EntryType = 'file' | 'dir' | 'symlink';

export interface ManifestEntry {
  /** Relative to the root, posix separators, never empty, never `..`. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** Bytes for files, link-text length for symlinks, 0 for directories. */
  size: number;
  /** Symlink target text, verbatim (relative, absolute or dangling). */
  target?: string;
  /** The file occupies fewer blocks than its size: it has holes. */
  sparse?: boolean;
  /**
   * Files only, with `links` walks: this name is a hard link to the file at `link`, the first name
   * of the same (device, inode) in walk order among the entries the walk reports (see markLinks).
   */
  link?: string;
}

export interface WalkOptions {
  rules?: readonly ReplicationRule[];
  /** Names (relative paths) the walk must not report, e.g. the target's temp files. */
  ignore?: (relPath: string, name: string) => boolean;
  /** Walk only below this directory (relative to the root; entries stay relative to the root). */
  under?: string;
  /** Mark hard links: every further name of a file gets `link` (see markLinks). */
  links?: boolean;
}

/** Temp files the appliers create beside a destination (`.tandem-<n>-<pid hex>.tmp`): never replicated, hashed or compared. */
export const TEMP_NAME_RE = /^\.tandem-\d+-[0-9a-f]+\.tmp$/;
export const isTempName = (name: string): boolean => TEMP_NAME_RE.test(name);

export interface Manifest {
  entries: ManifestEntry[];
  /** Entries the walk could not read or represent, with the reason. */
  skipped: { path: string; reason: string }[];
}

/**
 * (device, inode) of each file entry with more than one name, as its walk saw it. Kept beside the
 * entries rather than in them: they describe this machine only and never travel.
 */
const inodes = new WeakMap<ManifestEntry, { key: string; nlink: number }>();

/** The `device:inode` of a file entry that had more than one name when walked; undefined for one name. */
export function inodeKey(entry: ManifestEntry): string | undefined {
  return inodes.get(entry)?.key;
}

/** How many names the file of an entry had when walked (1 unless it had several). */
export function linkCount(entry: ManifestEntry): number {
  return inodes.get(entry)?.nlink ?? 1;
}

/**
 * Groups the hard links among `entries` (as rsync -H does): the first name of each (device, inode)
 * in the list keeps its content, every later one gets `link` = that first name. Names the list
 * leaves out (excluded by the rules, outside a scope) simply do not take part.
 */
export function markLinks(entries: readonly ManifestEntry[]): void {
  const first = new Map<string, string>();
  for (const e of entries) {
    if (e.type !== 'file') continue;
    delete e.link;
    const key = inodes.get(e)?.key;
    if (key === undefined) continue;
    const f = first.get(key);
    if (f === undefined) first.set(key, e.path);
    else e.link = f;
  }
}

export function entryFromStats(rel: string, st: Stats, target?: string): ManifestEntry | undefined {
  const type: EntryType | undefined = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : undefined;
  if (!type) return undefined;
  const entry: ManifestEntry = {
    path: rel,
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtimeMs: st.mtimeMs,
    size: type === 'dir' ? 0 : st.size,
  };
  if (type === 'symlink' && target !== undefined) entry.target = target;
  if (type === 'file' && st.blocks * 512 < st.size) entry.sparse = true;
  if (type === 'file' && st.nlink > 1) inodes.set(entry, { key: `${st.dev}:${st.ino}`, nlink: st.nlink });
  return entry;
}

type Walked = { name: string; err: string } | { name: string; rel: string; st: Stats; target: string | undefined };

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Walks `root` depth-first (parents before children, names sorted) into a manifest. */
export async function walk(root: string, opts: WalkOptions = {}): Promise<Manifest> {
  const rules = opts.rules ?? [];
  const entries: ManifestEntry[] = [];
  const skipped: Manifest['skipped'] = [];
  async function visit(dirRel: string): Promise<void> {
    const abs = dirRel ? path.join(root, dirRel) : root;
    let names: string[];
    try {
      names = (await readdir(abs)).sort(byName);
    } catch (err) {
      skipped.push({ path: dirRel || '.', reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    // One directory's entries are stat'ed with synchronous calls (a few microseconds each from the
    // inode cache; a thread-pool round trip per entry costs ten times that), the next
    // directory's readdir gives the event loop its turn.
    const stats = names.map((name): Walked | undefined => {
      if (name.includes('\uFFFD')) return { name, err: 'name is not valid UTF-8' };
      const rel = dirRel ? `${dirRel}/${name}` : name;
      if (opts.ignore?.(rel, name)) return undefined;
      try {
        const st = lstatSync(path.join(abs, name));
        const target = st.isSymbolicLink() ? readlinkSync(path.join(abs, name)) : undefined;
        return { name, rel, st, target };
      } catch (err) {
        return { name, err: (err as NodeJS.ErrnoException).code ?? String(err) };
      }
    });
    for (const s of stats) {
      if (!s) continue;
      if ('err' in s) {
        skipped.push({ path: dirRel ? `${dirRel}/${s.name}` : s.name, reason: s.err });
        continue;
      }
      const entry = entryFromStats(s.rel, s.st, s.target);
      if (!entry) {
        skipped.push({ path: s.rel, reason: 'not a file, directory or symlink' });
        continue;
      }
      if (matches(rules, s.rel)) entries.push(entry);
      if (entry.type === 'dir' && !prunable(rules, s.rel)) await visit(s.rel);
    }
  }
  await visit(opts.under ?? '');
  if (opts.links) markLinks(entries);
  return { entries, skipped };
}

/** Orders paths parents-first, siblings by name (the order walk() produces). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = byName(pa[i]!, pb[i]!);
    if (c) return c;
  }
  return pa.length - pb.length;
}

/** Reduces a list of paths to the top-most ones (a path under another listed path is covered by it), sorted. */
export function normalizeScope(paths: readonly string[]): string[] {
  const sorted = [...new Set(paths)].sort(comparePaths);
  const out: string[] = [];
  for (const p of sorted) {
    const last = out.at(-1);
    if (last !== undefined && (p === last || p.startsWith(last + '/'))) continue;
    out.push(p);
  }
  return out;
}

/** Whether `rel` is one of the scope's paths or below one. */
export function inScope(scope: readonly string[], rel: string): boolean {
  return scope.some((s) => rel === s || rel.startsWith(s + '/'));
}

export interface ScopedWalkOptions extends Omit<WalkOptions, 'under'> {
  /** Also report the existing ancestor directories of each scope path (so a receiver can recreate them with their metadata). */
  ancestors?: boolean;
}

/**
 * A manifest restricted to some paths: each path that exists (and every entry below it, when it is
 * a directory), in walk() order. Paths that do not exist, or sit below something that is not a
 * directory, are simply absent. Rules apply as in walk().
 */
export async function walkPaths(root: string, paths: readonly string[], opts: ScopedWalkOptions = {}): Promise<Manifest> {
  const rules = opts.rules ?? [];
  const out = new Map<string, ManifestEntry>();
  const skipped: Manifest['skipped'] = [];
  for (const p of normalizeScope(paths)) {
    if (!isSafeRelPath(p)) {
      skipped.push({ path: p, reason: 'unsafe path' });
      continue;
    }
    const parts = p.split('/');
    let reachable = true;
    for (let i = 1; i < parts.length; i++) {
      const a = parts.slice(0, i).join('/');
      let st: Stats;
      try {
        st = await lstat(path.join(root, ...parts.slice(0, i)));
      } catch {
        reachable = false;
        break;
      }
      if (!st.isDirectory()) {
        reachable = false;
        break;
      }
      if (opts.ancestors && !out.has(a) && matches(rules, a)) out.set(a, entryFromStats(a, st)!);
    }
    if (!reachable || opts.ignore?.(p, parts.at(-1)!)) continue;
    const abs = path.join(root, ...parts);
    let st: Stats;
    try {
      st = await lstat(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') skipped.push({ path: p, reason: code ?? String(err) });
      continue;
    }
    const entry = entryFromStats(p, st, st.isSymbolicLink() ? await readlink(abs).catch(() => undefined) : undefined);
    if (!entry) {
      skipped.push({ path: p, reason: 'not a file, directory or symlink' });
      continue;
    }
    if (matches(rules, p)) out.set(p, entry);
    if (entry.type === 'dir' && !prunable(rules, p)) {
      const sub = await walk(root, { rules, ignore: opts.ignore, under: p });
      for (const e of sub.entries) out.set(e.path, e);
      skipped.push(...sub.skipped);
    }
  }
  const entries = [...out.values()].sort((a, b) => comparePaths(a.path, b.path));
  if (opts.links) markLinks(entries);
  return { entries, skipped };
}

/** Rejects paths a peer must never make us touch: absolute, `..`, empty components, NUL. */
export function isSafeRelPath(rel: string): boolean {
  if (!rel || rel.includes('\0') || rel.startsWith('/')) return false;
  return rel.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}
