// Manifest pieces that decide what differs (manifest.ts, verify.ts's compareTrees): path order,
// scopes, safe paths, and the comparison of a source and a target description.
import { describe, expect, it } from 'vitest';
import { comparePaths, inScope, isSafeRelPath, isTempName, normalizeScope } from './manifest.ts';
import { compareTrees, type DescribedEntry } from './verify.ts';

const file = (p: string, over: Partial<DescribedEntry> = {}): DescribedEntry => ({ path: p, type: 'file', mode: 0o644, uid: 1, gid: 1, mtimeMs: 1000.5, size: 3, digest: 'aa', ...over });
const dir = (p: string, over: Partial<DescribedEntry> = {}): DescribedEntry => ({ path: p, type: 'dir', mode: 0o755, uid: 1, gid: 1, mtimeMs: 1000, size: 0, ...over });
const link = (p: string, target: string, over: Partial<DescribedEntry> = {}): DescribedEntry => ({ path: p, type: 'symlink', mode: 0o777, uid: 1, gid: 1, mtimeMs: 1000, size: target.length, target, ...over });

describe('comparePaths', () => {
  it('orders parents before children and siblings by name (walk order)', () => {
    const paths = ['b', 'a/z', 'a', 'a b', 'a/b/c', 'a/b', 'ä', 'A'];
    expect([...paths].sort(comparePaths)).toEqual(['A', 'a', 'a/b', 'a/b/c', 'a/z', 'a b', 'b', 'ä']);
  });
});

describe('scopes', () => {
  it('normalizeScope keeps the top-most paths, once, in order', () => {
    expect(normalizeScope(['a/b', 'c', 'a', 'a/b/c', 'c', 'ab'])).toEqual(['a', 'ab', 'c']);
  });

  it('inScope covers a scope path and what lies below it, not a sibling with the same prefix', () => {
    expect(inScope(['a/b'], 'a/b')).toBe(true);
    expect(inScope(['a/b'], 'a/b/c')).toBe(true);
    expect(inScope(['a/b'], 'a/bc')).toBe(false);
    expect(inScope(['a/b'], 'a')).toBe(false);
  });
});

describe('isSafeRelPath and isTempName', () => {
  it.each([
    ['a/b c/ünï', true],
    ['', false],
    ['/etc/passwd', false],
    ['a/../b', false],
    ['..', false],
    ['./a', false],
    ['a//b', false],
    ['a/\0', false],
  ])('%j safe: %s', (p, want) => expect(isSafeRelPath(p)).toBe(want));

  it('recognises only the appliers own temp names', () => {
    expect(isTempName('.tandem-1000000001-1a2b.tmp')).toBe(true);
    expect(isTempName('tandem-1-1a.tmp')).toBe(false);
    expect(isTempName('.tandem-1-xyz.tmp')).toBe(false);
  });
});

describe('compareTrees', () => {
  it('finds nothing between equal descriptions', () => {
    const tree = [dir('d'), file('d/f'), link('l', 'd/f')];
    expect(compareTrees(tree, structuredClone(tree))).toEqual([]);
  });

  it('classifies missing, extra, content and metadata differences, in path order', () => {
    const source = [dir('d'), file('d/same'), file('d/size', { size: 4 }), file('d/hash', { digest: 'bb' }), file('d/meta', { mode: 0o600, mtimeMs: 2000 }), file('missing'), link('l', 'x'), file('t')];
    const target = [dir('d'), file('d/same'), file('d/size'), file('d/hash'), file('d/meta'), file('extra'), link('l', 'y'), dir('t')];
    expect(compareTrees(source, target).map((d) => [d.path, d.kind])).toEqual([
      ['d/hash', 'content'],
      ['d/meta', 'metadata'],
      ['d/size', 'content'],
      ['extra', 'extra'],
      ['l', 'content'],
      ['missing', 'missing'],
      ['t', 'content'],
    ]);
    expect(compareTrees(source, target).find((d) => d.path === 'd/meta')!.detail).toBe('mode 600 != 644, mtime 2000 != 1000.5');
  });

  it('a file that could not be hashed on either side is a difference, never equal', () => {
    expect(compareTrees([file('f', { digest: undefined })], [file('f', { digest: undefined })]).map((d) => d.detail)).toEqual(['could not hash']);
  });

  it('tolerates mtimes within 5 µs (what the target can set), not more', () => {
    expect(compareTrees([file('f', { mtimeMs: 1000.5 })], [file('f', { mtimeMs: 1000.504 })])).toEqual([]);
    expect(compareTrees([file('f', { mtimeMs: 1000.5 })], [file('f', { mtimeMs: 1000.51 })])).toHaveLength(1);
  });

  it("a symlink's mode is not compared (Linux cannot set it)", () => {
    expect(compareTrees([link('l', 'x', { mode: 0o777 })], [link('l', 'x', { mode: 0o755 })])).toEqual([]);
  });

  it('target-only paths the rules exclude are not extra', () => {
    const rules = [{ pattern: '*.tmp', include: false, recursive: false }];
    expect(compareTrees([], [file('scratch.tmp'), file('real')], rules).map((d) => d.path)).toEqual(['real']);
  });
});
