// The worker process: runs background jobs from BullMQ queues. Later issues add validation,
// fixes and operations; today it runs the maintenance queue.
import { appDb } from '@tandem/db';
import { workerEnv } from './env.ts';
import { maintenanceQueue, redisConnection, scheduleMaintenance, startMaintenanceWorker } from './queues.ts';

const env = workerEnv();
const connection = redisConnection(env.REDIS_URL);
const db = appDb();
const queue = maintenanceQueue(connection);
await scheduleMaintenance(queue);
const worker = startMaintenanceWorker(connection, db);
worker.on('completed', (job, result) => {
  if (job.name !== 'mark-stale-agents-offline' || (result as { markedOffline?: number }).markedOffline) {
    console.log(`[worker] ${job.name} done`, JSON.stringify(result));
  }
});
worker.on('failed', (job, err) => console.error(`[worker] ${job?.name ?? 'job'} failed: ${err.message}`));
await worker.waitUntilReady();
console.log('[worker] ready: queues', worker.name);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await worker.close();
  await queue.close();
  await db.$disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
