// File replication driven end to end through the control path, with real processes: one gateway,
// two bundled tandem-agent processes on this machine (a "source" and a "target" server), commands
// sent through Redis (AgentBus) exactly as the worker would. The target listens on a loopback port,
// the source connects, mirrors and replicates continuously; its statistics arrive in PostgreSQL as
// ReplicationSample rows. Restarting the source agent resumes the pair by itself (persisted start
// arguments), and so does the target agent after a kill -9; replication.stop ends both sides
// and the samples stop.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { freePort, waitFor } from './support/agents';
import { sleep, startWriter } from './support/replication/continuous';
import { diffManifests, hashManifest } from './support/replication/tree';
import { ReplicationHarness, waitEqual, writeFiles } from './support/replication/agents';

const h = new ReplicationHarness('repl');

/** Whether nothing listens on the loopback port any more. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

beforeAll(() => h.setup(), 60_000);
afterAll(() => h.teardown());

describe('file replication between two real agents', () => {
  it('starts a pair through the control path, converges, reports samples, resumes after a restart, stops', { timeout: 180_000 }, async () => {
    const { source, target, pair, src, targetRoot, dst } = await h.twoAgentPair();
    writeFiles(src, 'initial', 30);
    fs.mkdirSync(path.join(src, 'empty dir'));
    fs.symlinkSync('initial', path.join(src, 'link'));

    const port = await freePort();
    const key = randomBytes(32).toString('base64');
    const common = { pairId: pair.id, key, source: { roots: [src], rules: [{ pattern: '**/*.tmp', include: false, recursive: false }] }, targetRoot, mode: 'checksum' as const, orphans: 'delete' as const };
    const dump = () => `--- source agent ---\n${source.handle.output().slice(-4000)}\n--- target agent ---\n${target.handle.output().slice(-4000)}`;
    const status = (agentId: string) => h.bus.send(agentId, 'replication.status', { pairId: pair.id });
    const samples = () => ownerDb().replicationSample.findMany({ where: { pairId: pair.id }, orderBy: { at: 'asc' } });

    try {
      // Target first (it must listen), then the source.
      expect(await h.bus.send(target.agentId, 'replication.start', { ...common, role: 'target', listen: { host: '127.0.0.1', port } })).toEqual({ started: true, port });
      expect(await h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', connect: { host: '127.0.0.1', port } })).toEqual({ started: true, port: null });
      // The start arguments are persisted for resume, readable by the agent only (they hold the key).
      for (const a of [source, target]) {
        const file = path.join(a.dir, 'replication', pair.id, 'pair.json');
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      }
      // A bad start is refused with a readable reason and changes nothing.
      await expect(h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', source: { roots: [path.join(path.dirname(targetRoot), 'nope')], rules: [] }, connect: { host: '127.0.0.1', port } })).rejects.toThrow(/does not exist/);
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);

      // Continuous: more files, a modification, a deletion, an excluded file.
      writeFiles(src, 'later', 12);
      fs.appendFileSync(path.join(src, 'initial', 'file 1.txt'), 'appended\n');
      fs.rmSync(path.join(src, 'initial', 'file 2.txt'));
      fs.writeFileSync(path.join(src, 'scratch.tmp'), 'not replicated');
      // Written after the excluded file: once it has arrived, the watcher has seen (and dropped)
      // scratch.tmp. The comparison leaves scratch.tmp out (hashManifest has no rules) while it is
      // still on the source, so its absence on the target shows the rule at work.
      fs.writeFileSync(path.join(src, 'after scratch.txt'), 'replicated');
      let rest: string[] = ['not compared'];
      await waitFor('everything but the excluded file on the target', async () => {
        const mine = (await hashManifest(src)).filter((e) => e.path !== 'scratch.tmp');
        rest = diffManifests(mine, await hashManifest(dst));
        return rest.length === 0;
      }, 20_000).catch(() => undefined);
      expect(rest, dump()).toEqual([]);
      expect(fs.existsSync(path.join(src, 'scratch.tmp'))).toBe(true);
      expect(fs.existsSync(path.join(dst, 'scratch.tmp'))).toBe(false);
      fs.rmSync(path.join(src, 'scratch.tmp'));
      expect(await waitEqual(src, dst, 20_000), dump()).toEqual([]);

      // Samples in PostgreSQL, through the gateway, from the source agent; lag back to 0.
      const caughtUp = await waitFor('a sample with lag 0', async () => (await samples()).find((s) => s.lagSeconds === 0), 20_000);
      expect(caughtUp.mirrorFilesLeft).toBe(0);
      const src1 = await status(source.agentId);
      expect(src1).toMatchObject({ running: true, role: 'source', state: 'continuous', connected: true, lagSeconds: 0, queueFiles: 0 });
      const tgt1 = await status(target.agentId);
      expect(tgt1).toMatchObject({ running: true, role: 'target', state: 'listening', port });
      expect(tgt1.changesApplied).toBeGreaterThan(0);
      // Starting again with the same arguments is a no-op (no restart, no new mirror).
      expect(await h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', connect: { host: '127.0.0.1', port } })).toEqual({ started: true, port: null });

      // Restart the source agent while files keep changing: it resumes the pair by itself.
      // The writer's own count of operations paces each phase (not the clock).
      const writer = startWriter(src, { pauseMs: 10 });
      const opsPast = (n: number) => {
        const target = writer.ops() + n;
        return waitFor(`${n} more writer operations`, () => writer.ops() >= target, 60_000);
      };
      await opsPast(20);
      await source.handle.stop();
      await opsPast(50); // changes while nobody watches
      const restartedAt = new Date();
      source.handle = h.run(source.dir);
      await h.online(source.agentId);
      await opsPast(50); // and while it resumes
      await writer.stop();
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
      expect(source.handle.output()).toContain('replication pair resumed');
      const after = await waitFor('a sample with lag 0 after the restart', async () => (await samples()).find((s) => s.at >= restartedAt && s.lagSeconds === 0), 20_000);
      expect(after.queueBytes).toBe(0n);
      const src2 = await status(source.agentId);
      expect(src2).toMatchObject({ running: true, state: 'continuous', lagSeconds: 0 });

      // kill -9 the target agent while files change: it listens again by itself; the source reconnects.
      const writer2 = startWriter(src, { pauseMs: 10, seed: 10_000 });
      const ops2Past = (n: number) => {
        const target = writer2.ops() + n;
        return waitFor(`${n} more writer operations`, () => writer2.ops() >= target, 60_000);
      };
      await ops2Past(20);
      await target.handle.stop('SIGKILL');
      await ops2Past(50); // changes the source cannot send
      target.handle = h.run(target.dir);
      await h.online(target.agentId);
      await ops2Past(50);
      await writer2.stop();
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
      expect(target.handle.output()).toContain('replication pair resumed');

      // Stop both sides: the sessions end, the samples stop, the arguments are forgotten.
      expect(await h.bus.send(source.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: true });
      expect(await h.bus.send(target.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: true });
      expect(await h.bus.send(target.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: false });
      expect(await status(source.agentId)).toMatchObject({ running: false, state: 'not-running' });
      expect(await status(target.agentId)).toMatchObject({ running: false, state: 'not-running' });
      for (const a of [source, target]) expect(fs.existsSync(path.join(a.dir, 'replication', pair.id, 'pair.json'))).toBe(false);
      // Proving that nothing more happens takes time: the one place this test waits by the clock.
      await sleep(1000); // a sample already on its way may still land
      const count = (await samples()).length;
      fs.writeFileSync(path.join(src, 'after-stop.txt'), 'not replicated');
      await sleep(4500); // more than one statistics interval (3 s)
      expect((await samples()).length).toBe(count);
      expect(fs.existsSync(path.join(dst, 'after-stop.txt'))).toBe(false);
      // The data port is closed.
      expect(await refused(port)).toBe(true);
    } catch (err) {
      console.log(dump());
      throw err;
    }
  });
});
