// Fix and Fix All plans from stored findings (engine planFix / planFixAll, catalogue §5): the
// preview procedures show them, the fix procedures persist the same plan's digest with the
// operation. A fix works from the pair's latest finished run only.
import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { AppError, fixActionSchema, fixPhases, notFound, planFix, planFixAll, type FixPlan } from '@tandem/engine';
import { latestFinishedRun, loadPair, toCandidate, type ValidationPair } from './shared';

export const planOutput = z.object({
  pairId: z.string(),
  runId: z.string(),
  phases: z.array(
    z.object({
      phase: z.number().int(),
      title: z.string(),
      /** Per node (or DNS, directory, control plane), each action in the order it runs. */
      nodes: z.array(
        z.object({
          runsOn: z.enum(['control', 'source', 'target', 'dns', 'directory']),
          /** The server's hostname for source/target. */
          label: z.string(),
          items: z.array(z.object({ action: fixActionSchema, findingIds: z.array(z.string()), checkIds: z.array(z.string()) })),
        }),
      ),
    }),
  ),
  skipped: z.array(z.object({ findingId: z.string(), checkId: z.string(), subject: z.string(), reason: z.string() })),
  digest: z.string(),
  /** Some action widens access: an owner or admin confirms it. */
  privileged: z.boolean(),
  actions: z.number().int(),
});
export type PlanView = z.infer<typeof planOutput>;

const nodeOrder = ['control', 'target', 'source', 'dns', 'directory'] as const;
const nodeLabels = { control: 'Tandem (pair settings)', dns: 'DNS executor', directory: 'Directory executor' } as const;

export function planView(
  pair: { id: string; source: { hostname: string }; target: { hostname: string } },
  runId: string,
  plan: FixPlan,
): PlanView {
  return {
    pairId: pair.id,
    runId,
    phases: plan.phases.map((p) => ({
      phase: p.phase,
      title: p.title ?? fixPhases[p.phase],
      nodes: nodeOrder
        .map((runsOn) => ({
          runsOn,
          label: runsOn === 'source' ? pair.source.hostname : runsOn === 'target' ? pair.target.hostname : nodeLabels[runsOn],
          items: p.items
            .filter((i) => i.runsOn === runsOn)
            .map(({ action, findingIds, checkIds }) => ({ action, findingIds, checkIds })),
        }))
        .filter((n) => n.items.length > 0),
    })),
    skipped: plan.skipped,
    digest: plan.digest,
    privileged: plan.privileged,
    actions: plan.phases.reduce((n, p) => n + p.items.length, 0),
  };
}

async function hostnames(db: TenantTx, pair: ValidationPair) {
  const p = await db.protectionPair.findUniqueOrThrow({
    where: { id: pair.id },
    select: { id: true, source: { select: { hostname: true } }, target: { select: { hostname: true } } },
  });
  return p;
}

/** The picked findings (one pair, its latest run) and their plan for Fix. */
export async function fixPlanFor(db: TenantTx, findingIds: string[], confirmPrivileged: boolean) {
  const ids = [...new Set(findingIds)];
  const rows = await db.finding.findMany({ where: { id: { in: ids } } });
  if (rows.length !== ids.length) throw notFound('Finding');
  const runIds = new Set(rows.map((r) => r.validationRunId));
  if (runIds.size > 1) throw new AppError('BAD_REQUEST', 'Pick findings of one validation run');
  const run = await db.validationRun.findUniqueOrThrow({ where: { id: rows[0]!.validationRunId } });
  const pair = await loadPair(db, run.pairId);
  const latest = await latestFinishedRun(db, pair.id);
  if (latest?.id !== run.id)
    throw new AppError('CONFLICT', 'These findings are from an older validation run: open the latest run and fix from there');
  const plan = planFix(
    rows.map((r) => toCandidate(pair.status, r)),
    { confirmPrivileged },
  );
  return { pair, run, rows, plan, view: planView(await hostnames(db, pair), run.id, plan) };
}

/** Every fixable finding of the pair's latest run, minus §5's exclusions, for Fix All. */
export async function fixAllPlanFor(db: TenantTx, organizationId: string, pairId: string, deselected: string[]) {
  const pair = await loadPair(db, pairId);
  const run = await latestFinishedRun(db, pair.id);
  if (!run) throw new AppError('CONFLICT', 'Validate the pair first: Fix All works from the latest validation run');
  const [rows, org] = await Promise.all([
    db.finding.findMany({
      where: { validationRunId: run.id },
      orderBy: [{ phase: 'asc' }, { checkId: 'asc' }, { subject: 'asc' }],
    }),
    db.organization.findUniqueOrThrow({ where: { id: organizationId }, select: { privilegedFixesInFixAll: true } }),
  ]);
  const plan = planFixAll(
    rows.map((r) => toCandidate(pair.status, r)),
    { privilegedInFixAll: org.privilegedFixesInFixAll, deselected: new Set(deselected) },
  );
  return { pair, run, rows, plan, view: planView(await hostnames(db, pair), run.id, plan) };
}
