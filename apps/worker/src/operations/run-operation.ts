// Runs one Operation: its steps in order, each recorded before and after it runs, so a crash
// leaves an honest record and a restart continues where it stopped (steps are idempotent).
// Failover and failback (runbooks) add a point of no return: a failure before it undoes what ran;
// at or after it, the run stops with the pair in a clear state and says what to do by hand.
import type { AgentBus } from '@tandem/agent-bus';
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent, withTenant, type Db, type TenantTx } from '@tandem/db';
import { settingsFromColumns, stepFromRow, stepToRow, undoPlan, type EventType, type LifecycleEvent, type PairSettings } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { pairNames } from '../jobs/alert-conditions.ts';
import { failoverAlertData, isPlanned, planBeforeRun } from './plan-runbook.ts';
import { planAwaitingApproval } from '../approvals/plan.ts';
import { runClusterOperation } from './run-cluster-operation.ts';
import { runStep, StepError, stepExecutors, type LoadedPair, type StepContext } from './steps.ts';
import { lastSampledLag } from './steps/failover.ts';
import { recordRefusedTest, runTest } from './run-test.ts';
import { crashPoint } from './test-crash.ts';
import { runFix } from '../validation/run-fix.ts';
import { runValidate } from '../validation/run-validate.ts';

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
  failover: 'Failover',
  failback: 'Failback',
  test_failover: 'Test failover',
};
const finishedMessage: Record<string, string> = {
  enable: 'Protection enabled: the initial mirror is running',
  monitoring_on: 'Failure monitoring is on',
  monitoring_off: 'Failure monitoring is off',
  failover: 'Failed over: the target serves the pair',
  failback: 'Failed back: the source serves the pair again',
};

/** What a runbook run found out (Operation.outcome). */
interface Outcome {
  lagAtCutoverSeconds?: number | null;
  warnings: string[];
  nextSteps: string[];
}

/** How an operation ends (finishedAt defaults to now). */
export type OperationEnd = { status: 'succeeded' | 'failed'; error?: string | null; outcome?: object; report?: object; finishedAt?: Date };

export type StepRow = { id: string; position: number; kind: string; description: string; params: unknown; status: string; phase: string; attempts: number; error: string | null; startedAt: Date | null };

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
  // A cluster's backup or restore belongs to no pair: its own runner.
  if (op.kind === 'cluster_backup' || op.kind === 'cluster_restore') return runClusterOperation(deps, job, op);
  if (!op.pairId) throw new Error(`Operation ${op.id} has no pair`);
  // Validation and fixes have runners of their own (apps/worker/src/validation).
  if (op.kind === 'validate') return runValidate(deps, job, op);
  if (op.kind === 'fix') return runFix(deps, job, op);

  const agentSelect = { select: { id: true, status: true, capabilities: true, lastSeenAt: true } } as const;
  const row = await tx((db) =>
    db.protectionPair.findUnique({
      where: { id: op.pairId! },
      include: { source: { select: { hostname: true, agent: agentSelect } }, target: { select: { hostname: true, agent: agentSelect } } },
    }),
  );
  if (!row) throw new Error(`Pair of operation ${op.id} not found`);
  livePairId = row.id;
  const pair: LoadedPair = row;
  let defaultMode: string | null = null;
  // A real failover's end is an alerting event too (failover.succeeded / failed); a dry run ends in planning.
  const writeEvent = async (db: TenantTx, severity: 'info' | 'warning' | 'error', message: string, type?: EventType) =>
      emitEvent(db, {
        organizationId: pair.organizationId,
        customerId: pair.customerId,
        pairId: pair.id,
        kind: 'operation',
        severity,
        message,
        // Once per operation and type: a run resumed after a crash does not announce it again.
        ...(type && op.kind === 'failover' && !op.dryRun ? { type, dedupeKey: `${type}:${op.id}`, data: failoverAlertData(op, defaultMode), ...(await pairNames(db, pair.id)) } : {}),
      });
  const event = (severity: 'info' | 'warning' | 'error', message: string, type?: EventType) => tx((db) => writeEvent(db, severity, message, type));
  // The operation's end and the event announcing it commit together: whoever sees the end sees
  // the event, and a crash between the two cannot lose a failover's alert.
  const finish = (data: OperationEnd, severity: 'info' | 'warning' | 'error', message: string | null, type?: EventType, alongside?: (db: TenantTx) => Promise<unknown>) =>
    tx(async (db) => {
      await db.operation.update({ where: { id: op.id }, data: { ...data, finishedAt: data.finishedAt ?? now() } });
      if (alongside) await alongside(db);
      if (message !== null) await writeEvent(db, severity, message, type);
    });
  const label = operationLabel[op.kind] ?? op.kind;

  let settings: PairSettings;
  try {
    settings = settingsFromColumns(row);
    defaultMode = settings.failover.mode;
  } catch (err) {
    await finish({ status: 'failed', error: 'The stored configuration is not valid; edit the pair' }, 'error', `${label} failed: the stored configuration is not valid (${String(err).slice(0, 300)})`, 'failover.failed');
    return { status: 'failed' };
  }

  // Awaiting approval (apps/worker/src/approvals): planned now for the approval page, run only once approved.
  if (op.status === 'awaiting_approval') {
    const orgTx = <T>(fn: (db: TenantTx) => Promise<T>) => withTenant({ organizationId: job.organizationId, customerId: null, userId: null }, fn, deps.db);
    const status = await planAwaitingApproval({ pair, settings, bus: deps.bus, tx, orgTx, now, agentWaitMs: 0 }, op);
    if (status !== 'pending') return { status };
    // Approved while it was being planned: run the stored plan now.
    Object.assign(op, await tx((db) => db.operation.findUniqueOrThrow({ where: { id: op.id }, include: { steps: { orderBy: { position: 'asc' } } } })));
  }

  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'running', startedAt: op.startedAt ?? now() } }));
  const runbook = isPlanned(op.kind);
  const orgTx = <T>(fn: (db: TenantTx) => Promise<T>) => withTenant({ organizationId: job.organizationId, customerId: null, userId: null }, fn, deps.db);
  const base: StepContext = { pair, settings, bus: deps.bus, tx, orgTx, now, agentWaitMs: runbook ? 60_000 : 0 };

  // A failover or failback is planned first (plan-runbook.ts); a dry run or a refusal ends there.
  let steps: StepRow[] = op.steps;
  let pointOfNoReturn = op.pointOfNoReturn;
  if (runbook && steps.length === 0) {
    const planned = await planBeforeRun<StepRow>(base, op);
    if ('status' in planned) {
      // A test refused before it started still leaves its report (failed, with the reason): the
      // portal and a drill's history show why no test ran.
      if (op.kind === 'test_failover' && !op.dryRun && planned.status === 'failed') {
        await recordRefusedTest({ opId: op.id, kind: op.kind, outcome: op.outcome, pointOfNoReturn, steps: [], base, tx, now, event, finish, label });
      }
      return planned;
    }
    steps = planned.steps;
    pointOfNoReturn = (await tx((db) => db.operation.findUniqueOrThrow({ where: { id: op.id }, select: { pointOfNoReturn: true } }))).pointOfNoReturn;
  }
  // A test failover has its own runner (run-test.ts): cleanup steps, every probe, the report.
  if (op.kind === 'test_failover') return runTest({ opId: op.id, kind: op.kind, outcome: op.outcome, pointOfNoReturn, steps, base, tx, now, event, finish, label });
  if (runbook && op.kind === 'failover' && !op.dryRun) {
    // Alerting only (the history already says who started it): the runbook really starts now,
    // planned and, when it needed one, approved.
    await tx(async (db) =>
      emitEvent(db, {
        organizationId: pair.organizationId,
        customerId: pair.customerId,
        pairId: pair.id,
        type: 'failover.started',
        severity: 'warning',
        history: false,
        dedupeKey: `failover.started:${op.id}`,
        message: `Failover of "${pair.name}" to ${pair.target.hostname} started`,
        data: failoverAlertData(op, defaultMode),
        ...(await pairNames(db, pair.id)),
      }),
    );
  }
  if (runbook) return runRunbook({ opId: op.id, kind: op.kind, outcome: op.outcome, pointOfNoReturn, steps, base, tx, now, event, finish, label });

  const skipped: string[] = [];
  for (const step of steps) {
    if (step.status === 'succeeded' || step.status === 'skipped') continue;
    // A stored step that does not match the plan's schema fails the operation before it runs.
    const planned = stepFromRow(step);
    await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'running', startedAt: now(), error: null } }));
    try {
      if (!planned.ok) throw new StepError(`The stored step (${step.kind}) is not valid: ${planned.error}`);
      const ctx: StepContext = { ...base, step: stepRun(op.id, step, false, false, now) };
      const output = await runStep(ctx, planned.step);
      await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'succeeded', output: output ?? {}, finishedAt: now() } }));
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
      if (op.kind === 'enable') await undoEnable(base);
      // Monitoring that did not start on both sides must not half-run: stop what did start.
      if (op.kind === 'monitoring_on') await undoMonitoring(base);
      await finish({ status: 'failed', error: `${step.description}: ${message}` }, 'error', `${label} failed at "${step.description}": ${message}`);
      return { status: 'failed' };
    }
  }

  if (skipped.length) {
    // An agent that missed the stop is told again by the gateway when it next speaks of the pair.
    const later = op.kind === 'monitoring_off' ? 'The gateway stops the target probing when it next reports; a source left answering probes changes nothing.' : 'They stop the pair when they are told again.';
    await finish({ status: 'succeeded' }, 'warning', `${label} finished, but some agents could not be reached: ${skipped.join('; ')}. ${later}`);
  } else {
    // Verify's own step already recorded what it found.
    await finish({ status: 'succeeded' }, 'info', op.kind === 'verify' ? null : (finishedMessage[op.kind] ?? `${label} finished`));
  }
  return { status: 'succeeded' };
}

function stepRun(operationId: string, step: StepRow, optional: boolean, pastPointOfNoReturn: boolean, now: () => Date) {
  return {
    id: step.id,
    operationId,
    position: step.position,
    phase: step.phase === 'undo' ? ('undo' as const) : ('run' as const),
    attempts: step.attempts,
    optional,
    pastPointOfNoReturn,
    startedAt: step.startedAt ?? now(),
    sub: 0,
  };
}

export interface RunbookRun {
  opId: string;
  kind: string;
  outcome: unknown;
  pointOfNoReturn: number | null;
  steps: StepRow[];
  base: StepContext;
  tx: StepContext['tx'];
  now: () => Date;
  /** `type`: the alerting meaning, used for a real failover's end (ignored for other kinds). */
  event: (severity: 'info' | 'warning' | 'error', message: string, type?: EventType) => Promise<unknown>;
  /** Ends the operation (`data`) and writes its event (unless `message` is null) in one transaction, with `alongside`. */
  finish: (data: OperationEnd, severity: 'info' | 'warning' | 'error', message: string | null, type?: EventType, alongside?: (db: TenantTx) => Promise<unknown>) => Promise<unknown>;
  label: string;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs one stored step of a runbook; its output (or the error) is recorded. */
export async function runOne(r: RunbookRun, step: StepRow, past: boolean): Promise<{ ok: true; output: Record<string, unknown> } | { ok: false; error: string; optional: boolean }> {
  const planned = stepFromRow(step);
  const optional = planned.ok && planned.step.optional === true;
  const startedAt = step.startedAt ?? r.now();
  await r.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'running', startedAt, error: null } }));
  crashPoint('start', step.phase, step.position);
  try {
    if (!planned.ok) throw new StepError(`The stored step (${step.kind}) is not valid: ${planned.error}`);
    const ctx: StepContext = { ...r.base, step: { ...stepRun(r.opId, { ...step, startedAt }, optional, past, r.now) } };
    const output = ((await runStep(ctx, planned.step)) ?? {}) as Record<string, unknown>;
    crashPoint('done', step.phase, step.position);
    await r.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'succeeded', output: output as object, finishedAt: r.now() } }));
    return { ok: true, output };
  } catch (err) {
    const message = errorText(err);
    if (!(err instanceof StepError)) console.error(`[worker] step ${step.kind} of operation ${r.opId} crashed`, err);
    const output = err instanceof StepError && err.output ? { output: err.output as object } : {};
    await r.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: optional ? 'skipped' : 'failed', error: message, finishedAt: r.now(), ...output } }));
    return { ok: false, error: message, optional };
  }
}

async function runRunbook(r: RunbookRun): Promise<{ status: string }> {
  const stored = (r.outcome ?? {}) as Partial<Outcome>;
  const outcome: Outcome = { ...stored, warnings: stored.warnings ?? [], nextSteps: stored.nextSteps ?? [] };
  const saveOutcome = () => r.tx((db) => db.operation.update({ where: { id: r.opId }, data: { outcome: outcome as object } }));
  const ponr = r.pointOfNoReturn;
  const isPast = (position: number) => ponr !== null && position >= ponr;
  const runSteps = r.steps.filter((s) => s.phase !== 'undo');
  const hasDrain = runSteps.some((s) => s.kind === 'replication.drain');

  // Resumed after a crash in the middle of an undo: finish it.
  const failedBefore = runSteps.find((s) => s.status === 'failed');
  if (failedBefore) return failBeforePointOfNoReturn(r, failedBefore, failedBefore.error ?? 'failed', outcome);

  for (const step of runSteps) {
    if (step.status === 'succeeded' || step.status === 'skipped') continue;
    // Immediate mode (no drain step): what was lost is what the last sample says was still queued.
    if (r.kind === 'failover' && !hasDrain && outcome.lagAtCutoverSeconds === undefined && (ponr === null || step.position >= ponr)) {
      outcome.lagAtCutoverSeconds = (await lastSampledLag(r.base)).lagSeconds;
      await saveOutcome();
    }
    const result = await runOne(r, step, isPast(step.position));
    if (result.ok) {
      const { warning, lagAtCutoverSeconds } = result.output;
      if (typeof warning === 'string') outcome.warnings.push(`${step.description}: ${warning}`);
      if (lagAtCutoverSeconds !== undefined) outcome.lagAtCutoverSeconds = typeof lagAtCutoverSeconds === 'number' ? lagAtCutoverSeconds : null;
      if (typeof warning === 'string' || lagAtCutoverSeconds !== undefined) await saveOutcome();
      continue;
    }
    if (result.optional) {
      outcome.warnings.push(`${step.description} (best effort) did not complete: ${result.error}`);
      await saveOutcome();
      continue;
    }
    // The step AT the point of no return is the cut-over itself: when it fails, clients were not
    // moved (dns.apply is all or nothing per zone), so what ran before it is still undone.
    if (ponr === null || step.position <= ponr) return failBeforePointOfNoReturn(r, step, result.error, outcome);
    return failPastPointOfNoReturn(r, step, result.error, outcome);
  }

  const end = { status: 'succeeded', outcome: outcome as object } as const;
  if (outcome.warnings.length) await r.finish(end, 'warning', `${r.label} finished with warnings: ${outcome.warnings.join('; ')}`, 'failover.succeeded');
  else await r.finish(end, 'info', finishedMessage[r.kind] ?? `${r.label} finished`, 'failover.succeeded');
  return { status: 'succeeded' };
}

/** A step before the point of no return failed: undo what ran (best effort), put the pair back, fail the operation. */
async function failBeforePointOfNoReturn(r: RunbookRun, failed: StepRow, error: string, outcome: Outcome): Promise<{ status: string }> {
  const undoRows = await r.tx(async (db) => {
    await db.operationStep.updateMany({ where: { operationId: r.opId, status: { in: ['pending', 'running'] }, phase: 'run' }, data: { status: 'skipped' } });
    const all = await db.operationStep.findMany({ where: { operationId: r.opId }, orderBy: { position: 'asc' } });
    if (all.some((s) => s.phase === 'undo')) return all.filter((s) => s.phase === 'undo');
    const planned = all.filter((s) => s.phase !== 'undo').map((s) => ({ row: s, step: stepFromRow(s) }));
    const succeeded = planned.filter((p) => p.row.status === 'succeeded').map((p) => p.row.position);
    const valid = planned.flatMap((p) => (p.step.ok ? [p.step.step] : []));
    // undoSteps works on the plan's indexes; positions are those indexes (0, 1, …).
    const plan = valid.length === planned.length ? undoPlan(valid, succeeded, r.pointOfNoReturn) : { steps: [], cannotUndo: [] };
    for (const c of plan.cannotUndo) outcome.nextSteps.push(`${c.description}: ${c.reason}`);
    const undo = plan.steps;
    // A failed DNS cut-over may have changed one zone of several: put back what it did (an
    // RRset already back as it was, or changed by someone else since, is left alone).
    const cut = stepFromRow(failed);
    if (cut.ok && cut.step.kind === 'dns.apply') {
      const changes = cut.step.params.changes.map((c) => ({ ...c, before: c.after, after: c.before }));
      undo.unshift({ kind: 'dns.apply', description: 'Put back any DNS record the failed cut-over changed', params: { ...cut.step.params, changes }, optional: true });
    }
    const first = (all.at(-1)?.position ?? -1) + 1;
    const { organizationId, customerId } = r.base.pair;
    await db.operationStep.createMany({
      data: undo.map((s, i) => ({ ...stepToRow(s), organizationId, customerId, operationId: r.opId, position: first + i, phase: 'undo' })),
    });
    return db.operationStep.findMany({ where: { operationId: r.opId, phase: 'undo' }, orderBy: { position: 'asc' } });
  });
  const undoFailures: string[] = [];
  for (const step of undoRows) {
    if (step.status === 'succeeded' || step.status === 'skipped') continue;
    if (step.status === 'failed') {
      undoFailures.push(`${step.description}: ${step.error ?? 'failed'}`);
      continue;
    }
    const result = await runOne(r, step, false);
    if (!result.ok) undoFailures.push(`${step.description}: ${result.error}`);
  }
  const state = await settle(r, r.kind === 'failover' ? { failing_over: 'failover.failed' } : { failing_back: 'failback.failed', restoring: 'restore.failed' });
  const what = r.kind === 'failover' ? 'failover' : 'failback';
  if (undoFailures.length) {
    outcome.warnings.push(...undoFailures.map((f) => `Undo did not complete: ${f}`));
    outcome.nextSteps.push(`Undo these by hand, then check the pair: ${undoFailures.join('; ')}`);
  }
  outcome.nextSteps.push(`Nothing moved: fix the cause (${failed.description}: ${error}) and start the ${what} again.`);
  await r.finish(
    { status: 'failed', error: `${failed.description}: ${error}`, outcome: outcome },
    'error',
    `${r.label} failed at "${failed.description}": ${error}. What ran was undone${undoFailures.length ? ' except: ' + undoFailures.join('; ') : ''}; the pair is ${state ?? 'as it was'}.`,
    'failover.failed',
  );
  return { status: 'failed' };
}

/** A step at or after the point of no return failed: no undo; stop, leave the pair in its clear state, say what to do. */
async function failPastPointOfNoReturn(r: RunbookRun, failed: StepRow, error: string, outcome: Outcome): Promise<{ status: string }> {
  const rest = await r.tx(async (db) => {
    const left = await db.operationStep.findMany({ where: { operationId: r.opId, status: 'pending', phase: 'run' }, orderBy: { position: 'asc' } });
    await db.operationStep.updateMany({ where: { operationId: r.opId, status: 'pending', phase: 'run' }, data: { status: 'skipped' } });
    return left;
  });
  // Clients may already reach the target: the failover counts as done, with what is missing said.
  const state = await settle(r, r.kind === 'failover' ? { failing_over: 'failover.succeeded' } : { failing_back: 'failback.succeeded', restoring: 'restore.failed' });
  outcome.warnings.push(`${failed.description} failed after the point of no return: ${error}`);
  outcome.nextSteps.push(`Do by hand: ${failed.description} (it failed: ${error})`);
  // The pair's own status is settled here; the rest is what a person must do.
  for (const s of rest) if (s.kind !== 'pair.set-state') outcome.nextSteps.push(`Then: ${s.description}`);
  // The operation failed even if clients may already reach the target: someone must finish by hand.
  await r.finish(
    { status: 'failed', error: `${failed.description}: ${error}`, outcome: outcome },
    'error',
    `${r.label} stopped after the point of no return at "${failed.description}": ${error}. The pair is ${state ?? 'unchanged'}; nothing was undone. Do by hand: ${outcome.nextSteps.join(' ')}`,
    'failover.failed',
  );
  return { status: 'failed' };
}

/** Moves the pair out of an in-between status with the lifecycle event that fits it (same conditional write as pair.set-state). */
async function settle(r: RunbookRun, events: Record<string, LifecycleEvent>): Promise<string | null> {
  const current = await r.tx((db) => db.protectionPair.findUnique({ where: { id: r.base.pair.id }, select: { status: true } }));
  const event = current ? events[current.status] : undefined;
  if (!event) return current?.status ?? null;
  try {
    const out = (await stepExecutors['pair.set-state'](r.base, { event })) as { status: string };
    return out.status;
  } catch (err) {
    console.error(`[worker] operation ${r.opId}: could not apply ${event}`, err);
    return current?.status ?? null;
  }
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
