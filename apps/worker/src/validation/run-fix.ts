// A fix (Operation kind `fix`, catalogue §5): the findings picked (Fix) or every fixable one of
// the run (Fix All) planned again by the engine from the stored run, stored as one step per
// action, then run phase by phase: within a phase each node's actions in plan order, nodes side
// by side. A failed action fails its findings; actions that depend on it (same finding, or the
// same subject on the same node later on) are not attempted; the rest go on. Every action is
// audited with before and after. A full validation run follows, in the same job.
import { z } from 'zod';
import {
  blockedWhileProtected,
  actionRunsOn,
  checkById,
  enabledStatuses,
  fixActionSchema,
  planFix,
  planFixAll,
  settingsFromColumns,
  type DisplayStatus,
  type FixAction,
  type FixCandidate,
  type FixPhase,
  type PairSettings,
} from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { emitEvent } from '@tandem/db';
import type { LoadedPair, StepContext } from '../operations/steps/context.ts';
import { StepError } from '../operations/steps/context.ts';
import { refuseWhileProtected, runFixAction, type ActionOutcome } from './fix-actions.ts';
import { pairOperation, runValidate, type ValidateDeps } from './run-validate.ts';

export const fixOptionsSchema = z.object({
  runId: z.string(),
  findingIds: z.array(z.string()).max(5000).default([]),
  fixAll: z.boolean().default(false),
  planDigest: z.string().optional(),
  deselected: z.array(z.string()).max(5000).default([]),
  confirmPrivileged: z.boolean().default(false),
});

const stepParamsSchema = z.object({ phase: z.number().int(), runsOn: z.string(), findingIds: z.array(z.string()), checkIds: z.array(z.string()), action: fixActionSchema });
type StepParams = z.infer<typeof stepParamsSchema>;

interface OpRow {
  id: string;
  pairId: string | null;
  requestedById: string | null;
  options: unknown;
  startedAt: Date | null;
  steps: { id: string; position: number; kind: string; params: unknown; status: string; attempts: number; error: string | null; startedAt: Date | null; output: unknown }[];
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** What an action is about on its node, for dependencies: `target service=smbd`. */
function subjectOf(a: FixAction): string {
  const where = actionRunsOn(a);
  if ('name' in a) return `${where} service=${a.name}`;
  if ('path' in a) return `${where} path=${a.path}`;
  if ('resource' in a) return `${where} resource=${a.resource}`;
  return `${where} ${a.action}`;
}

export async function runFix(deps: ValidateDeps, job: OperationJob, op: OpRow): Promise<{ status: string }> {
  const { now, pairId, tx, orgTx } = pairOperation(deps, job, op);
  const agentSelect = { select: { id: true, status: true, capabilities: true, lastSeenAt: true } } as const;
  const row = await tx((db) => db.protectionPair.findUnique({ where: { id: pairId }, include: { source: { select: { hostname: true, agent: agentSelect } }, target: { select: { hostname: true, agent: agentSelect } } } }));
  if (!row) throw new Error(`Pair of operation ${op.id} not found`);
  const finish = async (status: 'succeeded' | 'failed', error: string | null, outcome: object, severity: 'info' | 'warning' | 'error', message: string) => {
    await tx(async (db) => {
      await db.operation.update({ where: { id: op.id }, data: { status, error, finishedAt: now(), outcome } });
      await emitEvent(db, { organizationId: row.organizationId, customerId: row.customerId, pairId, pairName: row.name, kind: 'operation', severity, message });
    });
  };
  const parsed = fixOptionsSchema.safeParse(op.options);
  let settings: PairSettings;
  try {
    if (!parsed.success) throw new Error(`the fix request is not valid: ${z.prettifyError(parsed.error)}`);
    settings = settingsFromColumns(row);
  } catch (err) {
    await finish('failed', errorText(err), { warnings: [], nextSteps: [] }, 'error', `Fix failed: ${errorText(err)}`);
    return { status: 'failed' };
  }
  const options = parsed.data;
  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'running', startedAt: op.startedAt ?? now() } }));

  // The plan: made once from the stored run and kept as steps (a resumed fix runs the same steps).
  let steps = op.steps;
  let skipped: { findingId: string; checkId: string; subject: string; reason: string }[] = [];
  if (steps.length === 0) {
    const [findings, org] = await Promise.all([
      tx((db) => db.finding.findMany({ where: { validationRunId: options.runId, pairId } })),
      orgTx((db) => db.organization.findUniqueOrThrow({ where: { id: row.organizationId }, select: { privilegedFixesInFixAll: true } })),
    ]);
    const candidates: FixCandidate[] = findings
      .filter((f) => options.fixAll || options.findingIds.includes(f.id))
      .map((f) => {
        const plan = z.array(fixActionSchema).safeParse(f.plan);
        const check = checkById(f.checkId)?.fix;
        // Decided as the pair is now: protection may have been enabled since the run.
        // Rows blocked only on the target ("yes (target); no (source)") let their source-side plans through.
        const blocked = check && check.kind !== 'manual' && plan.success && blockedWhileProtected(check, plan.data) && enabledStatuses.includes(row.status) ? 'Disable protection first: this fix changes the target, which is refused while the pair is protected.' : null;
        return {
          id: f.id,
          checkId: f.checkId,
          side: f.side as FixCandidate['side'],
          subject: f.subject,
          status: f.status as DisplayStatus,
          plan: plan.success && plan.data.length ? plan.data : null,
          blockedReason: blocked,
          privileged: f.privileged,
          phase: f.phase as FixPhase | null,
          fixState: f.fixState,
        };
      });
    // Within a phase the planner keeps this order: services are stopped before start modes change (§5 phase 6).
    const stopsFirst = (c: FixCandidate) => (c.plan?.some((a) => a.action === 'service.stop') ? 0 : 1);
    candidates.sort((a, b) => stopsFirst(a) - stopsFirst(b));
    const plan = options.fixAll
      ? planFixAll(candidates, { privilegedInFixAll: org.privilegedFixesInFixAll, deselected: new Set(options.deselected) })
      : planFix(candidates, { confirmPrivileged: options.confirmPrivileged });
    skipped = plan.skipped;
    const items = plan.phases.flatMap((p) => p.items.map((i) => ({ phase: p.phase, ...i })));
    steps = await tx(async (db) => {
      await db.operationStep.createMany({
        data: items.map((i, n) => ({
          organizationId: row.organizationId,
          customerId: row.customerId,
          operationId: op.id,
          position: n,
          kind: `fix.${i.action.action === 'app' ? `${i.action.app}.${i.action.op}` : i.action.action}`,
          description: i.action.description,
          params: { phase: i.phase, runsOn: i.runsOn, findingIds: i.findingIds, checkIds: i.checkIds, action: i.action } as never,
        })),
      });
      await db.operation.update({ where: { id: op.id }, data: { outcome: { plan: plan.digest, skipped: plan.skipped, warnings: [], nextSteps: [] } } });
      return db.operationStep.findMany({ where: { operationId: op.id }, orderBy: { position: 'asc' } });
    });
  }

  const loaded: LoadedPair = row;
  const base: StepContext = { pair: loaded, settings, bus: deps.bus, tx, orgTx, now, agentWaitMs: 30_000 };
  const planned = steps.map((s) => ({ row: s, params: stepParamsSchema.safeParse(s.params) }));
  const failedFindings = new Map<string, string>();
  const failedSubjects = new Set<string>();
  const notAttempted = new Set<string>();
  const fixedFindings = new Set<string>();
  // Steps finished before a crash count as they ended.
  for (const p of planned) {
    if (!p.params.success) continue;
    if (p.row.status === 'succeeded') p.params.data.findingIds.forEach((id) => fixedFindings.add(id));
    if (p.row.status === 'failed') {
      p.params.data.findingIds.forEach((id) => failedFindings.set(id, p.row.error ?? 'failed'));
      failedSubjects.add(subjectOf(p.params.data.action));
    }
  }

  const runStep = async (s: OpRow['steps'][number], params: StepParams) => {
    const dependsOnFailure = params.findingIds.some((id) => failedFindings.has(id)) || failedSubjects.has(subjectOf(params.action));
    if (dependsOnFailure) {
      params.findingIds.forEach((id) => notAttempted.add(id));
      await tx((db) => db.operationStep.update({ where: { id: s.id }, data: { status: 'skipped', error: 'Not attempted: an action it depends on failed', finishedAt: now() } }));
      return;
    }
    const startedAt = s.startedAt ?? now();
    await tx((db) => db.operationStep.update({ where: { id: s.id }, data: { status: 'running', startedAt, error: null } }));
    let result: ActionOutcome | null = null;
    let error: string | null = null;
    try {
      const current = await tx((db) => db.protectionPair.findUnique({ where: { id: pairId }, select: { status: true } }));
      const refusal = current ? refuseWhileProtected(current.status, params.action) : 'The pair no longer exists';
      if (refusal) throw new StepError(refusal);
      const ctx: StepContext = { ...base, step: { id: s.id, operationId: op.id, position: s.position, phase: 'run', attempts: s.attempts, optional: false, pastPointOfNoReturn: false, startedAt, sub: 0 } };
      result = await runFixAction(ctx, params.action);
      settings = ctx.settings;
      base.settings = settings;
    } catch (err) {
      error = errorText(err);
      if (!(err instanceof StepError)) console.error(`[worker] fix action ${params.action.action} of operation ${op.id} crashed`, err);
    }
    const a = params.action;
    await tx(async (db) => {
      await db.operationStep.update({ where: { id: s.id }, data: { status: error ? 'failed' : 'succeeded', error, finishedAt: now(), output: (result ?? {}) as object } });
      await db.auditEvent.create({
        data: {
          organizationId: row.organizationId,
          customerId: row.customerId,
          actorId: op.requestedById,
          actorLabel: 'Tandem (fix)',
          action: error ? 'pair.fix.action.failed' : 'pair.fix.action',
          targetType: 'ProtectionPair',
          targetId: pairId,
          summary: `${error ? 'Failed: ' : ''}${a.description}${error ? ` (${error})` : result?.outcome === 'already-satisfied' ? ' (already so)' : ''}`,
          changes: { operationId: op.id, action: a.action, runsOn: params.runsOn, findingIds: params.findingIds, before: result?.before ?? a.before, after: result?.after ?? (error ? null : a.after), outcome: result?.outcome ?? 'failed', ...(error ? { error } : {}) },
        },
      });
    });
    if (error) {
      params.findingIds.forEach((id) => failedFindings.set(id, error));
      failedSubjects.add(subjectOf(a));
    } else params.findingIds.forEach((id) => fixedFindings.add(id));
  };

  const phases = [...new Set(planned.flatMap((p) => (p.params.success ? [p.params.data.phase] : [])))].sort((x, y) => x - y);
  for (const bad of planned.filter((p) => !p.params.success)) {
    await tx((db) => db.operationStep.update({ where: { id: bad.row.id }, data: { status: 'failed', error: 'The stored step is not valid', finishedAt: now() } }));
  }
  for (const phase of phases) {
    const inPhase = planned.filter((p) => p.params.success && p.params.data.phase === phase && p.row.status !== 'succeeded' && p.row.status !== 'failed' && p.row.status !== 'skipped');
    const byNode = new Map<string, typeof inPhase>();
    for (const p of inPhase) byNode.set(p.params.data!.runsOn, [...(byNode.get(p.params.data!.runsOn) ?? []), p]);
    // Nodes side by side, each node's actions in plan order.
    await Promise.all([...byNode.values()].map(async (list) => {
      for (const p of list) await runStep(p.row, p.params.data!);
    }));
  }

  // Findings' fix state: fix-failed wins over not-attempted, which wins over fixed.
  const findingIds = new Set(planned.flatMap((p) => (p.params.success ? p.params.data.findingIds : [])));
  await tx(async (db) => {
    for (const id of findingIds) {
      const failed = failedFindings.get(id);
      const state = failed ? 'fix-failed' : notAttempted.has(id) ? 'not-attempted' : fixedFindings.has(id) ? 'fixed' : 'not-attempted';
      await db.finding.updateMany({ where: { id, pairId }, data: { fixState: state, fixError: failed ?? (state === 'not-attempted' ? 'An action it depends on failed' : null), ...(state === 'fixed' ? { fixedAt: now() } : {}) } });
    }
  });
  const total = planned.length;
  const failures = [...new Set(failedFindings.values())];
  const outcome = { result: failures.length ? 'partial' : 'complete', actions: total, failed: failures.length, skipped, warnings: failures, nextSteps: failures.length ? ['Look at the failed actions, then validate again or fix them one at a time'] : [] };
  if (failures.length) await finish('failed', `Partial: ${failures.length} action${failures.length === 1 ? '' : 's'} failed: ${failures.join('; ')}`, outcome, 'warning', `Fix partly done: ${total - failures.length} of ${total} actions succeeded; ${failures.join('; ')}`);
  else await finish('succeeded', null, outcome, 'info', total ? `Fix done: ${total} action${total === 1 ? '' : 's'} succeeded` : 'Fix: nothing to do');

  // Every fix ends with a full validation run (catalogue §5), in this job.
  const validate = await tx((db) =>
    db.operation.create({ data: { organizationId: row.organizationId, customerId: row.customerId, pairId, kind: 'validate', options: { trigger: 'fix', fixOperationId: op.id }, requestedById: op.requestedById } }),
  );
  try {
    await runValidate(deps, job, { ...validate, steps: [] });
  } catch (err) {
    console.error(`[worker] validation after fix ${op.id} failed`, err);
  }
  return { status: failures.length ? 'failed' : 'succeeded' };
}
