// Hard links are preserved on the target, as rsync -H does: the names of one source inode (among
// the names the set selects) share one inode on the target too, after a mirror in every mode and
// after a restore back to the source. Groups span directories, mix small files (one frame) and big
// ones (streamed), and one group has a name the set's rules exclude: the other names stay linked,
// the excluded one never arrives. A link broken on the source is broken on the target, a change
// through one name reaches all of them, and a target holding separate copies gets them linked.
// Continuous replication keeps them too: a write through any name reaches every name on the target
// (one inode there), and new links, removed names, renamed names and broken links follow.
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, connect } from '../../apps/agent/src/replication/channel.ts';
import { receiveRestore, restore } from '../../apps/agent/src/replication/restore.ts';
import { type ReplicationRule } from '../../apps/agent/src/replication/set.ts';
import { type InProcessPair, startPair, waitFor } from './support/replication/continuous.ts';
import { diffManifests, hashManifest, runMirror } from './support/replication/tree.ts';

/** The set leaves out `*.skip` files. */
const RULES: ReplicationRule[] = [{ pattern: '**/*.skip', include: false, recursive: false }];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-hardlinks-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A tree with link groups: within a directory, across directories, a big streamed file, one with an excluded name. */
function buildLinked(root: string): void {
  mkdirSync(path.join(root, 'a'), { recursive: true });
  mkdirSync(path.join(root, 'b/deep'), { recursive: true });
  mkdirSync(path.join(root, 'ünï'), { recursive: true });
  writeFileSync(path.join(root, 'a/one.txt'), 'one\n'.repeat(100));
  linkSync(path.join(root, 'a/one.txt'), path.join(root, 'a/two.txt'));
  linkSync(path.join(root, 'a/one.txt'), path.join(root, 'b/deep/three.txt'));
  writeFileSync(path.join(root, 'big.bin'), randomBytes(3 * 1024 * 1024));
  linkSync(path.join(root, 'big.bin'), path.join(root, 'ünï/big link.bin'));
  writeFileSync(path.join(root, 'b/kept.dat'), 'kept\n');
  linkSync(path.join(root, 'b/kept.dat'), path.join(root, 'a/kept.skip'));
  linkSync(path.join(root, 'b/kept.dat'), path.join(root, 'ünï/kept too.dat'));
  writeFileSync(path.join(root, 'plain.txt'), 'alone\n');
}

const excluded = (rel: string) => rel.endsWith('.skip');

/** Every file under `root` (excluded ones left out when `rules`), by path: its inode and link count. */
function inodes(root: string, rules = false): Map<string, { ino: number; nlink: number }> {
  const out = new Map<string, { ino: number; nlink: number }>();
  const visit = (rel: string) => {
    for (const d of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) visit(r);
      else if (d.isFile() && !(rules && excluded(r))) {
        const st = statSync(path.join(root, r));
        out.set(r, { ino: st.ino, nlink: st.nlink });
      }
    }
  };
  visit('');
  return out;
}

/** The link groups of a tree: the sorted lists of names sharing an inode (single names left out). */
function groups(files: Map<string, { ino: number }>): string[][] {
  const by = new Map<number, string[]>();
  for (const [p, { ino }] of files) by.set(ino, [...(by.get(ino) ?? []), p]);
  return [...by.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/**
 * The target's names share inodes exactly as the source's selected names do, and each name's link
 * count is the source's less the excluded names of its group.
 */
function expectLinksLike(src: string, dst: string, rules = false): void {
  const s = inodes(src, rules);
  const t = inodes(dst, rules);
  expect([...t.keys()].sort()).toEqual([...s.keys()].sort());
  expect(groups(t)).toEqual(groups(s));
  const all = inodes(src);
  for (const [p, { ino, nlink }] of s) {
    const left = [...all].filter(([q, f]) => f.ino === ino && excluded(q) && rules).length;
    expect({ p, nlink: t.get(p)!.nlink }).toEqual({ p, nlink: nlink - left });
  }
}

const expectEqualTrees = async (src: string, dst: string) => {
  const skip = (e: { path: string }) => !excluded(e.path);
  expect(diffManifests((await hashManifest(src)).filter(skip), await hashManifest(dst), { ignoreDirMtime: true })).toEqual([]);
};

describe('hard links', () => {
  for (const mode of ['full', 'checksum', 'differences'] as const) {
    it(`${mode} mirror: link groups arrive as link groups, an excluded name stays out`, async () => {
      const src = path.join(dir, `src-${mode}`);
      const dst = path.join(dir, `dst-${mode}`);
      buildLinked(src);
      const run = await runMirror(src, dst, { mode, rules: RULES });
      expect(run.source.converged).toBe(true);
      expect(run.source.errors).toEqual([]);
      expect(run.target.errors).toEqual([]);
      await expectEqualTrees(src, dst);
      expectLinksLike(src, dst, true);
      expect(groups(inodes(dst))).toEqual([['a/one.txt', 'a/two.txt', 'b/deep/three.txt'], ['b/kept.dat', 'ünï/kept too.dat'], ['big.bin', 'ünï/big link.bin']]);
      // Each group's content travelled once.
      expect(run.source.filesSent).toBe(4);
    });
  }

  it('later mirrors follow the source: a change through one name, a new link, a broken link, a renamed name', async () => {
    const src = path.join(dir, 'src-later');
    const dst = path.join(dir, 'dst-later');
    buildLinked(src);
    await runMirror(src, dst, { mode: 'full', rules: RULES });
    expectLinksLike(src, dst, true);

    writeFileSync(path.join(src, 'a/two.txt'), 'changed through the second name\n'); // same inode: all three names
    linkSync(path.join(src, 'plain.txt'), path.join(src, 'b/plain again.txt')); // a new group
    writeFileSync(path.join(src, 'ünï/new.tmp'), 'replacement\n');
    renameSync(path.join(src, 'ünï/new.tmp'), path.join(src, 'ünï/big link.bin')); // breaks big.bin's group
    renameSync(path.join(src, 'b/deep/three.txt'), path.join(src, 'b/three moved.txt'));
    for (const mode of ['differences', 'checksum'] as const) {
      const run = await runMirror(src, dst, { mode, orphans: 'delete', rules: RULES });
      expect(run.source.converged).toBe(true);
      expect(run.target.errors).toEqual([]);
      await expectEqualTrees(src, dst);
      expectLinksLike(src, dst, true);
    }
    expect(readFileSync(path.join(dst, 'a/one.txt'), 'utf8')).toBe('changed through the second name\n');
    expect(statSync(path.join(dst, 'big.bin')).nlink).toBe(1);
  });

  for (const mode of ['differences', 'checksum'] as const) {
    it(`${mode}: a link broken on the source with the same content and mtime is broken on the target`, async () => {
      const src = path.join(dir, `src-broken-${mode}`);
      const dst = path.join(dir, `dst-broken-${mode}`);
      buildLinked(src);
      await runMirror(src, dst, { mode: 'full', rules: RULES });
      expect(statSync(path.join(dst, 'b/kept.dat')).nlink).toBe(2);
      // A separate file of equal content, size, mode and mtime replaces one name.
      const name = path.join(src, 'ünï/kept too.dat');
      const st = statSync(name);
      writeFileSync(path.join(src, 'ünï/copy.tmp'), readFileSync(name), { mode: st.mode & 0o7777 });
      utimesSync(path.join(src, 'ünï/copy.tmp'), st.atimeMs / 1000, st.mtimeMs / 1000);
      renameSync(path.join(src, 'ünï/copy.tmp'), name);
      const run = await runMirror(src, dst, { mode, rules: RULES });
      expect(run.source.converged).toBe(true);
      await expectEqualTrees(src, dst);
      expectLinksLike(src, dst, true);
      expect(statSync(path.join(dst, 'ünï/kept too.dat')).nlink).toBe(1);
    });
  }

  it('a target holding the names as separate copies gets them linked (differences, nothing re-sent)', async () => {
    const src = path.join(dir, 'src-copies');
    const dst = path.join(dir, 'dst-copies');
    buildLinked(src);
    await runMirror(src, dst, { mode: 'full' });
    // Make the target's names separate files again, with the same content and metadata.
    for (const rel of ['a/two.txt', 'b/deep/three.txt', 'ünï/big link.bin']) {
      const p = path.join(dst, rel);
      const data = readFileSync(p);
      const st = statSync(p);
      rmSync(p);
      writeFileSync(p, data, { mode: st.mode & 0o7777 });
    }
    expect(statSync(path.join(dst, 'a/one.txt')).nlink).toBe(1);
    const run = await runMirror(src, dst, { mode: 'differences' });
    expect(run.source.converged).toBe(true);
    expect(run.source.contentBytesSent).toBe(0);
    expectLinksLike(src, dst);
  });

  it('restore brings the link groups back to the source; names the set excludes there keep theirs', async () => {
    const replica = path.join(dir, 'replica');
    const original = path.join(dir, 'original');
    buildLinked(replica);
    rmSync(path.join(replica, 'a/kept.skip')); // the replica never held the excluded name
    // The original source: the same names as separate files, plus its excluded name linked to b/kept.dat.
    buildLinked(original);
    for (const rel of ['a/two.txt', 'b/deep/three.txt', 'ünï/big link.bin', 'ünï/kept too.dat']) {
      const p = path.join(original, rel);
      const data = readFileSync(path.join(replica, rel));
      rmSync(p);
      writeFileSync(p, data);
    }
    expect(statSync(path.join(original, 'b/kept.dat')).nlink).toBe(2); // with a/kept.skip
    for (const mode of ['checksum', 'full', 'differences'] as const) {
      const key = randomBytes(32);
      const server = await listen({ host: '127.0.0.1', port: 0, keyFor: (id) => (id === 'pair-h' ? key : undefined) });
      try {
        const receiver = receiveRestore({ root: original, server, rules: RULES, acceptTimeoutMs: 10_000 });
        const channel = await connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-h', key });
        const sender = await restore({ root: replica, channel, rules: RULES, mode });
        const received = await receiver;
        expect(sender.converged).toBe(true);
        expect(received.errors).toEqual([]);
      } finally {
        await server.close();
      }
      // The original source, seen through the set, holds what the replica holds, linked as it is.
      const skip = (e: { path: string }) => !excluded(e.path);
      expect(diffManifests(await hashManifest(replica), (await hashManifest(original)).filter(skip), { ignoreDirMtime: true })).toEqual([]);
      expect(groups(inodes(original, true))).toEqual(groups(inodes(replica)));
      expect(groups(inodes(replica))).toHaveLength(3);
      // The excluded name is never touched; a file replaced whole (full mode) leaves it its old inode.
      const kept = statSync(path.join(original, 'a/kept.skip'));
      if (mode === 'checksum') expect(kept.ino).toBe(statSync(path.join(original, 'b/kept.dat')).ino);
      expect(readFileSync(path.join(original, 'a/kept.skip'), 'utf8')).toBe('kept\n');
    }
  });
});

describe('hard links in continuous replication', () => {
  it('a write through any name reaches all of them; new, removed, renamed and broken links follow', { timeout: 120_000 }, async () => {
    const src = path.join(dir, 'cont-src');
    const dst = path.join(dir, 'cont-dst');
    buildLinked(src);
    const pair = await startPair(src, dst, path.join(dir, 'cont-state'), { rules: RULES });
    const selected = (e: { path: string }) => !excluded(e.path);
    /** Target equal to the source through the set (content, metadata, link groups) and nothing pending. */
    const settled = async (): Promise<boolean> => {
      const st = pair.source.stats();
      if (st.phase !== 'continuous' || st.lag !== 0 || st.queueFiles !== 0) return false;
      if (diffManifests((await hashManifest(src)).filter(selected), await hashManifest(dst)).length) return false;
      return JSON.stringify(groups(inodes(dst))) === JSON.stringify(groups(inodes(src, true)));
    };
    const expectSettled = async () => {
      const ok = await waitFor(settled, 20_000, 100);
      expect(diffManifests((await hashManifest(src)).filter(selected), await hashManifest(dst))).toEqual([]);
      expectLinksLike(src, dst, true);
      expect(ok).toBe(true);
    };
    try {
      await expectSettled();

      // Writes through a second name, in another directory than the first: appended, and in place in the big file.
      appendFileSync(path.join(src, 'b/deep/three.txt'), 'appended through the third name\n');
      const fd = openSync(path.join(src, 'ünï/big link.bin'), 'r+');
      writeSync(fd, Buffer.from('written through the second name'), 0, 31, 2 * 1024 * 1024 + 5);
      closeSync(fd);
      await expectSettled();
      expect(readFileSync(path.join(dst, 'a/one.txt'), 'utf8')).toContain('appended through the third name');
      expect(readFileSync(path.join(dst, 'big.bin')).includes('written through the second name')).toBe(true);

      // New links in a new directory: to a linked file, and to a file that had one name (only the new name is reported).
      mkdirSync(path.join(src, 'c new'));
      linkSync(path.join(src, 'a/one.txt'), path.join(src, 'c new/linked.txt'));
      linkSync(path.join(src, 'plain.txt'), path.join(src, 'c new/plain linked.txt'));
      await expectSettled();
      expect(statSync(path.join(dst, 'c new/linked.txt')).ino).toBe(statSync(path.join(dst, 'a/one.txt')).ino);
      expect(statSync(path.join(dst, 'c new/plain linked.txt')).ino).toBe(statSync(path.join(dst, 'plain.txt')).ino);

      // A name removed, another renamed into another directory.
      rmSync(path.join(src, 'a/two.txt'));
      renameSync(path.join(src, 'b/deep/three.txt'), path.join(src, 'ünï/three renamed.txt'));
      await expectSettled();
      expect(statSync(path.join(dst, 'a/one.txt')).nlink).toBe(3);

      // A link broken on the source (same content, replaced by rename): the target's names part too.
      writeFileSync(path.join(src, 'ünï/copy.tmp'), readFileSync(path.join(src, 'ünï/kept too.dat')));
      renameSync(path.join(src, 'ünï/copy.tmp'), path.join(src, 'ünï/kept too.dat'));
      await expectSettled();
      expect(statSync(path.join(dst, 'b/kept.dat')).nlink).toBe(1);

      // And the renamed and new names still follow a write through the first one.
      writeFileSync(path.join(src, 'a/one.txt'), 'rewritten in place through the first name\n');
      await expectSettled();
      expect(readFileSync(path.join(dst, 'ünï/three renamed.txt'), 'utf8')).toBe('rewritten in place through the first name\n');
      expect(readFileSync(path.join(dst, 'c new/linked.txt'), 'utf8')).toBe('rewritten in place through the first name\n');
      expect(pair.source.stats().errors).toEqual([]);
    } finally {
      await pair.stop();
    }
  });
});

describe('hard links through a cascade', () => {
  it('A→B→C: B links what A links and passes the links on to C', { timeout: 120_000 }, async () => {
    const [a, b, c] = ['A', 'B', 'C'].map((n) => path.join(dir, `chain-${n}`)) as [string, string, string];
    buildLinked(a);
    const hop: { onward?: (rel: string) => void } = {};
    const ab = await startPair(a, b, path.join(dir, 'chain-state-ab'), { pairId: 'pair-ab', target: { onApplied: (rel) => hop.onward?.(rel) } });
    const bc = await startPair(b, c, path.join(dir, 'chain-state-bc'), { pairId: 'pair-bc' });
    hop.onward = (rel) => bc.source.notifyChanged(rel);
    const caughtUp = (p: InProcessPair) => {
      const st = p.source.stats();
      return st.phase === 'continuous' && st.lag === 0 && st.queueFiles === 0;
    };
    const settled = async () => {
      if (![ab, bc].every(caughtUp)) return false;
      const want = await hashManifest(a);
      for (const r of [b, c]) if (diffManifests(want, await hashManifest(r)).length) return false;
      return [b, c].every((r) => JSON.stringify(groups(inodes(r))) === JSON.stringify(groups(inodes(a))));
    };
    try {
      expect(await waitFor(settled, 30_000, 100)).toBe(true);
      appendFileSync(path.join(a, 'b/deep/three.txt'), 'through the third name\n');
      linkSync(path.join(a, 'plain.txt'), path.join(a, 'b/plain linked.txt'));
      rmSync(path.join(a, 'a/two.txt'));
      const ok = await waitFor(settled, 30_000, 100);
      for (const r of [b, c]) {
        expect(diffManifests(await hashManifest(a), await hashManifest(r))).toEqual([]);
        expectLinksLike(a, r);
      }
      expect(ok).toBe(true);
      expect(readFileSync(path.join(c, 'a/one.txt'), 'utf8')).toContain('through the third name');
    } finally {
      await bc.stop();
      await ab.stop();
    }
  });
});
