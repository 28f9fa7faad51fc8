// Helpers for the continuous-replication tests: a source/target pair in this process, a random
// writer that creates, modifies, renames and deletes files and directories, and a wait for
// "caught up" (lag 0, empty queue) followed by a manifest comparison.
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { connect, listen, type ChannelOptions } from '../../../../apps/agent/src/replication/channel.ts';
import { ContinuousSource, ContinuousTarget, type ContinuousSourceOptions, type ContinuousTargetOptions, type ReplicationStats } from '../../../../apps/agent/src/replication/continuous.ts';
import { diffManifests, hashManifest } from './tree.ts';

export const PAIR = 'pair-c';

export interface InProcessPair {
  source: ContinuousSource;
  target: ContinuousTarget;
  samples: ReplicationStats[];
  stop: () => Promise<void>;
}

export async function startPair(
  src: string,
  dst: string,
  stateDir: string,
  opts: Partial<ContinuousSourceOptions> & { channel?: ChannelOptions; pairId?: string; target?: Partial<ContinuousTargetOptions> } = {},
): Promise<InProcessPair> {
  const key = randomBytes(32);
  const pairId = opts.pairId ?? PAIR;
  const server = await listen({ host: '127.0.0.1', port: 0, keyFor: (id) => (id === pairId ? key : undefined) });
  const target = new ContinuousTarget({ root: dst, server, stateDir: path.join(stateDir, 'target'), ...opts.target });
  await target.start();
  const samples: ReplicationStats[] = [];
  const source = new ContinuousSource({
    root: src,
    stateDir: path.join(stateDir, 'source'),
    connect: () => connect({ host: '127.0.0.1', port: server.port, pairId, key, ...opts.channel }),
    statsIntervalMs: 200,
    onStats: (s) => samples.push(s),
    ...opts,
  });
  await source.start();
  return {
    source,
    target,
    samples,
    stop: async () => {
      await source.stop();
      await target.stop();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true or `ms` pass; returns whether it became true. */
export async function waitFor(fn: () => boolean | Promise<boolean>, ms: number, every = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(every);
  }
  return fn();
}

/** Waits until the two trees are equal (hash manifests, dir mtimes included); returns the last diff. */
export async function waitEqual(src: string, dst: string, ms: number): Promise<string[]> {
  let diff: string[] = ['not compared'];
  await waitFor(async () => {
    diff = diffManifests(await hashManifest(src), await hashManifest(dst));
    return diff.length === 0;
  }, ms, 250);
  return diff;
}

const NAMES = ['alpha', 'beta 2', 'ünïcødé', '日本語', 'emoji 🎉', 'x'];

/** A writer doing random file operations under `root` until stop() is called. */
export function startWriter(root: string, opts: { pauseMs?: number; seed?: number; keep?: string } = {}): { stop: () => Promise<number>; ops: () => number } {
  let stopped = false;
  let ops = 0;
  let n = opts.seed ?? 0;
  const files = (): string[] => {
    const out: string[] = [];
    const visit = (rel: string) => {
      for (const d of readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) visit(r);
        else if (d.isFile()) out.push(r);
      }
    };
    visit('');
    return out;
  };
  const dirs = (): string[] => {
    const out: string[] = [''];
    const visit = (rel: string) => {
      for (const d of readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) {
          out.push(r);
          visit(r);
        }
      }
    };
    visit('');
    return out;
  };
  const pick = <T,>(a: T[]): T | undefined => a[Math.floor(Math.random() * a.length)];
  const abs = (rel: string) => path.join(root, rel);
  // Paths under `keep` are modified in place but never renamed or deleted (so a test can bound how
  // much content a change may legitimately re-send).
  const kept = (rel: string) => !!opts.keep && (rel === opts.keep || rel.startsWith(opts.keep + '/'));
  const step = () => {
    n++;
    const op = Math.floor(Math.random() * 12);
    const f = pick(files());
    const d = pick(dirs()) ?? '';
    const name = `${pick(NAMES)}-${n}`;
    switch (op) {
      case 0:
      case 1:
        writeFileSync(abs(path.join(d, `${name}.txt`)), `file ${n}\n`.repeat(1 + (n % 50)));
        break;
      case 2: {
        const nd = path.join(d, `dir ${name}`, 'sub');
        mkdirSync(abs(nd), { recursive: true });
        writeFileSync(abs(path.join(nd, 'inner.bin')), randomBytes(1000 + (n % 5000)));
        break;
      }
      case 3:
      case 4:
        if (f) appendFileSync(abs(f), `appended ${n}\n`);
        break;
      case 5:
        if (f) {
          // In-place write of a block somewhere inside (delta-friendly).
          const size = statSync(abs(f)).size;
          const fd = openSync(abs(f), 'r+');
          writeSync(fd, randomBytes(64), 0, 64, Math.floor(Math.random() * Math.max(1, size - 64)));
          closeSync(fd);
        }
        break;
      case 6:
        if (f && !kept(f)) renameSync(abs(f), abs(path.join(d, `renamed ${name}`)));
        break;
      case 7:
        if (f && !kept(f)) rmSync(abs(f));
        break;
      case 8:
        if (f) chmodSync(abs(f), [0o600, 0o644, 0o640, 0o755][n % 4]!);
        break;
      case 9:
        if (f) utimesSync(abs(f), 1_600_000_000 + n, 1_600_000_000 + n + 0.25);
        break;
      case 10:
        if (d && !kept(d) && existsSync(abs(d)) && Math.random() < 0.3) {
          const target = `moved ${name}`;
          if (!target.startsWith(d)) renameSync(abs(d), abs(target));
        }
        break;
      case 11:
        if (d && !kept(d) && d.split('/').length > 1 && Math.random() < 0.3) rmSync(abs(d), { recursive: true, force: true });
        break;
    }
    ops++;
  };
  const done = (async () => {
    while (!stopped) {
      try {
        step();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'EINVAL' && code !== 'ENOTEMPTY') throw err;
      }
      await sleep(opts.pauseMs ?? 5);
    }
  })();
  return {
    ops: () => ops,
    stop: async () => {
      stopped = true;
      await done;
      return ops;
    },
  };
}
