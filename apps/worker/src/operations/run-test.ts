// Runs a test failover's stored steps. Unlike a failover there is nothing to undo (the teardown
// step is the undo) and no point of no return: a probe that fails is recorded and the next probe
// runs, so the report shows every probe; a failure to make the copy skips the probes; the
// steps marked cleanup (teardown, last lag sample) always run. A run resumed after the worker
// died mid-test does not carry on (its timings and lag would no longer tell the truth): it removes
// the copy and ends failed, saying so. The evidence report is written when the test ends.
import { buildTestReport, settingsToColumns, stepFromRow } from '@tandem/engine';
import type { RunbookRun, StepRow } from './run-operation.ts';
import { runOne } from './run-operation.ts';

const done = new Set(['succeeded', 'skipped', 'failed']);

function isCleanup(step: StepRow): boolean {
  const parsed = stepFromRow(step);
  return parsed.ok && parsed.step.cleanup === true;
}

export const INTERRUPTED_MESSAGE = 'The worker stopped during the test (it was restarted); the test copy was removed. Start the test again.';

export async function runTest(r: RunbookRun): Promise<{ status: string }> {
  const steps = r.steps.filter((s) => s.phase !== 'undo');
  let abort: string | null = null;
  const probeFailures: string[] = [];
  const cleanupFailures: string[] = [];

  // Resumed: some step ran before, and a step that is not cleanup is unfinished.
  const resumed = steps.some((s) => s.status !== 'pending');
  if (resumed && steps.some((s) => !isCleanup(s) && !done.has(s.status))) {
    abort = INTERRUPTED_MESSAGE;
    await r.tx(async (db) => {
      for (const s of steps) {
        if (isCleanup(s) || done.has(s.status)) continue;
        const status = s.status === 'running' ? 'failed' : 'skipped';
        await db.operationStep.update({ where: { id: s.id }, data: { status, finishedAt: r.now(), ...(status === 'failed' ? { error: 'Interrupted: the worker stopped while this step ran' } : {}) } });
        s.status = status;
      }
    });
  }
  // A probe that failed before the crash still counts.
  for (const s of steps) if (s.kind === 'test.probe' && s.status === 'failed') probeFailures.push(`${s.description}: ${s.error ?? 'failed'}`);

  for (const step of steps) {
    if (done.has(step.status)) continue;
    const cleanup = isCleanup(step);
    if (abort && !cleanup) {
      await r.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'skipped' } }));
      continue;
    }
    const result = await runOne(r, step, false);
    if (result.ok || result.optional) continue;
    if (step.kind === 'test.probe') probeFailures.push(`${step.description}: ${result.error}`);
    else if (cleanup) cleanupFailures.push(`${step.description}: ${result.error}`);
    else abort = `${step.description}: ${result.error}`;
  }

  const error =
    abort ??
    (probeFailures.length ? `${probeFailures.length} probe${probeFailures.length === 1 ? '' : 's'} failed: ${probeFailures.join('; ')}` : null) ??
    (cleanupFailures.length ? `The test copy may be left on the target: ${cleanupFailures.join('; ')}` : null);
  return finishTest(r, error);
}

/** Writes the evidence report, the operation's end, the pair's last successful test and an event. */
export async function finishTest(r: RunbookRun, runError: string | null): Promise<{ status: string }> {
  const finishedAt = r.now();
  const report = await testReport(r, runError, finishedAt);
  const passed = report ? report.result === 'passed' : false;
  const error = passed ? null : (report?.error ?? runError ?? 'The test report could not be built');
  const end = { status: passed ? 'succeeded' : 'failed', error, finishedAt, ...(report ? { report: report as object } : {}) } as const;
  if (passed && report) {
    const lag = report.lag.during === null ? '' : `, replication lag during the test ${report.lag.during} s`;
    // A plain record of the last good test, not a status change.
    await r.finish(end, 'info', `Test failover passed: ${report.probes.length} of ${report.probes.length} probes passed${lag}; the test copy was removed`, undefined, (db) =>
      db.protectionPair.updateMany({ where: { id: r.base.pair.id }, data: { lastTestSucceededAt: finishedAt } }),
    );
  } else {
    await r.finish(end, 'error', `Test failover failed: ${error}`);
  }
  return { status: passed ? 'succeeded' : 'failed' };
}

/** A test refused while it was planned (it ended failed, with its event): its report says why, with no steps. */
export async function recordRefusedTest(r: RunbookRun): Promise<void> {
  const op = await r.tx((db) => db.operation.findUniqueOrThrow({ where: { id: r.opId }, select: { error: true, finishedAt: true } }));
  const report = await testReport(r, op.error ?? 'The test was refused before it started', op.finishedAt ?? r.now());
  if (report) await r.tx((db) => db.operation.update({ where: { id: r.opId }, data: { report: report as object } }));
}

async function testReport(r: RunbookRun, runError: string | null, finishedAt: Date) {
  const loaded = await r.tx((db) =>
    db.operation.findUniqueOrThrow({
      where: { id: r.opId },
      include: {
        steps: { where: { phase: 'run' }, orderBy: { position: 'asc' } },
        pair: { select: { id: true, name: true, application: true, replicationMethod: true, source: { select: { hostname: true } }, target: { select: { hostname: true } } } },
      },
    }),
  );
  const customer = await r.tx((db) => db.customer.findUnique({ where: { id: r.base.pair.customerId }, select: { id: true, name: true } }));
  // People are visible in the organization's scope (a customer-scoped read may not see staff).
  const user = loaded.requestedById ? await r.base.orgTx((db) => db.user.findUnique({ where: { id: loaded.requestedById! }, select: { name: true, email: true } })) : null;
  const drill = loaded.drillScheduleId ? await r.tx((db) => db.drillSchedule.findUnique({ where: { id: loaded.drillScheduleId! }, select: { everyDays: true } })) : null;
  const startedBy = loaded.drillScheduleId
    ? { kind: 'drill' as const, name: drill ? `Scheduled drill (every ${drill.everyDays} day${drill.everyDays === 1 ? '' : 's'})` : 'Scheduled drill', email: null }
    : { kind: 'user' as const, name: user?.name ?? (loaded.requestedById ? 'Unknown user' : 'Tandem'), email: user?.email ?? null };
  const pair = loaded.pair;
  let report = null;
  try {
    report = buildTestReport({
      operation: { id: loaded.id, createdAt: loaded.createdAt, startedAt: loaded.startedAt, error: runError },
      steps: loaded.steps,
      pair: {
        id: r.base.pair.id,
        name: pair?.name ?? r.base.pair.name,
        application: pair?.application ?? r.base.settings.application,
        method: pair?.replicationMethod ?? 'file',
        source: pair?.source.hostname ?? r.base.pair.source.hostname,
        target: pair?.target.hostname ?? r.base.pair.target.hostname,
      },
      customer: { id: r.base.pair.customerId, name: customer?.name ?? '' },
      startedBy,
      settings: settingsToColumns(r.base.settings),
      finishedAt,
    });
  } catch (err) {
    console.error(`[worker] operation ${r.opId}: the test report could not be built`, err);
  }
  return report;
}
