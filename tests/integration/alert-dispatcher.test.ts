// The alert dispatcher against a real PostgreSQL: committed outbox events become one delivery per
// channel or person, exactly once; conditions open, repeat and resolve; rules, severities,
// maintenance windows, channel tests and direct recipients decide who gets what.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { appDb, emitEvent, withTenant, type EmitEvent } from '@tandem/db';
import { createCustomer, createOrganization, ownerDb } from '@tandem/db/testing';
import { LINK_PLACEHOLDER, type RenderedMessage } from '@tandem/engine';
import {
  fanOutEvent,
  fanOutOnce,
  listenerName,
  startAlertDispatcher,
  type ClaimedEvent,
} from '../../apps/worker/src/alerts/dispatcher.ts';

const portalUrl = 'https://portal.example.test';
const db = appDb();
const owner = ownerDb();

async function setup() {
  const org = await createOrganization();
  const x = await createCustomer(org.id, 'Contoso Dental');
  const y = await createCustomer(org.id, 'Fabrikam');
  const channel = (name: string, kind: 'email' | 'webhook', config: object) =>
    owner.alertChannel.create({ data: { organizationId: org.id, name, kind, config } });
  const mail = await channel('Ops mail', 'email', { addresses: ['ops@example.test', 'noc@example.test'] });
  const slack = await channel('Slack', 'webhook', { url: 'http://127.0.0.1:9/slack', preset: 'slack' });
  const hook = await channel('Hook', 'webhook', { url: 'http://127.0.0.1:9/hook', preset: 'standard' });
  const rule = (
    channelId: string,
    events: string[],
    opts: { customerId?: string; minSeverity?: 'info' | 'warning' | 'error' } = {},
  ) =>
    owner.alertRule.create({
      data: {
        organizationId: org.id,
        channelId,
        events,
        customerId: opts.customerId ?? null,
        minSeverity: opts.minSeverity ?? 'info',
      },
    });
  return { org, x, y, mail, slack, hook, rule };
}
type Setup = Awaited<ReturnType<typeof setup>>;

/** Emits one event in its own committed transaction and returns the outbox row's id. */
async function emit(s: Setup, e: Partial<EmitEvent> & { message?: string } = {}): Promise<bigint> {
  const message = e.message ?? `event ${randomUUID()}`;
  const customerId = e.customerId === undefined ? s.x.id : e.customerId;
  await withTenant({ organizationId: s.org.id, userId: null, customerId }, (tx) =>
    emitEvent(tx, { organizationId: s.org.id, customerId, customerName: 'Contoso Dental', ...e, message }),
  );
  const row = await owner.outboxEvent.findFirstOrThrow({ where: { organizationId: s.org.id, message }, select: { id: true } });
  return row.id;
}

/**
 * Runs the fan-out (this organization's events only) until the given events are processed.
 * Assertions read the database, not the results: in the full suite a worker started by another
 * test file may fan one of these events out first, which must come to the same thing.
 */
async function fanOut(s: Setup, ...ids: bigint[]): Promise<void> {
  await vi.waitFor(
    async () => {
      await fanOutOnce(db, { portalUrl, organizationIds: [s.org.id] });
      const open = await owner.outboxEvent.count({ where: { id: { in: ids }, processedAt: null } });
      expect(open).toBe(0);
    },
    { timeout: 20_000, interval: 50 },
  );
}

const deliveriesOf = (eventId: bigint) =>
  owner.alertDelivery.findMany({ where: { eventId }, orderBy: [{ channelId: 'asc' }, { recipient: 'asc' }] });
const targetsOf = async (eventId: bigint) =>
  (await deliveriesOf(eventId)).map((d) => `${d.channelId ?? '-'}|${d.recipient}`).sort();
const pairKey = (id: string) => `source.lost:${id}`;

async function claimedRow(id: bigint): Promise<ClaimedEvent> {
  const e = await owner.outboxEvent.findUniqueOrThrow({ where: { id } });
  return {
    id: e.id,
    organizationId: e.organizationId,
    customerId: e.customerId,
    pairId: e.pairId,
    type: e.type,
    severity: e.severity,
    message: e.message,
    payload: e.payload,
    createdAt: e.createdAt,
  };
}

afterAll(async () => {
  await db.$disconnect();
});

describe('alert dispatcher', () => {
  it('fans a committed event out to one delivery per matching channel address, rendered and pending', async () => {
    const s = await setup();
    await s.rule(s.mail.id, ['failover.started']);
    await s.rule(s.slack.id, ['failover.started']);
    await s.rule(s.hook.id, ['failover.failed']);
    const id = await emit(s, { type: 'failover.started', severity: 'warning', message: 'Failover of FS01 started' });
    await fanOut(s, id);

    const deliveries = await deliveriesOf(id);
    expect(deliveries.map((d) => `${d.channelId}|${d.recipient}`).sort()).toEqual(
      [`${s.mail.id}|noc@example.test`, `${s.mail.id}|ops@example.test`, `${s.slack.id}|http://127.0.0.1:9/slack`].sort(),
    );
    for (const d of deliveries) {
      expect(d).toMatchObject({
        organizationId: s.org.id,
        customerId: s.x.id,
        event: 'failover.started',
        status: 'pending',
        attempts: 0,
        linkEnc: null,
      });
      const m = d.payload as RenderedMessage;
      if (d.kind === 'email') expect(m).toMatchObject({ kind: 'email', subject: '[Warning] Failover started — Contoso Dental' });
      else expect(m).toMatchObject({ kind: 'webhook', preset: 'slack' });
    }
    const event = await owner.outboxEvent.findUniqueOrThrow({ where: { id } });
    expect(event.processedAt).not.toBeNull();
  });

  it('never sees an event whose transaction rolled back', async () => {
    const s = await setup();
    await s.rule(s.slack.id, ['failover.failed']);
    const lost = `rolled back ${randomUUID()}`;
    await expect(
      withTenant({ organizationId: s.org.id, userId: null, customerId: s.x.id }, async (tx) => {
        await emitEvent(tx, {
          organizationId: s.org.id,
          customerId: s.x.id,
          type: 'failover.failed',
          severity: 'error',
          message: lost,
        });
        throw new Error('the change it reports failed');
      }),
    ).rejects.toThrow('the change it reports failed');
    const after = await emit(s, { type: 'failover.failed', severity: 'error' });
    await fanOut(s, after);
    expect(await owner.outboxEvent.count({ where: { message: lost } })).toBe(0);
    const all = await owner.alertDelivery.findMany({ where: { organizationId: s.org.id } });
    expect(all.map((d) => d.eventId)).toEqual([after]);
  });

  it('fans an event out once however often it is claimed (two dispatchers, a lost processed mark)', async () => {
    const s = await setup();
    await s.rule(s.mail.id, ['failover.succeeded']);
    const id = await emit(s, { type: 'failover.succeeded' });
    const row = await claimedRow(id);
    // Two dispatchers holding the same event (a claim that ran out): the row lock lets one through.
    const both = await Promise.all([fanOutEvent(db, row, { portalUrl }), fanOutEvent(db, row, { portalUrl })]);
    expect(both.filter((r) => r.deliveries > 0).length).toBeLessThanOrEqual(1);
    await fanOut(s, id);
    expect(await targetsOf(id)).toEqual([`${s.mail.id}|noc@example.test`, `${s.mail.id}|ops@example.test`]);
    // Even if the processed mark were lost, the unique (event, channel, recipient) index keeps one of each.
    await owner.outboxEvent.update({ where: { id }, data: { processedAt: null, claimedUntil: null } });
    const again = await fanOutEvent(db, await claimedRow(id), { portalUrl });
    expect(again.deliveries).toBe(0);
    expect(await deliveriesOf(id)).toHaveLength(2);
  });

  it('opens one alert per condition, ignores repeats, and resolves to the channels it opened on', async () => {
    const s = await setup();
    await s.rule(s.hook.id, ['source.lost']);
    await s.rule(s.mail.id, ['source.lost'], { minSeverity: 'error' });
    const key = pairKey(randomUUID());
    const opened = await emit(s, {
      type: 'source.lost',
      severity: 'error',
      condition: { key, state: 'open' },
      message: 'FS01 lost',
    });
    await fanOut(s, opened);
    expect(await deliveriesOf(opened)).toHaveLength(3);
    const alert = await owner.alert.findFirstOrThrow({ where: { organizationId: s.org.id, conditionKey: key } });
    expect(alert).toMatchObject({ resolvedAt: null, openedEventId: opened, type: 'source.lost', customerId: s.x.id });
    expect((await deliveriesOf(opened)).every((d) => d.alertId === alert.id)).toBe(true);

    const repeat = await emit(s, { type: 'source.lost', severity: 'error', condition: { key, state: 'open' } });
    await fanOut(s, repeat);
    expect(await deliveriesOf(repeat)).toEqual([]);
    expect(await owner.alert.count({ where: { organizationId: s.org.id, conditionKey: key } })).toBe(1);
    const touched = await owner.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(touched.lastEventAt.getTime()).toBeGreaterThanOrEqual(alert.lastEventAt.getTime());

    // The clear is info: below the mail rule's minimum, yet "resolved" goes wherever the alert went.
    const cleared = await emit(s, {
      type: 'source.back',
      severity: 'info',
      condition: { key, state: 'clear' },
      message: 'FS01 back',
    });
    await fanOut(s, cleared);
    expect((await deliveriesOf(cleared)).map((d) => d.alertId)).toEqual([alert.id, alert.id, alert.id]);
    expect(await owner.alert.findUniqueOrThrow({ where: { id: alert.id } })).toMatchObject({ resolvedEventId: cleared });
    expect((await owner.alert.findUniqueOrThrow({ where: { id: alert.id } })).resolvedAt).not.toBeNull();
    expect(await targetsOf(cleared)).toEqual(await targetsOf(opened));
    for (const d of await deliveriesOf(cleared)) {
      const m = d.payload as RenderedMessage;
      if (m.kind === 'email') expect(m.subject).toMatch(/^Resolved: /);
      else expect(m.body).toMatchObject({ type: 'source.back', resolved: true });
    }

    // The condition can open again: a new alert.
    const reopened = await emit(s, { type: 'source.lost', severity: 'error', condition: { key, state: 'open' } });
    await fanOut(s, reopened);
    const second = await owner.alert.findFirstOrThrow({
      where: { organizationId: s.org.id, conditionKey: key, resolvedAt: null },
    });
    expect(second.id).not.toBe(alert.id);
    expect(second.openedEventId).toBe(reopened);
    expect(await deliveriesOf(reopened)).toHaveLength(3);
  });

  it("uses a customer's own rule for a channel instead of the organization default", async () => {
    const s = await setup();
    await s.rule(s.slack.id, ['failover.started', 'failover.failed']);
    await s.rule(s.hook.id, ['failover.started']);
    await s.rule(s.slack.id, ['failover.failed'], { customerId: s.x.id });
    const forX = await emit(s, { type: 'failover.started', customerId: s.x.id });
    const forY = await emit(s, { type: 'failover.started', customerId: s.y.id });
    const failedX = await emit(s, { type: 'failover.failed', severity: 'error', customerId: s.x.id });
    await fanOut(s, forX, forY, failedX);
    expect(await targetsOf(forX)).toEqual([`${s.hook.id}|http://127.0.0.1:9/hook`]);
    expect(await targetsOf(forY)).toEqual(
      [`${s.hook.id}|http://127.0.0.1:9/hook`, `${s.slack.id}|http://127.0.0.1:9/slack`].sort(),
    );
    expect(await targetsOf(failedX)).toEqual([`${s.slack.id}|http://127.0.0.1:9/slack`]);
  });

  it("drops events below a rule's minimum severity", async () => {
    const s = await setup();
    await s.rule(s.slack.id, ['lag.high'], { minSeverity: 'error' });
    await s.rule(s.hook.id, ['lag.high'], { minSeverity: 'warning' });
    const warning = await emit(s, { type: 'lag.high', severity: 'warning' });
    const error = await emit(s, { type: 'lag.high', severity: 'error' });
    await fanOut(s, warning, error);
    expect(await targetsOf(warning)).toEqual([`${s.hook.id}|http://127.0.0.1:9/hook`]);
    expect(await targetsOf(error)).toEqual(
      [`${s.hook.id}|http://127.0.0.1:9/hook`, `${s.slack.id}|http://127.0.0.1:9/slack`].sort(),
    );
  });

  it('mutes channels during a maintenance window of the customer or the pair, while the alert still opens', async () => {
    const s = await setup();
    await s.rule(s.slack.id, ['source.lost', 'failover.started']);
    const now = Date.now();
    await owner.maintenanceWindow.create({
      data: {
        organizationId: s.org.id,
        customerId: s.x.id,
        pairId: 'pair-in-maintenance',
        startsAt: new Date(now - 60_000),
        endsAt: new Date(now + 3_600_000),
        reason: 'patching',
      },
    });
    const key = pairKey('pair-in-maintenance');
    const muted = await emit(s, {
      type: 'source.lost',
      severity: 'error',
      pairId: 'pair-in-maintenance',
      history: false,
      condition: { key, state: 'open' },
    });
    const otherPair = await emit(s, { type: 'failover.started', pairId: 'another-pair', history: false });
    const otherCustomer = await emit(s, { type: 'failover.started', customerId: s.y.id });
    await fanOut(s, muted, otherPair, otherCustomer);
    expect(await deliveriesOf(muted)).toEqual([]);
    expect(await owner.alert.count({ where: { organizationId: s.org.id, conditionKey: key, resolvedAt: null } })).toBe(1);
    expect(await targetsOf(otherPair)).toEqual([`${s.slack.id}|http://127.0.0.1:9/slack`]);
    expect(await targetsOf(otherCustomer)).toEqual([`${s.slack.id}|http://127.0.0.1:9/slack`]);
  });

  it('sends a channel test only to that channel', async () => {
    const s = await setup();
    await s.rule(s.slack.id, ['failover.started']);
    const id = await emit(s, { type: 'alert.test', customerId: null, data: { channelId: s.mail.id } });
    await fanOut(s, id);
    expect(await targetsOf(id)).toEqual([`${s.mail.id}|noc@example.test`, `${s.mail.id}|ops@example.test`]);
    const [d] = await deliveriesOf(id);
    expect(d!.payload).toMatchObject({ kind: 'email', subject: 'Tandem test message' });
  });

  it("addresses approval requests to their recipients with each person's sealed link", async () => {
    const s = await setup();
    await s.rule(s.slack.id, ['failover.pending']);
    const id = await emit(s, {
      type: 'approval.requested',
      severity: 'warning',
      pairName: 'FS01 → FS02',
      recipients: [
        { email: 'ann@example.test', userId: 'u-ann', linkEnc: 'sealed-link-ann' },
        { email: 'bob@example.test', userId: 'u-bob', linkEnc: 'sealed-link-bob' },
      ],
      data: {
        approvalId: 'appr-1',
        deadlineAt: new Date(Date.now() + 900_000).toISOString(),
        policyStatement: 'A customer approver decides.',
      },
    });
    await fanOut(s, id);
    const deliveries = await deliveriesOf(id);
    expect(deliveries.map((d) => [d.channelId, d.kind, d.recipient, d.linkEnc])).toEqual([
      [null, 'email', 'ann@example.test', 'sealed-link-ann'],
      [null, 'email', 'bob@example.test', 'sealed-link-bob'],
    ]);
    const m = deliveries[0]!.payload as RenderedMessage;
    expect(m).toMatchObject({ kind: 'email', subject: 'Approval needed: failover of FS01 → FS02' });
    if (m.kind === 'email') {
      expect(m.html).toContain(LINK_PLACEHOLDER);
      expect(m.text).toContain('A customer approver decides.');
    }
  });

  it("applies a condition's events in order even when a later one is claimed first", async () => {
    const s = await setup();
    await s.rule(s.hook.id, ['agent.offline']);
    const key = `agent.offline:${randomUUID()}`;
    const opened = await emit(s, { type: 'agent.offline', severity: 'error', condition: { key, state: 'open' } });
    const cleared = await emit(s, { type: 'agent.online', condition: { key, state: 'clear' } });
    // The clear reaches a dispatcher while its open is still unprocessed: it waits.
    const early = await fanOutEvent(db, await claimedRow(cleared), { portalUrl });
    expect(early.skipped === 'deferred' || early.skipped === 'already-processed').toBe(true);
    await fanOut(s, opened, cleared);
    const alert = await owner.alert.findFirstOrThrow({ where: { organizationId: s.org.id, conditionKey: key } });
    expect(alert).toMatchObject({ openedEventId: opened, resolvedEventId: cleared });
    expect(await targetsOf(cleared)).toEqual([`${s.hook.id}|http://127.0.0.1:9/hook`]);
  });

  it('the running loop is woken by NOTIFY when an event commits (polling off), then sends', async () => {
    const s = await setup();
    await s.rule(s.hook.id, ['failover.failed']);
    const sends: number[] = [];
    const dispatcher = startAlertDispatcher(db, {
      databaseUrl: process.env.APP_DATABASE_URL!,
      portalUrl,
      // No poll within the test: only the notification can wake the loop for the new event.
      pollMs: 3_600_000,
      organizationIds: [s.org.id],
      send: () => Promise.resolve(sends.push(Date.now())),
    });
    try {
      await dispatcher.listening;
      const id = await emit(s, { type: 'failover.failed', severity: 'error' });
      await vi.waitFor(async () => expect(await targetsOf(id)).toEqual([`${s.hook.id}|http://127.0.0.1:9/hook`]), {
        timeout: 10_000,
        interval: 50,
      });
      await vi.waitFor(() => expect(sends.length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
    } finally {
      await dispatcher.stop();
    }
  });

  it('listens again after its connection is cut', async () => {
    const s = await setup();
    await s.rule(s.hook.id, ['failover.failed']);
    const backends = async () =>
      (await db.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = ${listenerName()}`).map(
        (r) => r.pid,
      );
    const dispatcher = startAlertDispatcher(db, {
      databaseUrl: process.env.APP_DATABASE_URL!,
      portalUrl,
      pollMs: 3_600_000,
      organizationIds: [s.org.id],
    });
    try {
      await dispatcher.listening;
      const [first] = await backends();
      expect(first).toBeDefined();
      // The app role may end its own sessions: the listener's connection dies as in a server restart.
      await db.$queryRaw`SELECT pg_terminate_backend(${first}::int)`;
      await vi.waitFor(async () => expect((await backends()).filter((p) => p !== first)).toHaveLength(1), {
        timeout: 10_000,
        interval: 50,
      });
      const id = await emit(s, { type: 'failover.failed', severity: 'error' });
      await vi.waitFor(async () => expect(await targetsOf(id)).toEqual([`${s.hook.id}|http://127.0.0.1:9/hook`]), {
        timeout: 10_000,
        interval: 50,
      });
    } finally {
      await dispatcher.stop();
    }
    await vi.waitFor(async () => expect(await backends()).toEqual([]), { timeout: 10_000, interval: 50 });
  });
});
