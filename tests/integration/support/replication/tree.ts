// Helpers for the replication tests: a generated tree with the hard cases, a hash manifest that
// proves two trees equal (content AND metadata), and a pair of agents talking over real TLS on
// loopback.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, lchownSync, lutimesSync, mkdirSync, openSync, readFileSync, readSync, symlinkSync, utimesSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { connect, listen, type ChannelOptions } from '../../../../apps/agent/src/replication/channel.ts';
import { walk } from '../../../../apps/agent/src/replication/manifest.ts';
import { applyMirror, mirror, type ApplyResult, type MirrorOptions, type MirrorResult } from '../../../../apps/agent/src/replication/mirror.ts';

export const GiB = 1024 * 1024 * 1024;

export interface HashEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
  sha256?: string;
  target?: string;
}

/** Walks a tree and hashes every file; the big sparse file is hashed once per call (mostly zeros). */
export async function hashManifest(root: string): Promise<HashEntry[]> {
  const { entries } = await walk(root);
  return entries.map((e) => {
    const h: HashEntry = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs, size: e.size };
    if (e.type === 'file') h.sha256 = hashFile(path.join(root, e.path), e.size);
    if (e.target !== undefined) h.target = e.target;
    return h;
  });
}

function hashFile(file: string, size: number): string {
  if (size < 64 * 1024 * 1024) return createHash('sha256').update(readFileSync(file)).digest('hex');
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (;;) {
      const n = readSyncAll(fd, buf);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function readSyncAll(fd: number, buf: Buffer): number {
  return readSync(fd, buf, 0, buf.length, null);
}

/** Differences between two hash manifests (mtimes equal within 5 µs: they travel as doubles in seconds). Empty = equal. */
export function diffManifests(a: HashEntry[], b: HashEntry[], opts: { ignoreDirMtime?: boolean } = {}): string[] {
  const out: string[] = [];
  const mb = new Map(b.map((e) => [e.path, e]));
  for (const ea of a) {
    const eb = mb.get(ea.path);
    mb.delete(ea.path);
    if (!eb) {
      out.push(`missing on target: ${ea.path}`);
      continue;
    }
    for (const k of ['type', 'mode', 'uid', 'gid', 'size', 'sha256', 'target'] as const) {
      if (ea[k] !== eb[k]) out.push(`${ea.path}: ${k} ${String(ea[k])} != ${String(eb[k])}`);
    }
    if (!(opts.ignoreDirMtime && ea.type === 'dir') && Math.abs(ea.mtimeMs - eb.mtimeMs) >= 0.005) out.push(`${ea.path}: mtime ${ea.mtimeMs} != ${eb.mtimeMs}`);
  }
  for (const p of mb.keys()) out.push(`extra on target: ${p}`);
  return out;
}

/** Builds the hard-case tree under `root`. */
export function buildTree(root: string): { sparse: string } {
  mkdirSync(root, { recursive: true });
  const w = (rel: string, data: string | Buffer, mode = 0o644) => {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data);
    chmodSync(p, mode);
  };
  w('plain.txt', 'hello\n');
  w('with space/file name with spaces.txt', 'spaces\n');
  w('ünïcødé/日本語ファイル.txt', 'unicode ✓\n');
  w('ünïcødé/emoji 🎉.bin', randomBytes(3000));
  w('empty-file', '');
  w('secret.key', 'k', 0o600);
  w('bin/tool.sh', '#!/bin/sh\necho hi\n', 0o755);
  w('big/random.bin', randomBytes(3 * 1024 * 1024 + 12345));
  w('big/text.log', 'line of compressible text\n'.repeat(40_000));
  mkdirSync(path.join(root, 'empty-dir'));
  mkdirSync(path.join(root, 'empty dir with space'));
  const deep = Array.from({ length: 32 }, (_, i) => `d${i}`).join('/');
  w(`${deep}/leaf.txt`, 'deep\n');
  mkdirSync(path.join(root, 'shared'));
  chmodSync(path.join(root, 'shared'), 0o2775);
  w('shared/team.doc', 'team', 0o664);
  // Ownership by a uid/gid that exists nowhere (tests run as root).
  w('owned/by-1234.txt', 'owned');
  chownSync(path.join(root, 'owned/by-1234.txt'), 1234, 1234);
  chownSync(path.join(root, 'owned'), 1234, 4321);
  // Symlinks: relative, absolute, dangling, to a directory; one owned by 1234.
  symlinkSync('plain.txt', path.join(root, 'link-relative'));
  symlinkSync('/etc/hostname', path.join(root, 'link-absolute'));
  symlinkSync('does/not/exist', path.join(root, 'link-dangling'));
  symlinkSync('ünïcødé', path.join(root, 'link-to-dir'));
  lchownSync(path.join(root, 'link-relative'), 1234, 1234);
  lutimesSync(path.join(root, 'link-relative'), 1_600_000_000, 1_600_000_000);
  // A 1 GiB sparse file with a few KiB of data in the middle.
  const sparse = path.join(root, 'sparse/disk.img');
  mkdirSync(path.dirname(sparse));
  const fd = openSync(sparse, 'w');
  ftruncateSync(fd, GiB);
  writeSync(fd, randomBytes(5000), 0, 5000, GiB / 2 + 777);
  closeSync(fd);
  // Odd mtimes, including one in the past with sub-second precision.
  utimesSync(path.join(root, 'plain.txt'), 1_000_000_000.25, 1_000_000_000.25);
  utimesSync(path.join(root, 'empty-dir'), 1_500_000_000, 1_500_000_000);
  return { sparse };
}

export interface PairRun {
  source: MirrorResult;
  target: ApplyResult;
  ms: number;
}

/** Runs one mirror session between `src` and `dst` over a fresh TLS listener on 127.0.0.1. */
export async function runMirror(
  src: string,
  dst: string,
  opts: Partial<Omit<MirrorOptions, 'channel' | 'root'>> & { sourceChannel?: ChannelOptions; targetChannel?: ChannelOptions; orphansDir?: string } = {},
): Promise<PairRun> {
  const key = randomBytes(32);
  const server = await listen({ host: '127.0.0.1', port: 0, keyFor: (id) => (id === 'pair-1' ? key : undefined), ...opts.targetChannel });
  const t0 = performance.now();
  try {
    const targetP = server.accept().then((channel) => applyMirror({ root: dst, channel, orphansDir: opts.orphansDir }));
    const channel = await connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-1', key, ...opts.sourceChannel });
    const sourceP = mirror({ root: src, channel, mode: opts.mode ?? 'full', orphans: opts.orphans ?? 'keep', ...opts });
    const [source, target] = await Promise.all([sourceP, targetP]);
    return { source, target, ms: performance.now() - t0 };
  } finally {
    await server.close();
  }
}
