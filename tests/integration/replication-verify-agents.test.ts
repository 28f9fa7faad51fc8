// Verify on demand and re-send, end to end through the control path with real processes (same setup
// as replication-agents.test.ts: one gateway, two bundled tandem-agent processes, commands through
// Redis with AgentBus). After the pair converges, the replica is damaged behind the source's back
// (one file's content changed, another deleted, directly on the target): `replication.verify` on the
// source agent reports exactly those two, `replication.resend` repairs them, and a second verify
// reports nothing. The commands are refused on the target agent and for a pair that is not running.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './support/agents';
import { ReplicationHarness, waitEqual, writeFiles } from './support/replication/agents';
import { diffManifests, hashManifest } from './support/replication/tree';

const h = new ReplicationHarness('verify');

/** Runs fn on a directory's entries and puts its times back (the damage is to the files only). */
function keepingDirTimes(dir: string, fn: () => void): void {
  const st = fs.statSync(dir);
  fn();
  fs.utimesSync(dir, st.atimeMs / 1000, st.mtimeMs / 1000);
}

beforeAll(() => h.setup(), 60_000);
afterAll(() => h.teardown());

describe('replication.verify and replication.resend between two real agents', () => {
  it('finds a damaged and a deleted file on the target, re-sends them, verifies clean', { timeout: 180_000 }, async () => {
    const { source, target, pair, src, targetRoot, dst } = await h.twoAgentPair();
    writeFiles(src, 'initial', 30);
    fs.mkdirSync(path.join(src, 'empty dir'));
    fs.symlinkSync('initial', path.join(src, 'link'));

    const port = await freePort();
    const key = randomBytes(32).toString('base64');
    const common = { pairId: pair.id, key, source: { roots: [src], rules: [] }, targetRoot, mode: 'checksum' as const, orphans: 'delete' as const };
    const dump = () => `--- source agent ---\n${source.handle.output().slice(-4000)}\n--- target agent ---\n${target.handle.output().slice(-4000)}`;
    const status = (agentId: string) => h.bus.send(agentId, 'replication.status', { pairId: pair.id });
    const verify = (paths?: string[]) => h.bus.send(source.agentId, 'replication.verify', { pairId: pair.id, ...(paths ? { paths } : {}) });
    const caughtUp = () =>
      waitFor('the source caught up (lag 0, empty queue)', async () => {
        const s = await status(source.agentId);
        return s.state === 'continuous' && s.lagSeconds === 0 && s.queueFiles === 0 && s;
      }, 30_000);

    try {
      // Not running anywhere yet: refused with a readable reason.
      await expect(verify()).rejects.toThrow(/not running on this agent/);
      await expect(h.bus.send(source.agentId, 'replication.resend', { pairId: pair.id, items: [] })).rejects.toThrow(/not running on this agent/);

      expect(await h.bus.send(target.agentId, 'replication.start', { ...common, role: 'target', listen: { host: '127.0.0.1', port } })).toEqual({ started: true, port });
      expect(await h.bus.send(source.agentId, 'replication.start', { ...common, role: 'source', connect: { host: '127.0.0.1', port } })).toEqual({ started: true, port: null });
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
      await caughtUp();

      // Only the source agent verifies and re-sends.
      await expect(h.bus.send(target.agentId, 'replication.verify', { pairId: pair.id })).rejects.toThrow(/source agent/);
      await expect(h.bus.send(target.agentId, 'replication.resend', { pairId: pair.id, items: [{ root: src, path: 'initial/file 1.txt' }] })).rejects.toThrow(/source agent/);

      // Converged: verify finds nothing, and hashed every file.
      const clean = await verify();
      expect(clean.differing, dump()).toEqual([]);
      expect(clean.truncated).toBe(false);
      expect(clean.checkedFiles).toBe(30);
      expect(clean.checkedBytes).toBeGreaterThan(100_000);

      // Damage the replica directly on the target (the source sees nothing of it).
      const changed = 'initial/file 4.txt';
      const deleted = 'initial/nested dir/ünïcødé/f3.bin';
      fs.writeFileSync(path.join(dst, ...changed.split('/')), 'tampered on the target\n');
      keepingDirTimes(path.join(dst, ...path.dirname(deleted).split('/')), () => fs.rmSync(path.join(dst, ...deleted.split('/'))));

      const found = await verify();
      expect(found.truncated).toBe(false);
      expect(found.checkedFiles).toBe(30);
      expect(found.differing.map(({ root, path: p, kind }) => ({ root, path: p, kind })), dump()).toEqual([
        { root: src, path: changed, kind: 'content' },
        { root: src, path: deleted, kind: 'missing' },
      ]);
      for (const d of found.differing) expect(typeof d.detail).toBe('string');
      // Scoped to a path: only what lies there.
      const scoped = await verify(['initial/nested dir']);
      expect(scoped.differing.map((d) => [d.path, d.kind])).toEqual([[deleted, 'missing']]);
      expect(scoped.checkedFiles).toBe(10);

      // Re-send exactly what differs; a root the pair does not have is refused.
      await expect(h.bus.send(source.agentId, 'replication.resend', { pairId: pair.id, items: [{ root: path.join(path.dirname(targetRoot), 'other'), path: changed }] })).rejects.toThrow(/not a root/);
      const items = found.differing.map(({ root, path: p }) => ({ root, path: p }));
      expect(await h.bus.send(source.agentId, 'replication.resend', { pairId: pair.id, items })).toEqual({ queued: 2 });
      expect(await waitEqual(src, dst, 30_000), dump()).toEqual([]);
      await caughtUp();

      const after = await verify();
      expect(after.differing, dump()).toEqual([]);
      expect(after).toMatchObject({ checkedFiles: 30, truncated: false });
      expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);

      expect(await h.bus.send(source.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: true });
      expect(await h.bus.send(target.agentId, 'replication.stop', { pairId: pair.id })).toEqual({ stopped: true });
      await expect(verify()).rejects.toThrow(/not running on this agent/);
    } catch (err) {
      console.log(dump());
      throw err;
    }
  });
});
