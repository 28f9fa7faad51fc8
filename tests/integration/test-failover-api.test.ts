// The test failover API: what it refuses before anything starts (a pair that is not protected,
// another operation in flight, the target agent offline, a viewer, another customer's user), what
// it creates (a test_failover Operation with no steps, handed to the worker's queue; a dry run for
// the preview), who may ask (MSP operators, approvers of the pair's own customer), the pair's
// test list with results from the evidence report, and the probe settings (saved with the
// configuration, or on their own while protected; probes that do not fit the application
// refused). No worker runs here: the operations stay queued.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addCustomerMember, createServer, createTenant, createUser, ownerDb, type Tenant } from '@tandem/db/testing';
import type { PairStatus, Probe, TestReport } from '@tandem/engine';
import { operationsQueue, redisConnection, type OperationJob } from '@tandem/jobs';
import { auditEventsOf, callerFor, expectCode, httpCall, type HttpErrorBody } from './helpers';
import { validPairSettings } from './support/pair-settings';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let t: Tenant;
let queue: Queue<OperationJob>;
let pairId: string;
let sourceAgentId: string;
let targetAgentId: string;
let targetHostname: string;
const pairName = 'Payroll files';

/** A Linux file server's facts with one share under /srv/data (the settings' root), so pair.create/update accept it. */
function fileServerFacts(hostname: string) {
  return {
    collectedAt: new Date().toISOString(),
    agent: { version: '1.0.0-test', protocolVersion: 1, capabilities: ['facts'] },
    host: { status: 'ok', data: { hostname, fqdn: null, osFamily: 'linux', osName: 'Debian GNU/Linux 12', osVersion: '12', kernel: '6.1.0', cpuCount: 2, memoryBytes: 4e9, uptimeSeconds: 100, clockOffsetMs: null } },
    network: { status: 'unknown', reason: 'test' },
    volumes: { status: 'unknown', reason: 'test' },
    services: { status: 'unknown', reason: 'test' },
    applications: { status: 'ok', data: [{ kind: 'file_server', shares: [{ protocol: 'nfs', name: 'data', path: '/srv/data' }] }] },
    cluster: { status: 'ok', data: null },
  };
}

const pairRow = () => ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
const setStatus = (status: PairStatus) => ownerDb().protectionPair.update({ where: { id: pairId }, data: { status } });
const setAgent = (agentId: string, status: 'online' | 'offline') => ownerDb().agent.update({ where: { id: agentId }, data: { status } });
/** Operations left queued by a test are finished, so the next test's request is not refused as "in flight". */
const settleOperations = () => ownerDb().operation.updateMany({ where: { pairId, status: { in: ['pending', 'running'] } }, data: { status: 'succeeded', finishedAt: new Date() } });
const operationRow = (operationId: string) => ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: true } });
const settingsOf = async () => (await callerFor(t.operator.id).pair.settings({ pairId })).settings!;

beforeAll(async () => {
  t = await createTenant();
  queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  const ids: string[] = [];
  for (const label of ['files-a', 'files-b']) {
    const s = await createServer(t.customerX, `${label}-${randomUUID().slice(0, 6)}`);
    await ownerDb().server.update({ where: { id: s.id }, data: { facts: fileServerFacts(s.hostname) } });
    // Offline while the pair is created: nothing is asked of an agent that is not there.
    const agent = await ownerDb().agent.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: s.id, status: 'offline', credentialHash: randomUUID() } });
    ids.push(agent.id);
    if (label === 'files-b') targetHostname = s.hostname;
    if (label === 'files-a') sourceAgentId = agent.id;
    else targetAgentId = agent.id;
  }
  const servers = await ownerDb().server.findMany({ where: { agent: { id: { in: ids } } }, select: { id: true, agent: { select: { id: true } } } });
  const byAgent = new Map(servers.map((s) => [s.agent!.id, s.id]));
  const { id } = await callerFor(t.operator.id).pair.create({
    customerId: t.customerX.id,
    sourceServerId: byAgent.get(sourceAgentId)!,
    targetServerId: byAgent.get(targetAgentId)!,
    settings: { ...validPairSettings(), name: pairName },
  });
  pairId = id;
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
});

beforeEach(async () => {
  await settleOperations();
  await setStatus('protected');
  await setAgent(sourceAgentId, 'online');
  await setAgent(targetAgentId, 'online');
});

describe('pair.testFailover.preview', () => {
  it('creates a dry-run test_failover operation with no steps, queued for the worker and audited; the pair is unchanged', async () => {
    const { operationId } = await callerFor(t.operator.id).pair.testFailover.preview({ pairId });
    const op = await operationRow(operationId);
    expect(op).toMatchObject({ kind: 'test_failover', dryRun: true, status: 'pending', requestedById: t.operator.id, changes: null, report: null });
    expect(op.steps).toEqual([]);
    expect((await queue.getJob(operationId))?.data).toEqual({ operationId, organizationId: t.org.id, customerId: t.customerX.id });
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.targetId === pairId && e.action === 'pair.testFailover.preview');
    expect(audit.map((e) => e.summary)).toEqual([`Previewed a test failover of "${pairName}"`]);
    expect((await pairRow()).status).toBe('protected');
  });

  it('previews while the target agent is offline (the plan says so), but the test itself is refused', async () => {
    await setAgent(targetAgentId, 'offline');
    const { operationId } = await callerFor(t.operator.id).pair.testFailover.preview({ pairId });
    expect((await operationRow(operationId)).dryRun).toBe(true);
    await settleOperations();
    const err = await expectCode(callerFor(t.operator.id).pair.testFailover.start({ pairId }), 'CONFLICT');
    expect(err.message).toBe(`The agent on ${targetHostname} is not online; the test copy is made and probed there`);
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'test_failover', dryRun: false } })).toBe(0);
  });
});

describe('pair.testFailover.start', () => {
  it('creates the test operation (not a dry run), queued, audited and in the pair’s events', async () => {
    const { operationId } = await callerFor(t.operator.id).pair.testFailover.start({ pairId });
    const op = await operationRow(operationId);
    expect(op).toMatchObject({ kind: 'test_failover', dryRun: false, status: 'pending', requestedById: t.operator.id });
    expect(op.steps).toEqual([]);
    expect(await queue.getJob(operationId)).toBeTruthy();
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'pair.testFailover.start');
    expect(audit.map((e) => e.summary)).toEqual([`Started a test failover of "${pairName}" on ${targetHostname}`]);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId, kind: 'operation' } });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/started a test failover on .*the source and replication are untouched/)]));
    // A test never moves the pair: the worker does not either, but the API certainly does not.
    expect((await pairRow()).status).toBe('protected');
  });

  it.each(['unprotected', 'mirroring', 'failover_pending', 'failed_over'] as const)('is refused while the pair is %s, saying a test needs a protected pair', async (status) => {
    await setStatus(status);
    const err = await expectCode(callerFor(t.operator.id).pair.testFailover.start({ pairId }), 'CONFLICT');
    expect(err.message).toMatch(/^A test failover needs a protected pair \(replicating, with the initial copy complete\); the pair is /);
    await expectCode(callerFor(t.operator.id).pair.testFailover.preview({ pairId }), 'CONFLICT');
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'test_failover', status: 'pending' } })).toBe(0);
  });

  it('is refused while another operation is in flight (another test included)', async () => {
    await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId, kind: 'verify', status: 'running' } });
    const err = await expectCode(callerFor(t.operator.id).pair.testFailover.start({ pairId }), 'CONFLICT');
    expect(err.message).toMatch(/Another operation \(verify\) is still running on this pair/);
    await settleOperations();
    await callerFor(t.operator.id).pair.testFailover.start({ pairId });
    const again = await expectCode(callerFor(t.operator.id).pair.testFailover.preview({ pairId }), 'CONFLICT');
    expect(again.message).toMatch(/Another operation \(test_failover\) is still running/);
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'test_failover', status: 'pending' } })).toBe(1);
  });

  it('is refused to MSP viewers and to customer viewers; the settings stay staff-only', async () => {
    const customerViewer = await createUser({ name: 'Customer viewer' });
    await addCustomerMember(t.customerX, customerViewer.id, 'viewer');
    await expectCode(callerFor(customerViewer.id).pair.testFailover.start({ pairId }), 'FORBIDDEN');
    await expectCode(callerFor(customerViewer.id).pair.testFailover.preview({ pairId }), 'FORBIDDEN');
    await expectCode(callerFor(t.viewer.id).pair.testFailover.start({ pairId }), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).pair.updateTesting({ pairId, testing: { probes: [], copyMethod: 'copy' } }), 'FORBIDDEN');
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'test_failover', status: 'pending' } })).toBe(0);
  });

  it('an approver of the pair’s customer may preview and start a test (self-service), audited under their name', async () => {
    const approver = callerFor(t.customerUser.id);
    const preview = await approver.pair.testFailover.preview({ pairId });
    expect(await operationRow(preview.operationId)).toMatchObject({ kind: 'test_failover', dryRun: true, requestedById: t.customerUser.id });
    await settleOperations();
    const { operationId } = await approver.pair.testFailover.start({ pairId });
    expect(await operationRow(operationId)).toMatchObject({ kind: 'test_failover', dryRun: false, status: 'pending', requestedById: t.customerUser.id });
    expect(await queue.getJob(operationId)).toBeTruthy();
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'pair.testFailover.start' && e.actorId === t.customerUser.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ customerId: t.customerX.id, targetId: pairId, summary: `Started a test failover of "${pairName}" on ${targetHostname}` });
    expect(audit[0]!.actorLabel).toContain(t.customerUser.email);
    // The customer's own audit trail shows it to them.
    const theirs = await approver.audit.list({});
    expect(theirs.events.map((e) => e.action)).toContain('pair.testFailover.start');
    expect((await pairRow()).status).toBe('protected');
  });

  it('another customer’s pair is not found for a customer user (approver or viewer), and nothing is created', async () => {
    const otherApprover = await createUser({ name: 'Customer Y approver' });
    await addCustomerMember(t.customerY, otherApprover.id, 'approver');
    await expectCode(callerFor(otherApprover.id).pair.testFailover.start({ pairId }), 'NOT_FOUND');
    await expectCode(callerFor(otherApprover.id).pair.testFailover.preview({ pairId }), 'NOT_FOUND');
    await expectCode(callerFor(t.customerYUser.id).pair.testFailover.start({ pairId }), 'FORBIDDEN');
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'test_failover', status: 'pending' } })).toBe(0);
  });
});

function reportOf(operationId: string, result: 'passed' | 'failed'): TestReport {
  const at = new Date().toISOString();
  return {
    version: 1,
    operationId,
    pair: { id: pairId, name: pairName, application: 'file_server', method: 'file', source: 'files-a', target: targetHostname },
    customer: { id: t.customerX.id, name: t.customerX.name },
    startedBy: { kind: 'user', name: t.operator.name, email: t.operator.email },
    startedAt: at,
    finishedAt: at,
    durationMs: 4200,
    result,
    error: result === 'failed' ? 'A probe failed' : null,
    copy: { kind: 'files', method: 'copy', bytes: 1024, files: 3, durationMs: 100 },
    lag: { before: 1, during: 2, after: 1 },
    probes: [
      { index: 0, kind: 'files-match', description: 'Sampled files match', passed: true, summary: '3 of 3 sampled files match', detail: '', durationMs: 20 },
      { index: 1, kind: 'paths-exist', description: '/srv/data/a exists', passed: result === 'passed', summary: 'checked', detail: '', durationMs: 5 },
    ],
    timeline: [],
    cleanedUp: true,
    settings: {},
  };
}

describe('pair.tests', () => {
  it('lists real tests (not dry runs), newest first, with results from the report and the last passed date; customer users see them', async () => {
    const base = { organizationId: t.org.id, customerId: t.customerX.id, pairId, kind: 'test_failover' as const };
    // Only this test's operations: the earlier ones were requests the API created.
    await ownerDb().operation.deleteMany({ where: { pairId } });
    const older = await ownerDb().operation.create({ data: { ...base, status: 'failed', requestedById: t.operator.id, createdAt: new Date(Date.now() - 60_000), finishedAt: new Date(), error: 'A probe failed' } });
    await ownerDb().operation.update({ where: { id: older.id }, data: { report: reportOf(older.id, 'failed') as never } });
    const passed = await ownerDb().operation.create({ data: { ...base, status: 'succeeded', requestedById: t.operator.id, createdAt: new Date(Date.now() - 30_000), startedAt: new Date(), finishedAt: new Date() } });
    await ownerDb().operation.update({ where: { id: passed.id }, data: { report: reportOf(passed.id, 'passed') as never } });
    await ownerDb().operation.create({ data: { ...base, status: 'succeeded', dryRun: true, requestedById: t.operator.id } });
    const running = await ownerDb().operation.create({ data: { ...base, status: 'running', startedAt: new Date() } });
    const lastPassed = new Date('2026-12-01T10:00:00Z');
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: { lastTestSucceededAt: lastPassed } });

    const got = await callerFor(t.operator.id).pair.tests({ pairId });
    expect(got.lastTestSucceededAt).toBe(lastPassed.toISOString());
    expect(got.tests.map((x) => [x.id, x.status, x.result, x.probes, x.hasReport, x.startedBy])).toEqual([
      [running.id, 'running', null, null, false, 'Tandem (automatic)'],
      [passed.id, 'succeeded', 'passed', { passed: 2, total: 2 }, true, t.operator.name],
      [older.id, 'failed', 'failed', { passed: 1, total: 2 }, true, t.operator.name],
    ]);
    expect(got.tests[2]!.error).toBe('A probe failed');

    // The customer's own people see their tests, without the MSP's staff names.
    const theirs = await callerFor(t.customerUser.id).pair.tests({ pairId });
    expect(theirs.tests.map((x) => x.startedBy)).toEqual(['Tandem (automatic)', 'Your service provider', 'Your service provider']);
    await expectCode(callerFor(t.customerYUser.id).pair.tests({ pairId }), 'NOT_FOUND');
    await expectCode(callerFor(t.operator.id).pair.tests({ pairId: randomUUID() }), 'NOT_FOUND');
  });
});

describe('test settings (probes)', () => {
  const probes: Probe[] = [
    { kind: 'files-match', sample: 50 },
    { kind: 'paths-exist', paths: ['/srv/data/payroll.db'] },
    { kind: 'tcp', host: null, port: 445 },
  ];

  it('round-trip through the configuration form: kept, a validated pair stays validated, and configChangedAt moves', async () => {
    await setAgent(sourceAgentId, 'offline');
    await setStatus('validated');
    const before = await pairRow();
    const current = await settingsOf();
    expect(current.testing).toEqual({ probes: [], copyMethod: 'auto' });
    await callerFor(t.operator.id).pair.update({ pairId, settings: { ...current, testing: { probes, copyMethod: 'copy' } } });
    expect((await settingsOf()).testing).toEqual({ probes, copyMethod: 'copy' });
    const after = await pairRow();
    expect(after.status).toBe('validated');
    expect(after.configChangedAt.getTime()).toBeGreaterThan(before.configChangedAt.getTime());
    // Other sections still void a validation.
    await callerFor(t.operator.id).pair.update({ pairId, settings: { ...(await settingsOf()), name: `${pairName} (renamed)` } });
    expect((await pairRow()).status).toBe('unprotected');
    await callerFor(t.operator.id).pair.update({ pairId, settings: { ...(await settingsOf()), name: pairName, testing: { probes: [], copyMethod: 'auto' } } });
  });

  it('change on their own while protected: saved, the pair stays protected, audited', async () => {
    const before = await pairRow();
    await callerFor(t.operator.id).pair.updateTesting({ pairId, testing: { probes, copyMethod: 'auto' } });
    expect((await settingsOf()).testing).toEqual({ probes, copyMethod: 'auto' });
    const after = await pairRow();
    expect(after.status).toBe('protected');
    expect(after.configChangedAt.getTime()).toBeGreaterThan(before.configChangedAt.getTime());
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.targetId === pairId && e.action === 'pair.testing.update');
    expect(audit.at(-1)?.summary).toBe(`Changed the test failover settings of "${pairName}" (3 probes)`);
    // Back to the defaults (an empty list).
    await callerFor(t.operator.id).pair.updateTesting({ pairId, testing: { probes: [], copyMethod: 'auto' } });
    expect((await settingsOf()).testing).toEqual({ probes: [], copyMethod: 'auto' });
  });

  it('refuses probes that do not fit the application, naming the probe, and keeps what was stored', async () => {
    const wrong = { probes: [{ kind: 'files-match' as const, sample: 5 }, { kind: 'row-count' as const, database: 'postgres', table: 'orders' }], copyMethod: 'auto' as const };
    const alone = await expectCode(callerFor(t.operator.id).pair.updateTesting({ pairId, testing: wrong }), 'BAD_REQUEST');
    expect(alone.message).toBe('“A table’s row count is within the lag” does not apply to a File server pair');
    // Over HTTP the message names the field, so the form marks that probe.
    const res = await httpCall(t.operator.id, 'pair.updateTesting', { pairId, testing: wrong });
    expect(res.status).toBe(400);
    expect((res.body as HttpErrorBody).error.data.fields).toEqual({ 'testing.probes.1.kind': '“A table’s row count is within the lag” does not apply to a File server pair' });

    await setAgent(sourceAgentId, 'offline');
    await setStatus('unprotected');
    const current = await settingsOf();
    const viaForm = await expectCode(callerFor(t.operator.id).pair.update({ pairId, settings: { ...current, testing: wrong } }), 'BAD_REQUEST');
    expect(viaForm.message).toMatch(/does not apply to a File server pair/);
    // A malformed probe is refused by the input check with a field message.
    await expectCode(callerFor(t.operator.id).pair.updateTesting({ pairId, testing: { probes: [{ kind: 'paths-exist', paths: ['relative/path'] }], copyMethod: 'auto' } }), 'BAD_REQUEST');
    expect((await settingsOf()).testing).toEqual({ probes: [], copyMethod: 'auto' });
  });

  it('are refused while a failover is under way', async () => {
    await setStatus('failing_over');
    const err = await expectCode(callerFor(t.operator.id).pair.updateTesting({ pairId, testing: { probes: [], copyMethod: 'copy' } }), 'CONFLICT');
    expect(err.message).toBe('The pair is failing over: change its test settings when that has finished');
  });
});
