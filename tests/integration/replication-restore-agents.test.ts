// Restore (failback) driven through the control path, with real processes: one gateway, two
// tandem-agent processes, commands through Redis (AgentBus) as the worker sends them. The pair
// replicates source → target; it is stopped; the replica changes while it is "live" (blocks of a
// big file rewritten, files added, deleted, renamed, chmod'ed) and the failed source still holds a
// write that never reached the replica plus files the set excludes. `replication.restore` (receiver
// on the source agent, sender on the target agent) makes the source equal to the replica, sending
// only changed blocks of the big file, leaving excluded files alone, and reports progress and the
// outcome in `replication.status`. Hard links survive both ways: a group made on the source
// arrives linked, one made on the replica comes back linked. Refusals: a restore while the pair
// replicates, a sender without an address, a restart of replication while the restore runs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './support/agents';
import { ReplicationHarness, waitEqual, writeFiles } from './support/replication/agents';
import { diffManifests, hashManifest } from './support/replication/tree';

const h = new ReplicationHarness('restore');
const MiB = 1024 * 1024;
const BLOCK = 128 * 1024;

beforeAll(() => h.setup(), 60_000);
afterAll(() => h.teardown());

describe('restore (failback) between two real agents', () => {
  it('brings the source back to the replica through the control path', { timeout: 180_000 }, async () => {
    const { source, target, pair, src, targetRoot, dst } = await h.twoAgentPair();
    writeFiles(src, 'docs', 20);
    fs.linkSync(path.join(src, 'docs', 'file 7.txt'), path.join(src, 'docs linked.txt'));
    fs.writeFileSync(path.join(src, 'big.bin'), randomBytes(16 * MiB));
    const rules = [
      { pattern: '**/*.tmp', include: false, recursive: false },
      { pattern: 'logs', include: false, recursive: true },
    ];
    const port = await freePort();
    const key = randomBytes(32).toString('base64');
    const set = { source: { roots: [src], rules }, targetRoot };
    const common = { pairId: pair.id, key, ...set, mode: 'checksum' as const, orphans: 'delete' as const };
    const status = (agentId: string) => h.bus.send(agentId, 'replication.status', { pairId: pair.id });
    const dump = () => `--- source agent ---\n${source.handle.output().slice(-4000)}\n--- target agent ---\n${target.handle.output().slice(-4000)}`;

    try {
      await h.bus.send(target.agentId, 'replication.start', { ...common, role: 'target', listen: { host: '127.0.0.1', port } });
      await h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', connect: { host: '127.0.0.1', port } });
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
      const ino = (root: string, rel: string) => fs.statSync(path.join(root, rel)).ino;
      expect(ino(dst, 'docs linked.txt')).toBe(ino(dst, 'docs/file 7.txt'));

      // Refused while the pair replicates on the agent, and a sender needs the receiver's address.
      const restorePort = await freePort();
      const restoreArgs = { pairId: pair.id, key, ...set, mode: 'checksum' as const, orphans: 'delete' as const };
      await expect(h.bus.send(source.agentId, 'replication.restore', { ...restoreArgs, role: 'receiver', listen: { host: '127.0.0.1', port: restorePort } })).rejects.toThrow(/replication\.stop/);
      await expect(h.bus.send(target.agentId, 'replication.restore', { ...restoreArgs, role: 'sender' })).rejects.toThrow(/connect/);

      // Failover: replication stops; the replica is the live copy and changes.
      expect(await h.bus.send(source.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: true });
      expect(await h.bus.send(target.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: true });
      const fd = fs.openSync(path.join(dst, 'big.bin'), 'r+');
      for (const b of [3, 60, 101]) fs.writeSync(fd, randomBytes(500), 0, 500, b * BLOCK + 77);
      fs.closeSync(fd);
      fs.writeFileSync(path.join(dst, 'written on the replica.txt'), 'during the failover\n');
      fs.rmSync(path.join(dst, 'docs', 'file 1.txt'));
      fs.renameSync(path.join(dst, 'docs', 'file 2.txt'), path.join(dst, 'docs', 'file 2 renamed.txt'));
      fs.chmodSync(path.join(dst, 'docs', 'file 4.txt'), 0o600);
      fs.linkSync(path.join(dst, 'docs', 'file 5.txt'), path.join(dst, 'linked on the replica.txt'));
      // The failed source: a write that never reached the replica (the replica wins), and files
      // the set excludes (never touched).
      fs.writeFileSync(path.join(src, 'lost write.txt'), 'after the last replicated change\n');
      fs.writeFileSync(path.join(src, 'docs', 'scratch.tmp'), 'excluded');
      fs.mkdirSync(path.join(src, 'logs'));
      fs.writeFileSync(path.join(src, 'logs', 'app.log'), 'excluded too');

      // Receiver first (it listens), then the sender.
      expect(await h.bus.send(source.agentId, 'replication.restore', { ...restoreArgs, role: 'receiver', listen: { host: '127.0.0.1', port: restorePort } })).toEqual({ started: true, port: restorePort });
      // No replication start while its restore runs on the agent.
      await expect(h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', connect: { host: '127.0.0.1', port } })).rejects.toThrow(/restore/);
      expect(await h.bus.send(target.agentId, 'replication.restore', { ...restoreArgs, role: 'sender', connect: { host: '127.0.0.1', port: restorePort } })).toEqual({ started: true, port: null });

      const sent = await waitFor('the sender to finish', async () => ((await status(target.agentId)).restore?.state !== 'running' ? (await status(target.agentId)).restore : undefined), 60_000);
      const received = await waitFor('the receiver to finish', async () => ((await status(source.agentId)).restore?.state !== 'running' ? (await status(source.agentId)).restore : undefined), 30_000);
      expect(sent, dump()).toMatchObject({ role: 'sender', state: 'done', errors: [], bytesLeft: 0, filesLeft: 0 });
      expect(received, dump()).toMatchObject({ role: 'receiver', state: 'done', errors: [] });
      expect(received.finishedAt).toBeGreaterThanOrEqual(received.startedAt);
      // Only the changed blocks of the big file travelled, plus the small files that differ.
      expect(sent.bytesSent).toBeGreaterThanOrEqual(3 * BLOCK);
      expect(sent.bytesSent).toBeLessThan(4 * MiB);
      // "lost write" and "file 1" were deleted, "file 2" was renamed away.
      expect(received.orphans).toBe(3);

      // Excluded files are still there; apart from them the source equals the replica.
      expect(fs.readFileSync(path.join(src, 'docs', 'scratch.tmp'), 'utf8')).toBe('excluded');
      expect(fs.readFileSync(path.join(src, 'logs', 'app.log'), 'utf8')).toBe('excluded too');
      expect(fs.existsSync(path.join(src, 'lost write.txt'))).toBe(false);
      expect((fs.statSync(path.join(src, 'docs', 'file 4.txt')).mode & 0o777).toString(8)).toBe('600');
      expect(ino(src, 'linked on the replica.txt')).toBe(ino(src, 'docs/file 5.txt'));
      expect(ino(src, 'docs linked.txt')).toBe(ino(src, 'docs/file 7.txt'));
      // The manifests know no rules: compare without the excluded files (and keep the directories' mtimes).
      for (const [dir, gone] of [[path.join(src, 'docs'), 'scratch.tmp'], [src, 'logs']] as const) {
        const { atimeMs, mtimeMs } = fs.statSync(dir);
        fs.rmSync(path.join(dir, gone), { recursive: true });
        fs.utimesSync(dir, atimeMs / 1000, mtimeMs / 1000);
      }
      expect(diffManifests(await hashManifest(dst), await hashManifest(src))).toEqual([]);

      // The pair resumes in its original direction and keeps replicating.
      await h.bus.send(target.agentId, 'replication.start', { ...common, role: 'target', listen: { host: '127.0.0.1', port } });
      await h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', connect: { host: '127.0.0.1', port } });
      fs.writeFileSync(path.join(src, 'after failback.txt'), 'replicated again\n');
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
      // The finished restore stays visible in the status until the agent restarts.
      expect((await status(source.agentId)).restore).toMatchObject({ role: 'receiver', state: 'done' });
    } catch (err) {
      console.log(dump());
      throw err;
    }
  });
});
