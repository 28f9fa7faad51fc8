// The pair's latest validation run as the portal shows it: every evaluated check grouped by
// family with its display status (good and unknown included: unknown names its reason and the
// gate finding behind it), the findings with their acknowledgement, and a run in progress.
import { z } from 'zod';
import { catalogue, checkById, displayStatuses, idSchema, operationInFlightStatuses, type DisplayStatus } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import {
  familyOf,
  findingOutput,
  findingViews,
  loadPair,
  readinessOf,
  readinessOutput,
  runSummaryOutput,
  storedResults,
  toRunSummary,
  type FindingView,
} from './shared';

export const latestInput = z.object({ pairId: idSchema });

const checkOutput = z.object({
  checkId: z.string(),
  title: z.string(),
  side: z.string(),
  status: z.enum(displayStatuses),
  unknown: z
    .object({ reason: z.string(), facts: z.array(z.string()), gate: z.string().nullable(), gateTitle: z.string().nullable() })
    .nullable(),
  findings: z.array(findingOutput),
});
const familyOutput = z.object({
  family: z.string(),
  /** How many checks of the family show each status. */
  counts: z.record(z.enum(displayStatuses), z.number().int()),
  checks: z.array(checkOutput),
});

export const latestOutput = z.object({
  run: runSummaryOutput.extend({ configChangedAt: z.string().nullable() }).nullable(),
  /** The pair's configuration changed after the run: the enable gate wants a new one. */
  stale: z.boolean(),
  /** A validation queued or running now, with its steps (live progress). */
  inProgress: z
    .object({
      operationId: z.string(),
      status: z.string(),
      createdAt: z.string(),
      steps: z.array(z.object({ description: z.string(), status: z.string() })),
    })
    .nullable(),
  families: z.array(familyOutput),
  /** The pair's readiness score and what lowers it. */
  readiness: readinessOutput,
});
export type ValidationLatest = z.infer<typeof latestOutput>;

/** Family order as in the catalogue document. */
const familyOrder = [...new Set(catalogue.map((c) => c.family))];
const familyRank = (f: string) => (familyOrder.includes(f) ? familyOrder.indexOf(f) : familyOrder.length);
const rank: Record<DisplayStatus, number> = {
  good: 0,
  'warning-fixable': 1,
  'warning-manual': 2,
  unknown: 3,
  'error-fixable': 4,
  'error-manual': 5,
};

export const validationLatest = memberProcedure
  .input(latestInput)
  .output(latestOutput)
  .query(async ({ ctx, input }) => {
    const pair = await loadPair(ctx.db, input.pairId);
    const [run, op] = await Promise.all([
      ctx.db.validationRun.findFirst({
        where: { pairId: pair.id, finishedAt: { not: null } },
        orderBy: { startedAt: 'desc' },
        include: { findings: { select: { severity: true } } },
      }),
      ctx.db.operation.findFirst({
        where: { pairId: pair.id, kind: 'validate', status: { in: [...operationInFlightStatuses] } },
        orderBy: { createdAt: 'desc' },
        include: { steps: { orderBy: { position: 'asc' }, select: { description: true, status: true } } },
      }),
    ]);
    const inProgress = op
      ? { operationId: op.id, status: op.status, createdAt: op.createdAt.toISOString(), steps: op.steps }
      : null;
    const readiness = readinessOf(pair.readinessScore, pair.readiness);
    if (!run) return { run: null, stale: false, inProgress, families: [], readiness };
    const findings = await findingViews(ctx.db, pair, run.id);
    const families = groupByFamily(storedResults(run.results), findings);
    return {
      run: { ...toRunSummary(run), configChangedAt: run.configChangedAt?.toISOString() ?? null },
      stale: run.configChangedAt === null || run.configChangedAt < pair.configChangedAt,
      inProgress,
      families,
      readiness,
    };
  });

type CheckView = z.infer<typeof checkOutput>;

/** Checks (one per check and side) grouped by family; a finding without a stored result still shows. */
function groupByFamily(results: ReturnType<typeof storedResults>, findings: FindingView[]): z.infer<typeof familyOutput>[] {
  const checks = new Map<string, CheckView>();
  const key = (checkId: string, side: string) => `${checkId}|${side}`;
  for (const r of results) {
    const gate = r.unknown?.gate ?? null;
    checks.set(key(r.checkId, r.side), {
      checkId: r.checkId,
      title: checkById(r.checkId)?.title ?? r.checkId,
      side: r.side,
      status: r.status,
      unknown: r.unknown
        ? { reason: r.unknown.reason, facts: r.unknown.facts, gate, gateTitle: gate ? (checkById(gate)?.title ?? gate) : null }
        : null,
      findings: [],
    });
  }
  for (const f of findings) {
    const k = key(f.checkId, f.side);
    let c = checks.get(k);
    if (!c) {
      c = { checkId: f.checkId, title: f.title, side: f.side, status: f.status, unknown: null, findings: [] };
      checks.set(k, c);
    }
    c.findings.push(f);
    if (rank[f.status] > rank[c.status]) c.status = f.status;
  }
  const byFamily = new Map<string, CheckView[]>();
  for (const c of checks.values()) {
    const family = familyOf(c.checkId);
    byFamily.set(family, [...(byFamily.get(family) ?? []), c]);
  }
  return [...byFamily.entries()]
    .sort(([a], [b]) => familyRank(a) - familyRank(b) || a.localeCompare(b))
    .map(([family, list]) => {
      // Worst first, so what needs doing is at the top of each family.
      list.sort((a, b) => rank[b.status] - rank[a.status] || a.checkId.localeCompare(b.checkId) || a.side.localeCompare(b.side));
      const counts = Object.fromEntries(displayStatuses.map((s) => [s, list.filter((c) => c.status === s).length])) as Record<
        DisplayStatus,
        number
      >;
      return { family, counts, checks: list };
    });
}
