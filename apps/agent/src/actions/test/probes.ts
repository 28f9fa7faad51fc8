// Read-only probes of test failover: file hashes (on the copy and on the source), paths that must
// exist, and a TCP connection.
// - test.files-hash: SHA-256 by streaming. `paths` are relative to root (absolute ones and `..`
//   are refused) and must stay inside root after symlinks are resolved; the tree is not walked
//   then, so `total` is the number of those found. Without paths: `sample`
//   regular files chosen evenly over the whole tree in a fixed order (directory entries sorted by
//   name, depth first), so the same tree always gives the same sample. The walk never follows
//   symlinks, skips sockets, FIFOs and devices, and stops after MAX_WALK entries (then `total`
//   counts what was seen).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { ActionArgs, ActionResult } from '@tandem/protocol';

export const MAX_WALK = 2_000_000;

/** A relative path as a list of segments, or an error for absolute paths and `..`. */
export function relativeSegments(p: string): string[] {
  if (p.includes('\0')) throw new Error(`invalid path "${p.slice(0, 80)}"`);
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) throw new Error(`paths must be relative to the root (got "${p.slice(0, 200)}")`);
  const parts = p.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new Error(`paths must not leave the root (got "${p.slice(0, 200)}")`);
  if (parts.length === 0) throw new Error('an empty path names no file');
  return parts;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Regular files under root, relative with `/`, in the sorted depth-first order; at most `limit`. */
export async function sortedFiles(root: string, limit = MAX_WALK): Promise<string[]> {
  const out: string[] = [];
  let seen = 0;
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (++seen > limit) return;
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path.join(dir, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk(root, '');
  return out;
}

/** `count` indexes spread evenly over 0..total-1 (all of them when total ≤ count). */
export function evenSample(total: number, count: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}

export async function filesHash(args: ActionArgs<'test.files-hash'>): Promise<ActionResult<'test.files-hash'>> {
  if (!path.isAbsolute(args.root)) throw new Error(`root must be an absolute path (got "${args.root}")`);
  const root = await realpath(args.root).catch(() => null);
  if (root === null || !(await lstat(root)).isDirectory()) throw new Error(`${args.root} is not a directory on this agent`);
  // Named paths need no walk (on a source server a whole-tree walk per test is load for nothing).
  const all = args.paths === null ? await sortedFiles(root) : null;
  const wanted = all === null ? (args.paths ?? []) : evenSample(all.length, args.sample).map((i) => all[i]!);
  const segments = args.paths === null ? wanted.map((p) => p.split('/')) : wanted.map(relativeSegments);
  const files: ActionResult<'test.files-hash'>['files'] = [];
  const missing: string[] = [];
  for (const [i, p] of wanted.entries()) {
    const file = path.join(root, ...segments[i]!);
    const real = await realpath(file).catch(() => null);
    const st = real === null ? null : await lstat(real).catch(() => null);
    if (real === null || st === null || !st.isFile() || !(real === root || real.startsWith(`${root}${path.sep}`))) {
      missing.push(p);
      continue;
    }
    try {
      files.push({ path: p, sha256: await sha256File(real), size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      missing.push(p); // Vanished or unreadable while we looked.
    }
  }
  return { files, missing, total: all === null ? files.length : all.length };
}

export async function pathsExist(args: ActionArgs<'test.paths-exist'>): Promise<ActionResult<'test.paths-exist'>> {
  const present: string[] = [];
  const missing: string[] = [];
  for (const p of args.paths) {
    const ok = path.isAbsolute(p) && (await lstat(p).then(() => true, () => false));
    (ok ? present : missing).push(p);
  }
  return { present, missing };
}

export function tcpProbe(args: ActionArgs<'test.tcp-probe'>): Promise<ActionResult<'test.tcp-probe'>> {
  const started = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve) => {
    const socket = net.connect({ host: args.host, port: args.port });
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: error === null, ms: ms(), error });
    };
    const timer = setTimeout(() => finish(`no answer within ${args.timeoutMs} ms`), args.timeoutMs);
    socket.once('connect', () => finish(null));
    socket.once('error', (e: NodeJS.ErrnoException) => finish(e.code ? `${e.code}: ${e.message}` : e.message));
  });
}
