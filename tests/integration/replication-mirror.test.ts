// Initial mirror over a real TLS data channel on loopback: a hard-case tree (Unicode, spaces, 32
// levels deep, empty files and dirs, a 1 GiB sparse file, symlinks of every kind, modes, setgid,
// foreign ownership, mtimes) must arrive with identical content and metadata in every mode; the
// checksum mode sends only changed blocks; differences mode sends nothing for an unchanged tree;
// orphans follow the policy.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE, signFile } from '../../apps/agent/src/replication/blocks.ts';
import { POOL_MIN_BYTES } from '../../apps/agent/src/replication/hashpool.ts';
import { buildTree, diffManifests, GiB, hashManifest, type HashEntry, runMirror } from './support/replication/tree.ts';

let dir: string;
let src: string;
let srcManifest: HashEntry[];
let sparseRel: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-mirror-'));
  src = path.join(dir, 'source');
  const { sparse } = buildTree(src);
  sparseRel = path.relative(src, sparse);
  srcManifest = await hashManifest(src);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('initial mirror', () => {
  for (const mode of ['full', 'checksum', 'differences'] as const) {
    it(`${mode}: a fresh target equals the source, sparse file stays sparse`, async () => {
      const dst = path.join(dir, `target-${mode}`);
      const run = await runMirror(src, dst, { mode });
      expect(run.source.converged).toBe(true);
      expect(run.source.errors).toEqual([]);
      expect(run.target.errors).toEqual([]);
      expect(diffManifests(srcManifest, await hashManifest(dst))).toEqual([]);
      const s = statSync(path.join(src, sparseRel));
      const t = statSync(path.join(dst, sparseRel));
      expect(t.size).toBe(GiB);
      expect(t.blocks).toBeLessThanOrEqual(s.blocks + 256); // a few blocks of slack for block-aligned writes
      expect(t.blocks * 512).toBeLessThan(1024 * 1024);
      // Content bytes: the non-zero data only, never the 1 GiB of holes.
      expect(run.source.contentBytesSent).toBeLessThan(20 * 1024 * 1024);
      expect(readdirSync(path.dirname(path.join(dst, 'plain.txt'))).some((n) => n.endsWith('.tmp'))).toBe(false);
    });
  }

  it('hashes a big file on the worker pool exactly as block by block (zero blocks, partial last block)', async () => {
    const file = path.join(dir, 'pool.bin');
    const size = POOL_MIN_BYTES + 37 * BLOCK_SIZE + 4321;
    const data = randomBytes(size);
    data.fill(0, 5 * BLOCK_SIZE, 9 * BLOCK_SIZE); // all-zero blocks take the shortcut
    writeFileSync(file, data);
    const sig = await signFile(file);
    const want: Buffer[] = [];
    const bytes = readFileSync(file);
    for (let o = 0; o < size; o += BLOCK_SIZE) want.push(createHash('sha256').update(bytes.subarray(o, o + BLOCK_SIZE)).digest());
    expect(sig.size).toBe(size);
    expect(sig.hashes.equals(Buffer.concat(want))).toBe(true);
    rmSync(file);
  });

  it('checksum mode sends only the changed blocks (1 %), truncation and extension included', async () => {
    const dst = path.join(dir, 'target-delta');
    const work = path.join(dir, 'source-delta');
    mkdirSync(work);
    const file = path.join(work, 'db.bin');
    const size = 256 * BLOCK_SIZE; // 32 MiB
    writeFileSync(file, randomBytes(size));
    writeFileSync(path.join(work, 'shrinks.bin'), randomBytes(5 * BLOCK_SIZE + 100));
    writeFileSync(path.join(work, 'grows.bin'), randomBytes(2 * BLOCK_SIZE + 7));
    await runMirror(work, dst, { mode: 'full' });
    // Change 1 % of the blocks (3 of 256) at random offsets; truncate one file, extend another.
    const fd = openSync(file, 'r+');
    const blocks = new Set<number>();
    while (blocks.size < 3) blocks.add(Math.floor(Math.random() * 256));
    for (const b of blocks) writeSync(fd, randomBytes(100), 0, 100, b * BLOCK_SIZE + 50);
    closeSync(fd);
    writeFileSync(path.join(work, 'shrinks.bin'), randomBytes(3 * BLOCK_SIZE + 1));
    const g = openSync(path.join(work, 'grows.bin'), 'a');
    writeSync(g, randomBytes(BLOCK_SIZE * 2));
    closeSync(g);
    const run = await runMirror(work, dst, { mode: 'checksum' });
    expect(diffManifests(await hashManifest(work), await hashManifest(dst))).toEqual([]);
    // db.bin: 3 blocks; shrinks.bin: fully rewritten (4 blocks); grows.bin: old last block + 2 new (3 blocks).
    const expected = 3 * BLOCK_SIZE + (3 * BLOCK_SIZE + 1) + (2 * BLOCK_SIZE + 7 - 2 * BLOCK_SIZE + 2 * BLOCK_SIZE);
    expect(run.source.contentBytesSent).toBeLessThanOrEqual(expected);
    expect(run.source.contentBytesSent).toBeGreaterThanOrEqual(3 * BLOCK_SIZE);
    expect(run.source.wireBytesSent).toBeLessThan(size / 10);
    expect(run.source.wireBytesSent / run.source.contentBytesSent).toBeLessThan(1.2);
  });

  it('differences mode sends no content for an unchanged tree, but fixes metadata', async () => {
    const dst = path.join(dir, 'target-full');
    expect(existsSync(dst)).toBe(true);
    chmodSync(path.join(dst, 'plain.txt'), 0o600);
    chownSync(path.join(dst, 'secret.key'), 55, 55);
    const run = await runMirror(src, dst, { mode: 'differences' });
    expect(run.source.contentBytesSent).toBe(0);
    expect(run.source.filesSent).toBe(0);
    expect(diffManifests(srcManifest, await hashManifest(dst))).toEqual([]);
  });

  describe('orphans', () => {
    const setup = async (name: string) => {
      const s = path.join(dir, `orph-src-${name}`);
      const d = path.join(dir, `orph-dst-${name}`);
      mkdirSync(path.join(s, 'keep'), { recursive: true });
      writeFileSync(path.join(s, 'keep/a.txt'), 'a');
      await runMirror(s, d, { mode: 'full' });
      writeFileSync(path.join(d, 'keep/orphan.txt'), 'o');
      mkdirSync(path.join(d, 'gone/deeper'), { recursive: true });
      writeFileSync(path.join(d, 'gone/deeper/x.txt'), 'x');
      return { s, d };
    };
    it('keep leaves them', async () => {
      const { s, d } = await setup('keep');
      const run = await runMirror(s, d, { mode: 'differences', orphans: 'keep' });
      expect(run.target.orphans).toBeGreaterThanOrEqual(2);
      expect(existsSync(path.join(d, 'keep/orphan.txt'))).toBe(true);
      expect(existsSync(path.join(d, 'gone/deeper/x.txt'))).toBe(true);
    });
    it('delete removes them', async () => {
      const { s, d } = await setup('delete');
      await runMirror(s, d, { mode: 'differences', orphans: 'delete' });
      expect(diffManifests(await hashManifest(s), await hashManifest(d), { ignoreDirMtime: true })).toEqual([]);
    });
    it('move-aside moves them out of the root, keeping relative paths', async () => {
      const { s, d } = await setup('move');
      const aside = path.join(dir, 'aside');
      await runMirror(s, d, { mode: 'differences', orphans: 'move-aside', orphansDir: aside });
      expect(diffManifests(await hashManifest(s), await hashManifest(d), { ignoreDirMtime: true })).toEqual([]);
      expect(existsSync(path.join(aside, 'keep/orphan.txt'))).toBe(true);
      expect(existsSync(path.join(aside, 'gone/deeper/x.txt'))).toBe(true);
    });
  });
});
