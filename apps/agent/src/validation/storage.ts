// Paths and volumes for validation (Linux): mounts from /proc/self/mountinfo with statfs(2)
// sizes, and for each asked path its owner, mode, the bytes used under it (a bounded, du-like
// walk) and the volume holding it.
import { lstat, readdir, realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { ValidationFacts, ValidationFactsArgs } from '@tandem/engine';
import { which } from '../facts/io.ts';
import { PSEUDO_FILE_SYSTEMS } from '../facts/volumes.ts';
import { clip, withTimeout } from '../facts/util.ts';
import { userName, type ValidationContext } from './context.ts';

type OkData<K extends keyof ValidationFacts> = Extract<ValidationFacts[K], { status: 'ok' }>['data'];
type PathFact = OkData<'paths'>[number];
type VolumeFact = OkData<'volumes'>[number];

export interface Mount {
  mountPoint: string;
  fileSystem: string;
  source: string;
  /** Per-mount options plus the file system's own (super) options. */
  options: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses /proc/self/mountinfo; a mount point mounted over keeps only its last (visible) mount. */
export function parseMountInfo(text: string): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    const dash = f.indexOf('-');
    if (dash < 6 || f.length < dash + 3) continue;
    const mountPoint = unescape(f[4]!);
    byPoint.delete(mountPoint); // Re-inserted last: the newest mount hides the older one.
    byPoint.set(mountPoint, {
      mountPoint,
      fileSystem: f[dash + 1]!,
      source: unescape(f[dash + 2]!),
      options: [...f[5]!.split(','), ...(f[dash + 3] ?? '').split(',')].filter(Boolean),
    });
  }
  return [...byPoint.values()];
}

/** The mount holding an (absolute, resolved) path: the longest mount point that contains it. */
export function mountOf(mounts: readonly Mount[], p: string): Mount | null {
  let best: Mount | null = null;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || p === m.mountPoint || p.startsWith(`${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length > best.mountPoint.length)) best = m;
  }
  return best;
}

export async function readMounts(ctx: ValidationContext): Promise<Mount[]> {
  return parseMountInfo(await ctx.io.readFile(ctx.mountInfoFile));
}

const XATTR_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'tmpfs', 'f2fs']);
const ACL_BY_DEFAULT = new Set(['ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'f2fs']);

/** Features a check may need, from the mount options and the file system type. */
export function mountFeatures(m: Mount, lvmThin: ReadonlySet<string>): string[] {
  const o = new Set(m.options);
  const features: string[] = [];
  if (o.has('acl') || o.has('posixacl') || (ACL_BY_DEFAULT.has(m.fileSystem) && !o.has('noacl'))) features.push('acl');
  if (o.has('user_xattr') || (XATTR_FS.has(m.fileSystem) && !o.has('nouser_xattr'))) features.push('user_xattr');
  if (o.has('noexec')) features.push('noexec');
  if (o.has('ro')) features.push('ro');
  if (m.fileSystem === 'btrfs') features.push('btrfs');
  if (m.fileSystem === 'zfs') features.push('zfs');
  if (lvmThin.has(m.source)) features.push('lvm-thin');
  return features;
}

/** Device paths of thin logical volumes (`lvs`), empty when LVM is not installed. */
async function thinVolumes(ctx: ValidationContext): Promise<Set<string>> {
  const lvs = await which(ctx.io, 'lvs');
  if (!lvs) return new Set();
  const r = await ctx.io.run(lvs, ['--noheadings', '--separator', '|', '-o', 'lv_path,lv_dm_path,segtype'], { timeoutMs: 10_000 });
  const thin = new Set<string>();
  if (r.code !== 0) return thin;
  for (const line of r.stdout.split('\n')) {
    const [lvPath, dmPath, segtype] = line.trim().split('|');
    if (segtype === 'thin') for (const p of [lvPath, dmPath]) if (p) thin.add(p);
  }
  return thin;
}

const STATFS_TIMEOUT_MS = 5_000;

/**
 * Volumes holding data: every mount but pseudo and in-memory file systems, plus whichever mount
 * holds an asked path whatever its type (a replication root on tmpfs still needs free space).
 */
export async function collectVolumes(ctx: ValidationContext, args: ValidationFactsArgs): Promise<VolumeFact[]> {
  const [mounts, lvmThin] = await Promise.all([readMounts(ctx), thinVolumes(ctx).catch(() => new Set<string>())]);
  const asked = new Set<string>();
  for (const p of args.paths) {
    const m = mountOf(mounts, await nearestExisting(p).catch(() => p));
    if (m) asked.add(m.mountPoint);
  }
  const chosen = mounts.filter((m) => asked.has(m.mountPoint) || !PSEUDO_FILE_SYSTEMS.has(m.fileSystem));
  const volumes: VolumeFact[] = [];
  for (const m of chosen) {
    let s;
    try {
      s = await withTimeout(statfs(m.mountPoint), STATFS_TIMEOUT_MS, `statfs ${m.mountPoint}`);
    } catch {
      continue; // Gone, or hanging (a dead network mount): not a volume we can use.
    }
    const sizeBytes = s.blocks * s.bsize;
    if (sizeBytes <= 0 && !asked.has(m.mountPoint)) continue;
    volumes.push({
      mountPoint: clip(m.mountPoint),
      fileSystem: clip(m.fileSystem),
      sizeBytes,
      freeBytes: s.bavail * s.bsize,
      system: m.mountPoint === '/',
      features: mountFeatures(m, lvmThin),
    });
  }
  return volumes.slice(0, 1024);
}

/** The path itself when it exists, else its nearest existing parent (resolved). */
export async function nearestExisting(p: string): Promise<string> {
  let current = path.resolve(p);
  for (;;) {
    try {
      return await realpath(current);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** Walk limits: past either, the bytes used are reported as not measured (null). */
export const WALK_MAX_ENTRIES = 200_000;
export const WALK_MAX_MS = 10_000;
/** All asked paths' walks together (the collector's deadline must leave room for the rest). */
export const WALK_TOTAL_MS = 15_000;

/**
 * Bytes allocated under a path, like `du -sxB1`: every file and directory once (hard links by
 * inode), without crossing into other file systems. Null when the walk hits its limits.
 */
export async function usedBytes(root: string, limits = { entries: WALK_MAX_ENTRIES, ms: WALK_MAX_MS }): Promise<number | null> {
  const deadline = Date.now() + limits.ms;
  const top = await stat(root);
  const seen = new Set<string>();
  let total = 0;
  let entries = 0;
  const stack: string[] = [root];
  const count = (s: { dev: number; ino: number; blocks: number; nlink: number }) => {
    if (s.nlink > 1) {
      const key = `${s.dev}:${s.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    total += s.blocks * 512;
  };
  count(top);
  if (!top.isDirectory()) return total;
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // Removed while we walked.
      throw e;
    }
    for (const name of names) {
      if (++entries > limits.entries || Date.now() > deadline) return null;
      const p = path.join(dir, name);
      let s;
      try {
        s = await lstat(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (s.dev !== top.dev) continue; // Another file system mounted inside.
      count(s);
      if (s.isDirectory()) stack.push(p);
    }
  }
  return total;
}

/** One asked path. A path that cannot be examined (permission denied) fails the whole collector. */
async function describePath(ctx: ValidationContext, mounts: readonly Mount[], p: string, walkDeadline: number): Promise<PathFact> {
  const resolvedParent = await nearestExisting(p);
  const volume = mountOf(mounts, resolvedParent)?.mountPoint ?? null;
  let s;
  try {
    s = await stat(p); // A symbolic link is described by what it points to.
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new Error(`cannot examine ${p}: ${(e as Error).message}`);
    return { path: clip(p), exists: false, type: null, owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume };
  }
  let used: number | null;
  try {
    const ms = Math.min(WALK_MAX_MS, walkDeadline - Date.now());
    used = ms > 0 ? await usedBytes(p, { entries: WALK_MAX_ENTRIES, ms }) : null;
  } catch (e) {
    throw new Error(`cannot measure ${p}: ${(e as Error).message}`);
  }
  return {
    path: clip(p),
    exists: true,
    type: s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other',
    owner: await userName(ctx, s.uid),
    uid: s.uid,
    gid: s.gid,
    mode: s.mode & 0o7777,
    usedBytes: used,
    volume,
  };
}

export async function collectPaths(ctx: ValidationContext, args: ValidationFactsArgs): Promise<PathFact[]> {
  if (args.paths.length === 0) return [];
  const mounts = await readMounts(ctx);
  const out: PathFact[] = [];
  const walkDeadline = Date.now() + WALK_TOTAL_MS;
  // One at a time: each walk is bounded, and walks in parallel would only fight for the disk.
  for (const p of args.paths) {
    if (!path.isAbsolute(p)) throw new Error(`path "${p}" is not absolute`);
    out.push(await describePath(ctx, mounts, p, walkDeadline));
  }
  return out;
}
