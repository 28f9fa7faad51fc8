// kill -9 between an event's commit and its delivery: the real worker process (apps/worker/src/
// main.ts) dies hard right after fanning the event out (test-only crash point
// alerts.after-fanout), before anything is sent. A restarted worker delivers the message exactly
// once, to a receiver that verifies the signature and would refuse a second copy.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { appDb, emitEvent, withTenant } from '@tandem/db';
import { createCustomer, createOrganization, ownerDb } from '@tandem/db/testing';
import { sealSecret } from '@tandem/security';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const root = path.resolve(import.meta.dirname, '../..');
const SECRET = `whsec_${Buffer.from(randomUUID()).toString('base64')}`;
const prefix = `tandem-test-alert-crash-${process.pid}`;

interface Life {
  child: ChildProcess;
  output: () => string;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One life of the real worker process. */
function startWorker(organizationId: string, crashAt: string | null): Life {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      TANDEM_QUEUE_PREFIX: prefix,
      TANDEM_ALERT_RETRY_BASE_MS: '50',
      // Other test files share the database: this worker leaves their events and deliveries alone.
      TANDEM_TEST_ALERT_ORGS: organizationId,
      ...(crashAt ? { TANDEM_TEST_CRASH_AT: crashAt } : { TANDEM_TEST_CRASH_AT: '' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const collect = (d: Buffer) => {
    out += d.toString();
    if (out.includes('[worker] ready')) markReady();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, ready: Promise.race([ready, exited.then(() => undefined)]), exited };
}

let receiver: WebhookReceiver;
let running: Life | null = null;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
});
afterAll(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGTERM');
    await running.exited;
  }
  await receiver?.stop();
});

it('a worker killed -9 between the fan-out and the send delivers the message once after a restart', { timeout: 240_000 }, async () => {
  const org = await createOrganization();
  const customer = await createCustomer(org.id, 'Contoso Dental');
  const channelId = randomUUID();
  await ownerDb().alertChannel.create({
    data: { id: channelId, organizationId: org.id, kind: 'webhook', name: 'Receiver', config: { url: receiver.url, preset: 'standard' }, secretEnc: sealSecret(SECRET, `alert-channel:${channelId}`) },
  });
  await ownerDb().alertRule.create({ data: { organizationId: org.id, channelId, events: ['source.lost'], customerId: null } });

  running = startWorker(org.id, 'alerts.after-fanout');
  await running.ready;
  expect(running.child.exitCode, running.output()).toBeNull();

  const message = `Source lost ${randomUUID()}`;
  await withTenant({ organizationId: org.id, customerId: customer.id, userId: null }, (tx) =>
    emitEvent(tx, { organizationId: org.id, customerId: customer.id, customerName: 'Contoso Dental', type: 'source.lost', severity: 'error', message, condition: { key: `source.lost:${randomUUID()}`, state: 'open' } }),
    appDb(),
  );
  const event = await ownerDb().outboxEvent.findFirstOrThrow({ where: { organizationId: org.id, message } });

  // The worker dies by itself right after the fan-out commits.
  const end = await running.exited;
  expect(end.signal, running.output()).toBe('SIGKILL');
  const afterCrash = await ownerDb().alertDelivery.findMany({ where: { eventId: event.id } });
  expect(afterCrash).toHaveLength(1);
  // The fan-out committed: one delivery, the event processed. (In the full suite another test
  // file's worker shares this database and may pick the pending delivery up meanwhile — any
  // worker may deliver — so what must hold is the end result: exactly one delivery, sent once.)
  expect(afterCrash[0]).toMatchObject({ channelId, recipient: receiver.url });
  expect((await ownerDb().outboxEvent.findUniqueOrThrow({ where: { id: event.id } })).processedAt).not.toBeNull();

  // The dying worker's sender may have claimed the delivery in the instant before the kill (woken
  // by the commit's notification; its claim commits in PostgreSQL though the process is gone).
  // Then nobody may send it until that claim's lease runs out: the restarted worker waits for it.
  const leaseLeft = afterCrash[0]!.claimedUntil ? Math.max(0, afterCrash[0]!.claimedUntil.getTime() - Date.now()) : 0;
  running = startWorker(org.id, null);
  const restarted = running;
  const [accepted] = await receiver.waitForAccepted(1, 60_000 + leaseLeft).catch(async (err: Error) => {
    const row = await ownerDb().alertDelivery.findUnique({ where: { id: afterCrash[0]!.id } });
    throw new Error(`${err.message}\nthe delivery now: ${JSON.stringify(row)}\nrestarted worker said:\n${restarted.output().slice(-4000)}`);
  });
  expect(accepted).toMatchObject({ id: afterCrash[0]!.id, verified: true, replay: false });
  expect((accepted!.json as { message?: string } | null)?.message ?? JSON.stringify(accepted!.json)).toContain(message);
  await vi.waitFor(async () => expect((await ownerDb().alertDelivery.findUniqueOrThrow({ where: { id: afterCrash[0]!.id } })).status).toBe('delivered'), { timeout: 20_000, interval: 100 });

  // Stop the worker so nothing more can arrive, then count.
  running.child.kill('SIGTERM');
  await running.exited;
  expect(receiver.requests.filter((r) => r.id === afterCrash[0]!.id)).toHaveLength(1);
  expect(receiver.accepted()).toHaveLength(1);
  const done = await ownerDb().alertDelivery.findMany({ where: { eventId: event.id } });
  expect(done).toHaveLength(1);
  expect(done[0]).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
  const log = done[0]!.log as { statusCode?: number; error?: string }[];
  if (leaseLeft > 0) {
    // The claimed attempt that died with the worker is counted and said so in the log.
    expect(done[0]!.attempts).toBe(2);
    expect(log.map((l) => l.statusCode ?? l.error)).toEqual(['Interrupted: the sender stopped before it recorded this attempt (the message may have arrived)', 200]);
  } else {
    expect(done[0]!.attempts).toBe(1);
    expect(log.map((l) => l.statusCode)).toEqual([200]);
  }
});
