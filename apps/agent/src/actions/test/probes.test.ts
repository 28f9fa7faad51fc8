import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evenSample, relativeSegments, sortedFiles } from './probes.ts';
import { copyPath } from './scratch.ts';

describe('test probe helpers', () => {
  it('takes an even sample, all files when there are fewer', () => {
    expect(evenSample(3, 5)).toEqual([0, 1, 2]);
    expect(evenSample(10, 4)).toEqual([0, 2, 5, 7]);
    expect(evenSample(1000, 3)).toEqual([0, 333, 666]);
    expect(evenSample(0, 3)).toEqual([]);
  });

  it('accepts relative paths only', () => {
    expect(relativeSegments('a/./b//c')).toEqual(['a', 'b', 'c']);
    expect(relativeSegments('dir\\file.txt')).toEqual(['dir', 'file.txt']);
    for (const bad of ['/etc/passwd', '\\\\server\\share', 'C:\\x', 'a/../../b', '..', '.', 'a\0b']) expect(() => relativeSegments(bad)).toThrow();
  });

  it('lists regular files depth first in name order, without following symlinked directories', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tandem-probes-'));
    try {
      mkdirSync(path.join(dir, 'b', 'c'), { recursive: true });
      for (const f of ['z', 'a', 'b/y', 'b/c/x', 'B']) writeFileSync(path.join(dir, f), f);
      symlinkSync(path.join(dir, 'b'), path.join(dir, 'link-to-b'));
      expect(await sortedFiles(dir)).toEqual(['B', 'a', 'b/c/x', 'b/y', 'z']);
      expect(await sortedFiles(dir, 3)).toEqual(['B', 'a']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a copy only by a UUID inside the scratch area', () => {
    expect(copyPath('/var/lib/tandem/scratch', '0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('/var/lib/tandem/scratch/0f8fad5b-d9cb-469f-a165-70867728950e');
    for (const bad of ['..', '../x', 'abc', '0f8fad5b-d9cb-469f-a165-70867728950e/..']) expect(() => copyPath('/s', bad)).toThrow(/UUID/);
    expect(() => copyPath('relative', '0f8fad5b-d9cb-469f-a165-70867728950e')).toThrow(/absolute/);
  });
});
