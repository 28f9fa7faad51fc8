// Multi-point replication, every hop a real continuous pair (its own key, port and state dirs):
// - A→B→C: B's agent applies from A and, as B changes, replicates continuously to C. B's watcher
//   sees what its applier writes (temp file + rename): the temp files must never travel onward.
// - A→B and A→C: one source feeds two targets.
// A writer bursts on A; afterwards every hop catches up (lag 0, empty queue) and all trees are equal
// (hash manifests, directory mtimes included), with no temp file anywhere.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../apps/agent/src/replication/blocks.ts';
import { type InProcessPair, startPair, startWriter, waitFor } from './support/replication/continuous.ts';
import { diffManifests, hashManifest } from './support/replication/tree.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-multipoint-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function seed(root: string): void {
  mkdirSync(path.join(root, 'ünïcødé/日本語'), { recursive: true });
  mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  for (let i = 0; i < 12; i++) writeFileSync(path.join(root, i % 2 ? 'a/b' : 'ünïcødé', `seed ${i}.bin`), randomBytes(10_000 + i * 1000));
  writeFileSync(path.join(root, 'big.bin'), randomBytes(24 * BLOCK_SIZE));
}

const caughtUp = (p: InProcessPair) => {
  const s = p.source.stats();
  return s.phase === 'continuous' && s.lag === 0 && s.queueFiles === 0;
};

/** Waits until every hop is caught up AND every replica equals `root` (the last diffs otherwise). */
async function converge(root: string, replicas: string[], pairs: InProcessPair[], ms: number): Promise<string[]> {
  let diffs: string[] = ['not compared'];
  await waitFor(async () => {
    if (!pairs.every(caughtUp)) return false;
    const want = await hashManifest(root);
    diffs = [];
    for (const r of replicas) diffs.push(...diffManifests(want, await hashManifest(r)).map((d) => `${path.basename(r)}: ${d}`));
    return diffs.length === 0 && pairs.every(caughtUp);
  }, ms, 250);
  return diffs;
}

async function burst(root: string): Promise<void> {
  const writer = startWriter(root, { pauseMs: 3 });
  // A burst of a given size (counted, not timed).
  expect(await waitFor(() => writer.ops() >= 150, 60_000)).toBe(true);
  await writer.stop();
}

const noTemps = async (root: string) => (await hashManifest(root)).filter((e) => /\.tandem-\d+-[0-9a-f]+\.tmp$/.test(e.path));

describe('multi-point replication', () => {
  it('cascade A→B→C: B applies from A and replicates onward; temp files never travel; all converge', async () => {
    const [a, b, c] = ['A', 'B', 'C'].map((n) => path.join(dir, `chain-${n}`)) as [string, string, string];
    seed(a);
    // B's agent hands what its applier changed to the onward source (as the agent wires the two roles).
    const hop: { onward?: (rel: string) => void } = {};
    const ab = await startPair(a, b, path.join(dir, 'chain-state-ab'), { pairId: 'pair-ab', target: { onApplied: (rel) => hop.onward?.(rel) } });
    const bc = await startPair(b, c, path.join(dir, 'chain-state-bc'), { pairId: 'pair-bc' });
    hop.onward = (rel) => bc.source.notifyChanged(rel);
    try {
      expect(await converge(a, [b, c], [ab, bc], 15_000)).toEqual([]);
      await burst(a);
      expect(await converge(a, [b, c], [ab, bc], 20_000)).toEqual([]);
      expect(await noTemps(b)).toEqual([]);
      expect(await noTemps(c)).toEqual([]);
      // B's source never saw (or sent) an applier temp file: nothing it reported mentions one.
      expect(bc.source.stats().errors.filter((e) => e.includes('.tandem-'))).toEqual([]);
      expect(ab.source.stats().errors.filter((e) => !e.startsWith('session'))).toEqual([]);
      expect(bc.source.stats().errors.filter((e) => !e.startsWith('session'))).toEqual([]);
      for (const p of [ab, bc]) expect(p.source.stats().lag).toBe(0);
    } finally {
      await bc.stop();
      await ab.stop();
    }
  });

  it('fan-out A→B and A→C: one source feeds two targets; all converge', async () => {
    const [a, b, c] = ['A', 'B', 'C'].map((n) => path.join(dir, `fan-${n}`)) as [string, string, string];
    seed(a);
    const ab = await startPair(a, b, path.join(dir, 'fan-state-ab'), { pairId: 'pair-ab' });
    const ac = await startPair(a, c, path.join(dir, 'fan-state-ac'), { pairId: 'pair-ac' });
    try {
      expect(await converge(a, [b, c], [ab, ac], 15_000)).toEqual([]);
      await burst(a);
      expect(await converge(a, [b, c], [ab, ac], 20_000)).toEqual([]);
      for (const p of [ab, ac]) {
        expect(p.source.stats().lag).toBe(0);
        expect(p.source.stats().errors.filter((e) => !e.startsWith('session'))).toEqual([]);
      }
    } finally {
      await ac.stop();
      await ab.stop();
    }
  });
});
