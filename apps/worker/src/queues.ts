import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import type { AgentBus } from '@tandem/agent-bus';
import type { Db } from '@tandem/db';
import { enqueueOperation, operationJobSchema, operationsQueueName, type OperationJob, type QueueOptions } from '@tandem/jobs';
import { sampleNativeReplication } from './detection/native-samples.ts';
import { sweepDetection } from './detection/sweep.ts';
import { dnsReassertIntervalMs, reassertDns } from './jobs/dns-reassert.ts';
import { ALERT_DETECTORS_EVERY_MS, detectAlertConditions } from './jobs/alert-detectors.ts';
import { startDueDrills } from './jobs/drills.ts';
import { markStaleAgentsOffline, pruneLoginAttempts, rollUpReplicationSamples } from './jobs/maintenance.ts';
import { announceMonthlyReports, MONTHLY_REPORTS_EVERY_MS } from './jobs/monthly-reports.ts';
import { CLUSTER_SNAPSHOT_INTERVAL_HOURS, snapshotClusters } from './jobs/cluster-snapshots.ts';
import { removeTestLeftovers } from './jobs/test-leftovers.ts';
import { runOperation } from './operations/run-operation.ts';
import { APPROVAL_CLOCK_EVERY_MS, runApprovalClock } from './approvals/clock.ts';
import { workerPublicUrl } from './env.ts';
import { startDueValidations, VALIDATION_SWEEP_EVERY_MS } from './validation/schedule.ts';

export { redisConnection, operationsQueue, enqueueOperation, type QueueOptions } from '@tandem/jobs';

export const maintenanceQueueName = 'tandem-maintenance';

/** Job payloads, validated on receipt: a malformed job fails with a clear message. */
const maintenanceJob = z.discriminatedUnion('task', [
  z.object({ task: z.literal('prune-login-attempts') }),
  z.object({ task: z.literal('mark-stale-agents-offline') }),
  z.object({ task: z.literal('roll-up-replication-samples') }),
  z.object({ task: z.literal('start-due-drills') }),
  z.object({ task: z.literal('detect-alert-conditions') }),
  z.object({ task: z.literal('remove-test-leftovers') }),
  z.object({ task: z.literal('snapshot-clusters') }),
  z.object({ task: z.literal('validate-due-pairs') }),
  z.object({ task: z.literal('approval-clock') }),
  z.object({ task: z.literal('monthly-reports') }),
]);
export type MaintenanceJob = z.infer<typeof maintenanceJob>;

export function maintenanceQueue(connection: ConnectionOptions, opts: QueueOptions = {}) {
  return new Queue<MaintenanceJob>(maintenanceQueueName, { connection, prefix: opts.prefix });
}

export function startMaintenanceWorker(
  connection: ConnectionOptions,
  db: Db,
  opts: QueueOptions & { now?: () => Date; operations?: Queue<OperationJob>; bus?: AgentBus; publicUrl?: string } = {},
) {
  const now = opts.now ?? (() => new Date());
  const operations = opts.operations;
  return new Worker<MaintenanceJob>(
    maintenanceQueueName,
    async (job: Job<MaintenanceJob>) => {
      const parsed = maintenanceJob.safeParse(job.data);
      if (!parsed.success) throw new Error(`Malformed maintenance job: ${z.prettifyError(parsed.error)}`);
      const data = parsed.data;
      switch (data.task) {
        case 'detect-alert-conditions':
          // Agent offline, lag above the RPO, credentials expiring, test failovers overdue.
          return detectAlertConditions(db, now());
        case 'prune-login-attempts':
          return { pruned: await pruneLoginAttempts(db, now()) };
        case 'mark-stale-agents-offline':
          return { markedOffline: await markStaleAgentsOffline(db) };
        case 'roll-up-replication-samples':
          return { rolledUp: await rollUpReplicationSamples(db) };
        case 'start-due-drills':
          // Without the operations queue (tests of other maintenance) drills are left for a worker that has it.
          return operations ? startDueDrills(db, now(), (j) => enqueueOperation(operations, j)) : { due: 0, claimed: 0, operations: 0, skippedBusy: 0 };
        case 'remove-test-leftovers':
          // Test failover copies a dead worker left on target agents (needs the bus to ask them).
          return opts.bus ? removeTestLeftovers(db, opts.bus) : { agents: 0, copies: 0, removed: 0, failed: 0 };
        case 'snapshot-clusters':
          // Each cluster's configuration, kept when it changed (the agents are asked through the bus).
          return opts.bus ? snapshotClusters(db, opts.bus, now) : { clusters: 0, stored: 0, unchanged: 0, failed: 0 };
        case 'monthly-reports':
          // Last month's report to every customer with a pair, once (links start with the public URL).
          return announceMonthlyReports(db, now(), opts.publicUrl ?? workerPublicUrl());
        case 'validate-due-pairs':
          // Scheduled and reconnect validation runs are operations: they need the operations queue.
          return operations ? startDueValidations(db, now(), (j) => enqueueOperation(operations, j)) : { due: 0, started: 0 };
        case 'approval-clock':
          // Escalations and deadlines of approval requests; a failover that proceeds goes to the operations queue.
          return runApprovalClock(db, now(), operations ? (j) => enqueueOperation(operations, j) : undefined);
      }
    },
    // Several at once, so a short, time-critical task (the approval clock, marking agents
    // offline) never waits behind a long one (a cluster snapshot, a validation sweep). Each task
    // is idempotent, so a slow run overlapping the next is harmless.
    { connection, concurrency: 4, prefix: opts.prefix },
  );
}

/** Schedules the recurring maintenance (idempotent: the scheduler id makes it one schedule). */
export async function scheduleMaintenance(queue: Queue<MaintenanceJob>) {
  await queue.upsertJobScheduler('prune-login-attempts', { every: 3600_000 }, { data: { task: 'prune-login-attempts' } });
  await queue.upsertJobScheduler('mark-stale-agents-offline', { every: 30_000 }, { data: { task: 'mark-stale-agents-offline' } });
  await queue.upsertJobScheduler('roll-up-replication-samples', { every: 600_000 }, { data: { task: 'roll-up-replication-samples' } });
  await queue.upsertJobScheduler('remove-test-leftovers', { every: 300_000 }, { data: { task: 'remove-test-leftovers' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
  await queue.upsertJobScheduler('snapshot-clusters', { every: CLUSTER_SNAPSHOT_INTERVAL_HOURS * 3600_000 }, { data: { task: 'snapshot-clusters' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
  await queue.upsertJobScheduler('validate-due-pairs', { every: VALIDATION_SWEEP_EVERY_MS }, { data: { task: 'validate-due-pairs' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
  await queue.upsertJobScheduler('detect-alert-conditions', { every: ALERT_DETECTORS_EVERY_MS }, { data: { task: 'detect-alert-conditions' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
  await queue.upsertJobScheduler('monthly-reports', { every: MONTHLY_REPORTS_EVERY_MS }, { data: { task: 'monthly-reports' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
  await queue.upsertJobScheduler('approval-clock', { every: APPROVAL_CLOCK_EVERY_MS }, { data: { task: 'approval-clock' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
  await queue.upsertJobScheduler('start-due-drills', { every: 60_000 }, { data: { task: 'start-due-drills' }, opts: { removeOnComplete: true, removeOnFail: 100 } });
}

/**
 * Operations (enable, disable, …): several may run at once, one job per operation (the job id is
 * the operation id, so one operation never runs twice at the same time).
 */
export function startOperationsWorker(connection: ConnectionOptions, db: Db, bus: AgentBus, opts: QueueOptions & { concurrency?: number } = {}) {
  return new Worker<OperationJob>(
    operationsQueueName,
    async (job: Job<OperationJob>) => {
      const parsed = operationJobSchema.safeParse(job.data);
      if (!parsed.success) throw new Error(`Malformed operation job: ${z.prettifyError(parsed.error)}`);
      return runOperation({ db, bus }, parsed.data);
    },
    { connection, concurrency: opts.concurrency ?? 8, prefix: opts.prefix },
  );
}

/** Operations left pending or running by a stopped worker, in every tenant (queued again at start-up). */
export async function unfinishedOperations(db: Db): Promise<OperationJob[]> {
  return db.$queryRaw<OperationJob[]>`SELECT id AS "operationId", "organizationId", "customerId" FROM unfinished_operations()`;
}

export const detectionQueueName = 'tandem-detection';
export const DETECTION_INTERVAL_MS = 2_000;
export const NATIVE_SAMPLE_INTERVAL_MS = 5_000;

/** What the watch queue does: the failure-detection sweep, sampling natively replicated pairs, re-asserting failed-over DNS. */
const watchJob = z.object({ task: z.enum(['sweep', 'sample-native', 'reassert-dns']) });
export type WatchJob = z.infer<typeof watchJob>;

/** Watching runs on its own queue so slow maintenance never delays it. */
export function detectionQueue(connection: ConnectionOptions, opts: QueueOptions = {}) {
  return new Queue<WatchJob>(detectionQueueName, { connection, prefix: opts.prefix });
}

export async function scheduleDetection(queue: Queue<WatchJob>, everyMs = DETECTION_INTERVAL_MS, sampleEveryMs = NATIVE_SAMPLE_INTERVAL_MS, reassertEveryMs = dnsReassertIntervalMs()) {
  const opts = { removeOnComplete: true, removeOnFail: 100 };
  await queue.upsertJobScheduler('sweep-detection', { every: everyMs }, { data: { task: 'sweep' }, opts });
  await queue.upsertJobScheduler('sample-native', { every: sampleEveryMs }, { data: { task: 'sample-native' }, opts });
  await queue.upsertJobScheduler('reassert-dns', { every: reassertEveryMs }, { data: { task: 'reassert-dns' }, opts });
}

/**
 * Without a bus (tests of the sweep alone) native pairs are not sampled and DNS is not
 * re-asserted; without the operations queue, automatic failovers are only marked, not started.
 */
export function startDetectionWorker(connection: ConnectionOptions, db: Db, opts: QueueOptions & { now?: () => Date; bus?: AgentBus; operations?: Queue<OperationJob>; dnsReassertOrganizationId?: string } = {}) {
  const now = opts.now ?? (() => new Date());
  // A task still running when its next turn comes is not started twice (the turn is skipped).
  const running = new Set<WatchJob['task']>();
  const once = async <T>(task: WatchJob['task'], fn: () => Promise<T>): Promise<T | { skipped: true }> => {
    if (running.has(task)) return { skipped: true };
    running.add(task);
    try {
      return await fn();
    } finally {
      running.delete(task);
    }
  };
  return new Worker<WatchJob>(
    detectionQueueName,
    async (job: Job<WatchJob>) => {
      const parsed = watchJob.safeParse(job.data);
      if (!parsed.success) throw new Error(`Malformed watch job: ${z.prettifyError(parsed.error)}`);
      const bus = opts.bus;
      if (parsed.data.task === 'sample-native') return bus ? once('sample-native', () => sampleNativeReplication(db, bus, now)) : { sampled: 0, failed: 0 };
      if (parsed.data.task === 'reassert-dns') return bus ? once('reassert-dns', () => reassertDns(db, bus, now, opts.dnsReassertOrganizationId)) : { checked: 0, reasserted: 0, failed: 0 };
      const operations = opts.operations;
      return once('sweep', () => sweepDetection(db, now(), operations ? (j) => enqueueOperation(operations, j) : undefined));
    },
    // One slot per task: a slow agent answer while sampling or re-checking DNS never holds up the detection sweep.
    { connection, concurrency: 3, prefix: opts.prefix },
  );
}
