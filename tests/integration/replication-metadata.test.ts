// What `rsync -a` (and -S for holes) copies, checked against rsync itself on the same tree: the
// replication root's own metadata (mode, owner, mtime), in the initial mirror and in continuous
// mode, and sparse files allocated at the source's 4 KiB granularity rather than in 128 KiB blocks.
// Source and target run in this process over real TLS on loopback (support/replication/continuous.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPair, waitEqual, waitFor } from './support/replication/continuous.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-metadata-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const rootMeta = (p: string) => {
  const st = statSync(p);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
};
/**
 * Equal metadata, mtimes within 5 µs: Node sets times through libuv, which keeps microseconds
 * (rsync keeps nanoseconds), and the seconds travel as a double (see receive.ts applyMeta).
 */
const sameMeta = (a: ReturnType<typeof rootMeta>, b: ReturnType<typeof rootMeta>) =>
  a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && Math.abs(a.mtimeMs - b.mtimeMs) < 0.005;

/**
 * Where a file holds data, as [start, end) ranges from lseek SEEK_DATA/SEEK_HOLE (through perl,
 * which Debian always has). st_blocks is not used: it also counts ext4's extent-tree blocks, whose
 * number depends on the order the pages were written, not on which pages are holes.
 */
function dataRanges(file: string): string {
  const script =
    'open(my $f, "<", $ARGV[0]) or die $!; my $size = -s $f; my $at = 0; my @r;' +
    ' while ($at < $size) { my $d = sysseek($f, $at, 3); last unless defined $d; my $h = sysseek($f, $d, 4);' +
    ' push @r, ($d + 0) . "-" . ($h + 0); $at = $h } print join(",", @r);';
  return execFileSync('perl', ['-e', script, file], { encoding: 'utf8' });
}

/** A file with one 4 KiB page of data every `every` bytes, holes between (allocated like that on the source). */
function pagedSparse(file: string, size: number, every: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let off = 0; off < size; off += every) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, off);
    ftruncateSync(fd, size); // the tail stays a hole
  } finally {
    closeSync(fd);
  }
}

describe('what rsync -a copies', () => {
  it("the root's own mode, owner and mtime: in the initial mirror, then as they change", async () => {
    const src = path.join(dir, 'root-src');
    const dst = path.join(dir, 'root-dst');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'sub/a.txt'), 'a');
    chmodSync(src, 0o751);
    chownSync(src, 1234, 2345);
    utimesSync(src, 1_600_000_000, 1_600_000_000.5);
    const viaRsync = path.join(dir, 'root-rsync');
    execFileSync('rsync', ['-a', `${src}/`, `${viaRsync}/`]);
    expect(rootMeta(viaRsync)).toEqual(rootMeta(src));
    const pair = await startPair(src, dst, path.join(dir, 'root-state'));
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous', 20_000)).toBe(true);
      expect(await waitEqual(src, dst, 20_000)).toEqual([]);
      expect(rootMeta(dst)).toEqual(rootMeta(src)); // an mtime with whole microseconds is kept exactly
      // Continuous: a new file changes the root's mtime; then the root is chmod'ed and chowned.
      writeFileSync(path.join(src, 'new.txt'), 'new');
      expect(await waitFor(() => sameMeta(rootMeta(dst), rootMeta(src)) && statSync(path.join(dst, 'new.txt'), { throwIfNoEntry: false }) !== undefined, 20_000)).toBe(true);
      chmodSync(src, 0o705);
      chownSync(src, 4321, 5432);
      expect(await waitFor(() => sameMeta(rootMeta(dst), rootMeta(src)), 20_000)).toBe(true);
      expect(rootMeta(dst)).toMatchObject({ mode: 0o705, uid: 4321, gid: 5432 });
    } finally {
      await pair.stop();
    }
  });

  it('sparse files keep holes at 4 KiB granularity (as rsync -S), small and big files, mirror and continuous', async () => {
    const src = path.join(dir, 'sparse-src');
    const dst = path.join(dir, 'sparse-dst');
    mkdirSync(src);
    // Small files travel whole (one frame), big ones streamed in blocks: both paths are covered.
    pagedSparse(path.join(src, 'small.bin'), 512 * 1024, 16 * 1024);
    pagedSparse(path.join(src, 'big.bin'), 4 * 1024 * 1024, 16 * 1024);
    const viaRsync = path.join(dir, 'sparse-rsync');
    execFileSync('rsync', ['-aS', `${src}/`, `${viaRsync}/`]);
    const blocks = (root: string, name: string) => statSync(path.join(root, name)).blocks;
    const holes = (root: string, name: string) => dataRanges(path.join(root, name));
    for (const n of ['small.bin', 'big.bin']) expect(blocks(viaRsync, n)).toBeLessThanOrEqual(blocks(src, n));
    expect(holes(src, 'big.bin').split(',')).toHaveLength(256); // one data range per page: the holes are real
    const pair = await startPair(src, dst, path.join(dir, 'sparse-state'));
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous', 20_000)).toBe(true);
      expect(await waitEqual(src, dst, 20_000)).toEqual([]);
      for (const n of ['small.bin', 'big.bin']) expect({ n, data: holes(dst, n) }).toEqual({ n, data: holes(viaRsync, n) });
      // Continuous mode: new files of both sizes.
      pagedSparse(path.join(src, 'small 2.bin'), 256 * 1024, 8 * 1024);
      pagedSparse(path.join(src, 'big 2.bin'), 3 * 1024 * 1024, 32 * 1024);
      expect(await waitEqual(src, dst, 20_000)).toEqual([]);
      execFileSync('rsync', ['-aS', `${src}/`, `${viaRsync}/`]);
      for (const n of ['small 2.bin', 'big 2.bin']) expect({ n, data: holes(dst, n) }).toEqual({ n, data: holes(viaRsync, n) });
      // A delta onto a sparse file: one page written into a hole; the unchanged pages are copied
      // from the target's current file, its holes kept.
      const fd = openSync(path.join(src, 'big.bin'), 'r+');
      writeSync(fd, Buffer.alloc(4096, 0x33), 0, 4096, 1024 * 1024 + 8192);
      closeSync(fd);
      expect(await waitEqual(src, dst, 20_000)).toEqual([]);
      // -I: the write may fall in the same second as the file's last copy, and rsync's quick check
      // (size and whole-second mtime) would then skip it, leaving the reference stale.
      execFileSync('rsync', ['-aSI', `${src}/`, `${viaRsync}/`]);
      expect(holes(dst, 'big.bin')).toBe(holes(viaRsync, 'big.bin'));
    } finally {
      await pair.stop();
    }
  });
});
