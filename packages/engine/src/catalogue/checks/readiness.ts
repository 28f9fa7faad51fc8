import type { CheckDef } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { DAY_MS } from './failover-util.ts';

// The `readiness` family (catalogue §4.11): is the target a usable copy right now, and has a
// failover been rehearsed recently on the current configuration? The pair's readiness score
// (catalogue/readiness.ts) weighs the same facts.

const base = { family: 'readiness', scope: ['pair'] as CheckDef['scope'], appliesTo: ['any'] as CheckDef['appliesTo'] };
/** States in which the target is meant to hold a current copy. */
const protecting = new Set(['mirroring', 'protected', 'failover_pending']);
const iso = (ms: number) => new Date(ms).toISOString();

/** The newest successful drill (a failed one does not count). */
export const lastGoodDrill = (snap: FactsSnapshot) => snap.replication.drills.filter((d) => d.ok).reduce<FactsSnapshot['replication']['drills'][number] | null>((m, d) => (!m || d.at > m.at ? d : m), null);

export const readinessChecks: CheckDef[] = [
  {
    ...base,
    id: 'readiness.mirror-incomplete',
    title: 'Target copy incomplete',
    detects: 'The initial mirror or seed has not finished, or the replication stream (or the application’s own replication) is in error, so the target is not a consistent copy.',
    severity: 'error',
    facts: ['P', 'R.mirror'],
    evaluate: (ctx) => {
      const m = ctx.snap.replication.mirror!;
      const on = protecting.has(ctx.snap.pair.state);
      if (m.state === 'error') return [{ subject: 'mirror=error', message: `Replication is in error: ${m.error ?? 'no detail'}.`, evidence: { state: m.state, error: m.error } }];
      if (on && m.state !== 'complete') return [{ subject: `mirror=${m.state}`, message: m.state === 'running' ? `The initial mirror is still running${m.percent !== null ? ` (${Math.floor(m.percent)} %)` : ''}.` : 'The initial mirror has not started.', evidence: { state: m.state, pairState: ctx.snap.pair.state } }];
      return [];
    },
    fix: { kind: 'manual', guidance: 'Wait for the mirror to complete, or investigate the stream error shown in the evidence. A planned failover waits for a consistent target; an unplanned one needs an override.' },
  },
  {
    ...base,
    id: 'readiness.lag-over-rpo',
    title: 'Lag beyond the RPO',
    detects: 'Replication lag is above the pair’s RPO now, or its 95th percentile over the last hour is above 80 % of the RPO.',
    severity: 'warning',
    facts: ['P', 'R.lag'],
    evaluate: (ctx) => {
      const rpo = ctx.snap.pair.rpoSeconds;
      const lag = ctx.snap.replication.lag!;
      if (rpo === null) return [];
      const now = lag.nowSeconds !== null && lag.nowSeconds > rpo;
      const p95 = lag.p95Seconds !== null && lag.p95Seconds > 0.8 * rpo;
      if (!now && !p95) return [];
      return [{ subject: `rpo=${rpo}s`, message: now ? `Replication is ${lag.nowSeconds} s behind, beyond the RPO of ${rpo} s.` : `Replication lag reached ${lag.p95Seconds} s (p95 over the last hour), above 80 % of the RPO of ${rpo} s.`, evidence: { rpoSeconds: rpo, over: now ? 'now' : 'p95' } }];
    },
    fix: { kind: 'manual', guidance: 'Review the bandwidth limit, compression, the replication route and the source’s change rate.' },
  },
  {
    ...base,
    id: 'readiness.recovery-point-stale',
    title: 'Recovery points stale',
    detects: 'Periodic target snapshots are on, but the newest recovery point is older than twice the snapshot interval.',
    severity: 'warning',
    facts: ['P', 'R.recoveryPoints'],
    when: (snap) => snap.pair.snapshots !== null,
    evaluate: (ctx) => {
      const interval = ctx.snap.pair.snapshots!.intervalMinutes * 60_000;
      const newest = Math.max(-Infinity, ...ctx.snap.replication.recoveryPoints!.map((r) => r.at));
      if (ctx.snap.now - newest <= 2 * interval) return [];
      const last = Number.isFinite(newest) ? iso(newest) : null;
      return [{ subject: 'recovery-points=target', message: last ? `The newest recovery point is from ${last}, older than twice the ${ctx.snap.pair.snapshots!.intervalMinutes}-minute interval.` : 'Snapshots are on, but the target holds no recovery point.', evidence: { newest: last, intervalMinutes: ctx.snap.pair.snapshots!.intervalMinutes } }];
    },
    fix: { kind: 'manual', guidance: 'Check the target’s snapshot capacity and the snapshot error in the evidence.' },
    legacy: ['HP: snapshot interval of 15 min or more'],
  },
  {
    ...base,
    id: 'readiness.test-failover-overdue',
    title: 'Test failover overdue',
    detects: 'No test failover succeeded within the tenant’s limit (90 days by default), or none ever did. A failed drill does not reset the clock.',
    severity: 'warning',
    facts: ['R.drills', 'X'],
    evaluate: (ctx) => {
      const max = ctx.snap.reference.policy.testMaxAgeDays;
      const last = lastGoodDrill(ctx.snap);
      if (last && ctx.snap.now - last.at <= max * DAY_MS) return [];
      return [{ subject: 'drill=last-success', message: last ? `The last successful test failover was on ${iso(last.at).slice(0, 10)}, more than ${max} days ago.` : 'No test failover has ever succeeded for this pair.', evidence: { lastSuccessAt: last ? iso(last.at) : null, maxAgeDays: max } }];
    },
    fix: {
      kind: 'conditional',
      phase: 1,
      blockedWhileProtected: false,
      decide: (ctx) =>
        ctx.snap.reference.policy.autoScheduleDrills
          ? { plan: [{ action: 'drill.schedule', description: 'Book a test failover in the next maintenance window', before: null, after: 'test failover scheduled' }] }
          : { guidance: 'Run a test failover from the pair page (it leaves the source untouched), or let the organisation schedule drills automatically.' },
    },
  },
  {
    ...base,
    id: 'readiness.changed-since-test',
    title: 'Changed since the last test',
    detects: 'Since the last successful test failover, the pair’s configuration, hook overlays, service list, application layout or an agent major version changed.',
    severity: 'warning',
    facts: ['P', 'R.drills'],
    evaluate: (ctx) => {
      const last = lastGoodDrill(ctx.snap);
      if (!last) return []; // readiness.test-failover-overdue reports it
      const changed = last.configDigest !== null ? last.configDigest !== ctx.snap.replication.configDigest : ctx.snap.pair.lastChangeAt > last.at;
      if (!changed) return [];
      return [{ subject: `drill=${iso(last.at)}`, message: `The pair changed after its last successful test failover (${iso(last.at).slice(0, 10)}).`, evidence: { drillAt: iso(last.at), drillDigest: last.configDigest, currentDigest: ctx.snap.replication.configDigest } }];
    },
    fix: { kind: 'manual', guidance: 'Run a test failover to prove the changed configuration.' },
  },
];
