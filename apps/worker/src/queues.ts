import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import type { Db } from '@tandem/db';
import { markStaleAgentsOffline, pruneLoginAttempts, rollUpReplicationSamples } from './jobs/maintenance.ts';

export const maintenanceQueueName = 'tandem-maintenance';

/** Job payloads, validated on receipt: a malformed job fails with a clear message. */
const maintenanceJob = z.discriminatedUnion('task', [
  z.object({ task: z.literal('prune-login-attempts') }),
  z.object({ task: z.literal('mark-stale-agents-offline') }),
  z.object({ task: z.literal('roll-up-replication-samples') }),
]);
export type MaintenanceJob = z.infer<typeof maintenanceJob>;

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number(u.pathname.slice(1) || 0),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    // BullMQ workers block on Redis; they must not give up on a slow reply.
    maxRetriesPerRequest: null,
  };
}

/** `prefix` keeps a queue's keys apart from others on the same Redis (tests use their own). */
export interface QueueOptions {
  prefix?: string;
}

export function maintenanceQueue(connection: ConnectionOptions, opts: QueueOptions = {}) {
  return new Queue<MaintenanceJob>(maintenanceQueueName, { connection, prefix: opts.prefix });
}

export function startMaintenanceWorker(
  connection: ConnectionOptions,
  db: Db,
  opts: QueueOptions & { now?: () => Date } = {},
) {
  const now = opts.now ?? (() => new Date());
  return new Worker<MaintenanceJob>(
    maintenanceQueueName,
    async (job: Job<MaintenanceJob>) => {
      const parsed = maintenanceJob.safeParse(job.data);
      if (!parsed.success) throw new Error(`Malformed maintenance job: ${z.prettifyError(parsed.error)}`);
      const data = parsed.data;
      switch (data.task) {
        case 'prune-login-attempts':
          return { pruned: await pruneLoginAttempts(db, now()) };
        case 'mark-stale-agents-offline':
          return { markedOffline: await markStaleAgentsOffline(db) };
        case 'roll-up-replication-samples':
          return { rolledUp: await rollUpReplicationSamples(db) };
      }
    },
    { connection, concurrency: 1, prefix: opts.prefix },
  );
}

/** Schedules the recurring maintenance (idempotent: the scheduler id makes it one schedule). */
export async function scheduleMaintenance(queue: Queue<MaintenanceJob>) {
  await queue.upsertJobScheduler('prune-login-attempts', { every: 3600_000 }, { data: { task: 'prune-login-attempts' } });
  await queue.upsertJobScheduler('mark-stale-agents-offline', { every: 30_000 }, { data: { task: 'mark-stale-agents-offline' } });
  await queue.upsertJobScheduler('roll-up-replication-samples', { every: 600_000 }, { data: { task: 'roll-up-replication-samples' } });
}
