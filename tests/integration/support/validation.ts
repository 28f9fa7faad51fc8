// Validation runs and fixes as the portal asks for them (an Operation queued for the worker), and
// waiting for them; plus, for tests whose subject is not validation, a passing run recorded
// directly so that the enable gate lets them enable protection.
import { ownerDb } from '@tandem/db/testing';
import { factsFingerprint, pairFactsOf, settingsFromColumns } from '@tandem/engine';
import { enqueueOperation, operationsQueue, redisConnection } from '@tandem/jobs';
import { waitFor } from './agents';

interface Tenant {
  organizationId: string;
  customerId: string;
}

/** An operation as the portal creates it (no steps: the worker plans), queued for the worker. */
export async function queueOperation(t: Tenant, pairId: string, kind: 'validate' | 'fix' | 'failover' | 'failback', options: object, requestedById: string | null, prefix: string) {
  const op = await ownerDb().operation.create({ data: { organizationId: t.organizationId, customerId: t.customerId, pairId, kind, options, requestedById } });
  const queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  await enqueueOperation(queue, { operationId: op.id, organizationId: t.organizationId, customerId: t.customerId });
  await queue.close();
  return op.id;
}

/** Waits until the operation has finished (succeeded or failed) and returns it with its steps. */
export async function finished(operationId: string, timeoutMs = 120_000) {
  return waitFor(
    `operation ${operationId} finished`,
    async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
      return o.status === 'succeeded' || o.status === 'failed' ? o : null;
    },
    timeoutMs,
  );
}

/** The run a validate operation produced, with its findings. */
export async function runOf(operationId: string) {
  return ownerDb().validationRun.findFirstOrThrow({ where: { operationId }, include: { findings: { orderBy: [{ checkId: 'asc' }, { side: 'asc' }] } } });
}

/** Validates the pair through the worker and returns the finished run. */
export async function validate(t: Tenant, pairId: string, prefix: string, requestedById: string | null = null) {
  const id = await queueOperation(t, pairId, 'validate', { trigger: 'manual' }, requestedById, prefix);
  const op = await finished(id);
  return { op, run: await runOf(id) };
}

/** Fix All (or Fix of the given findings) from a run; returns the fix operation and the validation that followed it. */
export async function fix(t: Tenant, pairId: string, runId: string, prefix: string, findingIds: string[] | 'all', requestedById: string | null = null) {
  const all = findingIds === 'all';
  const id = await queueOperation(t, pairId, 'fix', { runId, findingIds: all ? [] : findingIds, fixAll: all, planDigest: '', deselected: [], confirmPrivileged: false }, requestedById, prefix);
  const op = await finished(id, 180_000);
  const after = await waitFor(
    'the validation after the fix',
    async () => {
      const v = await ownerDb().operation.findFirst({ where: { pairId, kind: 'validate', options: { path: ['fixOperationId'], equals: id } } });
      return v && (v.status === 'succeeded' || v.status === 'failed') ? v : null;
    },
    120_000,
  );
  return { op, validation: await runOf(after.id) };
}

/**
 * Records a finished, passing validation run for the pair as it is now (its configuration time
 * and facts fingerprint), for tests about enabling, replication or failover rather than
 * validation: the enable gate then lets protection be enabled.
 */
export async function recordPassingValidation(pairId: string) {
  // The fingerprint covers both servers' facts: wait until both agents have reported theirs, or the
  // first report arriving after the record would change it.
  const pair = await waitFor(
    'facts of both servers (the fingerprint covers them)',
    async () => {
      const p = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId }, include: { source: { select: { facts: true } }, target: { select: { facts: true } } } });
      return p.source.facts && p.target.facts ? p : null;
    },
    60_000,
  );
  const fingerprint = factsFingerprint({ pair: pairFactsOf(pair, settingsFromColumns(pair)), source: pair.source.facts, target: pair.target.facts });
  const now = new Date();
  await ownerDb().validationRun.create({
    data: {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId,
      status: 'passed',
      startedAt: now,
      finishedAt: now,
      trigger: 'manual',
      fingerprint,
      configChangedAt: pair.configChangedAt,
      overall: 'good',
      results: [],
      gatherers: {},
    },
  });
}
