import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { nodeFixture, snapshotFixture } from '../fixtures.ts';
import { drillChecks } from './drill.ts';
import { GiB } from './failover-util.ts';
import { outcome, snap, unknownOutcome, type Case, type Patch } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(drillChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

const [rootVol, srvVol] = nodeFixture('target').volumes!;
const inPlace = (patch: Patch = {}) => snap({ ...patch, pair: { drill: { mode: 'in-place' }, ...(patch.pair ?? {}) } });
/** A Windows target whose D: volume holds the data with a VSS reserve. */
const windows = (reserveGiB: number, freeGiB: number) =>
  inPlace({
    pair: { rules: { roots: ['D:\\Shares'], rules: [] } },
    target: { os: { family: 'windows' }, volumes: [{ mountPoint: 'C:\\', fileSystem: 'NTFS', sizeBytes: 100 * GiB, freeBytes: 40 * GiB, system: true, features: ['acl', 'vss'] }, { mountPoint: 'D:\\', fileSystem: 'NTFS', sizeBytes: 500 * GiB, freeBytes: freeGiB * GiB, system: false, features: ['acl', 'vss'], snapshotReserveBytes: reserveGiB * GiB }] },
    replication: { changeRateBytesPerDay: 60 * GiB },
  });

const cases: Case[] = [
  { id: 'drill.isolation-unavailable', name: 'data on a thin LVM volume', snap: inPlace(), expect: [] },
  { id: 'drill.isolation-unavailable', name: 'data on the root volume', snap: inPlace({ target: { volumes: [rootVol!] } }), expect: [{ subject: 'volume=/', side: 'target', status: 'warning-manual', guidance: /clone/, also: (f) => expect(f.evidence.cause).toBe('system-volume') }] },
  { id: 'drill.isolation-unavailable', name: 'plain ext4 without snapshots', snap: inPlace({ target: { volumes: [rootVol!, { ...srvVol!, features: ['acl', 'user_xattr'] }] } }), expect: [{ subject: 'volume=/srv', side: 'target', status: 'warning-manual', also: (f) => expect(f.evidence.cause).toBe('no-snapshots') }] },
  { id: 'drill.space-insufficient', name: 'plenty of free space', snap: snap(), expect: [] },
  { id: 'drill.space-insufficient', name: 'VSS reserve large enough', snap: windows(20, 100), expect: [] },
  {
    id: 'drill.space-insufficient',
    name: 'free space below 4 h of changes',
    snap: snap({ target: { volumes: [rootVol!, { ...srvVol!, freeBytes: 1 * GiB }] }, replication: { changeRateBytesPerDay: 24 * GiB } }),
    expect: [{ subject: 'volume=/srv', side: 'target', status: 'warning-manual', guidance: /drill duration/, also: (f) => expect(f.evidence).toMatchObject({ kind: 'free', neededBytes: 4 * GiB }) }],
  },
  {
    id: 'drill.space-insufficient',
    name: 'VSS reserve too small, room to grow it',
    // 60 GiB/day × 4 h = 10 GiB needed; reserve 4 GiB.
    snap: windows(4, 100),
    expect: [{ subject: 'volume=D:\\', side: 'target', status: 'warning-fixable', plan: ['storage.resize-shadow'], also: (f) => expect(f.plan![0]).toMatchObject({ node: 'target', volume: 'D:\\', sizeBytes: 10 * GiB, before: '4.0 GiB', after: '10.0 GiB' }) }],
  },
  { id: 'drill.space-insufficient', name: 'VSS reserve too small, no room', snap: windows(4, 3), expect: [{ subject: 'volume=D:\\', side: 'target', status: 'warning-manual', guidance: /add space first/ }] },
];

describe('drill checks', () => {
  it('covers every drill check with a good and a firing case', () => {
    for (const c of drillChecks) {
      expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(drillChecks).toHaveLength(2);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('the healthy fixture (clone drills) is good; isolation is hidden for clone drills', () => {
    const results = evaluateChecks(drillChecks, snapshotFixture());
    expect(results.map((r) => [r.checkId, r.status])).toEqual([['drill.space-insufficient', 'good']]);
  });

  it('the reserve fix is refused while the pair is protected', () => {
    const s = windows(4, 100);
    s.pair.protected = true;
    s.pair.state = 'protected';
    const [f] = evaluateChecks(drillChecks, s).flatMap((r) => r.findings);
    expect(f?.blockedReason).toMatch(/Disable protection first/);
  });

  it('a missing fact makes the check unknown', () => {
    expect(unknownOutcome(drillChecks, 'drill.space-insufficient', snap({ replication: { changeRateBytesPerDay: null } }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
    expect(unknownOutcome(drillChecks, 'drill.isolation-unavailable', inPlace({ target: { volumes: undefined, failures: { volumes: 'df failed' } } }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
  });
});
