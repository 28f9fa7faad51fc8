// The manifest is the list of what a root holds, with the metadata the mirror must reproduce. The
// source sends it to the target, which compares it with its own walk to decide what it needs, and
// tests compare manifests to prove two trees equal. The walk never follows symlinks (a link is an
// entry of its own, with its target text), sorts names so the order is deterministic, and works on
// any name Node can represent (Unicode, spaces). Names that are not valid UTF-8 cannot round-trip
// through a JS string and are reported in `skipped` rather than mangled.
import { type Stats } from 'node:fs';
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
}

export interface WalkOptions {
  rules?: readonly ReplicationRule[];
  /** Names (relative paths) the walk must not report, e.g. the target's temp files. */
  ignore?: (relPath: string, name: string) => boolean;
}

export interface Manifest {
  entries: ManifestEntry[];
  /** Entries the walk could not read or represent, with the reason. */
  skipped: { path: string; reason: string }[];
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
    // lstat a directory's entries concurrently; recurse in order afterwards.
    const stats = await Promise.all(
      names.map(async (name): Promise<Walked | undefined> => {
        if (name.includes('\uFFFD')) return { name, err: 'name is not valid UTF-8' };
        const rel = dirRel ? `${dirRel}/${name}` : name;
        if (opts.ignore?.(rel, name)) return undefined;
        try {
          const st = await lstat(path.join(abs, name));
          const target = st.isSymbolicLink() ? await readlink(path.join(abs, name)) : undefined;
          return { name, rel, st, target };
        } catch (err) {
          return { name, err: (err as NodeJS.ErrnoException).code ?? String(err) } 
        }
      }),
    );
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
  await visit('');
  return { entries, skipped };
}

/** Rejects paths a peer must never make us touch: absolute, `..`, empty components, NUL. */
export function isSafeRelPath(rel: string): boolean {
  if (!rel || rel.includes('\0') || rel.startsWith('/')) return false;
  return rel.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}
