// The alert sender against real parts: PostgreSQL, a Standard Webhooks receiver that verifies
// every signature and refuses replays, plain HTTP receivers for the Slack/Teams/PagerDuty presets
// and for refusals, and a real SMTP server with a login. Deliveries are inserted as the dispatcher
// would write them (rendered payloads) and sent by sendDueDeliveries.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDb } from '@tandem/db';
import { createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { LINK_PLACEHOLDER, type RenderedMessage } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { CHANNEL_OFF, NO_MAIL_SERVER, sendDueDeliveries } from '../../apps/worker/src/alerts/sender.ts';
import { closeTransports } from '../../apps/worker/src/alerts/transports.ts';
import { startMailServer, type MailServer } from './support/mail-server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const SECRET = `whsec_${Buffer.from(randomUUID()).toString('base64')}`;
// Only this file's organizations: other test files share the database and keep their deliveries.
const orgs: string[] = [];
const send = () => sendDueDeliveries(appDb(), { retryBaseMs: 20, portalUrl: 'https://portal.example.test', organizationIds: orgs });

let t: Tenant;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await createTenant();
  orgs.push(t.org.id);
  receiver = await startWebhookReceiver(SECRET);
});
afterAll(async () => {
  closeTransports();
  await receiver?.stop();
});

async function channel(kind: 'email' | 'webhook', config: object, secret: string | null, organizationId = t.org.id) {
  const id = randomUUID();
  return ownerDb().alertChannel.create({
    data: { id, organizationId, kind, name: `ch-${id.slice(0, 8)}`, config, secretEnc: secret ? sealSecret(secret, `alert-channel:${id}`) : null },
  });
}

async function delivery(d: { channelId: string | null; kind: 'email' | 'webhook'; recipient: string; payload: RenderedMessage; linkEnc?: string; createdAt?: Date; organizationId?: string }) {
  return ownerDb().alertDelivery.create({
    data: {
      organizationId: d.organizationId ?? t.org.id,
      customerId: t.customerX.id,
      channelId: d.channelId,
      kind: d.kind,
      recipient: d.recipient,
      event: 'source.lost',
      payload: d.payload as never,
      linkEnc: d.linkEnc ?? null,
      ...(d.createdAt ? { createdAt: d.createdAt, nextAttemptAt: d.createdAt } : {}),
    },
  });
}

const row = (id: string) => ownerDb().alertDelivery.findUniqueOrThrow({ where: { id } });
type LogEntry = { at: string; ms: number; statusCode?: number; error?: string };

/** Runs the sender until the delivery is no longer pending, or has made `attempts` attempts. */
async function sendUntil(id: string, done: (r: Awaited<ReturnType<typeof row>>) => boolean = (r) => r.status !== 'pending', timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await send();
    const r = await row(id);
    if (done(r)) return r;
    if (Date.now() > deadline) throw new Error(`delivery ${id} still ${r.status} after ${r.attempts} attempts: ${r.lastError ?? ''}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** A plain receiver that answers every request with `status` and keeps what it got. */
async function plainReceiver(status: number) {
  const got: { headers: http.IncomingHttpHeaders; json: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`,
    got,
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const standard = (text: string): RenderedMessage => ({ kind: 'webhook', preset: 'standard', body: { type: 'source.lost', message: text, data: { pair: 'fs01' } } });

describe('webhooks', () => {
  it('signs every attempt, keeps one webhook-id across retries, and logs 503, 503, 200', async () => {
    const ch = await channel('webhook', { url: receiver.url, preset: 'standard' }, SECRET);
    receiver.failFirst(2);
    const d = await delivery({ channelId: ch.id, kind: 'webhook', recipient: receiver.url, payload: standard('Source lost') });
    const done = await sendUntil(d.id);
    receiver.failFirst(0);

    const mine = receiver.requests.filter((r) => r.id === d.id);
    expect(mine.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(mine.every((r) => r.verified)).toBe(true);
    expect(new Set(mine.map((r) => r.id))).toEqual(new Set([d.id]));
    expect(mine[2]!.json).toEqual({ type: 'source.lost', message: 'Source lost', data: { pair: 'fs01' } });

    expect(done).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null, claimedUntil: null });
    expect(done.deliveredAt).toBeInstanceOf(Date);
    const log = done.log as LogEntry[];
    expect(log.map((l) => l.statusCode)).toEqual([503, 503, 200]);
    expect(log[0]!.error).toMatch(/503/);
    expect(log.every((l) => typeof l.ms === 'number' && !Number.isNaN(Date.parse(l.at)))).toBe(true);

    // Replaying the accepted request byte for byte is refused by the receiver.
    const accepted = mine[2]!;
    const replay = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': accepted.id, 'webhook-timestamp': accepted.timestamp, 'webhook-signature': accepted.signature },
      body: accepted.body,
    });
    expect(replay.status).toBe(409);
    expect(receiver.requests.at(-1)).toMatchObject({ id: d.id, verified: true, replay: true });

    // A delivered row is never sent again.
    const before = receiver.requests.length;
    await send();
    expect(receiver.requests.filter((r) => r.id === d.id)).toHaveLength(4);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(before);
  });

  it('a signature made with another secret is refused by the receiver (the check is real)', async () => {
    const ch = await channel('webhook', { url: receiver.url, preset: 'standard' }, `whsec_${Buffer.from(randomUUID()).toString('base64')}`);
    const d = await delivery({ channelId: ch.id, kind: 'webhook', recipient: receiver.url, payload: standard('Wrong key') });
    const done = await sendUntil(d.id, (r) => r.attempts >= 1);
    expect(done).toMatchObject({ status: 'failed', lastStatusCode: 401 });
    expect(done.lastError).toMatch(/refused.*401.*not retried/);
    expect(receiver.requests.find((r) => r.id === d.id)).toMatchObject({ verified: false, status: 401 });
  });

  it('Slack, Teams and PagerDuty presets arrive with their shapes; PagerDuty gets the opened routing key, never stored', async () => {
    const hook = await plainReceiver(202);
    try {
      const routingKey = `R0${randomUUID().replace(/-/g, '').slice(0, 30)}`;
      const slack = await channel('webhook', { url: hook.url, preset: 'slack' }, null);
      const teams = await channel('webhook', { url: hook.url, preset: 'teams' }, SECRET);
      const pd = await channel('webhook', { url: hook.url, preset: 'pagerduty' }, routingKey);
      const card = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'Source lost' }] };
      const rows = await Promise.all([
        delivery({ channelId: slack.id, kind: 'webhook', recipient: hook.url, payload: { kind: 'webhook', preset: 'slack', body: { text: 'Source lost', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Source lost*' } }] } } }),
        delivery({ channelId: teams.id, kind: 'webhook', recipient: hook.url, payload: { kind: 'webhook', preset: 'teams', body: { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] } } }),
        delivery({ channelId: pd.id, kind: 'webhook', recipient: hook.url, payload: { kind: 'webhook', preset: 'pagerduty', body: { event_action: 'trigger', dedup_key: 'source:x', payload: { summary: 'Source lost', source: 'fs01', severity: 'critical' } } } }),
      ]);
      for (const r of rows) expect((await sendUntil(r.id)).status).toBe('delivered');

      const bySlack = hook.got.find((g) => g.headers['webhook-id'] === rows[0].id)!;
      expect(bySlack.json).toMatchObject({ text: 'Source lost', blocks: [{ type: 'section' }] });
      expect(bySlack.headers['webhook-signature']).toBeUndefined();
      const byTeams = hook.got.find((g) => g.headers['webhook-id'] === rows[1].id)!;
      expect(byTeams.json).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } }] });
      // Teams has a secret: signed too, so a relay in front of it can check.
      expect(String(byTeams.headers['webhook-signature'])).toMatch(/^v1,/);
      const byPd = hook.got.find((g) => g.headers['webhook-id'] === rows[2].id)!;
      expect(byPd.json).toMatchObject({ routing_key: routingKey, event_action: 'trigger', dedup_key: 'source:x', payload: { summary: 'Source lost', severity: 'critical' } });
      expect(byPd.headers['webhook-signature']).toBeUndefined();
      const stored = await row(rows[2].id);
      expect(JSON.stringify(stored)).not.toContain(routingKey);
      expect(stored.lastStatusCode).toBe(202);
    } finally {
      await hook.stop();
    }
  });

  it('410 Gone and other 4xx fail at once; 429 and a refused connection are tried again', async () => {
    const gone = await plainReceiver(410);
    const bad = await plainReceiver(400);
    const busy = await plainReceiver(429);
    const closed = await plainReceiver(200);
    await closed.stop();
    try {
      const ch = await channel('webhook', { url: gone.url, preset: 'slack' }, null);
      const [g, b, s, c] = await Promise.all(
        [gone, bad, busy, closed].map((h) => delivery({ channelId: ch.id, kind: 'webhook', recipient: h.url, payload: { kind: 'webhook', preset: 'slack', body: { text: 'x' } } })),
      );
      expect(await sendUntil(g!.id, (r) => r.attempts >= 1)).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });
      expect((await row(g!.id)).lastError).toMatch(/410 Gone/);
      expect(await sendUntil(b!.id, (r) => r.attempts >= 1)).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 400 });
      const retried = await sendUntil(s!.id, (r) => r.attempts >= 2);
      expect(retried).toMatchObject({ status: 'pending', lastStatusCode: 429 });
      // (It may have been tried more than twice while the others were being sent.)
      const codes = (retried.log as LogEntry[]).map((l) => l.statusCode);
      expect(codes.length).toBeGreaterThanOrEqual(2);
      expect(new Set(codes)).toEqual(new Set([429]));
      const refused = await sendUntil(c!.id, (r) => r.attempts >= 1);
      expect(refused).toMatchObject({ status: 'pending', lastStatusCode: null, lastError: 'Connection refused' });
      expect(refused.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() - 1000);
      // Stop the two that would go on retrying for a day.
      await ownerDb().alertDelivery.updateMany({ where: { id: { in: [s!.id, c!.id] } }, data: { status: 'failed' } });
    } finally {
      await Promise.all([gone.stop(), bad.stop(), busy.stop()]);
    }
  });

  it('a delivery whose next attempt would fall more than a day after its creation fails for good', async () => {
    const ch = await channel('webhook', { url: receiver.url, preset: 'standard' }, SECRET);
    const d = await delivery({ channelId: ch.id, kind: 'webhook', recipient: 'http://127.0.0.1:9/never', payload: standard('old'), createdAt: new Date(Date.now() - 24 * 3600_000 + 5) });
    const done = await sendUntil(d.id, (r) => r.attempts >= 1);
    expect(done.status).toBe('failed');
    expect(done.lastError).toMatch(/gave up/);
    expect(done.log as LogEntry[]).toHaveLength(1);
  });
});

describe('a sender that stopped mid-attempt', () => {
  it('leaves a claim that runs out; the next sender sends it and the log says the earlier attempt was interrupted', async () => {
    const ch = await channel('webhook', { url: receiver.url, preset: 'standard' }, SECRET);
    const d = await delivery({ channelId: ch.id, kind: 'webhook', recipient: receiver.url, payload: standard('After a crash') });
    // As a sender killed after its claim leaves it: counted, held, nothing recorded.
    await ownerDb().alertDelivery.update({ where: { id: d.id }, data: { attempts: 1, claimedUntil: new Date(Date.now() - 1_000) } });
    const done = await sendUntil(d.id);
    expect(done).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, lastError: null, claimedUntil: null });
    const log = done.log as LogEntry[];
    expect(log.map((l) => l.statusCode ?? l.error)).toEqual(['Interrupted: the sender stopped before it recorded this attempt (the message may have arrived)', 200]);
    expect(Date.parse(log[0]!.at)).toBeLessThan(Date.parse(log[1]!.at));
    expect(Date.now() - Date.parse(log[0]!.at)).toBeLessThan(5 * 60_000);
    expect(receiver.requests.filter((r) => r.id === d.id).map((r) => r.status)).toEqual([200]);
  });
});

describe('a batch that runs late', () => {
  it('hands back, untried, what it would start too late for its claim: not counted, not logged, sent by the next run', async () => {
    // A receiver that takes 400 ms to answer; one lane: the second delivery's turn comes after the first.
    const slow = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200).end(), 400));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
    try {
      const ch = await channel('webhook', { url, preset: 'standard' }, SECRET);
      const first = await delivery({ channelId: ch.id, kind: 'webhook', recipient: url, payload: standard('first') });
      const second = await delivery({ channelId: ch.id, kind: 'webhook', recipient: url, payload: standard('second') });
      const run = () => sendDueDeliveries(appDb(), { organizationIds: orgs, concurrency: 1, releaseAfterMs: 200 });
      const r1 = await run();
      expect(r1).toMatchObject({ sent: 1, retried: 0, failed: 0 });
      const after = await Promise.all([row(first.id), row(second.id)]);
      const handedBack = after.find((r) => r.status === 'pending')!;
      expect(after.filter((r) => r.status === 'delivered').map((r) => r.attempts)).toEqual([1]);
      expect(handedBack).toMatchObject({ attempts: 0, claimedUntil: null, log: [], lastError: null });
      expect(handedBack.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
      await run();
      expect(await row(handedBack.id)).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });
});

describe('private addresses', () => {
  it('with the policy "deny", a webhook to loopback — by address or by a name resolving to it — fails at once, nothing is sent', async () => {
    const ch = await channel('webhook', { url: receiver.url, preset: 'standard' }, SECRET);
    const byName = receiver.url.replace('127.0.0.1', 'localhost');
    const literal = await delivery({ channelId: ch.id, kind: 'webhook', recipient: receiver.url, payload: standard('To loopback') });
    const named = await delivery({ channelId: ch.id, kind: 'webhook', recipient: byName, payload: standard('To localhost') });
    await sendDueDeliveries(appDb(), { organizationIds: orgs, privateAddresses: 'deny' });

    for (const [d, address] of [
      [literal, '127.0.0.1'],
      [named, '(127\\.0\\.0\\.1|::1)'],
    ] as const) {
      const r = await row(d.id);
      expect(r).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
      expect(r.lastError).toMatch(new RegExp(`^The webhook's address ${address} is on a private or reserved network`));
      expect(receiver.requests.filter((q) => q.id === d.id)).toEqual([]);
    }
  });
});

describe('a channel turned off', () => {
  it("is not sent the messages queued before it was turned off (they end 'not sent', said why); its own test still goes out", async () => {
    const ch = await channel('webhook', { url: receiver.url, preset: 'standard' }, SECRET);
    const queued = await delivery({ channelId: ch.id, kind: 'webhook', recipient: receiver.url, payload: standard('Queued before the switch') });
    const test = await ownerDb().alertDelivery.create({
      data: { organizationId: t.org.id, channelId: ch.id, kind: 'webhook', recipient: receiver.url, event: 'alert.test', payload: standard('Channel test') as never },
    });
    await ownerDb().alertChannel.update({ where: { id: ch.id }, data: { enabled: false } });

    const notSent = await sendUntil(queued.id);
    expect(notSent).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null, lastError: CHANNEL_OFF });
    expect(receiver.requests.filter((r) => r.id === queued.id)).toEqual([]);
    const tested = await sendUntil(test.id);
    expect(tested.status).toBe('delivered');
    expect(receiver.requests.filter((r) => r.id === test.id).map((r) => r.verified)).toEqual([true]);
  });
});

describe('e-mail', () => {
  let mail: MailServer;
  beforeAll(async () => {
    mail = await startMailServer({ auth: { user: 'tandem', pass: `pw-${randomUUID()}` } });
  });
  afterAll(async () => {
    await mail?.stop();
  });

  const email = (subject: string): RenderedMessage => ({
    kind: 'email',
    subject,
    text: `Review it here: ${LINK_PLACEHOLDER}\n`,
    html: `<p><a href="${LINK_PLACEHOLDER}">Review and approve</a></p>`,
  });

  it("sends through the organization's mail server (password sealed) with HTML and text, the one-time link filled in at send time", async () => {
    await ownerDb().smtpSettings.create({
      data: { organizationId: t.org.id, host: mail.host, port: mail.port, security: 'none', username: mail.auth!.user, passwordEnc: sealSecret(mail.auth!.pass, `smtp:${t.org.id}`), fromAddress: 'alerts@msp.example.test', fromName: 'MSP Alerts' },
    });
    const link = `https://portal.example.test/approve/${randomUUID()}?a=1&b=2`;
    const d = await delivery({ channelId: null, kind: 'email', recipient: 'approver@customer.example.test', payload: email('Approve the failover of fs01'), linkEnc: sealSecret(link, 'delivery-link') });
    const done = await sendUntil(d.id);
    expect(done).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });

    const m = await mail.waitFor((x) => x.messageId === `<${d.id}@tandem>`);
    expect(m.to).toEqual(['approver@customer.example.test']);
    expect(m.from).toBe('alerts@msp.example.test');
    expect(String((m.headers.get('from') as { text?: string } | undefined)?.text)).toContain('MSP Alerts');
    expect(m.subject).toBe('Approve the failover of fs01');
    expect(m.text).toContain(`Review it here: ${link}`);
    expect(m.html).toContain(`href="${link.replace(/&/g, '&amp;')}"`);
    expect(m.text + m.html).not.toContain(LINK_PLACEHOLDER);
    // The stored row keeps the placeholder and the sealed link only.
    const stored = await row(d.id);
    expect(JSON.stringify(stored)).not.toContain(link);
  });

  it('with no mail server set up the delivery fails with a clear error and is tried again once one is', async () => {
    const other = await createTenant();
    orgs.push(other.org.id);
    const d = await delivery({ organizationId: other.org.id, channelId: null, kind: 'email', recipient: 'ops@msp.example.test', payload: email('Agent offline') });
    const waiting = await sendUntil(d.id, (r) => r.attempts >= 1);
    expect(waiting).toMatchObject({ status: 'pending', lastError: NO_MAIL_SERVER, lastStatusCode: null });
    expect((waiting.log as LogEntry[])[0]).toMatchObject({ error: NO_MAIL_SERVER });

    await ownerDb().smtpSettings.create({
      data: { organizationId: other.org.id, host: mail.host, port: mail.port, security: 'none', username: mail.auth!.user, passwordEnc: sealSecret(mail.auth!.pass, `smtp:${other.org.id}`), fromAddress: 'alerts@other.example.test' },
    });
    const done = await sendUntil(d.id);
    expect(done.status).toBe('delivered');
    const m = await mail.waitFor((x) => x.messageId === `<${d.id}@tandem>`);
    // No link was sealed for this one: the placeholder becomes the portal's address.
    expect(m.text).toContain('Review it here: https://portal.example.test');
  });

  it('a wrong mail password is a refused login, tried again (someone may fix the settings)', async () => {
    const other = await createTenant();
    orgs.push(other.org.id);
    await ownerDb().smtpSettings.create({
      data: { organizationId: other.org.id, host: mail.host, port: mail.port, security: 'none', username: mail.auth!.user, passwordEnc: sealSecret('not the password', `smtp:${other.org.id}`), fromAddress: 'alerts@other.example.test' },
    });
    const d = await delivery({ organizationId: other.org.id, channelId: null, kind: 'email', recipient: 'ops@msp.example.test', payload: email('Lag high') });
    const waiting = await sendUntil(d.id, (r) => r.attempts >= 1);
    expect(waiting).toMatchObject({ status: 'pending', lastStatusCode: 535 });
    expect(waiting.lastError).toMatch(/refused the login/);
    expect(JSON.stringify(waiting)).not.toContain('not the password');
    await ownerDb().alertDelivery.update({ where: { id: d.id }, data: { status: 'failed' } });
  });
});
