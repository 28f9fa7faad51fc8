// The maintenance worker against real Redis and PostgreSQL: a queued job prunes old sign-in
// attempts; a malformed job fails with a clear validation error and does nothing.
import { randomUUID } from 'node:crypto';
import { QueueEvents, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb } from '@tandem/db/testing';
import { loginAttemptRetentionMs } from '../../apps/worker/src/jobs/maintenance';
import { callerFor } from './helpers';
import {
  maintenanceQueue,
  maintenanceQueueName,
  redisConnection,
  scheduleMaintenance,
  startMaintenanceWorker,
  type MaintenanceJob,
} from '../../apps/worker/src/queues';

// A private key prefix: a worker of `npm start` or of another run on the same Redis never sees our jobs.
const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;

const connection = redisConnection(process.env.REDIS_URL!);
let db: Db;
let queue: ReturnType<typeof maintenanceQueue>;
let events: QueueEvents;
let worker: ReturnType<typeof startMaintenanceWorker>;

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
  queue = maintenanceQueue(connection, { prefix });
  events = new QueueEvents(maintenanceQueueName, { connection, prefix });
  worker = startMaintenanceWorker(connection, db, { prefix, now: workerNow });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
});

afterAll(async () => {
  await worker?.close();
  await queue?.obliterate({ force: true });
  await events?.close();
  await queue?.close();
  await db?.$disconnect();
});

// This worker's clock runs a week ahead. Other test files start real workers on the same
// database that prune by the real clock: rows this file needs kept or pruned are dated by this
// worker's clock, so only it can prune the ones it should (they are in the future to the others).
const SHIFT_MS = 7 * 24 * 3600_000;
const workerNow = () => new Date(Date.now() + SHIFT_MS);
const hoursAgo = (h: number) => new Date(workerNow().getTime() - h * 3600_000);

async function attemptsWithKeys(keys: string[]) {
  const rows = await ownerDb().loginAttempt.findMany({ where: { key: { in: keys } }, select: { key: true } });
  return rows.map((r) => r.key).sort();
}

/** Waits for a job's outcome: its result, or the error it failed with. */
async function outcome(job: Job) {
  return job.waitUntilFinished(events, 20_000).then(
    (result: unknown) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error: error as Error }),
  );
}

describe('the maintenance worker', () => {
  it('works on a private key prefix (does not touch a shared queue)', () => {
    expect(queue.opts.prefix).toBe(prefix);
    expect(worker.opts.prefix).toBe(prefix);
  });

  it('prune-login-attempts removes attempts older than the retention and keeps the rest', async () => {
    expect(loginAttemptRetentionMs).toBe(24 * 3600_000);
    const tag = `worker-test:${randomUUID()}`;
    const old = [`${tag}:old-2d`, `${tag}:old-25h`];
    const kept = [`${tag}:young-23h`, `${tag}:fresh`];
    await ownerDb().loginAttempt.createMany({
      data: [
        { key: old[0]!, success: false, createdAt: hoursAgo(48) },
        { key: old[1]!, success: true, createdAt: hoursAgo(25) },
        { key: kept[0]!, success: false, createdAt: hoursAgo(23) },
        { key: kept[1]!, success: false, createdAt: hoursAgo(0) },
      ],
    });
    expect(await attemptsWithKeys([...old, ...kept])).toEqual([...old, ...kept].sort());

    const job = await queue.add('prune-login-attempts', { task: 'prune-login-attempts' });
    const res = await outcome(job);
    expect(res.ok, res.ok ? '' : res.error.message).toBe(true);
    expect((res as { result: { pruned: number } }).result.pruned).toBeGreaterThanOrEqual(old.length);

    expect(await attemptsWithKeys([...old, ...kept])).toEqual(kept.sort());
    expect(await queue.getJobState(job.id!)).toBe('completed');
  });

  it.each([
    { label: 'an unknown task', data: { task: 'drop-everything' } },
    { label: 'no task at all', data: {} },
    { label: 'a task of the wrong type', data: { task: 42 } },
  ])('a malformed payload ($label) fails with a clear validation error and prunes nothing', async ({ data }) => {
    // Old to this worker (the job would prune it), in the future to every other.
    const key = `worker-test:${randomUUID()}:old`;
    await ownerDb().loginAttempt.create({ data: { key, success: false, createdAt: hoursAgo(72) } });

    const job = await queue.add('prune-login-attempts', data as unknown as MaintenanceJob);
    const res = await outcome(job);
    expect(res.ok).toBe(false);
    const message = (res as { error: Error }).error.message;
    expect(message).toMatch(/task/);
    expect(message).toContain("Expected 'prune-login-attempts'");

    const failed = await queue.getJob(job.id!);
    expect(await failed!.getState()).toBe('failed');
    expect(failed!.failedReason).toBe(message);
    expect(failed!.attemptsMade).toBe(1);
    expect(await attemptsWithKeys([key])).toEqual([key]);
    await ownerDb().loginAttempt.deleteMany({ where: { key } });
  });

  it('scheduling the recurring maintenance twice keeps one schedule per task', async () => {
    await scheduleMaintenance(queue);
    await scheduleMaintenance(queue);
    const schedulers = await queue.getJobSchedulers();
    const names = ['approval-clock', 'detect-alert-conditions', 'mark-stale-agents-offline', 'monthly-reports', 'prune-login-attempts', 'remove-test-leftovers', 'roll-up-replication-samples', 'snapshot-clusters', 'start-due-drills', 'validate-due-pairs'];
    expect(schedulers.map((s) => s.key).sort()).toEqual(names);
    expect(schedulers.find((s) => s.key === 'prune-login-attempts')).toMatchObject({ every: 3600_000 });
    for (const name of names) await queue.removeJobScheduler(name);
  });

  it('marks online agents that went silent offline, in every tenant', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const stale = new Date(Date.now() - 10 * 60_000);
    const mk = (t: typeof a, lastSeenAt: Date) =>
      ownerDb().agent.create({
        data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: t.serverX.id, status: 'online', lastSeenAt },
      });
    const staleA = await mk(a, stale);
    const freshB = await mk(b, new Date());
    // The server's page (server.live) hears it too; its first item says it is listening.
    const live = (await callerFor(a.owner.id).server.live({ serverId: a.serverX.id }))[Symbol.asyncIterator]();
    // On the server side (no HTTP in between) items are tracked envelopes: [id, item, marker].
    const nextItem = async () => ((await live.next()).value as unknown as [string, unknown])[1];
    expect(await nextItem()).toMatchObject({ kind: 'sync' });
    const job = await queue.add('mark-stale-agents-offline', { task: 'mark-stale-agents-offline' });
    const res = await outcome(job);
    expect(res.ok).toBe(true);
    expect((await ownerDb().agent.findUniqueOrThrow({ where: { id: staleA.id } })).status).toBe('offline');
    expect((await ownerDb().agent.findUniqueOrThrow({ where: { id: freshB.id } })).status).toBe('online');
    expect(await nextItem()).toMatchObject({ kind: 'server', serverId: a.serverX.id, change: 'agent' });
    await live.return?.();
  });

  it('rolls old replication samples up per minute and drops the oldest, keeping recent ones raw', async () => {
    const t = await createTenant();
    const target = await createServer(t.customerX);
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        name: 'rollup',
        sourceServerId: t.serverX.id,
        targetServerId: target.id,
        application: 'file_server',
      },
    });
    const minute = new Date(Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000);
    const sample = (at: Date, lagSeconds: number, queueBytes: number) => ({
      organizationId: t.org.id,
      customerId: t.customerX.id,
      pairId: pair.id,
      at,
      lagSeconds,
      queueBytes: BigInt(queueBytes),
      throughputBps: 1000,
    });
    await ownerDb().replicationSample.createMany({
      data: [
        sample(new Date(minute.getTime() + 5_000), 1, 100),
        sample(new Date(minute.getTime() + 25_000), 7, 200),
        sample(new Date(minute.getTime() + 45_000), 2, 300),
        sample(new Date(Date.now() - 40 * 86_400_000), 9, 1), // past the 30 days
        sample(new Date(), 0.5, 50), // recent: stays raw
      ],
    });
    const job = await queue.add('roll-up-replication-samples', { task: 'roll-up-replication-samples' });
    expect((await outcome(job)).ok).toBe(true);
    const rows = await ownerDb().replicationSample.findMany({ where: { pairId: pair.id }, orderBy: { at: 'asc' } });
    expect(rows.map((r) => ({ at: r.at.getTime(), res: r.resolutionSeconds, lag: r.lagSeconds, queue: Number(r.queueBytes) }))).toEqual([
      { at: minute.getTime(), res: 60, lag: 7, queue: 300 },
      { at: rows[1]!.at.getTime(), res: 0, lag: 0.5, queue: 50 },
    ]);
  });
});
