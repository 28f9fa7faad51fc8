// The failover and failback API: what it refuses before anything starts (wrong status, another
// operation in flight, the target agent offline, a wrong confirmation, the wrong role), what it
// creates (a failover/failback Operation with its options and no steps, handed to the worker's
// queue), and pair.operation's view of an operation (steps, diff, outcome; never a secret).
// No worker runs here: the operations stay queued, which is exactly what the API promises.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { settingsToColumns, type PairSettings } from '@tandem/engine';
import { operationsQueue, redisConnection, type OperationJob } from '@tandem/jobs';
import { auditEventsOf, callerFor, expectCode } from './helpers';
import { validPairSettings } from './support/pair-settings';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let t: Tenant;
let queue: Queue<OperationJob>;
let pairId: string;
let targetAgentId: string;
let sourceAgentId: string;
const pairName = 'Accounting files';

function settings(): PairSettings {
  const s = validPairSettings();
  return {
    ...s,
    name: pairName,
    failover: { ...s.failover, enabled: true, mode: 'graceful' },
    dns: { ...s.dns, servers: ['127.0.0.1:5399'], zone: 'corp.test', addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }] },
  };
}

const setPair = (data: { status?: 'unprotected' | 'protected' | 'failover_pending' | 'failed_over' }) => ownerDb().protectionPair.update({ where: { id: pairId }, data });
const setAgent = (agentId: string, status: 'online' | 'offline') => ownerDb().agent.update({ where: { id: agentId }, data: { status } });
/** Operations left queued by a test are finished, so the next test's request is not refused as "in flight". */
const settleOperations = () => ownerDb().operation.updateMany({ where: { pairId, status: { in: ['pending', 'running'] } }, data: { status: 'succeeded', finishedAt: new Date() } });

beforeAll(async () => {
  t = await createTenant();
  queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  const target = await createServer(t.customerX, 'files-b');
  const pair = await ownerDb().protectionPair.create({
    data: { organizationId: t.org.id, customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: target.id, status: 'protected', ...settingsToColumns(settings()) },
  });
  pairId = pair.id;
  for (const [serverId, set] of [
    [t.serverX.id, (id: string) => (sourceAgentId = id)],
    [target.id, (id: string) => (targetAgentId = id)],
  ] as const) {
    const agent = await ownerDb().agent.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, serverId, status: 'online', credentialHash: randomUUID() } });
    set(agent.id);
  }
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
});

beforeEach(async () => {
  await settleOperations();
  await setPair({ status: 'protected' });
  await setAgent(targetAgentId, 'online');
  await setAgent(sourceAgentId, 'online');
});

async function operationRow(operationId: string) {
  return ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: true } });
}

describe('pair.failover.preview', () => {
  it('creates a dry-run failover operation with the settings’ mode and no steps, queued for the worker and audited', async () => {
    const { operationId } = await callerFor(t.operator.id).pair.failover.preview({ pairId });
    const op = await operationRow(operationId);
    expect(op).toMatchObject({ kind: 'failover', dryRun: true, status: 'pending', options: { mode: 'graceful' }, requestedById: t.operator.id, changes: null });
    expect(op.steps).toEqual([]);
    expect((await queue.getJob(operationId))?.data).toEqual({ operationId, organizationId: t.org.id, customerId: t.customerX.id });
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.targetId === pairId && e.action === 'pair.failover.preview');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.summary).toMatch(/Previewed a graceful failover of "Accounting files"/);
    // The pair's status is the worker's to change; a preview changes nothing.
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status).toBe('protected');
  });

  it('takes the mode asked for, and previews while the target agent is offline (the plan shows it)', async () => {
    await setAgent(targetAgentId, 'offline');
    const { operationId } = await callerFor(t.operator.id).pair.failover.preview({ pairId, mode: 'immediate' });
    expect((await operationRow(operationId)).options).toEqual({ mode: 'immediate' });
  });
});

describe('pair.failover.start', () => {
  it('creates the failover operation (not a dry run) from a pending failover, queued and audited', async () => {
    await setPair({ status: 'failover_pending' });
    const { operationId } = await callerFor(t.operator.id).pair.failover.start({ pairId, mode: 'immediate', confirmName: pairName });
    const op = await operationRow(operationId);
    expect(op).toMatchObject({ kind: 'failover', dryRun: false, status: 'pending', options: { mode: 'immediate' }, requestedById: t.operator.id });
    expect(op.steps).toEqual([]);
    expect(await queue.getJob(operationId)).toBeTruthy();
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'pair.failover.start');
    expect(audit.map((e) => e.summary)).toEqual([expect.stringMatching(/Started an immediate failover of "Accounting files" to files-b/)]);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId, kind: 'operation' } });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/started an immediate failover to files-b/)]));
  });

  it('is refused when the pair is not protected (nor pending), saying why', async () => {
    await setPair({ status: 'unprotected' });
    const err = await expectCode(callerFor(t.operator.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: pairName }), 'CONFLICT');
    expect(err.message).toMatch(/A failover needs a protected pair; the pair is/);
    await expectCode(callerFor(t.operator.id).pair.failover.preview({ pairId }), 'CONFLICT');
    expect(await ownerDb().operation.count({ where: { pairId, status: 'pending' } })).toBe(0);
  });

  it('is refused while another operation is in flight', async () => {
    await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId, kind: 'verify', status: 'running' } });
    const err = await expectCode(callerFor(t.operator.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: pairName }), 'CONFLICT');
    expect(err.message).toMatch(/Another operation \(verify\) is still running/);
  });

  it('is refused when the target agent is offline', async () => {
    await setAgent(targetAgentId, 'offline');
    const err = await expectCode(callerFor(t.operator.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: pairName }), 'CONFLICT');
    expect(err.message).toMatch(/The agent on files-b is not online/);
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'failover', status: 'pending' } })).toBe(0);
  });

  it('is refused when the typed name is not the pair’s', async () => {
    const err = await expectCode(callerFor(t.operator.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: 'accounting files' }), 'BAD_REQUEST');
    expect(err.message).toBe("Type the pair's name to confirm");
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'failover', status: 'pending' } })).toBe(0);
  });

  it('is refused to a customer user (even of this customer) and to a viewer', async () => {
    await expectCode(callerFor(t.customerUser.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: pairName }), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).pair.failover.preview({ pairId }), 'FORBIDDEN');
    await expectCode(callerFor(t.viewer.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: pairName }), 'FORBIDDEN');
    expect(await ownerDb().operation.count({ where: { pairId, status: 'pending' } })).toBe(0);
  });

  it('is refused when failover is turned off in the settings', async () => {
    const s = settings();
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: settingsToColumns({ ...s, failover: { ...s.failover, enabled: false } }) });
    try {
      const err = await expectCode(callerFor(t.operator.id).pair.failover.start({ pairId, mode: 'graceful', confirmName: pairName }), 'CONFLICT');
      expect(err.message).toMatch(/Failover is turned off/);
    } finally {
      await ownerDb().protectionPair.update({ where: { id: pairId }, data: settingsToColumns(s) });
    }
  });
});

describe('pair.failback', () => {
  it('is refused unless the pair is failed over', async () => {
    const err = await expectCode(callerFor(t.operator.id).pair.failback.preview({ pairId, restoreFirst: true, reprotect: true }), 'CONFLICT');
    expect(err.message).toMatch(/Only a failed-over pair can fail back/);
  });

  it('preview and start create failback operations with their options; start needs the source agent and the name', async () => {
    await setPair({ status: 'failed_over' });
    const caller = callerFor(t.operator.id);
    const preview = await caller.pair.failback.preview({ pairId, restoreFirst: false, reprotect: true });
    expect(await operationRow(preview.operationId)).toMatchObject({ kind: 'failback', dryRun: true, options: { restoreFirst: false, reprotect: true }, steps: [] });
    await settleOperations();

    await setAgent(sourceAgentId, 'offline');
    const offline = await expectCode(caller.pair.failback.start({ pairId, restoreFirst: true, reprotect: false, confirmName: pairName }), 'CONFLICT');
    expect(offline.message).toMatch(/is not online/);
    await setAgent(sourceAgentId, 'online');
    await expectCode(caller.pair.failback.start({ pairId, restoreFirst: true, reprotect: false, confirmName: 'nope' }), 'BAD_REQUEST');

    const { operationId } = await caller.pair.failback.start({ pairId, restoreFirst: true, reprotect: false, confirmName: ` ${pairName} ` });
    expect(await operationRow(operationId)).toMatchObject({ kind: 'failback', dryRun: false, options: { restoreFirst: true, reprotect: false }, steps: [] });
    expect(await queue.getJob(operationId)).toBeTruthy();
    const actions = (await auditEventsOf(t.org.id)).filter((e) => e.targetId === pairId).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['pair.failback.preview', 'pair.failback.start']));
    await expectCode(callerFor(t.customerUser.id).pair.failback.start({ pairId, restoreFirst: true, reprotect: true, confirmName: pairName }), 'FORBIDDEN');
  });
});

describe('pair.operation', () => {
  it('shows the operation with its options, diff, outcome and steps (hook output kept, secrets never)', async () => {
    const op = await ownerDb().operation.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        pairId,
        kind: 'failover',
        status: 'succeeded',
        options: { mode: 'graceful' },
        requestedById: t.operator.id,
        pointOfNoReturn: 1,
        changes: [
          { position: 0, kind: 'hook', side: 'target', summary: 'Run the before-failover hook', before: null, after: null, pastPointOfNoReturn: false },
          { position: 1, kind: 'dns', side: 'dns', summary: 'files.corp.test A', before: '10.0.0.5', after: '10.0.0.6', pastPointOfNoReturn: true },
        ],
        outcome: { lagAtCutoverSeconds: 0, warnings: [], nextSteps: ['Fail back when the source is repaired'] },
        startedAt: new Date(),
        finishedAt: new Date(),
        steps: {
          create: [
            {
              organizationId: t.org.id,
              customerId: t.customerX.id,
              position: 0,
              kind: 'hook.run',
              description: 'Run the before-failover hook on files-b',
              status: 'succeeded',
              attempts: 1,
              output: { exitCode: 0, stdout: 'flushed caches\n', stderr: '', secret: 'c2VjcmV0LXZhbHVl' },
            },
            {
              organizationId: t.org.id,
              customerId: t.customerX.id,
              position: 1,
              kind: 'dns.apply',
              description: 'Point files.corp.test at 10.0.0.6',
              status: 'succeeded',
              attempts: 2,
              params: { credentialId: randomUUID() },
              output: { server: '127.0.0.1:5399', changes: [{ zone: 'corp.test', name: 'files.corp.test', type: 'A', outcome: 'changed' }], tsig: { name: 'k', secret: 'c2VjcmV0LXZhbHVl' } },
            },
          ],
        },
      },
    });
    for (const user of [t.operator, t.viewer, t.customerUser]) {
      const got = await callerFor(user.id).pair.operation({ operationId: op.id });
      // Customer users do not see the MSP's people.
      const requestedBy = user === t.customerUser ? 'Your service provider' : t.operator.name;
      expect(got).toMatchObject({ id: op.id, pairId, kind: 'failover', status: 'succeeded', dryRun: false, options: { mode: 'graceful' }, pointOfNoReturn: 1, requestedBy });
      expect(got.changes).toHaveLength(2);
      expect(got.changes![1]).toMatchObject({ kind: 'dns', before: '10.0.0.5', after: '10.0.0.6', pastPointOfNoReturn: true });
      expect(got.outcome).toEqual({ lagAtCutoverSeconds: 0, warnings: [], nextSteps: ['Fail back when the source is repaired'] });
      expect(got.steps.map((s) => [s.position, s.phase, s.kind, s.status, s.attempts])).toEqual([
        [0, 'run', 'hook.run', 'succeeded', 1],
        [1, 'run', 'dns.apply', 'succeeded', 2],
      ]);
      expect(got.steps[0]!.output).toEqual({ exitCode: 0, stdout: 'flushed caches\n', stderr: '' });
      expect(JSON.stringify(got)).not.toContain('c2VjcmV0LXZhbHVl');
    }
  });

  it('names Tandem as the requester of an automatic failover; another customer’s user gets NOT_FOUND', async () => {
    const op = await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId, kind: 'failover', status: 'succeeded', options: { mode: 'immediate' } } });
    expect((await callerFor(t.operator.id).pair.operation({ operationId: op.id })).requestedBy).toBe('Tandem (automatic)');
    await expectCode(callerFor(t.customerYUser.id).pair.operation({ operationId: op.id }), 'NOT_FOUND');
    await expectCode(callerFor(t.operator.id).pair.operation({ operationId: randomUUID() }), 'NOT_FOUND');
  });
});

describe('pair.dnsRecords without a reachable DNS executor', () => {
  it('lists the default records (the source name’s A/AAAA) as unknown, saying why, instead of failing', async () => {
    await setAgent(targetAgentId, 'offline');
    const source = await ownerDb().server.findUniqueOrThrow({ where: { id: t.serverX.id } });
    for (const user of [t.operator, t.customerUser]) {
      const got = await callerFor(user.id).pair.dnsRecords({ pairId });
      expect(got).toMatchObject({ configured: true, picked: false, server: null, executor: { hostname: 'files-b', online: false } });
      expect(got.records.map((r) => [r.name, r.type, r.state])).toEqual([
        [`${source.hostname}.corp.test`, 'A', 'unknown'],
        [`${source.hostname}.corp.test`, 'AAAA', 'unknown'],
      ]);
      expect(got.records[0]!.reason).toMatch(/The agent on files-b \(the DNS executor\) is not online/);
    }
  });
});
