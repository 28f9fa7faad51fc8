// Restore (restore.ts), the failback direction: the ORIGINAL TARGET sends and the ORIGINAL SOURCE
// listens and receives, with the same engine, modes and progress. After the replica changed while
// it was live (blocks rewritten in a big file, files added, deleted, renamed, chmod'ed), a checksum
// restore makes the source equal to the target (hash manifests) sending only the changed blocks;
// full and differences restores converge too; and the pair's continuous replication, restarted in
// its original direction afterwards, finds nothing to re-send. A receiver waiting for its sender
// gives up at once when stopped.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../apps/agent/src/replication/blocks.ts';
import { listen } from '../../apps/agent/src/replication/channel.ts';
import { type MirrorProgress } from '../../apps/agent/src/replication/mirror.ts';
import { receiveRestore } from '../../apps/agent/src/replication/restore.ts';
import { startPair, waitFor } from './support/replication/continuous.ts';
import { runRestore } from './support/replication/sessions.ts';
import { diffManifests, hashManifest, runMirror } from './support/replication/tree.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-restore-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function seed(root: string): void {
  mkdirSync(path.join(root, 'db/ünïcødé'), { recursive: true });
  mkdirSync(path.join(root, 'share/sub'), { recursive: true });
  writeFileSync(path.join(root, 'db/data.bin'), randomBytes(128 * BLOCK_SIZE)); // 16 MiB
  for (let i = 0; i < 10; i++) writeFileSync(path.join(root, `share/sub/doc ${i}.txt`), `document ${i}\n`.repeat(100));
  writeFileSync(path.join(root, 'db/ünïcødé/notes.txt'), 'notes');
}

/** What the replica does while it is the live copy. Returns the content bytes it wrote anew. */
function changeReplica(root: string): number {
  const fd = openSync(path.join(root, 'db/data.bin'), 'r+');
  for (const b of [5, 77]) writeSync(fd, randomBytes(100), 0, 100, b * BLOCK_SIZE + 1000);
  closeSync(fd);
  writeFileSync(path.join(root, 'share/new on replica.txt'), 'written during failover\n');
  unlinkSync(path.join(root, 'share/sub/doc 3.txt'));
  renameSync(path.join(root, 'share/sub/doc 4.txt'), path.join(root, 'share/doc 4 renamed.txt'));
  chmodSync(path.join(root, 'share/sub/doc 5.txt'), 0o600);
  mkdirSync(path.join(root, 'new dir/deeper'), { recursive: true });
  return 2 * BLOCK_SIZE + 24 + 1300; // two blocks, the new file, the renamed file
}

describe('restore (target → source)', () => {
  it('checksum mode: the source becomes equal to the target, only changed blocks travel, progress reported', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    seed(a);
    await runMirror(a, b, { mode: 'full' });
    const expected = changeReplica(b);
    const progress: MirrorProgress[] = [];
    const run = await runRestore(b, a, { onProgress: (p) => progress.push(p) });
    expect(run.sender.converged).toBe(true);
    expect(run.sender.errors).toEqual([]);
    expect(run.receiver.errors).toEqual([]);
    expect(run.receiver.orphans).toBe(2); // doc 3 (deleted) and doc 4 (renamed away)
    expect(diffManifests(await hashManifest(b), await hashManifest(a))).toEqual([]);
    expect(run.sender.contentBytesSent).toBeLessThanOrEqual(expected);
    expect(run.sender.contentBytesSent).toBeGreaterThanOrEqual(2 * BLOCK_SIZE);
    expect(run.sender.wireBytesSent).toBeLessThan(3 * BLOCK_SIZE + 64 * 1024);
    expect(progress[0]!.round).toBe(1);
    expect(progress[0]!.filesLeft).toBeGreaterThan(0);
    expect(progress.filter((p) => p.round === 1).at(-1)!.filesLeft).toBe(0);
  });

  for (const mode of ['full', 'differences'] as const) {
    it(`${mode} mode converges too`, async () => {
      const a = path.join(dir, `a-${mode}`);
      const b = path.join(dir, `b-${mode}`);
      seed(a);
      await runMirror(a, b, { mode: 'full' });
      changeReplica(b);
      const run = await runRestore(b, a, { mode, orphans: 'delete' });
      expect(run.sender.converged).toBe(true);
      expect(diffManifests(await hashManifest(b), await hashManifest(a))).toEqual([]);
      if (mode === 'full') expect(run.sender.contentBytesSent).toBeGreaterThan(128 * BLOCK_SIZE);
      else expect(run.sender.contentBytesSent).toBeLessThan(128 * BLOCK_SIZE + 20_000); // only files whose size/mtime moved
    });
  }

  it('failback: continuous A→B, changes on B, restore B→A, then A→B resumes without re-sending', async () => {
    const a = path.join(dir, 'fb-a');
    const b = path.join(dir, 'fb-b');
    const state = path.join(dir, 'fb-state');
    seed(a);
    let pair = await startPair(a, b, state);
    expect(await waitFor(() => pair.source.stats().phase === 'continuous' && pair.source.stats().lag === 0, 10_000)).toBe(true);
    await pair.stop(); // failover: replication stops, B goes live
    changeReplica(b);
    const run = await runRestore(b, a);
    expect(run.sender.contentBytesSent).toBeLessThan(3 * BLOCK_SIZE);
    expect(diffManifests(await hashManifest(b), await hashManifest(a))).toEqual([]);
    pair = await startPair(a, b, state); // back in the original direction, same state dirs
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous' && pair.source.stats().lag === 0, 10_000)).toBe(true);
      expect(pair.source.stats().contentBytesSent).toBe(0);
      expect(diffManifests(await hashManifest(a), await hashManifest(b))).toEqual([]);
    } finally {
      await pair.stop();
    }
  });

  it('a receiver still waiting for its sender gives up at once when stopped', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0, keyFor: () => undefined });
    try {
      const abort = new AbortController();
      const waiting = receiveRestore({ root: path.join(dir, 'never'), server, signal: abort.signal, acceptTimeoutMs: 60_000 });
      abort.abort();
      await expect(waiting).rejects.toThrow(/stopped before the sender connected/);
    } finally {
      await server.close();
    }
  });
});
