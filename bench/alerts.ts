// Alerting benchmark (`npm run bench -- alerts`), with the worker's real alert loop in this process
// (apps/worker/src/alerts: the dispatcher woken by LISTEN, and the sender), a real SMTP server and
// a Standard Webhooks receiver on loopback (tests/integration/support), and PostgreSQL:
//   1. event_to_email_p95_ms / event_to_webhook_p95_ms: BENCH_EVENTS (default 50) events, one at a
//      time, each committed through emitEvent and routed by a rule to an e-mail channel and a
//      webhook channel; timed from just before the commit to receipt by the mail server / receiver
//      (the commit instant is taken before COMMIT is sent, so the figures err on the slow side).
//   2. webhook_deliveries_per_s: BENCH_DELIVERIES (default 10,000) signed webhook deliveries queued
//      at once, timed from release until all are accepted by the receiver and recorded delivered.
//   The peers: the same signed POSTs to the same receiver, 32 at a time, with no database — plain
//   `fetch` (webhook_rate_vs_raw_fetch is our rate over its rate) and node:http over kept-alive
//   sockets, the client the sender itself uses (webhook_rate_vs_raw_http: what the database and
//   bookkeeping cost).
// Writes bench/results/alerts.json. Everything it starts it stops.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { appDb, emitEvent, withTenant } from '@tandem/db';
import { createCustomer, createOrganization, ownerDb } from '@tandem/db/testing';
import { sealSecret } from '@tandem/security';
import { startAlertDispatcher } from '../apps/worker/src/alerts/dispatcher.ts';
import { sendDueDeliveries } from '../apps/worker/src/alerts/sender.ts';
import { closeTransports } from '../apps/worker/src/alerts/transports.ts';
import { startMailServer } from '../tests/integration/support/mail-server.ts';
import { startWebhookReceiver } from '../tests/integration/support/webhook-receiver.ts';

const root = path.resolve(import.meta.dirname, '..');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 10_000);
const started = Date.now();
const say = (msg: string) => console.log(`[bench:alerts +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

for (const k of ['DATABASE_URL', 'APP_DATABASE_URL', 'TANDEM_ENCRYPTION_KEY']) {
  if (!process.env[k]) throw new Error(`${k} is not set: run this with "npm run bench -- alerts"`);
}
if (!Number.isInteger(EVENTS) || EVENTS < 1 || !Number.isInteger(DELIVERIES) || DELIVERIES < 1) throw new Error('BENCH_EVENTS and BENCH_DELIVERIES must be positive whole numbers');

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 5) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function main() {
  const secret = `whsec_${Buffer.from(randomUUID()).toString('base64')}`;
  const mail = await startMailServer();
  const receiver = await startWebhookReceiver(secret);
  const db = appDb();
  const owner = ownerDb();
  const portalUrl = 'http://127.0.0.1:1/portal';
  const dispatcher = startAlertDispatcher(db, {
    databaseUrl: process.env.APP_DATABASE_URL!,
    portalUrl,
    send: (d) => sendDueDeliveries(d, { portalUrl }),
  });
  try {
    await dispatcher.listening;
    const org = await createOrganization(`Bench alerts ${randomUUID().slice(0, 6)}`);
    const customer = await createCustomer(org.id, 'Contoso Dental');
    await owner.smtpSettings.create({ data: { organizationId: org.id, host: mail.host, port: mail.port, security: 'none', fromAddress: 'alerts@bench.example.test', fromName: 'Bench' } });
    const email = await owner.alertChannel.create({ data: { organizationId: org.id, kind: 'email', name: 'Ops mail', config: { addresses: ['ops@bench.example.test'] } } });
    const hookId = randomUUID();
    const hook = await owner.alertChannel.create({
      data: { id: hookId, organizationId: org.id, kind: 'webhook', name: 'Hook', config: { url: receiver.url, preset: 'standard' }, secretEnc: sealSecret(secret, `alert-channel:${hookId}`) },
    });
    for (const ch of [email, hook]) await owner.alertRule.create({ data: { organizationId: org.id, channelId: ch.id, events: ['source.lost'], customerId: null } });

    // 1. Event to receipt, one event at a time (plus one warm-up event, not counted).
    say(`latency: ${EVENTS} events, each to one e-mail and one webhook`);
    const toEmail: number[] = [];
    const toWebhook: number[] = [];
    for (let i = 0; i <= EVENTS; i++) {
      const marker = `bench-event-${i}-${randomUUID()}`;
      let committedAt = 0;
      await withTenant({ organizationId: org.id, customerId: customer.id, userId: null }, async (tx) => {
        await emitEvent(tx, { organizationId: org.id, customerId: customer.id, customerName: 'Contoso Dental', type: 'source.lost', severity: 'error', message: `Source lost (${marker})` });
        committedAt = Date.now();
      }, db);
      const m = await mail.waitFor((x) => x.text.includes(marker), 30_000);
      await until('webhook receipt', () => receiver.accepted().some((r) => r.body.includes(marker)), 30_000, 2);
      const w = receiver.accepted().find((r) => r.body.includes(marker))!;
      if (i === 0) continue;
      toEmail.push(m.receivedAt - committedAt);
      toWebhook.push(w.receivedAt - committedAt);
    }
    say(`e-mail p95 ${p95(toEmail)} ms (median ${median(toEmail)}), webhook p95 ${p95(toWebhook)} ms (median ${median(toWebhook)})`);

    // 2. Throughput: queue the deliveries held back, then release them all in one statement (its
    // trigger wakes the loop, as a fan-out would).
    say(`throughput: queueing ${DELIVERIES} webhook deliveries`);
    const batchTag = randomUUID();
    const later = new Date(Date.now() + 3600_000);
    for (let i = 0; i < DELIVERIES; i += 1000) {
      await owner.alertDelivery.createMany({
        data: Array.from({ length: Math.min(1000, DELIVERIES - i) }, (_, j) => ({
          organizationId: org.id,
          customerId: customer.id,
          channelId: hook.id,
          kind: 'webhook' as const,
          recipient: receiver.url,
          event: 'source.lost',
          payload: { kind: 'webhook', preset: 'standard', body: { type: 'source.lost', message: `Source lost (${batchTag} #${i + j})`, severity: 'error', data: { n: i + j } } },
          nextAttemptAt: later,
        })),
      });
    }
    const before = receiver.accepted().length;
    const t0 = performance.now();
    await owner.$executeRaw`UPDATE "AlertDelivery" SET "nextAttemptAt" = now() WHERE "organizationId" = ${org.id} AND status = 'pending' AND "nextAttemptAt" > now()`;
    await until('all deliveries accepted', () => receiver.accepted().length - before >= DELIVERIES, 600_000, 20);
    await until('all deliveries recorded', async () => (await owner.alertDelivery.count({ where: { organizationId: org.id, channelId: hook.id, status: 'delivered' } })) >= DELIVERIES + EVENTS + 1, 120_000, 20);
    const seconds = (performance.now() - t0) / 1000;
    const rate = DELIVERIES / seconds;
    const failedOrRetried = await owner.alertDelivery.count({ where: { organizationId: org.id, NOT: { status: 'delivered' } } });
    const refused = receiver.requests.filter((r) => r.status !== 200).length;
    if (failedOrRetried || refused) throw new Error(`${failedOrRetried} deliveries not delivered, ${refused} requests refused by the receiver`);
    say(`${DELIVERIES} deliveries in ${seconds.toFixed(2)} s: ${rate.toFixed(0)}/s`);
    await dispatcher.stop();

    // The peers: the same signed POSTs with no database, by fetch and by node:http.
    const signer = new Webhook(secret);
    const body = JSON.stringify({ type: 'source.lost', message: 'peer', severity: 'error', data: {} });
    const signed = () => {
      const id = `peer-${randomUUID()}`;
      const now = new Date();
      return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signer.sign(id, now, body) };
    };
    const peer = async (post: () => Promise<number>) => {
      let next = 0;
      const p0 = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < DELIVERIES) {
            next++;
            const status = await post();
            if (status !== 200) throw new Error(`peer request answered ${status}`);
          }
        }),
      );
      return DELIVERIES / ((performance.now() - p0) / 1000);
    };
    const fetchRate = await peer(async () => {
      const res = await fetch(receiver.url, { method: 'POST', headers: signed(), body });
      await res.arrayBuffer();
      return res.status;
    });
    say(`peer (plain fetch): ${fetchRate.toFixed(0)}/s`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const httpRate = await peer(
      () =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(receiver.url, { method: 'POST', agent, headers: signed() }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(body);
        }),
    );
    agent.destroy();
    say(`peer (node:http, kept alive): ${httpRate.toFixed(0)}/s`);

    const metrics = {
      event_to_email_p95_ms: p95(toEmail),
      event_to_webhook_p95_ms: p95(toWebhook),
      event_to_email_median_ms: median(toEmail),
      event_to_webhook_median_ms: median(toWebhook),
      events: EVENTS,
      webhook_deliveries_per_s: Math.round(rate),
      webhook_deliveries: DELIVERIES,
      raw_fetch_per_s: Math.round(fetchRate),
      webhook_rate_vs_raw_fetch: round(rate / fetchRate),
      raw_http_per_s: Math.round(httpRate),
      webhook_rate_vs_raw_http: round(rate / httpRate),
    };
    const result = {
      area: 'alerts',
      date: new Date().toISOString(),
      machine: `${os.hostname()} (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB)`,
      metrics,
      goals: { event_to_email_p95_ms: '<= 2000', event_to_webhook_p95_ms: '<= 2000', webhook_deliveries_per_s: '>= 500' },
    };
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/alerts.json'), `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote bench/results/alerts.json: ${JSON.stringify(metrics)}`);
  } finally {
    await dispatcher.stop();
    closeTransports();
    await receiver.stop();
    await mail.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
