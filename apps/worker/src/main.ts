// The worker process: maintenance, operations (enable/disable protection, later failover) and
// the failure-detection sweep, each on its own BullMQ queue.
import { AgentBus } from '@tandem/agent-bus';
import { appDb } from '@tandem/db';
import { workerEnv } from './env.ts';
import {
  detectionQueue,
  enqueueOperation,
  maintenanceQueue,
  operationsQueue,
  redisConnection,
  scheduleDetection,
  scheduleMaintenance,
  startDetectionWorker,
  startMaintenanceWorker,
  startOperationsWorker,
  unfinishedOperations,
} from './queues.ts';
import { removeTestLeftovers } from './jobs/test-leftovers.ts';
import { awaitingUnplanned } from './approvals/plan.ts';
import { startAlertDispatcher } from './alerts/dispatcher.ts';
import { sendDueDeliveries } from './alerts/sender.ts';
import { closeTransports } from './alerts/transports.ts';

const env = workerEnv();
const connection = redisConnection(env.REDIS_URL);
const prefix = env.TANDEM_QUEUE_PREFIX;
const db = appDb();
const bus = new AgentBus(env.REDIS_URL, env.TANDEM_BUS_KEY);

const operations = operationsQueue(connection, { prefix });
const maintenance = maintenanceQueue(connection, { prefix });
await scheduleMaintenance(maintenance);
// Due drills start test failovers: maintenance hands them to the operations queue.
const maintenanceWorker = startMaintenanceWorker(connection, db, { prefix, operations, bus });
// A task is logged when it did or found something: the frequent ones (the approvals clock every
// 5 s) would otherwise bury the log in "nothing to do".
maintenanceWorker.on('completed', (job, result) => {
  const counts = result && typeof result === 'object' ? Object.values(result as Record<string, unknown>).filter((v) => typeof v === 'number') : [];
  if (counts.length === 0 || counts.some((n) => n !== 0)) console.log(`[worker] ${job.name} done`, JSON.stringify(result));
});

const detection = detectionQueue(connection, { prefix });
await scheduleDetection(detection);
// The sweep starts automatic failovers: it hands them to the operations queue.
const detectionWorker = startDetectionWorker(connection, db, { prefix, bus, operations });
detectionWorker.on('completed', (job, result) => {
  const r = result as { changed?: number; failed?: number };
  if (r.changed || r.failed) console.log(`[worker] ${job.data.task}`, JSON.stringify(result));
});

const operationsWorker = startOperationsWorker(connection, db, bus, { prefix });
operationsWorker.on('completed', (job, result) => console.log(`[worker] operation ${job.data.operationId} ${JSON.stringify(result)}`));

const workers = [maintenanceWorker, detectionWorker, operationsWorker];
for (const w of workers) w.on('failed', (job, err) => console.error(`[worker] ${w.name} ${job?.name ?? 'job'} failed: ${err.message}`));
await Promise.all(workers.map((w) => w.waitUntilReady()));

// Operations a previous worker left unfinished continue now (their finished steps are skipped).
for (const job of await unfinishedOperations(db)) await enqueueOperation(operations, job);
// Failovers awaiting approval stay awaiting; one not planned yet is planned now (its diff for the approval page).
for (const job of await awaitingUnplanned(db)) await enqueueOperation(operations, job);
// Test copies whose operation ended without removing them (a resumed test removes its own).
void removeTestLeftovers(db, bus).then(
  (r) => r.removed + r.failed > 0 && console.log('[worker] test copies left behind', JSON.stringify(r)),
  (err: unknown) => console.error('[worker] looking for test copies left behind failed', err),
);
// TEST ONLY: a worker a test starts handles that test's organizations' events and deliveries alone.
const testAlertOrgs = process.env.NODE_ENV === 'test' && process.env.TANDEM_TEST_ALERT_ORGS ? process.env.TANDEM_TEST_ALERT_ORGS.split(',') : undefined;
// Alerting: committed outbox events fanned out into deliveries (woken by NOTIFY, polled as a fallback).
const alerts = startAlertDispatcher(db, {
  databaseUrl: env.APP_DATABASE_URL,
  portalUrl: env.TANDEM_PUBLIC_URL,
  send: (d) => sendDueDeliveries(d, { portalUrl: env.TANDEM_PUBLIC_URL, retryBaseMs: env.TANDEM_ALERT_RETRY_BASE_MS, privateAddresses: env.TANDEM_WEBHOOK_PRIVATE_ADDRESSES, organizationIds: testAlertOrgs }),
  organizationIds: testAlertOrgs,
});
console.log('[worker] ready: queues', workers.map((w) => w.name).join(', '));

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await alerts.stop();
  closeTransports();
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all([maintenance.close(), detection.close(), operations.close()]);
  bus.close();
  await db.$disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
