// Faults during continuous replication, with real processes: the source and target agents run as
// child processes (support/replication/agent-runner.ts) talking TLS through a TCP proxy on
// loopback, while this process writes to the source tree. Each fault is repeated:
// - kill -9 the source while changes are pending (and keep writing while it is down), restart it:
//   trees end equal, and the restarted source sent far less content than the tree holds (journal +
//   differences pass with block deltas, not a full re-send);
// - kill -9 the target, restart it on the same port: trees end equal;
// - cut the data channel (reset every proxied connection) mid-stream: the source reconnects and
//   the trees end equal;
// - both of the last two with the big blobs updated in place (no temp file protects them then);
// - a target that applied thousands of files in one run is stopped (cleanly, then with kill -9) and
//   restarted: it starts, converges and leaves no temp file; a corrupt in-flight log never keeps a
//   target from starting.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../apps/agent/src/replication/channel.ts';
import { ContinuousTarget } from '../../apps/agent/src/replication/continuous.ts';
import { startWriter, waitEqual, waitFor } from './support/replication/continuous.ts';
import { type Agent, freePort, newPairKey, spawnAgent, startProxy } from './support/replication/processes.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-faults-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const TREE_BYTES = 16 * 1024 * 1024;

async function setup(name: string, opts: { inPlaceMinBytes?: number } = {}) {
  const src = path.join(dir, `${name}-src`);
  const dst = path.join(dir, `${name}-dst`);
  mkdirSync(path.join(src, 'data/ünï'), { recursive: true });
  for (let i = 0; i < 16; i++) writeFileSync(path.join(src, i % 2 ? 'data' : 'data/ünï', `blob ${i}.bin`), randomBytes(TREE_BYTES / 16));
  for (let i = 0; i < 30; i++) writeFileSync(path.join(src, `small-${i}.txt`), `small ${i}\n`);
  const targetPort = await freePort();
  const proxy = await startProxy(targetPort);
  const base = { pairId: 'pair-f', keyHex: newPairKey() };
  const targetCfg = { ...base, role: 'target' as const, root: dst, stateDir: path.join(dir, `${name}-tstate`), port: targetPort };
  const sourceCfg = { ...base, role: 'source' as const, root: src, stateDir: path.join(dir, `${name}-sstate`), port: proxy.port, ...opts };
  const agents: { target: Agent; source: Agent } = { target: await spawnAgent(targetCfg), source: await spawnAgent(sourceCfg) };
  // Generous limits: these are waits for a condition, and the machine may be busy with other tests.
  const caughtUp = async (ms = 60_000) => {
    const n = agents.source.samples.length;
    return waitFor(() => {
      const s = agents.source.last();
      return agents.source.samples.length > n + 1 && s?.phase === 'continuous' && s.connected && s.lag === 0 && s.queueFiles === 0;
    }, ms);
  };
  expect(await caughtUp(60_000)).toBe(true); // initial mirror done, nothing queued
  expect(await waitEqual(src, dst, 20_000)).toEqual([]);
  return {
    src,
    dst,
    proxy,
    agents,
    caughtUp,
    restartSource: async () => (agents.source = await spawnAgent(sourceCfg)),
    restartTarget: async () => (agents.target = await spawnAgent(targetCfg)),
    teardown: async () => {
      await agents.source.kill9();
      await agents.target.kill9();
      await proxy.close();
    },
  };
}

/** Waits for `n` more writer operations: each phase of a fault is paced by the changes made, not by the clock. */
async function moreOps(writer: { ops: () => number }, n: number): Promise<void> {
  const target = writer.ops() + n;
  expect(await waitFor(() => writer.ops() >= target, 60_000)).toBe(true);
}

const noTemps = (root: string) => readdirSync(root, { recursive: true }).filter((n) => String(n).endsWith('.tmp'));

describe('faults during continuous replication (real processes)', () => {
  it('kill -9 the source with changes pending, restart: nothing lost, no full re-send (×2)', async () => {
    const f = await setup('ksource');
    try {
      for (let round = 0; round < 2; round++) {
        const writer = startWriter(f.src, { pauseMs: 4, seed: round * 100_000, keep: 'data' });
        await moreOps(writer, 100);
        const pending = f.agents.source.last()!;
        await f.agents.source.kill9();
        await moreOps(writer, 40); // the writer keeps going while nobody watches
        await writer.stop();
        await f.restartSource();
        expect(await f.caughtUp()).toBe(true);
        expect(await waitEqual(f.src, f.dst, 20_000)).toEqual([]);
        const after = f.agents.source.last()!;
        expect(after.contentBytesSent).toBeLessThan(TREE_BYTES / 5);
        expect(pending.queueFiles + after.changesApplied).toBeGreaterThan(0);
      }
      expect(noTemps(f.dst)).toEqual([]);
    } finally {
      await f.teardown();
    }
  }, 300_000);

  it('kill -9 the target mid-stream, restart it: trees converge (×2)', async () => {
    const f = await setup('ktarget');
    try {
      for (let round = 0; round < 2; round++) {
        const writer = startWriter(f.src, { pauseMs: 4, seed: round * 100_000, keep: 'data' });
        await moreOps(writer, 100);
        await f.agents.target.kill9();
        await moreOps(writer, 40);
        await f.restartTarget();
        await moreOps(writer, 40);
        await writer.stop();
        expect(await f.caughtUp()).toBe(true);
        expect(await waitEqual(f.src, f.dst, 20_000)).toEqual([]);
      }
      expect(f.agents.source.last()!.reconnects).toBeGreaterThanOrEqual(2);
      expect(noTemps(f.dst)).toEqual([]);
    } finally {
      await f.teardown();
    }
  }, 300_000);

  it('a target that applied thousands of files in one run starts again, after a clean stop and after kill -9', async () => {
    const f = await setup('many');
    try {
      for (const how of ['stop', 'kill'] as const) {
        // Several thousand files, each through a temp file: the in-flight log fills and is
        // truncated again and again in this one run of the target.
        const d = path.join(f.src, `many-${how}`);
        mkdirSync(d);
        for (let i = 0; i < 3000; i++) writeFileSync(path.join(d, `file ${i}.txt`), `${how} ${i}\n`);
        expect(await f.caughtUp(240_000)).toBe(true);
        expect(await waitEqual(f.src, f.dst, 20_000)).toEqual([]);
        if (how === 'stop') await f.agents.target.stop();
        else await f.agents.target.kill9();
        await f.restartTarget(); // its start() failed here: the log began with NUL bytes
        writeFileSync(path.join(f.src, `after-${how}.txt`), 'one more\n');
        expect(await f.caughtUp(60_000)).toBe(true);
        expect(await waitEqual(f.src, f.dst, 20_000)).toEqual([]);
      }
      expect(noTemps(f.dst)).toEqual([]);
    } finally {
      await f.teardown();
    }
  }, 600_000);

  it('a corrupt in-flight log never stops the target from starting; the temp files it lists inside the root are removed', async () => {
    const root = path.join(dir, 'corrupt-dst');
    const stateDir = path.join(dir, 'corrupt-tstate');
    const outside = path.join(dir, 'corrupt-outside');
    mkdirSync(path.join(root, 'sub'), { recursive: true });
    mkdirSync(stateDir);
    mkdirSync(outside);
    const inside = [path.join(root, '.tandem-1000000001-1a.tmp'), path.join(root, 'sub', '.tandem-1000000002-1a.tmp')];
    const keep = [path.join(outside, '.tandem-1000000003-1a.tmp'), path.join(root, 'sub', 'not-a-temp.txt')];
    for (const p of [...inside, ...keep]) writeFileSync(p, 'x');
    const log = Buffer.concat([
      Buffer.alloc(70_000), // what the old truncation bug left
      Buffer.from(`${inside[0]}\n`),
      randomBytes(2000),
      Buffer.from(`\n${keep[0]}\n${keep[1]}\nrelative/.tandem-1000000004-1a.tmp\n${root}/../corrupt-outside/.tandem-1000000003-1a.tmp\n`),
      Buffer.alloc(100),
      Buffer.from(`${inside[1]}`), // torn: no newline
    ]);
    writeFileSync(path.join(stateDir, 'inflight.log'), log);
    const server = await listen({ host: '127.0.0.1', port: 0, keyFor: () => undefined });
    const errors: Error[] = [];
    const target = new ContinuousTarget({ root, server, stateDir, onError: (e) => errors.push(e) });
    await target.start();
    await target.stop();
    expect(inside.filter((p) => existsSync(p))).toEqual([]);
    expect(keep.filter((p) => !existsSync(p))).toEqual([]);
    expect(errors).toEqual([]);
  }, 300_000);

  it('in-place updates: kill -9 the target, then cut the channel, mid-stream: trees converge, blobs keep their inode', async () => {
    const f = await setup('inplace', { inPlaceMinBytes: 512 * 1024 });
    const blobs = ['data/blob 1.bin', 'data/blob 3.bin', 'data/blob 5.bin', 'data/ünï/blob 0.bin', 'data/ünï/blob 2.bin'];
    const before = blobs.map((b) => statSync(path.join(f.dst, b)));
    try {
      for (const fault of ['kill', 'cut'] as const) {
        const writer = startWriter(f.src, { pauseMs: 4, seed: fault === 'kill' ? 7 : 70_000, keep: 'data' });
        await moreOps(writer, 100);
        if (fault === 'kill') {
          await f.agents.target.kill9();
          await moreOps(writer, 40);
          await f.restartTarget();
        } else {
          expect(f.proxy.cut()).toBeGreaterThanOrEqual(1);
        }
        await moreOps(writer, 40);
        await writer.stop();
        expect(await f.caughtUp()).toBe(true);
        expect(await waitEqual(f.src, f.dst, 20_000)).toEqual([]);
      }
      // The writer only modifies the blobs in place (never renames or deletes them): on the target
      // they changed too, and kept their inodes.
      const after = blobs.map((b) => statSync(path.join(f.dst, b)));
      expect(after.map((a) => a.ino)).toEqual(before.map((b) => b.ino));
      expect(after.some((a, i) => a.mtimeMs !== before[i]!.mtimeMs)).toBe(true);
    } finally {
      await f.teardown();
    }
  }, 300_000);

  it('cut the data channel mid-stream: reconnects and converges (×2)', async () => {
    const f = await setup('cut');
    try {
      for (let round = 0; round < 2; round++) {
        const writer = startWriter(f.src, { pauseMs: 4, seed: round * 100_000, keep: 'data' });
        await moreOps(writer, 70);
        expect(f.proxy.cut()).toBeGreaterThanOrEqual(1);
        await moreOps(writer, 40);
        f.proxy.cut();
        await moreOps(writer, 40);
        await writer.stop();
        expect(await f.caughtUp()).toBe(true);
        expect(await waitEqual(f.src, f.dst, 20_000)).toEqual([]);
      }
      const last = f.agents.source.last()!;
      expect(last.reconnects).toBeGreaterThanOrEqual(2);
      // The initial mirror + the changes (the big blobs are only modified in place): no re-sends of the tree.
      expect(last.contentBytesSent).toBeLessThan(TREE_BYTES * 1.5);
    } finally {
      await f.teardown();
    }
  }, 300_000);
});
