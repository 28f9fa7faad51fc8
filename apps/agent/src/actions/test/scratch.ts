// The agent's scratch area for test failover copies: `<scratchDir>/<operation id>/` holding
// `meta.json` (kind, createdAt), `files/` (file copies) and `pgdata/` (a PostgreSQL copy). Only
// UUIDs name a copy, and nothing here follows a symlink: a copy directory that is a link is refused
// on create and only the link itself is removed.
import { chmod, lstat, mkdir, readFile, readdir, rm, unlink, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type CopyKind = 'files' | 'postgresql';

export interface CopyMeta {
  kind: CopyKind;
  createdAt: string;
}

export function requireScratchDir(scratchDir: string | undefined): string {
  if (!scratchDir) throw new Error('this agent has no scratch directory configured');
  if (!path.isAbsolute(scratchDir)) throw new Error(`the scratch directory must be an absolute path (got "${scratchDir}")`);
  return path.resolve(scratchDir);
}

/** `<scratchDir>/<id>`: refuses anything but a UUID, so an id can never name another place. */
export function copyPath(scratchDir: string, id: string): string {
  if (!UUID.test(id)) throw new Error(`a test copy id must be a UUID (got "${id.slice(0, 60)}")`);
  return path.join(requireScratchDir(scratchDir), id.toLowerCase());
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Creates a directory (if missing) and refuses one that is a symlink or not a directory. */
async function ensureRealDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await lstat(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${dir} is not a plain directory; refusing to use it for test copies`);
  // 0711: the PostgreSQL owner must be able to pass through to its data directory (not list it).
  await chmod(dir, mode);
}

/** Creates `<scratchDir>/<id>/` (and meta.json, kept from the first create) and returns it. */
export async function ensureCopyDir(scratchDir: string, id: string, kind: CopyKind): Promise<string> {
  const dir = copyPath(scratchDir, id);
  await ensureRealDir(path.dirname(dir), 0o711);
  await ensureRealDir(dir, 0o711);
  const metaFile = path.join(dir, 'meta.json');
  const existing = await readMeta(dir);
  if (!existing || existing.kind !== kind) {
    const meta: CopyMeta = { kind, createdAt: existing?.createdAt ?? new Date().toISOString() };
    await writeJsonAtomic(metaFile, meta);
  }
  return dir;
}

export async function writeJsonAtomic(file: string, data: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function readMeta(dir: string): Promise<CopyMeta | null> {
  const m = await readJson<Partial<CopyMeta>>(path.join(dir, 'meta.json'));
  if (!m || (m.kind !== 'files' && m.kind !== 'postgresql')) return null;
  return { kind: m.kind, createdAt: typeof m.createdAt === 'string' ? m.createdAt : new Date(0).toISOString() };
}

/** Removes a path without following symlinks (a link is unlinked, its target is left alone). */
export async function removeNoFollow(p: string): Promise<boolean> {
  const st = await lstatOrNull(p);
  if (!st) return false;
  if (st.isSymbolicLink() || !st.isDirectory()) await unlink(p);
  // fs.rm unlinks the symlinks it meets inside the tree; it never descends through them.
  else await rm(p, { recursive: true, force: true, maxRetries: 3 });
  return true;
}

/** Whether `<id>` is a real directory in the scratch area (a symlink there is not a copy). */
export async function isCopyDir(dir: string): Promise<boolean> {
  const st = await lstatOrNull(dir);
  return st !== null && st.isDirectory() && !st.isSymbolicLink();
}

export interface ListedCopy {
  id: string;
  kind: CopyKind;
  path: string;
  createdAt: string | null;
}

/** Every copy in the scratch area: one entry per kind present (a partial copy counts: it is a leftover too). */
export async function listCopies(scratchDir: string): Promise<ListedCopy[]> {
  const root = requireScratchDir(scratchDir);
  const names = await readdir(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const out: ListedCopy[] = [];
  for (const name of names.sort()) {
    if (!UUID.test(name)) continue;
    const dir = path.join(root, name);
    if (!(await isCopyDir(dir))) continue;
    const meta = await readMeta(dir);
    const kinds: CopyKind[] = [];
    if (await lstatOrNull(path.join(dir, 'files'))) kinds.push('files');
    if (await lstatOrNull(path.join(dir, 'pgdata'))) kinds.push('postgresql');
    if (kinds.length === 0) kinds.push(meta?.kind ?? 'files');
    for (const kind of kinds) out.push({ id: name, kind, path: kind === 'files' ? path.join(dir, 'files') : path.join(dir, 'pgdata'), createdAt: meta?.createdAt ?? null });
  }
  return out.slice(0, 1000);
}

const locks = new Map<string, Promise<unknown>>();

/** Runs fn after any earlier call for the same copy id has settled (a re-sent command waits for the first). */
export function withCopyLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
  const key = id.toLowerCase();
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return next;
}

/** Counts regular files and their bytes (apparent size) under dir, without following symlinks. */
export async function treeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        files++;
        bytes += (await lstat(p).catch(() => null))?.size ?? 0;
      }
    }
  }
  return { files, bytes };
}

