// The queues web and worker share: names, job payloads (validated on both ends) and how a job is
// added. Web enqueues; the worker consumes. Neither imports the other.
import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number(u.pathname.slice(1) || 0),
    // Redis authenticates a named user (infra's `tandem`): both parts of the URL's credentials.
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    // BullMQ workers block on Redis; they must not give up on a slow reply.
    maxRetriesPerRequest: null,
  };
}

/** `prefix` keeps a queue's keys apart from others on the same Redis (tests use their own). */
export interface QueueOptions {
  prefix?: string;
}

export const operationsQueueName = 'tandem-operations';

/** Runs one Operation (enable, disable, …) step by step. The tenant travels with the job. */
export const operationJobSchema = z.object({
  operationId: z.uuid(),
  organizationId: z.uuid(),
  customerId: z.uuid(),
});
export type OperationJob = z.infer<typeof operationJobSchema>;

export function operationsQueue(connection: ConnectionOptions, opts: QueueOptions = {}) {
  return new Queue<OperationJob>(operationsQueueName, { connection, prefix: opts.prefix });
}

/**
 * The job id is the operation id: adding an operation that is already queued or running is a
 * no-op, so the worker's restart sweep and the web app can both enqueue without running it twice.
 */
export async function enqueueOperation(queue: Queue<OperationJob>, job: OperationJob) {
  await queue.add('run', operationJobSchema.parse(job), { jobId: job.operationId, removeOnComplete: true, removeOnFail: true });
}
