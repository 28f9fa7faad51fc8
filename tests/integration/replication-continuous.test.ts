// Continuous replication after the initial mirror (continuous.ts), source and target in this
// process over real TLS on loopback: a writer creates, modifies (append and in-place), renames
// (files and directories), deletes, chmods and touches files, including nested directories and
// Unicode names, a few hundred operations. Once it stops, lag returns to 0 and the target's
// hash manifest (content and metadata, directory mtimes included) equals the source's. The watcher
// (one watch per directory) keeps following a file after it was replaced by rename, and the files
// of a directory after it was renamed or created with content already in it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../apps/agent/src/replication/blocks.ts';
import { startPair, startWriter, waitEqual, waitFor } from './support/replication/continuous.ts';
import { diffManifests, hashManifest } from './support/replication/tree.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-continuous-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function seed(root: string): void {
  mkdirSync(path.join(root, 'ünïcødé/日本語'), { recursive: true });
  mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(root, i % 2 ? 'a/b' : 'ünïcødé', `seed ${i}.bin`), randomBytes(20_000 + i * 1000));
  writeFileSync(path.join(root, 'big.bin'), randomBytes(40 * BLOCK_SIZE));
}

describe('continuous replication', () => {
  it('a burst of creates/modifies/renames/deletes converges: lag back to 0, equal trees', async () => {
    const src = path.join(dir, 'burst-src');
    const dst = path.join(dir, 'burst-dst');
    seed(src);
    const pair = await startPair(src, dst, path.join(dir, 'burst-state'));
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous', 10_000)).toBe(true);
      expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
      // A burst of a few hundred operations (counted, not timed), replicated while it runs.
      const writer = startWriter(src, { pauseMs: 3 });
      expect(await waitFor(() => writer.ops() >= 300, 60_000)).toBe(true);
      await writer.stop();
      expect(await waitFor(() => pair.source.stats().lag === 0 && pair.source.stats().queueFiles === 0, 60_000)).toBe(true);
      expect(await waitEqual(src, dst, 20_000)).toEqual([]);
      // One more stats sample, taken after catching up.
      const n = pair.samples.length;
      expect(await waitFor(() => pair.samples.length > n, 10_000)).toBe(true);
      const during = pair.samples.filter((s) => s.phase === 'continuous');
      expect(during.some((s) => s.queueBytes > 0)).toBe(true);
      expect(during.some((s) => s.lag > 0)).toBe(true);
      expect(during.some((s) => s.throughput > 0)).toBe(true);
      expect(pair.samples.at(-1)!.lag).toBe(0);
      expect(pair.source.stats().errors.filter((e) => !e.startsWith('session'))).toEqual([]);
    } finally {
      await pair.stop();
    }
  });

  it('sends only changed blocks of a modified big file, and handles truncate, extend, rename and delete', async () => {
    const src = path.join(dir, 'delta-src');
    const dst = path.join(dir, 'delta-dst');
    mkdirSync(path.join(src, 'd'), { recursive: true });
    writeFileSync(path.join(src, 'd/db.bin'), randomBytes(128 * BLOCK_SIZE)); // 16 MiB
    writeFileSync(path.join(src, 'shrinks.bin'), randomBytes(5 * BLOCK_SIZE + 10));
    writeFileSync(path.join(src, 'old name.txt'), 'rename me');
    writeFileSync(path.join(src, 'doomed.txt'), 'delete me');
    const pair = await startPair(src, dst, path.join(dir, 'delta-state'));
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous', 10_000)).toBe(true);
      const before = pair.source.stats().contentBytesSent;
      const fd = openSync(path.join(src, 'd/db.bin'), 'r+');
      for (const b of [3, 70, 127]) writeSync(fd, randomBytes(10), 0, 10, b * BLOCK_SIZE + 5);
      closeSync(fd);
      writeFileSync(path.join(src, 'shrinks.bin'), randomBytes(BLOCK_SIZE + 1));
      const { renameSync, unlinkSync } = await import('node:fs');
      renameSync(path.join(src, 'old name.txt'), path.join(src, 'd/new name ✓.txt'));
      unlinkSync(path.join(src, 'doomed.txt'));
      // The watcher has seen the changes (queued, or already sending), then they are all applied.
      expect(await waitFor(() => pair.source.stats().queueFiles > 0 || pair.source.stats().contentBytesSent > before, 20_000)).toBe(true);
      expect(await waitFor(() => pair.source.stats().lag === 0 && pair.source.stats().queueFiles === 0, 20_000)).toBe(true);
      expect(await waitEqual(src, dst, 20_000)).toEqual([]);
      const sent = pair.source.stats().contentBytesSent - before;
      expect(sent).toBeGreaterThanOrEqual(3 * BLOCK_SIZE);
      expect(sent).toBeLessThan(3 * BLOCK_SIZE + 2 * BLOCK_SIZE + 1000); // 3 blocks + shrinks.bin + the renamed file
    } finally {
      await pair.stop();
    }
  });

  it('edits after a rename-replace, and inside renamed or freshly created directories, are replicated', async () => {
    const src = path.join(dir, 'rr-src');
    const dst = path.join(dir, 'rr-dst');
    mkdirSync(path.join(src, 'conf/deep'), { recursive: true });
    writeFileSync(path.join(src, 'conf/app.ini'), 'version 1\n');
    writeFileSync(path.join(src, 'conf/deep/x.txt'), 'x');
    const pair = await startPair(src, dst, path.join(dir, 'rr-state'));
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous', 10_000)).toBe(true);
      const { appendFileSync, renameSync } = await import('node:fs');
      // An editor's save: write a temp file, rename it over the original.
      writeFileSync(path.join(src, 'conf/app.ini.new'), 'version 2\n');
      renameSync(path.join(src, 'conf/app.ini.new'), path.join(src, 'conf/app.ini'));
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      // Then edits in place of the file that replaced it (a new inode), several times.
      for (let i = 0; i < 3; i++) {
        appendFileSync(path.join(src, 'conf/app.ini'), `edit ${i}\n`);
        expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      }
      // A renamed directory: later edits under its new name.
      renameSync(path.join(src, 'conf/deep'), path.join(src, 'conf/moved'));
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      appendFileSync(path.join(src, 'conf/moved/x.txt'), ' more');
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      // A directory tree created in one go, then edited.
      mkdirSync(path.join(src, 'fresh/a/b'), { recursive: true });
      writeFileSync(path.join(src, 'fresh/a/b/new.txt'), 'new');
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      appendFileSync(path.join(src, 'fresh/a/b/new.txt'), ' and edited');
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      expect(pair.source.stats().errors.filter((e) => !e.startsWith('session'))).toEqual([]);
    } finally {
      await pair.stop();
    }
  });
});
