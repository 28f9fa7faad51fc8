// The one event stream and the alert condition detectors, against real PostgreSQL: an event
// written with emitEvent commits or rolls back with its transaction (history line and outbox row
// alike); each detector (agent offline, lag above the RPO, credential expiring, test failover
// overdue) opens its condition once and clears it once however often it runs, whether alerting
// has already handled the event (an open Alert) or not yet (an unprocessed outbox row); a pair
// leaving the failover part of its lifecycle clears its source-lost condition.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, emitEvent, withTenant, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { AGENT_OFFLINE_GRACE_SECONDS, detectAlertConditions } from '../../apps/worker/src/jobs/alert-detectors';
import { conditionIsOpen } from '../../apps/worker/src/jobs/alert-conditions';
import { stepExecutors, type StepContext } from '../../apps/worker/src/operations/steps';
import { callerFor } from './helpers';

let db: Db;
let t: Tenant;
const scope = () => ({ organizationId: t.org.id, customerId: t.customerX.id, userId: null });

async function pairOf(status: 'protected' | 'unprotected' | 'failover_pending' = 'protected') {
  const [source, target] = [await createServer(t.customerX), await createServer(t.customerX)];
  return ownerDb().protectionPair.create({
    data: { organizationId: t.org.id, customerId: t.customerX.id, name: `pair-${randomUUID().slice(0, 6)}`, sourceServerId: source.id, targetServerId: target.id, application: 'file_server', status },
  });
}

/** The outbox events of one condition, oldest first, as [type, state]. */
async function conditionEvents(key: string) {
  const rows = await ownerDb().outboxEvent.findMany({ where: { organizationId: t.org.id, payload: { path: ['condition', 'key'], equals: key } }, orderBy: { id: 'asc' } });
  return rows.map((r) => [r.type, (r.payload as { condition: { state: string } }).condition.state]);
}

const seconds = (from: Date, s: number) => new Date(from.getTime() + s * 1000);
const run = (at: Date) => detectAlertConditions(db, at, t.org.id);

beforeAll(async () => {
  t = await createTenant();
  // The worker's role: row-level security applies.
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
});

afterAll(async () => {
  await db?.$disconnect();
});

describe('emitEvent', () => {
  it('writes the history line and the outbox row with the transaction: none when it rolls back, one of each when it commits', async () => {
    const pair = await pairOf();
    const message = `event ${randomUUID()}`;
    const event = { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, kind: 'status' as const, message, type: 'failover.started' as const, data: { operationId: 'x' } };
    await expect(
      withTenant(
        scope(),
        async (tx) => {
          await emitEvent(tx, event);
          throw new Error('rolled back on purpose');
        },
        db,
      ),
    ).rejects.toThrow('rolled back on purpose');
    expect(await ownerDb().pairEvent.count({ where: { pairId: pair.id, message } })).toBe(0);
    expect(await ownerDb().outboxEvent.count({ where: { pairId: pair.id, message } })).toBe(0);

    await withTenant(scope(), (tx) => emitEvent(tx, event), db);
    expect(await ownerDb().pairEvent.count({ where: { pairId: pair.id, message } })).toBe(1);
    const outbox = await ownerDb().outboxEvent.findMany({ where: { pairId: pair.id, message } });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ type: 'failover.started', customerId: t.customerX.id, processedAt: null, payload: { data: { operationId: 'x' } } });

    // history: false is for alerting only.
    const quiet = `quiet ${randomUUID()}`;
    await withTenant(scope(), (tx) => emitEvent(tx, { ...event, message: quiet, history: false }), db);
    expect(await ownerDb().pairEvent.count({ where: { pairId: pair.id, message: quiet } })).toBe(0);
    expect(await ownerDb().outboxEvent.count({ where: { pairId: pair.id, message: quiet } })).toBe(1);
  });
});

describe('detectors', () => {
  it('agent offline: quiet during the grace time, opens once after it, clears once when the agent is back (also after alerting handled the open)', async () => {
    const server = await createServer(t.customerX);
    const now = new Date();
    const agent = await ownerDb().agent.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: server.id, status: 'offline', lastSeenAt: seconds(now, -30) } });
    const key = `agent.offline:${agent.id}`;

    await run(now);
    expect(await conditionEvents(key)).toEqual([]);
    const later = seconds(now, AGENT_OFFLINE_GRACE_SECONDS);
    await run(later);
    await run(seconds(later, 60));
    expect(await conditionEvents(key)).toEqual([['agent.offline', 'open']]);
    const opened = await ownerDb().outboxEvent.findFirstOrThrow({ where: { organizationId: t.org.id, type: 'agent.offline', payload: { path: ['condition', 'key'], equals: key } } });
    expect(opened).toMatchObject({ customerId: t.customerX.id, pairId: null, severity: 'error', payload: { subject: { kind: 'server', id: server.id, name: server.hostname }, customerName: t.customerX.name } });
    expect(opened.message).toContain(server.hostname);

    // Alerting handled it: the outbox row is processed and the Alert is open. Still one open.
    await ownerDb().outboxEvent.update({ where: { id: opened.id }, data: { processedAt: new Date() } });
    await ownerDb().alert.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, conditionKey: key, type: 'agent.offline', severity: 'error', message: opened.message, openedEventId: opened.id } });
    await run(seconds(later, 120));
    expect(await conditionEvents(key)).toEqual([['agent.offline', 'open']]);

    await ownerDb().agent.update({ where: { id: agent.id }, data: { status: 'online', lastSeenAt: seconds(later, 170) } });
    await run(seconds(later, 180));
    await run(seconds(later, 240));
    expect(await conditionEvents(key)).toEqual([['agent.offline', 'open'], ['agent.online', 'clear']]);
  });

  it('lag above the RPO: opens once with lag and RPO, in the pair history too; clears once when a sample is back under', async () => {
    const pair = await pairOf();
    const key = `lag.high:${pair.id}`;
    const now = new Date();
    const sample = (at: Date, lagSeconds: number) =>
      ownerDb().replicationSample.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, at, lagSeconds } });
    await sample(now, 30);
    await run(now);
    expect(await conditionEvents(key)).toEqual([]);

    await ownerDb().customer.update({ where: { id: t.customerX.id }, data: { rpoSeconds: 600 } });
    await sample(seconds(now, 10), 1200.4);
    await run(seconds(now, 11));
    await run(seconds(now, 12));
    expect(await conditionEvents(key)).toEqual([['lag.high', 'open']]);
    const high = await ownerDb().outboxEvent.findFirstOrThrow({ where: { pairId: pair.id, type: 'lag.high' } });
    expect(high.payload).toMatchObject({ data: { lagSeconds: 1200, rpoSeconds: 600 }, pairName: pair.name });
    expect(await ownerDb().pairEvent.count({ where: { pairId: pair.id, message: high.message } })).toBe(1);

    await sample(seconds(now, 20), 5);
    await run(seconds(now, 21));
    await run(seconds(now, 22));
    expect(await conditionEvents(key)).toEqual([['lag.high', 'open'], ['lag.ok', 'clear']]);

    // A protected pair that stops reporting for longer than the RPO is as bad as a high lag.
    await run(seconds(now, 20 + 601));
    expect(await conditionEvents(key)).toEqual([['lag.high', 'open'], ['lag.ok', 'clear'], ['lag.high', 'open']]);
    await ownerDb().customer.update({ where: { id: t.customerX.id }, data: { rpoSeconds: 900 } });
  });

  it('credential expiring: opens once within 14 days (organization-wide too), clears once when renewed or the date is removed', async () => {
    const now = new Date();
    const make = (customerId: string | null, days: number) =>
      ownerDb().credential.create({ data: { organizationId: t.org.id, customerId, kind: 'other', name: `cred-${randomUUID().slice(0, 6)}`, secretEnc: 'sealed', expiresAt: seconds(now, days * 86400) } });
    const mine = await make(t.customerX.id, 20);
    const shared = await make(null, 3);
    await run(now);
    await run(seconds(now, 60));
    expect(await conditionEvents(`credential.expiring:${mine.id}`)).toEqual([]);
    expect(await conditionEvents(`credential.expiring:${shared.id}`)).toEqual([['credential.expiring', 'open']]);
    const sharedEvent = await ownerDb().outboxEvent.findFirstOrThrow({ where: { type: 'credential.expiring', payload: { path: ['subject', 'id'], equals: shared.id } } });
    expect(sharedEvent.customerId).toBeNull();

    // Six days later the customer's credential is within 14 days too.
    const week = seconds(now, 7 * 86400);
    await run(week);
    await run(seconds(week, 60));
    expect(await conditionEvents(`credential.expiring:${mine.id}`)).toEqual([['credential.expiring', 'open']]);

    await ownerDb().credential.update({ where: { id: mine.id }, data: { expiresAt: seconds(now, 400 * 86400) } });
    await ownerDb().credential.update({ where: { id: shared.id }, data: { expiresAt: null } });
    await run(seconds(week, 120));
    await run(seconds(week, 180));
    expect(await conditionEvents(`credential.expiring:${mine.id}`)).toEqual([['credential.expiring', 'open'], ['credential.renewed', 'clear']]);
    expect(await conditionEvents(`credential.expiring:${shared.id}`)).toEqual([['credential.expiring', 'open'], ['credential.renewed', 'clear']]);
  });

  it('a credential’s expiry date is set, changed and removed through the API (audited), and the detector follows it', async () => {
    const api = callerFor(t.operator.id).credential;
    const c = await api.create({ kind: 'domain', name: `acct-${randomUUID().slice(0, 6)}`, customerId: t.customerX.id, user: 'CORP\\tandem', password: 'pw', expiresAt: '2026-12-10' });
    expect(c.expiresAt).toBe('2026-12-10');
    const key = `credential.expiring:${c.id}`;
    const at = new Date('2026-12-01T12:00:00Z');
    await run(at);
    expect(await conditionEvents(key)).toEqual([['credential.expiring', 'open']]);
    expect((await api.update({ id: c.id, expiresAt: '2028-01-31' })).expiresAt).toBe('2028-01-31');
    await run(at);
    expect(await conditionEvents(key)).toEqual([['credential.expiring', 'open'], ['credential.renewed', 'clear']]);
    expect((await api.update({ id: c.id, expiresAt: null })).expiresAt).toBeNull();
    const audit = await ownerDb().auditEvent.findMany({ where: { targetId: c.id, action: 'credential.update' }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => (a.changes as { expiresAt?: unknown }).expiresAt)).toEqual([{ from: '2026-12-10', to: '2028-01-31' }, { from: '2028-01-31', to: null }]);
    await expect(api.update({ id: c.id, expiresAt: 'next tuesday' })).rejects.toThrow();
  });

  it('a subject deleted while its condition is open clears it once (here a credential)', async () => {
    const now = new Date();
    const cred = await ownerDb().credential.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, kind: 'other', name: `gone-${randomUUID().slice(0, 6)}`, secretEnc: 'sealed', expiresAt: seconds(now, 86400) } });
    const key = `credential.expiring:${cred.id}`;
    await run(now);
    const opened = await ownerDb().outboxEvent.findFirstOrThrow({ where: { organizationId: t.org.id, type: 'credential.expiring', payload: { path: ['condition', 'key'], equals: key } } });
    // Alerting handled it (processed, Alert open); then the credential is deleted.
    await ownerDb().outboxEvent.update({ where: { id: opened.id }, data: { processedAt: new Date() } });
    await ownerDb().alert.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, conditionKey: key, type: 'credential.expiring', severity: 'warning', message: opened.message, openedEventId: opened.id } });
    await ownerDb().credential.delete({ where: { id: cred.id } });
    await run(seconds(now, 60));
    await run(seconds(now, 120));
    expect(await conditionEvents(key)).toEqual([['credential.expiring', 'open'], ['credential.renewed', 'clear']]);
  });

  it('test failover overdue: opens once an hour past due with no test started, clears once when a test starts', async () => {
    const pair = await pairOf('unprotected');
    const now = new Date();
    const schedule = await ownerDb().drillSchedule.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, everyDays: 7, nextDueAt: seconds(now, -1800) } });
    const key = `test.overdue:${schedule.id}`;
    await run(now);
    expect(await conditionEvents(key)).toEqual([]);
    await run(seconds(now, 1801));
    await run(seconds(now, 1900));
    expect(await conditionEvents(key)).toEqual([['test.overdue', 'open']]);

    // A dry run is no test.
    await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, kind: 'test_failover', dryRun: true } });
    await run(seconds(now, 2000));
    expect(await conditionEvents(key)).toEqual([['test.overdue', 'open']]);
    await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, kind: 'test_failover' } });
    await run(seconds(now, 2100));
    await run(seconds(now, 2200));
    expect(await conditionEvents(key)).toEqual([['test.overdue', 'open'], ['test.done', 'clear']]);
  });
});

describe('source lost', () => {
  it('stays open while the pair is in the failover part of its lifecycle; leaving it clears the condition once', async () => {
    const pair = await pairOf('failover_pending');
    const key = `source.lost:${pair.id}`;
    await withTenant(
      scope(),
      (tx) => emitEvent(tx, { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, type: 'source.lost', severity: 'error', kind: 'detection', message: 'Source lost', condition: { key, state: 'open' } }),
      db,
    );
    expect(await withTenant(scope(), (tx) => conditionIsOpen(tx, key), db)).toBe(true);
    const ctx = {
      pair: { ...pair, source: { hostname: 's', agent: null }, target: { hostname: 't', agent: null } },
      tx: <T>(fn: (tx: Parameters<Parameters<typeof withTenant>[1]>[0]) => Promise<T>) => withTenant(scope(), fn, db),
      now: () => new Date(),
    } as unknown as StepContext;
    // The source came back while the failover waited: the pair is protected again.
    await stepExecutors['pair.set-state'](ctx, { event: 'source.back' });
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('protected');
    // Run again (as after a crash): done already, nothing more said.
    await stepExecutors['pair.set-state'](ctx, { event: 'source.back' });
    expect(await conditionEvents(key)).toEqual([['source.lost', 'open'], ['source.back', 'clear']]);
    expect(await withTenant(scope(), (tx) => conditionIsOpen(tx, key), db)).toBe(false);
  });
});
