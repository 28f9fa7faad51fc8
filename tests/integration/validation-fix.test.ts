// Validation, Fix All and the enable gate end to end, with real agents, a real gateway and the
// worker's operation runner: a pair whose failover service (a real SysV service) runs and starts
// at boot on the target is validated (services.running-on-target, error-fixable, and
// services.autostart-on-target); Fix All stops it and takes its boot links away on the real
// machine; the validation that follows is clean for it; enabling is then allowed. Enabling is
// refused without a run, after a configuration change, and while errors stand. The scheduled
// job re-validates a pair whose last run is older than the organization's interval, and one
// whose agent reconnected.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import type { PairSettings } from '@tandem/engine';
import { enqueueOperation, operationsQueue } from '@tandem/jobs';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { startDueValidations } from '../../apps/worker/src/validation/schedule';
import { callerFor, expectCode } from './helpers';
import { freePort, tempDir, waitFor } from './support/agents';
import { validPairSettings } from './support/pair-settings';
import { ReplicationHarness, writeFiles, type Enrolled } from './support/replication/agents';
import { installTestService, type TestService } from './support/sysv-service';
import { finished, fix, runOf, validate } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const h = new ReplicationHarness('valfix');
let db: Db;
let worker: Worker | undefined;
let svc: TestService;
let source: Enrolled;
let target: Enrolled;
let settings: PairSettings;
let pairId: string;

const tenant = () => ({ organizationId: h.t.org.id, customerId: h.t.customerX.id });
const caller = () => callerFor(h.t.operator.id);
const bootLinks = (name: string) => ['2', '3', '4', '5'].flatMap((l) => (fs.existsSync(`/etc/rc${l}.d`) ? fs.readdirSync(`/etc/rc${l}.d`).filter((e) => /^S\d\d/.test(e) && e.slice(3) === name) : []));

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  await h.setup();
  worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
  await worker.waitUntilReady();
  // The failover service: running, and started at boot (rc links), on this machine.
  svc = installTestService('valfix');
  execFileSync(svc.scriptPath, ['start']);
  execFileSync('update-rc.d', [svc.name, 'defaults'], { stdio: 'ignore' });
  source = await h.enrolAndRun('source');
  target = await h.enrolAndRun('target');
  await h.online(source.agentId);
  await h.online(target.agentId);
  await waitFor('facts of both servers', async () => (await ownerDb().server.findMany({ where: { id: { in: [source.serverId, target.serverId] } } })).filter((s) => s.facts !== null).length === 2, 60_000);

  const data = tempDir('valfix-data');
  h.cleanup.push(data);
  const share = path.join(data, 'share');
  fs.mkdirSync(share, { recursive: true });
  writeFiles(share, 'doc', 5);
  const targetRoot = path.join(data, 'replica');
  fs.mkdirSync(targetRoot, { recursive: true });
  const base = validPairSettings();
  settings = {
    ...base,
    name: 'Validated service',
    application: 'generic_service',
    replicationSet: { roots: [share], rules: [] },
    failover: { ...base.failover, services: [svc.name], monitor: { ...base.failover.monitor, addresses: ['127.0.0.1'], port: await freePort() } },
    connection: { ...base.connection, route: '127.0.0.1', port: await freePort(), targetRoot },
  };
  pairId = (await caller().pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings })).id;
}, 180_000);

afterAll(async () => {
  await worker?.close();
  svc?.remove();
  await h.teardown();
  await db?.$disconnect();
});

const findingsOf = (run: Awaited<ReturnType<typeof runOf>>, checkId: string) => run.findings.filter((f) => f.checkId === checkId);

describe('validate, Fix All and the enable gate', () => {
  it('refuses to enable a pair that was never validated', async () => {
    const err = await expectCode(caller().pair.enable({ pairId }), 'CONFLICT');
    expect(err.message).toMatch(/Validate the pair first/);
  }, 180_000);

  it('finds the failover service running and starting at boot on the target, and refuses to enable', async () => {
    const { op, run } = await validate(tenant(), pairId, prefix, h.t.operator.id);
    expect(op.status).toBe('succeeded');
    // Progress was kept per gatherer.
    expect(op.steps.map((s) => [s.kind, s.status])).toEqual([
      ['validate.facts', 'succeeded'],
      ['validate.facts', 'succeeded'],
      ['validate.evaluate', 'succeeded'],
    ]);
    expect(run).toMatchObject({ status: 'failed', trigger: 'manual', finishedAt: expect.any(Date) as unknown });
    expect(run.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const running = findingsOf(run, 'services.running-on-target');
    expect(running).toEqual([expect.objectContaining({ side: 'target', subject: `service=${svc.name}`, status: 'error-fixable', severity: 'error', pairId, blockedReason: null })]);
    expect(running[0]!.plan).toEqual([expect.objectContaining({ action: 'service.stop', node: 'target', name: svc.name })]);
    expect(findingsOf(run, 'services.autostart-on-target')).toEqual([expect.objectContaining({ side: 'target', subject: `service=${svc.name}`, status: 'warning-fixable' })]);
    const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
    expect(pair).toMatchObject({ status: 'unprotected', lastValidationRunId: run.id });
    expect(pair.readinessScore).toBeLessThan(100);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId, severity: 'error' } });
    expect(events.some((e) => e.message.startsWith('New validation error') && e.message.includes(svc.name))).toBe(true);

    const err = await expectCode(caller().pair.enable({ pairId }), 'CONFLICT');
    expect(err.message).toMatch(/found errors/);
    expect(err.message).toContain('services.running-on-target');
  }, 180_000);

  it('Fix All stops the service and takes its boot links away on the target; the validation after it is clean for them', async () => {
    const latest = await ownerDb().validationRun.findFirstOrThrow({ where: { pairId, finishedAt: { not: null } }, orderBy: { startedAt: 'desc' } });
    expect(svc.running()).toBe(true);
    expect(bootLinks(svc.name).length).toBeGreaterThan(0);
    const stopsBefore = svc.stops();

    const { op, validation } = await fix(tenant(), pairId, latest.id, prefix, 'all', h.t.operator.id);
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    // Target passivity (phase 6): the stop, then the start mode, each a step.
    const kinds = op.steps.map((s) => s.kind);
    expect(kinds.indexOf('fix.service.stop')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('fix.service.set-startup')).toBeGreaterThan(kinds.indexOf('fix.service.stop'));
    expect(op.steps.every((s) => s.status === 'succeeded')).toBe(true);

    // On the real machine.
    expect(svc.running()).toBe(false);
    expect(svc.stops()).toBe(stopsBefore + 1);
    expect(bootLinks(svc.name)).toEqual([]);

    const fixed = await ownerDb().finding.findMany({ where: { validationRunId: latest.id, checkId: { in: ['services.running-on-target', 'services.autostart-on-target'] } } });
    expect(fixed.map((f) => f.fixState)).toEqual(['fixed', 'fixed']);
    const audit = await ownerDb().auditEvent.findMany({ where: { targetId: pairId, action: 'pair.fix.action' }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => (a.changes as { action: string }).action)).toEqual(expect.arrayContaining(['service.stop', 'service.set-startup']));
    expect(audit.find((a) => (a.changes as { action: string }).action === 'service.stop')?.changes).toMatchObject({ before: 'running', after: 'stopped', outcome: 'changed' });

    expect(validation.trigger).toBe('fix');
    expect(findingsOf(validation, 'services.running-on-target')).toEqual([]);
    expect(findingsOf(validation, 'services.autostart-on-target')).toEqual([]);
  }, 180_000);

  it('allows enabling once the last run found no errors', async () => {
    const run = await ownerDb().validationRun.findFirstOrThrow({ where: { pairId }, orderBy: { startedAt: 'desc' } });
    const errors = await ownerDb().finding.findMany({ where: { validationRunId: run.id, severity: 'error' } });
    const unknown = (run.results as { checkId: string; status: string; severity: string }[]).filter((r) => r.status === 'unknown' && r.severity === 'error');
    expect({ errors: errors.map((e) => e.message), unknown: unknown.map((u) => u.checkId) }).toEqual({ errors: [], unknown: [] });
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status).toBe('validated');
    const { operationId } = await caller().pair.enable({ pairId, monitoring: false });
    expect(operationId).toBeTruthy();
    const enabled = await finished(operationId);
    expect(enabled.error).toBeNull();
    await caller().pair.disable({ pairId });
    await waitFor('disabled', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status === 'unprotected', 60_000);
  }, 180_000);

  it('refuses to enable after a configuration change until the pair is validated again', async () => {
    await validate(tenant(), pairId, prefix);
    settings = { ...settings, connection: { ...settings.connection, compression: 'fast' } };
    await caller().pair.update({ pairId, settings });
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status).toBe('unprotected');
    const err = await expectCode(caller().pair.enable({ pairId }), 'CONFLICT');
    expect(err.message).toMatch(/configuration changed/);
  }, 180_000);
});

describe('scheduled validation', () => {
  it('re-validates a pair whose last run is older than the organization’s interval', async () => {
    const last = await ownerDb().validationRun.findFirstOrThrow({ where: { pairId }, orderBy: { startedAt: 'desc' } });
    const dayAgo = new Date(Date.now() - 25 * 3600_000);
    await ownerDb().validationRun.update({ where: { id: last.id }, data: { startedAt: dayAgo, finishedAt: dayAgo } });
    // Only the interval counts here (a reconnect of an agent earlier would ask on its own).
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: { validationDueAt: null } });
    const queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
    const started = await startDueValidations(db, new Date(), (j) => enqueueOperation(queue, j), h.t.org.id);
    expect(started).toEqual({ due: expect.any(Number) as unknown, started: 1 });
    // Not twice: the run is under way (and then recent).
    expect((await startDueValidations(db, new Date(), (j) => enqueueOperation(queue, j), h.t.org.id)).started).toBe(0);
    await queue.close();
    const op = await ownerDb().operation.findFirstOrThrow({ where: { pairId, kind: 'validate' }, orderBy: { createdAt: 'desc' } });
    await finished(op.id);
    expect((await runOf(op.id)).trigger).toBe('scheduled');
  }, 180_000);

  it('re-validates the pairs of an agent that reconnected (once, shortly after)', async () => {
    await target.handle.stop();
    await waitFor('target offline', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: target.agentId } })).status === 'offline', 30_000);
    target = { ...target, handle: h.run(target.dir) };
    await h.online(target.agentId);
    const due = await waitFor('re-validation asked for', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).validationDueAt);
    const queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
    // Not before the debounce has passed.
    expect((await startDueValidations(db, new Date(due.getTime() - 1_000), (j) => enqueueOperation(queue, j), h.t.org.id)).started).toBe(0);
    expect((await startDueValidations(db, new Date(due.getTime() + 1_000), (j) => enqueueOperation(queue, j), h.t.org.id)).started).toBe(1);
    await queue.close();
    const op = await ownerDb().operation.findFirstOrThrow({ where: { pairId, kind: 'validate' }, orderBy: { createdAt: 'desc' } });
    await finished(op.id);
    const run = await runOf(op.id);
    expect(run.trigger).toBe('reconnect');
    // The request was taken: only a reconnect after the run started asks again.
    const dueAfter = (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).validationDueAt;
    expect(dueAfter === null || dueAfter > run.startedAt).toBe(true);
  }, 180_000);
});
