import { describe, expect, it } from 'vitest';
import { compareVersions, pathUnder, targetPathOf, volumeOf } from './core-util.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';

describe('core helpers of the check families', () => {
  it.each([
    ['1.10.0', '1.9.2', 1],
    ['1.4.0', '1.4', 0],
    ['v2.0.0', '1.99.99', 1],
    ['1.4.0-rc.1', '1.4.0', -1],
    ['2019', '2022', -1],
    ['16.4', '16.10', -1],
  ] as const)('compareVersions(%s, %s) = %i', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(-want || 0);
  });

  it.each([
    ['/srv/files/a', '/srv/files', true],
    ['/srv/filesystem', '/srv/files', false],
    ['/srv', '/', true],
    ['C:\\Data\\x', 'c:\\data', true],
    ['C:\\Data\\x', 'C:', true],
    ['D:\\x', 'C:', false],
  ] as const)('pathUnder(%s, %s) = %s', (p, root, want) => {
    expect(pathUnder(p, root)).toBe(want);
  });

  it('maps source paths through the longest path-map prefix', () => {
    const snap = withFacts(snapshotFixture(), { pair: { pathMap: [{ from: '/srv', to: '/replica' }, { from: '/srv/files', to: '/data/files' }] } });
    expect(targetPathOf(snap, '/srv/files/a/b')).toBe('/data/files/a/b');
    expect(targetPathOf(snap, '/srv/other')).toBe('/replica/other');
    expect(targetPathOf(snap, '/home/x')).toBe('/home/x');
  });

  it('finds the volume holding a path (longest mount point; bare drive letters too)', () => {
    const vols = [{ mountPoint: '/' }, { mountPoint: '/srv' }, { mountPoint: 'C:' }];
    expect(volumeOf(vols, '/srv/files')?.mountPoint).toBe('/srv');
    expect(volumeOf(vols, '/home')?.mountPoint).toBe('/');
    expect(volumeOf(vols, 'C:\\Data')?.mountPoint).toBe('C:');
  });
});
