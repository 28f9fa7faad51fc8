// In-place updates of big files (a per-pair choice, receive.ts): the changed blocks are written into
// the target's file itself instead of a full copy renamed over it. Real directories, a real
// TLS-PSK channel, the agent's mirror and continuous engines in this process.
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../apps/agent/src/replication/blocks.ts';
import { startPair, sleep, waitEqual, waitFor } from './support/replication/continuous.ts';
import { diffManifests, hashManifest, runMirror } from './support/replication/tree.ts';

const MiB = 1024 * 1024;
const IN_PLACE_FROM = 8 * MiB;
const dir = mkdtempSync(path.join(tmpdir(), 'tandem-inplace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rewrite(file: string, blocks: number[], bytes = 100): void {
  const fd = openSync(file, 'r+');
  try {
    for (const b of blocks) writeSync(fd, randomBytes(bytes), 0, bytes, b * BLOCK_SIZE + 17);
  } finally {
    closeSync(fd);
  }
}

const ino = (p: string) => statSync(p).ino;

describe('in-place updates of big files', () => {
  it('a checksum pass writes only the changed blocks into the same inode, for files from the threshold', async () => {
    const src = path.join(dir, 'm-src');
    const dst = path.join(dir, 'm-dst');
    mkdirSync(src);
    writeFileSync(path.join(src, 'db.bin'), randomBytes(32 * MiB));
    writeFileSync(path.join(src, 'shrinks.bin'), randomBytes(20 * MiB));
    writeFileSync(path.join(src, 'grows.bin'), randomBytes(10 * MiB));
    writeFileSync(path.join(src, 'small.bin'), randomBytes(2 * MiB)); // below the threshold
    writeFileSync(path.join(src, 'linked.bin'), randomBytes(12 * MiB));
    // A sparse file: 16 MiB with data in two blocks only.
    const sparse = path.join(src, 'sparse.bin');
    writeFileSync(sparse, '');
    truncateSync(sparse, 16 * MiB);
    rewrite(sparse, [3, 90], 4096);
    await runMirror(src, dst, { mode: 'full' });

    // Someone made a second name for one target file (outside the copy): it must not change.
    const outside = path.join(dir, 'm-outside-link.bin');
    linkSync(path.join(dst, 'linked.bin'), outside);
    const outsideBefore = readFileSync(outside);
    const before = Object.fromEntries(['db.bin', 'shrinks.bin', 'grows.bin', 'small.bin', 'linked.bin', 'sparse.bin'].map((f) => [f, ino(path.join(dst, f))]));

    rewrite(path.join(src, 'db.bin'), [2, 100, 255]);
    rewrite(path.join(src, 'shrinks.bin'), [1]);
    truncateSync(path.join(src, 'shrinks.bin'), 12 * MiB + 5);
    appendFileSync(path.join(src, 'grows.bin'), randomBytes(3 * MiB));
    rewrite(path.join(src, 'small.bin'), [4]);
    rewrite(path.join(src, 'linked.bin'), [7]);
    rewrite(sparse, [90], 4096);

    const run = await runMirror(src, dst, { mode: 'checksum', inPlaceMinBytes: IN_PLACE_FROM });
    expect(run.target.errors).toEqual([]);
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
    // Updated in place: the same inodes.
    expect(ino(path.join(dst, 'db.bin'))).toBe(before['db.bin']);
    expect(ino(path.join(dst, 'shrinks.bin'))).toBe(before['shrinks.bin']);
    expect(ino(path.join(dst, 'grows.bin'))).toBe(before['grows.bin']);
    // Replaced whole: below the threshold, a file with another name, a sparse file (which stays sparse).
    expect(ino(path.join(dst, 'small.bin'))).not.toBe(before['small.bin']);
    expect(ino(path.join(dst, 'linked.bin'))).not.toBe(before['linked.bin']);
    expect(readFileSync(outside).equals(outsideBefore)).toBe(true);
    expect(ino(path.join(dst, 'sparse.bin'))).not.toBe(before['sparse.bin']);
    const sp = statSync(path.join(dst, 'sparse.bin'));
    expect(sp.blocks * 512).toBeLessThan(sp.size / 4);
    // Only changed blocks travelled: db 3 + shrinks 1 + grows (old last block + 3 MiB) + small 1 + linked 1 + sparse 1.
    expect(run.source.contentBytesSent).toBeLessThanOrEqual(8 * BLOCK_SIZE + 3 * MiB);
  });

  it('without the setting every file is replaced whole (a new inode), as before', async () => {
    const src = path.join(dir, 'm-src');
    const dst = path.join(dir, 'm-dst');
    const was = ino(path.join(dst, 'db.bin'));
    rewrite(path.join(src, 'db.bin'), [9]);
    await runMirror(src, dst, { mode: 'checksum' });
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
    expect(ino(path.join(dst, 'db.bin'))).not.toBe(was);
  });

  it('a file that changes while it is read is aborted and sent again: the target still ends equal', async () => {
    const src = path.join(dir, 'a-src');
    const dst = path.join(dir, 'a-dst');
    mkdirSync(src);
    const file = path.join(src, 'busy.bin');
    writeFileSync(file, randomBytes(16 * MiB));
    await runMirror(src, dst, { mode: 'full' });
    const was = ino(path.join(dst, 'busy.bin'));
    rewrite(file, [5, 60]);
    let touched = 0;
    const run = await runMirror(src, dst, {
      mode: 'checksum',
      inPlaceMinBytes: IN_PLACE_FROM,
      // The first time it is read through, another writer changes it again (the read is aborted).
      afterRead: (rel) => {
        if (rel === 'busy.bin' && touched++ === 0) rewrite(file, [70, 120]);
      },
    });
    expect(run.source.filesAborted).toBeGreaterThanOrEqual(1);
    expect(run.source.converged).toBe(true);
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
    expect(ino(path.join(dst, 'busy.bin'))).toBe(was);
  });

  it('an update cut short leaves a file the next differences pass sees as changed and repairs', async () => {
    const src = path.join(dir, 'a-src');
    const dst = path.join(dir, 'a-dst');
    const target = path.join(dst, 'busy.bin');
    // What a crash mid-update leaves: some blocks new, the rest old, the mtime moved by the writes.
    await sleep(20);
    rewrite(target, [1, 2, 3]);
    expect(statSync(target).mtimeMs).not.toBe(statSync(path.join(src, 'busy.bin')).mtimeMs);
    const run = await runMirror(src, dst, { mode: 'differences', delta: true, inPlaceMinBytes: IN_PLACE_FROM });
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
    expect(run.source.contentBytesSent).toBeLessThanOrEqual(3 * BLOCK_SIZE);
  });

  it('continuous replication applies a big file’s changed blocks in place', async () => {
    const src = path.join(dir, 'c-src');
    const dst = path.join(dir, 'c-dst');
    mkdirSync(src);
    writeFileSync(path.join(src, 'mailbox.pst'), randomBytes(24 * MiB));
    writeFileSync(path.join(src, 'note.txt'), 'small files are still replaced whole');
    const pair = await startPair(src, dst, path.join(dir, 'c-state'), { inPlaceMinBytes: IN_PLACE_FROM });
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous', 10_000)).toBe(true);
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      const was = ino(path.join(dst, 'mailbox.pst'));
      const sentBefore = pair.source.stats().contentBytesSent;
      for (let i = 0; i < 3; i++) {
        // Each rewrite is its own change: the next one waits until the source has sent this one's blocks.
        const sent = pair.source.stats().contentBytesSent;
        rewrite(path.join(src, 'mailbox.pst'), [10 * i + 1, 150 - i]);
        expect(await waitFor(() => pair.source.stats().contentBytesSent > sent, 20_000)).toBe(true);
      }
      appendFileSync(path.join(src, 'mailbox.pst'), randomBytes(MiB));
      expect(await waitFor(() => pair.source.stats().lag === 0, 10_000)).toBe(true);
      expect(await waitEqual(src, dst, 10_000)).toEqual([]);
      expect(ino(path.join(dst, 'mailbox.pst'))).toBe(was);
      expect(pair.source.stats().contentBytesSent - sentBefore).toBeLessThanOrEqual(6 * BLOCK_SIZE + MiB + BLOCK_SIZE);
    } finally {
      await pair.stop();
    }
  });
});
