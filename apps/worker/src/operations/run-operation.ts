// Runs one Operation: its steps in order, each recorded before and after it runs, so a crash
// leaves an honest record and a restart continues where it stopped (steps are idempotent).
import type { AgentBus } from '@tandem/agent-bus';
import { publishPairChange } from '@tandem/agent-bus/live';
import { withTenant, type Db, type TenantTx } from '@tandem/db';
import { settingsFromColumns, stepFromRow, type PairSettings } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { runStep, StepError, stepExecutors, type LoadedPair, type StepContext } from './steps.ts';

export interface OperationDeps {
  db: Db;
  bus: AgentBus;
  now?: () => Date;
}

const finished = new Set(['succeeded', 'failed', 'cancelled']);
const operationLabel: Record<string, string> = {
  enable: 'Enabling protection',
  disable: 'Disabling protection',
  verify: 'Verify',
  monitoring_on: 'Turning failure monitoring on',
  monitoring_off: 'Turning failure monitoring off',
};
const finishedMessage: Record<string, string> = {
  enable: 'Protection enabled: the initial mirror is running',
  monitoring_on: 'Failure monitoring is on',
  monitoring_off: 'Failure monitoring is off',
};

export async function runOperation(deps: OperationDeps, job: OperationJob): Promise<{ status: string }> {
  const now = deps.now ?? (() => new Date());
  const scope = { organizationId: job.organizationId, customerId: job.customerId, userId: null };
  // Once the pair is known, every transaction below (the steps' included) writes something its
  // page shows: each is announced to live pages after it committed.
  let livePairId: string | null = null;
  const tx = async <T>(fn: (db: TenantTx) => Promise<T>) => {
    const result = await withTenant(scope, fn, deps.db);
    if (livePairId) void publishPairChange(job, livePairId, 'operation');
    return result;
  };

  const op = await tx((db) => db.operation.findUnique({ where: { id: job.operationId }, include: { steps: { orderBy: { position: 'asc' } } } }));
  if (!op) throw new Error(`Operation ${job.operationId} not found in this tenant`);
  if (finished.has(op.status)) return { status: op.status };
  if (!op.pairId) throw new Error(`Operation ${op.id} has no pair`);

  const row = await tx((db) =>
    db.protectionPair.findUnique({
      where: { id: op.pairId! },
      include: {
        source: { select: { hostname: true, agent: { select: { id: true, status: true, capabilities: true, lastSeenAt: true } } } },
        target: { select: { hostname: true, agent: { select: { id: true, status: true, capabilities: true, lastSeenAt: true } } } },
      },
    }),
  );
  if (!row) throw new Error(`Pair of operation ${op.id} not found`);
  livePairId = row.id;
  const pair: LoadedPair = row;
  const event = (severity: 'info' | 'warning' | 'error', message: string) =>
    tx((db) => db.pairEvent.create({ data: { organizationId: pair.organizationId, customerId: pair.customerId, pairId: pair.id, kind: 'operation', severity, message } }));

  let settings: PairSettings;
  try {
    settings = settingsFromColumns(row);
  } catch (err) {
    await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'failed', error: 'The stored configuration is not valid; edit the pair', finishedAt: now() } }));
    await event('error', `${operationLabel[op.kind] ?? op.kind} failed: the stored configuration is not valid (${String(err).slice(0, 300)})`);
    return { status: 'failed' };
  }

  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'running', startedAt: op.startedAt ?? now() } }));
  const ctx: StepContext = { pair, settings, bus: deps.bus, tx, now };
  const skipped: string[] = [];

  for (const step of op.steps) {
    if (step.status === 'succeeded' || step.status === 'skipped') continue;
    // A stored step that does not match the plan's schema fails the operation before it runs.
    const planned = stepFromRow(step);
    await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'running', startedAt: now(), error: null } }));
    try {
      if (!planned.ok) throw new StepError(`The stored step (${step.kind}) is not valid: ${planned.error}`);
      const output = await runStep(ctx, planned.step);
      await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'succeeded', output: (output ?? {}), finishedAt: now() } }));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof StepError)) console.error(`[worker] step ${step.kind} of operation ${op.id} crashed`, err);
      if (planned.ok && 'optional' in planned.step && planned.step.optional) {
        skipped.push(`${step.description}: ${message}`);
        await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'skipped', error: message, finishedAt: now() } }));
        continue;
      }
      await tx(async (db) => {
        await db.operationStep.update({ where: { id: step.id }, data: { status: 'failed', error: message, finishedAt: now() } });
        await db.operationStep.updateMany({ where: { operationId: op.id, status: 'pending' }, data: { status: 'skipped' } });
      });
      // The undo belongs to the operation: it ends (failed) only once what did run is undone.
      if (op.kind === 'enable') await undoEnable(ctx);
      // Monitoring that did not start on both sides must not half-run: stop what did start.
      if (op.kind === 'monitoring_on') await undoMonitoring(ctx);
      await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'failed', error: `${step.description}: ${message}`, finishedAt: now() } }));
      await event('error', `${operationLabel[op.kind] ?? op.kind} failed at "${step.description}": ${message}`);
      return { status: 'failed' };
    }
  }

  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'succeeded', finishedAt: now() } }));
  if (skipped.length) {
    // An agent that missed the stop is told again by the gateway when it next speaks of the pair.
    const later = op.kind === 'monitoring_off' ? 'The gateway stops the target probing when it next reports; a source left answering probes changes nothing.' : 'They stop the pair when they are told again.';
    await event('warning', `${operationLabel[op.kind] ?? op.kind} finished, but some agents could not be reached: ${skipped.join('; ')}. ${later}`);
  } else if (op.kind !== 'verify') {
    // Verify's own step already recorded what it found.
    await event('info', finishedMessage[op.kind] ?? `${operationLabel[op.kind] ?? op.kind} finished`);
  }
  return { status: 'succeeded' };
}

async function undoMonitoring(ctx: StepContext) {
  for (const side of ['target', 'source'] as const) await stepExecutors['monitor.stop'](ctx, { side }).catch(() => undefined);
}

/** A failed enable leaves nothing running: both agents are asked to stop (best effort). */
async function undoEnable(ctx: StepContext) {
  for (const side of ['source', 'target'] as const) {
    for (const kind of ['monitor.stop', 'replication.stop'] as const) {
      await stepExecutors[kind](ctx, { side }).catch(() => undefined);
    }
  }
}
