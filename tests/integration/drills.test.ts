// Scheduled drills: the drill API (create, list with overdue state, pause, remove; roles,
// validation, tenant isolation) and the worker's start-due-drills job against real PostgreSQL and
// Redis (a due schedule starts one test failover per pair, once, even with two workers at it).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { dayMs } from '@tandem/engine';
import { startDueDrills } from '../../apps/worker/src/jobs/drills';
import { enqueueOperation, operationsQueue, redisConnection } from '../../apps/worker/src/queues';
import { auditEventsOf, callerFor, expectCode } from './helpers';

const prefix = `tandem-test-drills-${process.pid}-${Date.now().toString(36)}`;
const connection = redisConnection(process.env.REDIS_URL!);
let queue: ReturnType<typeof operationsQueue>;
let workerDbs: Db[];
let t: Tenant;
let other: Tenant;

async function pairOf(
  tenant: Tenant,
  customer: { id: string; organizationId: string },
  status: 'protected' | 'unprotected' = 'protected',
) {
  const [source, target] = [await createServer(customer), await createServer(customer)];
  return ownerDb().protectionPair.create({
    data: {
      organizationId: tenant.org.id,
      customerId: customer.id,
      name: `pair-${randomUUID().slice(0, 6)}`,
      sourceServerId: source.id,
      targetServerId: target.id,
      application: 'file_server',
      status,
    },
  });
}

beforeAll(async () => {
  [t, other] = await Promise.all([createTenant(), createTenant()]);
  queue = operationsQueue(connection, { prefix });
  // Two "workers": separate connection pools, as two worker processes would have.
  workerDbs = [
    createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 }),
    createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 }),
  ];
  await queue.waitUntilReady();
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await Promise.all((workerDbs ?? []).map((d) => d.$disconnect()));
});

describe('the drill API', () => {
  it('an operator schedules a drill of one pair; it is listed with its pair and customer, due in a period, audited', async () => {
    const pair = await pairOf(t, t.customerX);
    const before = Date.now();
    const { id } = await callerFor(t.operator.id).drill.create({ customerId: t.customerX.id, pairId: pair.id, everyDays: 30 });
    const list = await callerFor(t.viewer.id).drill.list({ customerId: t.customerX.id });
    const d = list.find((x) => x.id === id)!;
    expect(d).toMatchObject({
      customerId: t.customerX.id,
      customerName: t.customerX.name,
      pairId: pair.id,
      pairName: pair.name,
      everyDays: 30,
      enabled: true,
      lastResult: null,
      overdue: false,
      status: { state: 'ok', days: 30 },
    });
    expect(new Date(d.nextDueAt).getTime()).toBeGreaterThanOrEqual(before + 30 * dayMs);
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.targetId === id);
    expect(audit.map((e) => e.action)).toEqual(['drill.create']);
    expect(audit[0]!.summary).toContain(pair.name);
  });

  it('a customer-wide drill with a first due time; pause, resume, change the period, remove — each audited', async () => {
    const firstDueAt = new Date(Date.now() + 3 * dayMs).toISOString();
    const op = callerFor(t.operator.id);
    const { id } = await op.drill.create({ customerId: t.customerY.id, pairId: null, everyDays: 7, firstDueAt });
    let d = (await op.drill.list({ customerId: t.customerY.id })).find((x) => x.id === id)!;
    expect(d).toMatchObject({ pairId: null, pairName: null, nextDueAt: firstDueAt, everyDays: 7 });
    await op.drill.update({ id, enabled: false });
    await op.drill.update({ id, everyDays: 14 });
    d = (await op.drill.list({ customerId: t.customerY.id })).find((x) => x.id === id)!;
    expect(d).toMatchObject({ enabled: false, everyDays: 14, nextDueAt: firstDueAt });
    await op.drill.update({ id, enabled: true });
    await op.drill.remove({ id });
    expect((await op.drill.list({ customerId: t.customerY.id })).map((x) => x.id)).not.toContain(id);
    const actions = (await auditEventsOf(t.org.id)).filter((e) => e.targetId === id).map((e) => e.action);
    expect(actions).toEqual(['drill.create', 'drill.update', 'drill.update', 'drill.update', 'drill.remove']);
  });

  it('lists an overdue drill: its due time passed days ago with no passing test', async () => {
    const pair = await pairOf(t, t.customerX);
    const drill = await ownerDb().drillSchedule.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        pairId: pair.id,
        everyDays: 30,
        // Started 3 days ago (moved on by 30 days): not due for any worker, but that due time had no passing test.
        nextDueAt: new Date(Date.now() + 27 * dayMs - 3600_000),
        createdAt: new Date(Date.now() - 40 * dayMs),
        enabled: true,
      },
    });
    const d = (await callerFor(t.owner.id).drill.list()).find((x) => x.id === drill.id)!;
    expect(d).toMatchObject({ overdue: true, status: { state: 'overdue', days: 3 } });
    // The dashboard counts it, lists it, and lists the pair as never tested; another organization's dashboard does not.
    const dash = await callerFor(t.viewer.id).dashboard.drills();
    expect(dash.overdue).toBeGreaterThanOrEqual(1);
    expect(dash.schedules.find((x) => x.id === drill.id)).toMatchObject({ pairName: pair.name, overdue: true });
    expect(dash.pairs.find((p) => p.pairId === pair.id)).toMatchObject({
      pairName: pair.name,
      customerName: t.customerX.name,
      lastTest: null,
      lastPassedAt: null,
    });
    const outsider = await callerFor(other.owner.id).dashboard.drills();
    expect(outsider.schedules.map((x) => x.id)).not.toContain(drill.id);
    expect(outsider.pairs.map((x) => x.pairId)).not.toContain(pair.id);
    // A passing test since the due time settles it.
    await ownerDb().protectionPair.update({ where: { id: pair.id }, data: { lastTestSucceededAt: new Date() } });
    expect((await callerFor(t.owner.id).drill.list()).find((x) => x.id === drill.id)).toMatchObject({
      overdue: false,
      status: { state: 'ok' },
    });
    expect((await callerFor(t.owner.id).dashboard.drills()).pairs.map((p) => p.pairId)).not.toContain(pair.id);
    // Not left due for a worker of another test file to start.
    await ownerDb().drillSchedule.delete({ where: { id: drill.id } });
  });

  it('refuses bad input with a clear message, and nothing is written', async () => {
    const op = callerFor(t.operator.id);
    const before = await ownerDb().drillSchedule.count({ where: { organizationId: t.org.id } });
    for (const everyDays of [0, 367, 2.5]) {
      const err = await expectCode(op.drill.create({ customerId: t.customerX.id, pairId: null, everyDays }), 'BAD_REQUEST');
      expect(err.message).toMatch(/everyDays/);
    }
    await expectCode(
      op.drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 7, firstDueAt: 'next tuesday' }),
      'BAD_REQUEST',
    );
    // A pair of another customer of the same organization.
    const yPair = await pairOf(t, t.customerY);
    const err = await expectCode(op.drill.create({ customerId: t.customerX.id, pairId: yPair.id, everyDays: 7 }), 'BAD_REQUEST');
    expect(err.message).toMatch(/another customer/);
    expect(await ownerDb().drillSchedule.count({ where: { organizationId: t.org.id } })).toBe(before);
  });

  it('viewers read but cannot change; customer users cannot use drills at all', async () => {
    const { id } = await callerFor(t.operator.id).drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 7 });
    const viewer = callerFor(t.viewer.id);
    await expectCode(viewer.drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 7 }), 'FORBIDDEN');
    await expectCode(viewer.drill.update({ id, enabled: false }), 'FORBIDDEN');
    await expectCode(viewer.drill.remove({ id }), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).drill.list({ customerId: t.customerX.id }), 'FORBIDDEN');
    expect((await ownerDb().drillSchedule.findUniqueOrThrow({ where: { id } })).enabled).toBe(true);
  });

  it('another organization sees none of these schedules and cannot touch them', async () => {
    const { id } = await callerFor(t.operator.id).drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 7 });
    const outsider = callerFor(other.owner.id);
    expect((await outsider.drill.list()).map((d) => d.id)).not.toContain(id);
    await expectCode(outsider.drill.list({ customerId: t.customerX.id }), 'NOT_FOUND');
    await expectCode(outsider.drill.update({ id, enabled: false }), 'NOT_FOUND');
    await expectCode(outsider.drill.remove({ id }), 'NOT_FOUND');
    await expectCode(outsider.drill.create({ customerId: t.customerX.id, pairId: null, everyDays: 7 }), 'NOT_FOUND');
    expect(await ownerDb().drillSchedule.findUnique({ where: { id } })).not.toBeNull();
  });
});

describe('start-due-drills (worker)', () => {
  // The job runs with a clock a month ahead, so these schedules are due only for these calls (a
  // worker process of another test file, on the real clock, never takes them), and for the
  // test's own organization only (it never starts another file's drills).
  const inTheFuture = () => new Date(Date.now() + 30 * dayMs);
  const jobsFor = async (operationIds: string[]) =>
    (await Promise.all(operationIds.map((id) => queue.getJob(id)))).filter(Boolean);

  it('two workers at once: a due customer-wide drill starts one test failover per protected pair, once, and moves on', async () => {
    const tenant = await createTenant();
    const [p1, p2] = [await pairOf(tenant, tenant.customerX), await pairOf(tenant, tenant.customerX)];
    await pairOf(tenant, tenant.customerX, 'unprotected'); // not tested by a customer-wide drill
    const now = inTheFuture();
    const dueAt = new Date(now.getTime() - 9 * dayMs - 60_000); // due 9 days ago, every 7: one period was missed
    const drill = await ownerDb().drillSchedule.create({
      data: { organizationId: tenant.org.id, customerId: tenant.customerX.id, everyDays: 7, nextDueAt: dueAt },
    });
    const enqueue = (j: Parameters<typeof enqueueOperation>[1]) => enqueueOperation(queue, j);

    await Promise.all(workerDbs.map((d) => startDueDrills(d, now, enqueue, tenant.org.id)));

    const ops = await ownerDb().operation.findMany({ where: { drillScheduleId: drill.id } });
    expect(ops.map((o) => o.pairId).sort()).toEqual([p1.id, p2.id].sort());
    for (const o of ops)
      expect(o).toMatchObject({
        kind: 'test_failover',
        dryRun: false,
        requestedById: null,
        status: 'pending',
        customerId: tenant.customerX.id,
      });
    expect((await jobsFor(ops.map((o) => o.id))).map((j) => j!.data)).toEqual(
      expect.arrayContaining(
        ops.map((o) => ({ operationId: o.id, organizationId: tenant.org.id, customerId: tenant.customerX.id })),
      ),
    );
    const after = await ownerDb().drillSchedule.findUniqueOrThrow({ where: { id: drill.id } });
    // From the due time, skipping the missed period: 14 days after it, which is after now.
    expect(after.nextDueAt).toEqual(new Date(dueAt.getTime() + 14 * dayMs));
    expect(after.lastStartedAt).toEqual(now);
    const audit = (await auditEventsOf(tenant.org.id)).filter((e) => e.action === 'pair.testFailover.start');
    expect(audit).toHaveLength(2);
    expect(audit.every((e) => e.actorId === null && e.actorLabel === 'Tandem (scheduled drill)')).toBe(true);

    // Running again at the same moment finds nothing due.
    await startDueDrills(workerDbs[0]!, now, enqueue, tenant.org.id);
    expect(await ownerDb().operation.count({ where: { drillScheduleId: drill.id } })).toBe(2);

    // The list shows the drill's latest result and the due time it moved to.
    const listed = (await callerFor(tenant.owner.id).drill.list()).find((d) => d.id === drill.id)!;
    expect(listed.lastResult?.status).toBe('pending');
    expect(listed.nextDueAt).toBe(after.nextDueAt.toISOString());
  });

  it('a pair with an operation in flight is skipped with a warning event; disabled and future schedules wait', async () => {
    const tenant = await createTenant();
    const pair = await pairOf(tenant, tenant.customerX);
    await ownerDb().operation.create({
      data: {
        organizationId: tenant.org.id,
        customerId: tenant.customerX.id,
        pairId: pair.id,
        kind: 'failover',
        status: 'running',
      },
    });
    const now = inTheFuture();
    const busy = await ownerDb().drillSchedule.create({
      data: {
        organizationId: tenant.org.id,
        customerId: tenant.customerX.id,
        pairId: pair.id,
        everyDays: 1,
        nextDueAt: new Date(now.getTime() - 60_000),
      },
    });
    const paused = await ownerDb().drillSchedule.create({
      data: {
        organizationId: tenant.org.id,
        customerId: tenant.customerX.id,
        pairId: pair.id,
        everyDays: 1,
        nextDueAt: new Date(now.getTime() - 60_000),
        enabled: false,
      },
    });
    const future = await ownerDb().drillSchedule.create({
      data: {
        organizationId: tenant.org.id,
        customerId: tenant.customerX.id,
        pairId: pair.id,
        everyDays: 1,
        nextDueAt: new Date(now.getTime() + 60_000),
      },
    });

    const run = await startDueDrills(workerDbs[0]!, now, (j) => enqueueOperation(queue, j), tenant.org.id);
    expect(run.skippedBusy).toBeGreaterThanOrEqual(1);
    expect(await ownerDb().operation.count({ where: { drillScheduleId: { in: [busy.id, paused.id, future.id] } } })).toBe(0);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: pair.id, severity: 'warning' } });
    expect(events.map((e) => e.message).join('\n')).toMatch(
      /drill did not start a test failover: another operation \(failover\)/,
    );
    // The busy schedule still moved on (the next period tries again); the others did not.
    expect((await ownerDb().drillSchedule.findUniqueOrThrow({ where: { id: busy.id } })).nextDueAt.getTime()).toBeGreaterThan(
      now.getTime(),
    );
    expect((await ownerDb().drillSchedule.findUniqueOrThrow({ where: { id: paused.id } })).nextDueAt).toEqual(paused.nextDueAt);
    expect((await ownerDb().drillSchedule.findUniqueOrThrow({ where: { id: future.id } })).lastStartedAt).toBeNull();
  });
});
