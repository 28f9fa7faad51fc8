// The alerting API through the tRPC caller, against real PostgreSQL: the mail server settings
// (password sealed, never returned, blank keeps it), channels (a webhook's signing secret shown
// once, a PagerDuty routing key never), "send test" writing an alert.test event, rules, the
// delivery log (never the sealed link; redeliver), open alerts and maintenance windows; clear
// validation errors, roles, and what customer users may and may not see.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { openSecret } from '@tandem/security';
import { auditEventsOf, callerFor, expectCode, httpCall, type HttpErrorBody } from './helpers';

let t: Tenant;
let other: Tenant;

beforeAll(async () => {
  [t, other] = await Promise.all([createTenant(), createTenant()]);
});

/** Everything the API and the audit log said, as one text to search for secrets. */
const everything = async (...responses: unknown[]) => JSON.stringify(responses) + JSON.stringify(await auditEventsOf(t.org.id));

const hookName = () => `hook-${randomUUID().slice(0, 6)}`;

/** A call over HTTP that must fail with 400: the message and field errors a browser gets. */
async function refused(userId: string, path: string, input: unknown) {
  const res = await httpCall(userId, path, input);
  expect(res.status).toBe(400);
  return (res.body as HttpErrorBody).error;
}

describe('mail server settings', () => {
  it('an owner saves them; the password is sealed to the organization, never returned or audited; blank keeps it', async () => {
    const owner = callerFor(t.owner.id);
    expect(await owner.alert.smtp.get()).toBeNull();
    const password = `pw-${randomUUID()}`;
    const saved = await owner.alert.smtp.set({ host: 'smtp.example.test', port: 587, security: 'starttls', username: 'tandem', password, fromAddress: 'Alerts@Example.test', fromName: 'Tandem alerts' });
    expect(saved).toMatchObject({ host: 'smtp.example.test', username: 'tandem', hasPassword: true, fromAddress: 'alerts@example.test' });
    const row = await ownerDb().smtpSettings.findUniqueOrThrow({ where: { organizationId: t.org.id } });
    expect(openSecret(row.passwordEnc!, `smtp:${t.org.id}`)).toBe(password);

    const again = await owner.alert.smtp.set({ host: 'smtp2.example.test', port: 465, security: 'tls', username: 'tandem', password: '', fromAddress: 'alerts@example.test', fromName: 'Tandem' });
    expect(again?.hasPassword).toBe(true);
    const kept = await ownerDb().smtpSettings.findUniqueOrThrow({ where: { organizationId: t.org.id } });
    expect(kept.passwordEnc).toBe(row.passwordEnc);
    const got = await owner.alert.smtp.get();
    expect(await everything(saved, again, got)).not.toContain(password);
    expect(JSON.stringify(got)).not.toContain(row.passwordEnc!);

    // No user name: no sign-in, and no password kept.
    const anonymous = await owner.alert.smtp.set({ host: 'smtp2.example.test', port: 25, security: 'none', fromAddress: 'alerts@example.test', fromName: 'Tandem' });
    expect(anonymous).toMatchObject({ username: null, hasPassword: false });
  });

  it('"Send test e-mail" writes an alert.test event addressed to the given person', async () => {
    const { eventId } = await callerFor(t.owner.id).alert.smtp.test({ to: 'someone@example.test' });
    const e = await ownerDb().outboxEvent.findUniqueOrThrow({ where: { id: BigInt(eventId) } });
    expect(e).toMatchObject({ organizationId: t.org.id, customerId: null, type: 'alert.test' });
    expect((e.payload as { recipients: { email: string }[] }).recipients).toEqual([{ email: 'someone@example.test' }]);
  });

  it('refuses bad input clearly, the test before any settings, and anyone below admin', async () => {
    const owner = callerFor(t.owner.id);
    const bad = await expectCode(owner.alert.smtp.set({ host: 'smtp.example.test', port: 70000, security: 'starttls', fromAddress: 'not-an-address', fromName: 'x' }), 'BAD_REQUEST');
    expect(bad.message).toMatch(/port|e-mail/i);
    const err = await expectCode(callerFor(other.owner.id).alert.smtp.test({ to: 'a@example.test' }), 'BAD_REQUEST');
    expect(err.message).toMatch(/mail server settings first/);
    await expectCode(callerFor(t.operator.id).alert.smtp.get(), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).alert.smtp.get(), 'FORBIDDEN');
  });
});

describe('channels', () => {
  it('a webhook channel’s signing secret is shown in the create answer only; rotating shows a new one once', async () => {
    const owner = callerFor(t.owner.id);
    const created = await owner.alert.channel.create({ kind: 'webhook', name: hookName(), url: 'https://hooks.example.test/tandem', preset: 'slack' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(created.secret!.slice(6), 'base64')).toHaveLength(24);
    const row = await ownerDb().alertChannel.findUniqueOrThrow({ where: { id: created.channel.id } });
    expect(openSecret(row.secretEnc!, `alert-channel:${row.id}`)).toBe(created.secret);
    expect(created.channel).toMatchObject({ kind: 'webhook', url: 'https://hooks.example.test/tandem', preset: 'slack', hasSecret: true, enabled: true });

    const list = await owner.alert.channel.list();
    const updated = await owner.alert.channel.update({ channelId: row.id, enabled: false });
    expect(updated.enabled).toBe(false);
    expect(await everything(list, updated)).not.toContain(created.secret!);

    const { secret } = await owner.alert.channel.rotateSecret({ channelId: row.id });
    expect(secret).not.toBe(created.secret);
    const rotated = await ownerDb().alertChannel.findUniqueOrThrow({ where: { id: row.id } });
    expect(openSecret(rotated.secretEnc!, `alert-channel:${row.id}`)).toBe(secret);
    expect(await everything(await owner.alert.channel.list())).not.toContain(secret);
  });

  it('a PagerDuty channel stores the routing key it is given and never shows it', async () => {
    const owner = callerFor(t.owner.id);
    const key = `R0UT1NG${randomUUID().replaceAll('-', '')}`;
    const created = await owner.alert.channel.create({ kind: 'webhook', name: hookName(), url: 'https://events.pagerduty.com/v2/enqueue', preset: 'pagerduty', routingKey: key });
    expect(created.secret).toBeNull();
    const row = await ownerDb().alertChannel.findUniqueOrThrow({ where: { id: created.channel.id } });
    expect(openSecret(row.secretEnc!, `alert-channel:${row.id}`)).toBe(key);
    expect(await everything(created, await owner.alert.channel.list())).not.toContain(key);
    await expectCode(owner.alert.channel.rotateSecret({ channelId: row.id }), 'BAD_REQUEST');
    const cannot = await expectCode(owner.alert.channel.update({ channelId: row.id, preset: 'standard' }), 'BAD_REQUEST');
    expect(cannot.message).toMatch(/PagerDuty/);
    await expectCode(owner.alert.channel.create({ kind: 'webhook', name: hookName(), url: 'https://events.pagerduty.com/v2/enqueue', preset: 'pagerduty' }), 'BAD_REQUEST');
  });

  it('an e-mail channel keeps its addresses; validation errors say what is wrong', async () => {
    const owner = callerFor(t.owner.id);
    const mail = await owner.alert.channel.create({ kind: 'email', name: `On call ${randomUUID().slice(0, 4)}`, addresses: ['Oncall@Example.test', 'boss@example.test'] });
    expect(mail.secret).toBeNull();
    expect(mail.channel).toMatchObject({ kind: 'email', addresses: ['oncall@example.test', 'boss@example.test'], hasSecret: false });

    const noAddresses = await expectCode(owner.alert.channel.create({ kind: 'email', name: 'Nobody', addresses: [] }), 'BAD_REQUEST');
    expect(noAddresses.message).toMatch(/at least one e-mail address/);
    const badUrl = await refused(t.owner.id, 'alert.channel.create', { kind: 'webhook', name: 'Bad', url: 'hooks.example.test/x', preset: 'standard' });
    expect(badUrl.message).toBe('Invalid input: url: Enter a full URL, such as https://hooks.example.com/tandem');
    expect(badUrl.data.fields).toMatchObject({ url: 'Enter a full URL, such as https://hooks.example.com/tandem' });
    const ftp = await expectCode(owner.alert.channel.create({ kind: 'webhook', name: 'Ftp', url: 'ftp://hooks.example.test/x', preset: 'standard' }), 'BAD_REQUEST');
    expect(ftp.message).toMatch(/http:\/\/ or https:\/\//);
    const wrongKind = await expectCode(owner.alert.channel.update({ channelId: mail.channel.id, url: 'https://x.example.test' }), 'BAD_REQUEST');
    expect(wrongKind.message).toMatch(/no url/);
  });

  it('operators list and send tests but cannot change channels; customer users see none', async () => {
    const owner = callerFor(t.owner.id);
    const { channel } = await owner.alert.channel.create({ kind: 'webhook', name: hookName(), url: 'https://hooks.example.test/t', preset: 'standard' });
    const operator = callerFor(t.operator.id);
    expect((await operator.alert.channel.list()).map((c) => c.id)).toContain(channel.id);
    await expectCode(operator.alert.channel.create({ kind: 'email', name: 'x', addresses: ['a@example.test'] }), 'FORBIDDEN');
    await expectCode(operator.alert.channel.remove({ channelId: channel.id }), 'FORBIDDEN');

    const { eventId } = await operator.alert.channel.sendTest({ channelId: channel.id });
    const e = await ownerDb().outboxEvent.findUniqueOrThrow({ where: { id: BigInt(eventId) } });
    expect(e).toMatchObject({ type: 'alert.test', customerId: null, organizationId: t.org.id });
    expect((e.payload as { data: { channelId: string } }).data.channelId).toBe(channel.id);

    await expectCode(callerFor(t.customerUser.id).alert.channel.list(), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).alert.rule.list({}), 'FORBIDDEN');
    await expectCode(callerFor(t.viewer.id).alert.channel.list(), 'FORBIDDEN');
  });

  it('removing a channel removes its rules, keeps its delivery log and ends what was still waiting as not sent, audited', async () => {
    const owner = callerFor(t.owner.id);
    const { channel } = await owner.alert.channel.create({ kind: 'email', name: `Gone ${randomUUID().slice(0, 4)}`, addresses: ['gone@example.test'] });
    const rule = await owner.alert.rule.create({ customerId: null, channelId: channel.id, events: ['agent.offline'] });
    const sent = await delivery(t, { customerId: null, channelId: channel.id, status: 'delivered', recipient: 'gone@example.test' });
    const waiting = await delivery(t, { customerId: null, channelId: channel.id, status: 'pending', recipient: 'gone@example.test' });
    await owner.alert.channel.remove({ channelId: channel.id });
    expect(await ownerDb().alertRule.findUnique({ where: { id: rule.id } })).toBeNull();
    expect(await ownerDb().alertDelivery.findUniqueOrThrow({ where: { id: sent.id } })).toMatchObject({ channelId: null, status: 'delivered' });
    expect(await ownerDb().alertDelivery.findUniqueOrThrow({ where: { id: waiting.id } })).toMatchObject({
      channelId: null,
      status: 'failed',
      lastError: 'Not sent: the channel was removed before this message went out',
      claimedUntil: null,
    });
    const log = await owner.alert.delivery.list({});
    expect(log.items.find((d) => d.id === sent.id)).toMatchObject({ channelId: null, channelName: null, status: 'delivered' });
    const audited = (await auditEventsOf(t.org.id)).filter((a) => a.targetId === channel.id);
    expect(audited.map((a) => a.action)).toEqual(expect.arrayContaining(['alert.channel.create', 'alert.channel.remove']));
    expect(audited.find((a) => a.action === 'alert.channel.remove')?.summary).toMatch(/1 waiting message was not sent$/);
  });
});

describe('rules', () => {
  it('organization defaults and a customer’s own rules; listed per customer with the defaults', async () => {
    const owner = callerFor(t.owner.id);
    const { channel } = await owner.alert.channel.create({ kind: 'email', name: `Rules ${randomUUID().slice(0, 4)}`, addresses: ['ops@example.test'] });
    const operator = callerFor(t.operator.id);
    const def = await operator.alert.rule.create({ customerId: null, channelId: channel.id, events: ['agent.offline', 'source.lost', 'agent.offline'] });
    expect(def).toMatchObject({ customerId: null, events: ['agent.offline', 'source.lost'], minSeverity: 'info', enabled: true, channelName: channel.name });
    const own = await operator.alert.rule.create({ customerId: t.customerX.id, channelId: channel.id, events: ['failover.started', 'failover.succeeded'], minSeverity: 'warning' });
    expect(own.customerName).toBe(t.customerX.name);

    const forX = await operator.alert.rule.list({ customerId: t.customerX.id });
    expect(forX.map((r) => r.id)).toEqual(expect.arrayContaining([def.id, own.id]));
    const forY = await operator.alert.rule.list({ customerId: t.customerY.id });
    expect(forY.map((r) => r.id)).toContain(def.id);
    expect(forY.map((r) => r.id)).not.toContain(own.id);

    const changed = await operator.alert.rule.update({ ruleId: own.id, enabled: false, events: ['failover.failed'] });
    expect(changed).toMatchObject({ enabled: false, events: ['failover.failed'] });
    await operator.alert.rule.remove({ ruleId: own.id });
    expect(await ownerDb().alertRule.findUnique({ where: { id: own.id } })).toBeNull();

    const none = await expectCode(operator.alert.rule.create({ customerId: null, channelId: channel.id, events: [] }), 'BAD_REQUEST');
    expect(none.message).toMatch(/at least one event/);
    await expectCode(operator.alert.rule.create({ customerId: null, channelId: channel.id, events: ['pair.event' as never] }), 'BAD_REQUEST');
    await expectCode(operator.alert.rule.create({ customerId: null, channelId: randomUUID(), events: ['lag.high'] }), 'NOT_FOUND');
    await expectCode(callerFor(t.viewer.id).alert.rule.create({ customerId: null, channelId: channel.id, events: ['lag.high'] }), 'FORBIDDEN');
    const actions = (await auditEventsOf(t.org.id)).filter((a) => a.targetId === own.id).map((a) => a.action);
    expect(actions).toEqual(['alert.rule.create', 'alert.rule.update', 'alert.rule.remove']);
  });
});

/** A delivery row as the dispatcher would write it (with a sealed link the API must never show). */
async function delivery(tenant: Tenant, over: { customerId: string | null; channelId?: string | null; status?: 'pending' | 'delivered' | 'failed'; kind?: 'email' | 'webhook'; recipient?: string }) {
  return ownerDb().alertDelivery.create({
    data: {
      organizationId: tenant.org.id,
      customerId: over.customerId,
      channelId: over.channelId ?? null,
      kind: over.kind ?? 'email',
      recipient: over.recipient ?? 'someone@example.test',
      event: 'failover.started',
      payload: { kind: 'email', subject: 'Failover started', text: 't', html: '<p>t</p>' },
      linkEnc: 'SEALED-LINK-MUST-NOT-LEAK',
      status: over.status ?? 'failed',
      attempts: 3,
      claimedUntil: new Date(Date.now() + 60_000),
      nextAttemptAt: new Date(Date.now() + 3_600_000),
      log: [{ at: new Date().toISOString(), ms: 12, statusCode: 500, error: 'HTTP 500' }],
      lastStatusCode: 500,
      lastError: 'HTTP 500',
    },
  });
}

describe('the delivery log', () => {
  it('lists newest first with attempts, log and last code, filtered, never the sealed link; redeliver re-queues it', async () => {
    const operator = callerFor(t.operator.id);
    const x = await delivery(t, { customerId: t.customerX.id });
    const org = await delivery(t, { customerId: null, status: 'delivered' });
    const page = await operator.alert.delivery.list({});
    expect(page.items.map((d) => d.id).slice(0, 2)).toEqual([org.id, x.id]);
    const shown = page.items.find((d) => d.id === x.id)!;
    expect(shown).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: 500, lastError: 'HTTP 500', summary: 'Failover started', customerName: t.customerX.name });
    expect(shown.log).toHaveLength(1);
    expect(JSON.stringify(page)).not.toContain('SEALED-LINK');

    const failedOfX = await operator.alert.delivery.list({ status: 'failed', customerId: t.customerX.id });
    expect(failedOfX.items.map((d) => d.id)).toEqual([x.id]);

    await operator.alert.delivery.redeliver({ deliveryId: x.id });
    const after = await ownerDb().alertDelivery.findUniqueOrThrow({ where: { id: x.id } });
    expect(after).toMatchObject({ status: 'pending', claimedUntil: null, attempts: 3 });
    expect(after.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(after.log).toEqual(x.log);
    const audited = (await auditEventsOf(t.org.id)).find((a) => a.targetId === x.id);
    expect(audited).toMatchObject({ action: 'alert.delivery.redeliver', customerId: t.customerX.id });
    await expectCode(callerFor(t.viewer.id).alert.delivery.redeliver({ deliveryId: x.id }), 'FORBIDDEN');
  });

  it('redeliver through a turned-off channel is refused with what to do (nothing changes); on again, it is queued', async () => {
    const owner = callerFor(t.owner.id);
    const { channel } = await owner.alert.channel.create({ kind: 'webhook', name: hookName(), url: 'https://hooks.example.test/off', preset: 'standard' });
    await owner.alert.channel.update({ channelId: channel.id, enabled: false });
    const d = await delivery(t, { customerId: t.customerX.id, channelId: channel.id, kind: 'webhook', recipient: 'https://hooks.example.test/off' });
    const err = await expectCode(owner.alert.delivery.redeliver({ deliveryId: d.id }), 'CONFLICT');
    expect(err.message).toBe(`The channel "${channel.name}" is turned off; turn it on before redelivering`);
    expect(await ownerDb().alertDelivery.findUniqueOrThrow({ where: { id: d.id } })).toMatchObject({ status: 'failed', attempts: 3 });

    await owner.alert.channel.update({ channelId: channel.id, enabled: true });
    await owner.alert.delivery.redeliver({ deliveryId: d.id });
    expect(await ownerDb().alertDelivery.findUniqueOrThrow({ where: { id: d.id } })).toMatchObject({ status: 'pending' });
  });

  it('a customer user reads their own customer’s deliveries only, with a webhook shown by its origin', async () => {
    const hook = await delivery(t, { customerId: t.customerX.id, kind: 'webhook', recipient: 'https://hooks.slack.test/services/T000/B000/SECRETPATH' });
    const ofY = await delivery(t, { customerId: t.customerY.id });
    const orgWide = await delivery(t, { customerId: null });
    const customer = callerFor(t.customerUser.id);
    const page = await customer.alert.delivery.listForCustomer({ customerId: t.customerX.id });
    const ids = page.items.map((d) => d.id);
    expect(ids).toContain(hook.id);
    expect(ids).not.toContain(ofY.id);
    expect(ids).not.toContain(orgWide.id);
    expect(page.items.every((d) => d.customerId === t.customerX.id)).toBe(true);
    expect(page.items.find((d) => d.id === hook.id)!.recipient).toBe('https://hooks.slack.test');
    expect(JSON.stringify(page)).not.toMatch(/SECRETPATH|SEALED-LINK/);
    await expectCode(customer.alert.delivery.listForCustomer({ customerId: t.customerY.id }), 'NOT_FOUND');
    await expectCode(customer.alert.delivery.list({}), 'FORBIDDEN');
    // Operators see the full URL on the customer page; MSP viewers (who cannot list channels) the origin.
    const staff = await callerFor(t.operator.id).alert.delivery.listForCustomer({ customerId: t.customerX.id });
    expect(staff.items.find((d) => d.id === hook.id)!.recipient).toContain('SECRETPATH');
    const viewer = await callerFor(t.viewer.id).alert.delivery.listForCustomer({ customerId: t.customerX.id });
    expect(viewer.items.find((d) => d.id === hook.id)!.recipient).toBe('https://hooks.slack.test');
  });
});

describe('open alerts', () => {
  it('open and recently resolved alerts, open first; customer users see their own customer’s only', async () => {
    const db = ownerDb();
    const mk = (customerId: string | null, resolvedAt: Date | null, type = 'agent.offline') =>
      db.alert.create({ data: { organizationId: t.org.id, customerId, conditionKey: `${type}:${randomUUID()}`, type, severity: 'error', message: `${type} ${customerId ?? 'org'}`, resolvedAt } });
    const openX = await mk(t.customerX.id, null);
    const resolvedX = await mk(t.customerX.id, new Date(Date.now() - 3_600_000), 'lag.high');
    const oldX = await mk(t.customerX.id, new Date(Date.now() - 3 * 86_400_000));
    const openY = await mk(t.customerY.id, null);
    const orgWide = await mk(null, null, 'credential.expiring');

    const all = await callerFor(t.viewer.id).alert.open.list({});
    const ids = all.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining([openX.id, resolvedX.id, openY.id, orgWide.id]));
    expect(ids).not.toContain(oldX.id);
    expect(ids.indexOf(resolvedX.id)).toBeGreaterThan(ids.indexOf(openX.id));
    expect((await callerFor(t.viewer.id).alert.open.list({ customerId: t.customerX.id })).map((a) => a.id).sort()).toEqual([openX.id, resolvedX.id].sort());

    const mine = await callerFor(t.customerUser.id).alert.open.listForCustomer({ customerId: t.customerX.id });
    expect(mine.map((a) => a.id).sort()).toEqual([openX.id, resolvedX.id].sort());
    await expectCode(callerFor(t.customerUser.id).alert.open.listForCustomer({ customerId: t.customerY.id }), 'NOT_FOUND');
    await expectCode(callerFor(t.customerUser.id).alert.open.list({}), 'FORBIDDEN');
  });
});

describe('maintenance windows', () => {
  const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

  it('an operator mutes a customer, lists it active, ends it early (never deleted); all audited', async () => {
    const operator = callerFor(t.operator.id);
    const w = await operator.alert.window.create({ customerId: t.customerX.id, startsAt: inMinutes(-1), endsAt: inMinutes(60), reason: 'SAN firmware upgrade' });
    expect(w).toMatchObject({ state: 'active', pairId: null, reason: 'SAN firmware upgrade' });
    const upcoming = await operator.alert.window.create({ customerId: t.customerX.id, startsAt: inMinutes(120), endsAt: inMinutes(180), reason: 'Patch night' });
    expect(upcoming.state).toBe('upcoming');

    const listed = await callerFor(t.customerUser.id).alert.window.list({ customerId: t.customerX.id });
    expect(listed.map((x) => x.id)).toEqual([w.id, upcoming.id]);

    const ended = await operator.alert.window.end({ customerId: t.customerX.id, windowId: w.id });
    expect(ended.state).toBe('ended');
    const cancelled = await operator.alert.window.end({ customerId: t.customerX.id, windowId: upcoming.id });
    expect(cancelled.state).toBe('ended');
    expect(await ownerDb().maintenanceWindow.count({ where: { id: { in: [w.id, upcoming.id] } } })).toBe(2);
    await expectCode(operator.alert.window.end({ customerId: t.customerX.id, windowId: w.id }), 'CONFLICT');
    const actions = (await auditEventsOf(t.org.id)).filter((a) => a.targetId === w.id).map((a) => a.action);
    expect(actions).toEqual(['alert.window.create', 'alert.window.end']);
  });

  it('says clearly what is wrong with a window: end before start, longer than 30 days, another customer’s pair', async () => {
    const operator = callerFor(t.operator.id);
    const backwards = await refused(t.operator.id, 'alert.window.create', { customerId: t.customerX.id, startsAt: inMinutes(60), endsAt: inMinutes(30), reason: 'x' });
    expect(backwards.message).toBe('Invalid input: endsAt: The window must end after it starts');
    expect(backwards.data.fields).toEqual({ endsAt: 'The window must end after it starts' });
    const long = await expectCode(operator.alert.window.create({ customerId: t.customerX.id, startsAt: inMinutes(0), endsAt: inMinutes(31 * 24 * 60), reason: 'x' }), 'BAD_REQUEST');
    expect(long.message).toMatch(/at most 30 days/);
    const noReason = await expectCode(operator.alert.window.create({ customerId: t.customerX.id, startsAt: inMinutes(0), endsAt: inMinutes(10), reason: ' ' }), 'BAD_REQUEST');
    expect(noReason.message).toMatch(/Say why/);
    const source = await createServer(t.customerY);
    const pairOfY = await ownerDb().protectionPair.create({
      data: { organizationId: t.org.id, customerId: t.customerY.id, name: `p-${randomUUID().slice(0, 6)}`, sourceServerId: source.id, targetServerId: t.serverY.id, application: 'file_server' },
    });
    const wrongPair = await expectCode(operator.alert.window.create({ customerId: t.customerX.id, pairId: pairOfY.id, startsAt: inMinutes(0), endsAt: inMinutes(10), reason: 'x' }), 'BAD_REQUEST');
    expect(wrongPair.message).toMatch(/another customer/);
  });

  it('customer users read windows but cannot create or end them', async () => {
    const customer = callerFor(t.customerUser.id);
    await expectCode(customer.alert.window.create({ customerId: t.customerX.id, startsAt: inMinutes(0), endsAt: inMinutes(10), reason: 'mine' }), 'FORBIDDEN');
    const w = await callerFor(t.operator.id).alert.window.create({ customerId: t.customerX.id, startsAt: inMinutes(0), endsAt: inMinutes(10), reason: 'theirs' });
    await expectCode(customer.alert.window.end({ customerId: t.customerX.id, windowId: w.id }), 'FORBIDDEN');
    // A window of X named under Y's id is not found, even for staff.
    await expectCode(callerFor(t.operator.id).alert.window.end({ customerId: t.customerY.id, windowId: w.id }), 'NOT_FOUND');
  });
});
