// The alerting API's buttons carried through the real worker parts: "Send test e-mail" reaches a
// real SMTP server through the settings saved by the API (sealed password and all); a webhook
// channel's "Send test" reaches a receiver that verifies the signature with the secret the create
// answer showed; "Redeliver" of a delivery that is waiting for its next retry sends it at once
// with the same webhook-id, and the log shows both attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDb } from '@tandem/db';
import { createTenant, type Tenant } from '@tandem/db/testing';
import { fanOutOnce } from '../../apps/worker/src/alerts/dispatcher.ts';
import { sendDueDeliveries } from '../../apps/worker/src/alerts/sender.ts';
import { closeTransports } from '../../apps/worker/src/alerts/transports.ts';
import { callerFor } from './helpers';
import { startMailServer, type MailServer } from './support/mail-server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

let t: Tenant;
let mail: MailServer;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  t = await createTenant();
  mail = await startMailServer({ auth: { user: 'tandem', pass: 'mail-server-password' } });
});
afterAll(async () => {
  closeTransports();
  await mail?.stop();
  await Promise.all(receivers.map((r) => r.stop()));
});

/** One round of the worker's alerting: fan out this tenant's events, then send what is due. */
async function workerRound() {
  await fanOutOnce(appDb(), { portalUrl: 'https://portal.example.test', organizationIds: [t.org.id] });
  await sendDueDeliveries(appDb(), { retryBaseMs: 60_000, portalUrl: 'https://portal.example.test', budgetMs: 1_000, organizationIds: [t.org.id] });
}

/** Runs worker rounds until `done` holds (or fails after the timeout). */
async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await workerRound();
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
  }
}

/** A webhook channel created through the API, pointed at a receiver that knows its secret. */
async function webhookChannel() {
  const owner = callerFor(t.owner.id);
  const created = await owner.alert.channel.create({ kind: 'webhook', name: `hook-${receivers.length}`, url: 'https://placeholder.example.test/', preset: 'standard' });
  const receiver = await startWebhookReceiver(created.secret);
  receivers.push(receiver);
  await owner.alert.channel.update({ channelId: created.channel.id, url: receiver.url });
  return { channelId: created.channel.id, receiver };
}

describe('the alerting API through the worker', () => {
  it('"Send test e-mail" arrives at the mail server saved through the API', async () => {
    const owner = callerFor(t.owner.id);
    await owner.alert.smtp.set({ host: mail.host, port: mail.port, security: 'none', username: 'tandem', password: 'mail-server-password', fromAddress: 'alerts@msp.example.test', fromName: 'MSP alerts' });
    await owner.alert.smtp.test({ to: 'admin@msp.example.test' });
    const got = await until(() => mail.messages.find((m) => m.to.includes('admin@msp.example.test')));
    expect(got.from).toContain('alerts@msp.example.test');
    const page = await owner.alert.delivery.list({ event: 'alert.test' });
    expect(page.items.find((d) => d.recipient === 'admin@msp.example.test')).toMatchObject({ kind: 'email', status: 'delivered', channelId: null });
  });

  it('a webhook channel’s "Send test" arrives signed with the secret shown at create; the log shows 200', async () => {
    const { channelId, receiver } = await webhookChannel();
    await callerFor(t.operator.id).alert.channel.sendTest({ channelId });
    const [hit] = await until(() => (receiver.accepted().length > 0 ? receiver.accepted() : undefined));
    expect(hit!.verified).toBe(true);
    expect(hit!.json).toMatchObject({ type: 'alert.test', data: { channelId } });
    const page = await callerFor(t.operator.id).alert.delivery.list({ channelId });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ id: hit!.id, status: 'delivered', lastStatusCode: 200, attempts: 1 });
  });

  it('"Redeliver" of a delivery waiting for its retry sends it now with the same webhook-id; the log keeps both attempts', async () => {
    const { channelId, receiver } = await webhookChannel();
    receiver.failFirst(1);
    const operator = callerFor(t.operator.id);
    await operator.alert.channel.sendTest({ channelId });
    // The first attempt gets 503 and waits a minute (the backoff base above) for its retry.
    const waiting = await until(async () => {
      const d = (await operator.alert.delivery.list({ channelId })).items[0];
      return d && d.attempts === 1 && d.lastStatusCode === 503 ? d : undefined;
    });
    expect(waiting.status).toBe('pending');
    expect(new Date(waiting.nextAttemptAt!).getTime()).toBeGreaterThan(Date.now() + 10_000);

    await operator.alert.delivery.redeliver({ deliveryId: waiting.id });
    const done = await until(async () => {
      const d = (await operator.alert.delivery.list({ channelId })).items[0];
      return d?.status === 'delivered' ? d : undefined;
    }, 10_000);
    expect(done).toMatchObject({ id: waiting.id, attempts: 2, lastStatusCode: 200 });
    expect(done.log.map((a) => a.statusCode)).toEqual([503, 200]);
    expect(receiver.requests.map((r) => r.id)).toEqual([waiting.id, waiting.id]);
  });
});
