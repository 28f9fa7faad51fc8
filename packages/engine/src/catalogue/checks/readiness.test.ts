import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { NOW, snapshotFixture } from '../fixtures.ts';
import { readinessChecks } from './readiness.ts';
import { DAY_MS } from './failover-util.ts';
import { outcome, snap, unknownOutcome, type Case } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(readinessChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

const protectedPair = { state: 'protected' as const, protected: true };
const snapshots = { snapshots: { intervalMinutes: 60 } };

const cases: Case[] = [
  { id: 'readiness.mirror-incomplete', name: 'unprotected, no mirror yet', snap: snap(), expect: [] },
  { id: 'readiness.mirror-incomplete', name: 'protected with a complete mirror', snap: snap({ pair: protectedPair, replication: { mirror: { state: 'complete', percent: 100, error: null } } }), expect: [] },
  { id: 'readiness.mirror-incomplete', name: 'still mirroring', snap: snap({ pair: { state: 'mirroring', protected: true }, replication: { mirror: { state: 'running', percent: 42.5, error: null } } }), expect: [{ subject: 'mirror=running', status: 'error-manual', also: (f) => expect(f.message).toContain('42 %') }] },
  { id: 'readiness.mirror-incomplete', name: 'stream in error', snap: snap({ pair: protectedPair, replication: { mirror: { state: 'error', percent: 100, error: 'target disk full' } } }), expect: [{ subject: 'mirror=error', status: 'error-manual', also: (f) => expect(f.evidence.error).toBe('target disk full') }] },
  { id: 'readiness.lag-over-rpo', name: 'lag well inside the RPO', snap: snap({ replication: { lag: { nowSeconds: 30, p95Seconds: 120 } } }), expect: [] },
  { id: 'readiness.lag-over-rpo', name: 'lag beyond the RPO now', snap: snap({ replication: { lag: { nowSeconds: 1200, p95Seconds: 600 } } }), expect: [{ subject: 'rpo=900s', status: 'warning-manual', also: (f) => expect(f.evidence.over).toBe('now') }] },
  { id: 'readiness.lag-over-rpo', name: 'p95 above 80 % of the RPO', snap: snap({ replication: { lag: { nowSeconds: 10, p95Seconds: 800 } } }), expect: [{ subject: 'rpo=900s', status: 'warning-manual', also: (f) => expect(f.evidence.over).toBe('p95') }] },
  { id: 'readiness.recovery-point-stale', name: 'recent recovery point', snap: snap({ pair: snapshots, replication: { recoveryPoints: [{ at: NOW - 30 * 60_000 }] } }), expect: [] },
  { id: 'readiness.recovery-point-stale', name: 'newest point 3 intervals old', snap: snap({ pair: snapshots, replication: { recoveryPoints: [{ at: NOW - 180 * 60_000 }, { at: NOW - 240 * 60_000 }] } }), expect: [{ subject: 'recovery-points=target', status: 'warning-manual' }] },
  { id: 'readiness.recovery-point-stale', name: 'no recovery point at all', snap: snap({ pair: snapshots, replication: { recoveryPoints: [] } }), expect: [{ subject: 'recovery-points=target', status: 'warning-manual' }] },
  { id: 'readiness.test-failover-overdue', name: 'tested 5 days ago', snap: snap(), expect: [] },
  { id: 'readiness.test-failover-overdue', name: 'last success 120 days ago, a later failure does not count', snap: snap({ replication: { drills: [{ at: NOW - 120 * DAY_MS, ok: true, configDigest: 'cfg-1' }, { at: NOW - DAY_MS, ok: false, configDigest: 'cfg-1' }] } }), expect: [{ subject: 'drill=last-success', status: 'warning-manual', guidance: /test failover/ }] },
  {
    id: 'readiness.test-failover-overdue',
    name: 'never tested, drills scheduled automatically',
    snap: snap({ replication: { drills: [] }, reference: { policy: { autoScheduleDrills: true } } }),
    expect: [{ subject: 'drill=last-success', status: 'warning-fixable', plan: ['drill.schedule'], also: (f) => expect(f.phase).toBe(1) }],
  },
  { id: 'readiness.changed-since-test', name: 'unchanged since the drill', snap: snap(), expect: [] },
  { id: 'readiness.changed-since-test', name: 'configuration digest moved on', snap: snap({ replication: { configDigest: 'cfg-2' } }), expect: [{ subject: `drill=${new Date(NOW - 5 * DAY_MS).toISOString()}`, status: 'warning-manual' }] },
  { id: 'readiness.changed-since-test', name: 'no digest recorded, changed after the drill', snap: snap({ replication: { drills: [{ at: NOW - 20 * DAY_MS, ok: true, configDigest: null }] } }), expect: [{ subject: `drill=${new Date(NOW - 20 * DAY_MS).toISOString()}`, status: 'warning-manual' }] },
];

describe('readiness checks', () => {
  it('covers every readiness check with a good and a firing case', () => {
    for (const c of readinessChecks) {
      expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(readinessChecks).toHaveLength(5);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('the healthy fixture is all good (recovery points hidden without snapshots)', () => {
    const results = evaluateChecks(readinessChecks, snapshotFixture());
    expect(results.map((r) => [r.checkId, r.status])).toEqual([
      ['readiness.mirror-incomplete', 'good'],
      ['readiness.lag-over-rpo', 'good'],
      ['readiness.test-failover-overdue', 'good'],
      ['readiness.changed-since-test', 'good'],
    ]);
  });

  it('a missing fact makes the check unknown', () => {
    expect(unknownOutcome(readinessChecks, 'readiness.lag-over-rpo', snap({ replication: { lag: null } }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
    expect(unknownOutcome(readinessChecks, 'readiness.recovery-point-stale', snap({ pair: snapshots, replication: { recoveryPoints: null } }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
  });
});
