import { describe, expect, it } from 'vitest';
import type { CheckDef } from './model.ts';
import { evaluateChecks, overallStatus, stableDigest } from './evaluate.ts';
import { snapshotFixture, withFacts } from './fixtures.ts';
import { planFix, planFixAll, type FixCandidate } from './fix-all.ts';
import { enableGate, type GateRun } from './gate.ts';
import { factsFingerprint } from './fingerprint.ts';
import type { FixAction } from './actions.ts';

// The evaluator, the Fix / Fix All planner, the enable gate and the fingerprint, on small checks
// made up for the purpose (the real checks have table-driven tests per family).

const stop = (name: string): FixAction => ({ action: 'service.stop', node: 'target', name, description: `Stop ${name}`, before: 'running', after: 'stopped' });

const fake = (over: Partial<CheckDef>): CheckDef => ({
  id: 'services.running-on-target',
  family: 'services',
  title: 'Fake',
  detects: 'A made-up check for the evaluator',
  scope: ['target'],
  appliesTo: ['any'],
  severity: 'error',
  facts: ['P', 'T.svc'],
  evaluate: () => [{ subject: 'service=smbd', message: 'smbd runs', evidence: { state: 'running' } }],
  fix: { kind: 'auto', phase: 6, blockedWhileProtected: true, plan: () => [stop('smbd')] },
  ...over,
});

describe('evaluateChecks', () => {
  it('hides checks for other applications or methods, instead of calling them good', () => {
    const snap = snapshotFixture();
    expect(evaluateChecks([fake({ appliesTo: ['postgres'] })], snap)).toEqual([]);
    expect(evaluateChecks([fake({ methods: ['streaming'] })], snap)).toEqual([]);
    expect(evaluateChecks([fake({ when: () => false })], snap)).toEqual([]);
  });

  it('evaluates per side, resolves an auto fix, and blocks a target fix while protected', () => {
    const [r] = evaluateChecks([fake({})], snapshotFixture());
    expect(r).toMatchObject({ side: 'target', status: 'error-fixable' });
    expect(r!.findings[0]).toMatchObject({ subject: 'service=smbd', side: 'target', blockedReason: null, phase: 6, plan: [stop('smbd')] });
    const both = evaluateChecks([fake({ scope: ['source', 'target'] })], snapshotFixture());
    expect(both.map((x) => x.side)).toEqual(['source', 'target']);
    const prot = evaluateChecks([fake({})], withFacts(snapshotFixture(), { pair: { protected: true, state: 'protected' } }));
    expect(prot[0]!.findings[0]!.status).toBe('error-fixable');
    expect(prot[0]!.findings[0]!.blockedReason).toMatch(/Disable protection first/);
  });

  it('resolves conditional fixes to a plan or to manual guidance', () => {
    const cond = (plan: boolean) => fake({ fix: { kind: 'conditional', phase: 6, blockedWhileProtected: true, decide: () => (plan ? { plan: [stop('smbd')] } : { guidance: 'Do it by hand' }) } });
    expect(evaluateChecks([cond(true)], snapshotFixture())[0]!.status).toBe('error-fixable');
    const manual = evaluateChecks([cond(false)], snapshotFixture())[0]!;
    expect(manual.status).toBe('error-manual');
    expect(manual.findings[0]).toMatchObject({ plan: null, guidance: 'Do it by hand' });
    const warn = evaluateChecks([fake({ severity: 'warning', fix: { kind: 'manual', guidance: 'Look at it' } })], snapshotFixture())[0]!;
    expect(warn.status).toBe('warning-manual');
  });

  it('makes a check unknown when a fact is missing, never crashes, and links the gate that explains it', () => {
    const snap = withFacts(snapshotFixture(), { target: { services: undefined, failures: { services: 'systemd D-Bus unavailable' } } });
    const [r] = evaluateChecks([fake({})], snap);
    expect(r).toMatchObject({ status: 'unknown', unknown: { facts: ['T.svc'] } });
    expect(r!.unknown!.reason).toContain('systemd D-Bus unavailable');
    const gate = fake({ id: 'services.inventory-unavailable', gate: true, facts: ['P'], fix: { kind: 'manual', guidance: 'Restore access' }, evaluate: (ctx) => (ctx.node?.services ? [] : [{ subject: `node=${ctx.node!.hostname}`, message: 'no inventory', evidence: {} }]) });
    const [g, dep] = evaluateChecks([fake({}), gate], snap);
    expect(g).toMatchObject({ checkId: 'services.inventory-unavailable', status: 'error-manual' });
    expect(dep!.unknown!.gate).toBe('services.inventory-unavailable');
    const throwing = evaluateChecks([fake({ evaluate: () => { throw new Error('bad shape'); } })], snapshotFixture());
    expect(throwing[0]).toMatchObject({ status: 'unknown' });
    expect(throwing[0]!.unknown!.reason).toContain('bad shape');
  });

  it('skips source-only checks for an unplanned failover, and ranks the overall status', () => {
    const src = fake({ scope: ['source'], facts: ['S.svc'] });
    expect(evaluateChecks([src], snapshotFixture(), { context: 'unplanned-failover' })).toEqual([]);
    const results = evaluateChecks([fake({}), fake({ id: 'agent.clock-skew', severity: 'warning', fix: { kind: 'manual', guidance: 'x x x x x x' } })], snapshotFixture());
    expect(overallStatus(results, (id) => (id === 'agent.clock-skew' ? 'warning' : 'error'))).toBe('error-fixable');
  });

  it('digests evidence independently of key order', () => {
    expect(stableDigest({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(stableDigest({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(stableDigest({ a: 1 })).not.toBe(stableDigest({ a: 2 }));
  });
});

const cand = (id: string, over: Partial<FixCandidate> = {}): FixCandidate => ({ id, checkId: 'services.running-on-target', side: 'target', subject: `service=${id}`, status: 'error-fixable', plan: [stop(id)], blockedReason: null, privileged: false, phase: 6, ...over });

describe('planFix and planFixAll', () => {
  it('orders actions by phase, runs an action asked for twice once, and leaves manual findings out', () => {
    const plan = planFixAll([
      cand('a'),
      cand('b', { checkId: 'services.autostart-on-target', plan: [stop('a')] }),
      cand('c', { phase: 1, plan: [{ action: 'pair.set', key: 'failover.monitor.method', value: 'agent', description: 'Use agent probes', before: 'icmp', after: 'agent' }] }),
      cand('m', { status: 'error-manual', plan: null }),
    ]);
    expect(plan.phases.map((p) => p.phase)).toEqual([1, 6]);
    expect(plan.phases[1]!.items).toHaveLength(1);
    expect(plan.phases[1]!.items[0]!.findingIds).toEqual(['a', 'b']);
    expect(plan.skipped).toEqual([]);
  });

  it('skips blocked, privileged (unless allowed), deselected, drill scheduling and fixes that did not hold', () => {
    const plan = planFixAll([
      cand('blocked', { blockedReason: 'Disable protection first' }),
      cand('priv', { privileged: true }),
      cand('desel'),
      cand('drill', { plan: [{ action: 'drill.schedule', description: 'Book a drill', before: null, after: null }], phase: 1 }),
      cand('held', { fixState: 'did-not-hold' }),
      cand('ok'),
    ], { deselected: new Set(['desel']) });
    expect(plan.phases.flatMap((p) => p.items.flatMap((i) => i.findingIds))).toEqual(['ok']);
    const reasons = new Map(plan.skipped.map((s) => [s.findingId, s.reason]));
    expect(reasons.get('blocked')).toBe('Disable protection first');
    expect(reasons.get('priv')).toMatch(/Privileged/);
    expect(reasons.get('desel')).toMatch(/Taken out/);
    expect(reasons.get('drill')).toMatch(/drill/);
    expect(reasons.get('held')).toMatch(/did not hold/);
    expect(planFixAll([cand('priv', { privileged: true })], { privilegedInFixAll: true }).privileged).toBe(true);
  });

  it('Fix needs a confirmation for a privileged fix and refuses a manual one; the same plan has the same digest', () => {
    expect(planFix([cand('p', { privileged: true })]).skipped[0]!.reason).toMatch(/owner or admin/);
    expect(planFix([cand('p', { privileged: true })], { confirmPrivileged: true }).phases).toHaveLength(1);
    expect(planFix([cand('m', { status: 'warning-manual', plan: null })]).skipped).toHaveLength(1);
    expect(planFix([cand('a')]).digest).toBe(planFix([cand('a')]).digest);
    expect(planFix([cand('a')]).digest).not.toBe(planFix([cand('b')]).digest);
  });
});

describe('the enable gate and the fingerprint', () => {
  const run = (over: Partial<GateRun> = {}): GateRun => ({ finishedAt: 2_000, configChangedAt: 1_000, fingerprint: 'f', results: [{ checkId: 'services.running-on-target', status: 'good', severity: 'error' }], ...over });
  it('allows enabling after a clean run newer than the last change, with the facts unchanged', () => {
    expect(enableGate({ configChangedAt: 1_000, run: run(), currentFingerprint: 'f' })).toEqual({ ok: true });
  });
  it.each([
    ['never', null, 'f'],
    ['running', run({ finishedAt: null }), 'f'],
    ['changed', run({ configChangedAt: 500 }), 'f'],
    ['facts-changed', run(), 'g'],
    ['errors', run({ results: [{ checkId: 'services.running-on-target', status: 'error-fixable', severity: 'error' }] }), 'f'],
    ['unknown', run({ results: [{ checkId: 'agent.unreachable', status: 'unknown', severity: 'error' }] }), 'f'],
  ] as const)('refuses with a reason: %s', (code, r, fp) => {
    const v = enableGate({ configChangedAt: 1_000, run: r, currentFingerprint: fp });
    expect(v).toMatchObject({ ok: false, code });
    if (!v.ok) expect(v.reason.length).toBeGreaterThan(20);
  });
  it('a warning or an unknown warning check does not block', () => {
    expect(enableGate({ configChangedAt: 1_000, run: run({ results: [{ checkId: 'agent.clock-skew', status: 'unknown', severity: 'warning' }, { checkId: 'x', status: 'warning-manual', severity: 'warning' }] }), currentFingerprint: null })).toEqual({ ok: true });
  });

  it('the fingerprint ignores status, clocks and free space, and follows configuration and facts', () => {
    const snap = snapshotFixture();
    const facts = { host: { status: 'ok', data: { uptimeSeconds: 5, clockOffsetMs: 3, cpuCount: 4 } }, collectedAt: 'x', volumes: { status: 'ok', data: [{ mountPoint: '/', freeBytes: 1 }] } };
    const base = factsFingerprint({ pair: snap.pair, source: facts, target: facts });
    const moved = { ...facts, collectedAt: 'y', host: { status: 'ok', data: { uptimeSeconds: 50, clockOffsetMs: 9, cpuCount: 4 } }, volumes: { status: 'ok', data: [{ mountPoint: '/', freeBytes: 2 }] } };
    expect(factsFingerprint({ pair: { ...snap.pair, state: 'protected', protected: true }, source: moved, target: facts })).toBe(base);
    expect(factsFingerprint({ pair: { ...snap.pair, rpoSeconds: 60 }, source: facts, target: facts })).not.toBe(base);
    expect(factsFingerprint({ pair: snap.pair, source: { ...facts, host: { status: 'ok', data: { cpuCount: 8 } } }, target: facts })).not.toBe(base);
  });
});
