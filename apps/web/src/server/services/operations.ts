import { enqueueOperation, operationsQueue, redisConnection, type OperationJob } from '@tandem/jobs';
import { env } from '@/env';

const globalForQueue = globalThis as unknown as { tandemOperationsQueue?: ReturnType<typeof operationsQueue> };

function queue() {
  globalForQueue.tandemOperationsQueue ??= operationsQueue(redisConnection(env().REDIS_URL), { prefix: env().TANDEM_QUEUE_PREFIX });
  return globalForQueue.tandemOperationsQueue;
}

/** Hands an operation to the worker. Called after the transaction that created it committed. */
export async function startOperation(job: OperationJob) {
  await enqueueOperation(queue(), job);
}
