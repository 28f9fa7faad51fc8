// Issue 15's "Done when", end to end with real parts (support/validation-pair.ts): a PostgreSQL
// streaming pair whose target runs the pair's extra failover service (and starts it at boot),
// whose stored DNS key holds a wrong TSIG secret, and whose target instance drifted from the
// source (another time zone; fewer connections than a standby needs). Validate through the API →
// exactly those findings → Fix All's plan → Fix All through the API → the worker stops the service,
// takes its boot links away and sets the target's settings → the automatic re-validation has no
// errors (the wrong key stays: it is a manual warning) → enabling through the API is accepted.
// Enabling before any run is refused with the gate's reason.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { callerFor, expectCode } from './helpers';
import { waitFor } from './support/agents';
import { finished, runOf } from './support/validation';
import { ValidationPair } from './support/validation-pair';

process.env.TANDEM_QUEUE_PREFIX = `tandem-test-${process.pid}-${Date.now().toString(36)}`;

const vp = new ValidationPair('valacc');
const caller = () => callerFor(vp.h.t.operator.id);
type Run = Awaited<ReturnType<typeof runOf>>;

/**
 * Manual warnings that stand with this setup, before and after the fix, and do not block enabling:
 * the wrong key cannot update the reverse zone either; this machine's own resolver does not serve
 * the test zone; and no test failover ever succeeded for a new pair.
 */
const manualWarnings = () => [
  `dns.reverse-zone-missing none address=${vp.address} warning-manual`,
  `dns.resolver-mismatch none resolver=${systemResolver()} warning-manual`,
  'readiness.test-failover-overdue none drill=last-success warning-manual',
];
const systemResolver = () => /^nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1];

/** Every finding of a run as `checkId side subject status`, sorted. */
const fired = (run: Run) => run.findings.map((f) => `${f.checkId} ${f.side} ${f.subject} ${f.status}`).sort();
/** Error checks the run could not evaluate (they block enabling as errors do). */
const unknownErrors = (run: Run) => (run.results as { checkId: string; status: string; severity: string }[]).filter((r) => r.status === 'unknown' && r.severity === 'error').map((r) => r.checkId);

beforeAll(async () => {
  await vp.setup();
  vp.startServiceAtBoot();
  await vp.breakDnsKey();
  // Drift on the target: a time zone of its own (reload), and a max_connections below the
  // source's, which a standby refuses (restart).
  vp.setTargetSettings({ timezone: 'Asia/Tokyo', max_connections: '50' }, true);
}, 240_000);

afterAll(async () => {
  await vp.teardown();
});

describe('a pair with a running target service, a wrong DNS key and PostgreSQL drift', () => {
  it('refuses to enable before any validation run, with the gate’s reason', async () => {
    const err = await expectCode(caller().pair.enable({ pairId: vp.pairId }), 'CONFLICT');
    expect(err.message).toMatch(/Validate the pair first/);
  }, 60_000);

  it('validation finds exactly the service, the key and the drift', async () => {
    const { operationId, joined } = await caller().validation.start({ pairId: vp.pairId });
    expect(joined).toBe(false);
    const op = await finished(operationId);
    expect(op.error).toBeNull();
    const run = await runOf(operationId);
    const svc = vp.service.name;
    expect(fired(run)).toEqual(
      [
        `services.running-on-target target service=${svc} error-fixable`,
        `services.autostart-on-target target service=${svc} warning-fixable`,
        'dns.provider-not-authorized none zone=corp.test warning-manual',
        'postgres.settings-drift none setting=timezone warning-fixable',
        'postgres.standby-settings-lower target setting=max_connections error-fixable',
        ...manualWarnings(),
      ].sort(),
    );
    expect(unknownErrors(run)).toEqual([]);
    expect(run.status).toBe('failed');

    // What the portal shows: the same findings, with the plans.
    const latest = await caller().validation.latest({ pairId: vp.pairId });
    expect(latest.run?.id).toBe(run.id);

    // Alerting hears of the new errors once: the pair's validation.errors condition opens, naming the checks.
    const opened = await ownerDb().outboxEvent.findMany({ where: { pairId: vp.pairId, type: 'validation.errors' } });
    expect(opened).toHaveLength(1);
    expect(opened[0]!.payload).toMatchObject({ condition: { key: `validation.errors:${vp.pairId}`, state: 'open' }, data: { validationRunId: run.id } });
    const checks = (opened[0]!.payload as { data: { checks: { checkId: string }[] } }).data.checks.map((c) => c.checkId);
    expect(checks.sort()).toEqual(['postgres.standby-settings-lower', 'services.running-on-target']);
  }, 180_000);

  it('Fix All shows its plan, then the worker applies it and the re-validation is clean', async () => {
    const preview = await caller().validation.fixAllPreview({ pairId: vp.pairId });
    const planned = preview.phases.flatMap((p) => p.nodes.flatMap((n) => n.items.map((i) => ({ phase: p.phase, runsOn: n.runsOn, action: i.action, checkIds: i.checkIds }))));
    const summary = planned.map((p) => `${p.phase} ${p.runsOn} ${p.action.action}${p.action.action === 'app' ? `:${p.action.op}` : ''} ${p.checkIds.join(',')}`);
    expect(summary.sort()).toEqual([
      '6 target service.set-startup services.autostart-on-target',
      '6 target service.stop services.running-on-target',
      '7 target app:set-target-settings postgres.settings-drift',
      '7 target app:set-target-settings postgres.standby-settings-lower',
    ]);
    // Nothing fixable is left out (the manual warnings are no part of any plan).
    expect(preview.skipped).toEqual([]);
    expect(preview.privileged).toBe(false);
    expect(vp.service.running()).toBe(true);
    expect(vp.serviceBootLinks().length).toBeGreaterThan(0);

    const { operationId } = await caller().validation.fixAll({ pairId: vp.pairId, planDigest: preview.digest });
    const op = await finished(operationId, 180_000);
    expect(op.error).toBeNull();
    expect(op.steps.every((s) => s.status === 'succeeded')).toBe(true);

    // On the real machine: the service stopped and no longer starts at boot; the target's settings equal the source's.
    expect(vp.service.running()).toBe(false);
    expect(vp.serviceBootLinks()).toEqual([]);
    expect(ValidationPair.show(vp.B, 'timezone')).toBe(ValidationPair.show(vp.A, 'timezone'));
    expect(ValidationPair.show(vp.B, 'max_connections')).toBe(ValidationPair.show(vp.A, 'max_connections'));

    const after = await waitFor(
      'the validation after the fix',
      async () => {
        const v = await ownerDb().operation.findFirst({ where: { pairId: vp.pairId, kind: 'validate', options: { path: ['fixOperationId'], equals: operationId } } });
        return v && (v.status === 'succeeded' || v.status === 'failed') ? v : null;
      },
      120_000,
    );
    const rerun = await runOf(after.id);
    expect(rerun.trigger).toBe('fix');
    expect(fired(rerun)).toEqual(['dns.provider-not-authorized none zone=corp.test warning-manual', ...manualWarnings()].sort());
    expect(unknownErrors(rerun)).toEqual([]);
    // No errors left: the condition clears, once.
    const cleared = await ownerDb().outboxEvent.findMany({ where: { pairId: vp.pairId, type: 'validation.clear' } });
    expect(cleared.map((e) => e.payload)).toMatchObject([{ condition: { key: `validation.errors:${vp.pairId}`, state: 'clear' } }]);
  }, 240_000);

  it('enabling is allowed now, through the API as the portal does it', async () => {
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: vp.pairId } })).status).toBe('validated');
    const { operationId } = await caller().pair.enable({ pairId: vp.pairId, monitoring: false });
    expect(operationId).toBeTruthy();
    const op = await finished(operationId, 180_000);
    expect(op.error).toBeNull();
    expect(vp.B.psql('SELECT pg_is_in_recovery()')).toBe('t');
  }, 240_000);
});
