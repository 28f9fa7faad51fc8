// What the validation procedures share: loading a pair and its runs, reading stored findings back
// (with their acknowledgement and the fix's current blocked reason, both decided on read), and
// the finding shape the portal gets. Evidence is stored already redacted by the engine's checks.
import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import {
  actionRunsOn,
  blockedWhileProtected,
  checkById,
  displayStatuses,
  enabledStatuses,
  fixActionSchema,
  notFound,
  type DisplayStatus,
  type FixAction,
  type FixCandidate,
  type FixPhase,
  type PairStatus,
} from '@tandem/engine';

export const protectedBlock =
  'Disable protection first: this fix changes the target, which is refused while the pair is protected.';
export const failedOverBlock =
  'The pair is failed over: the source is being repaired, so fixes that change it wait for the failback.';

/** A finding and its pair (NOT_FOUND for another tenant's or a missing one). */
export async function loadFinding(db: TenantTx, findingId: string) {
  const finding = await db.finding.findUnique({
    where: { id: findingId },
    include: { validationRun: { select: { pairId: true } } },
  });
  if (!finding) throw notFound('Finding');
  const pair = await loadPair(db, finding.pairId ?? finding.validationRun.pairId);
  return { finding, pair };
}

export const ackKey = (pairId: string, f: { checkId: string; side: string; subject: string }) => ({
  pairId,
  checkId: f.checkId,
  side: f.side,
  subject: f.subject,
});

export async function loadPair(db: TenantTx, pairId: string) {
  const pair = await db.protectionPair.findUnique({
    where: { id: pairId },
    select: {
      id: true,
      name: true,
      organizationId: true,
      customerId: true,
      status: true,
      configChangedAt: true,
      readinessScore: true,
      readiness: true,
    },
  });
  if (!pair) throw notFound('Protection pair');
  return pair;
}
export type ValidationPair = Awaited<ReturnType<typeof loadPair>>;

const planSchema = z.array(fixActionSchema);
/** A stored plan read back; anything that no longer parses is no plan (the finding shows as manual). */
export function storedPlan(value: unknown): FixAction[] | null {
  const parsed = planSchema.safeParse(value);
  return parsed.success && parsed.data.length ? parsed.data : null;
}

const statusSchema = z.enum(displayStatuses);
export const displayStatus = (s: string): DisplayStatus => statusSchema.catch('unknown').parse(s);

/**
 * Why Fix is unavailable for this finding now: the stored reason was decided for the pair as it
 * was during the run; protection may have been enabled or disabled since.
 */
export function currentBlock(
  pairStatus: string,
  f: { checkId: string; blockedReason: string | null },
  plan: FixAction[] | null,
): string | null {
  const fix = checkById(f.checkId)?.fix;
  if (!fix || !plan) return f.blockedReason;
  if (fix.kind !== 'manual' && blockedWhileProtected(fix, plan) && enabledStatuses.includes(pairStatus as PairStatus))
    return protectedBlock;
  if (pairStatus === 'failed_over' && plan.some((a) => actionRunsOn(a) === 'source')) return failedOverBlock;
  return null;
}

export interface FindingRow {
  id: string;
  validationRunId: string;
  checkId: string;
  severity: string;
  message: string;
  side: string;
  subject: string;
  status: string;
  evidence: unknown;
  evidenceDigest: string;
  guidance: string | null;
  plan: unknown;
  blockedReason: string | null;
  privileged: boolean;
  phase: number | null;
  fixState: string | null;
  fixError: string | null;
}

/** The planner's view of a stored finding, as the pair is now. */
export function toCandidate(pairStatus: string, f: FindingRow): FixCandidate {
  const plan = storedPlan(f.plan);
  return {
    id: f.id,
    checkId: f.checkId,
    side: f.side as FixCandidate['side'],
    subject: f.subject,
    status: displayStatus(f.status),
    plan,
    blockedReason: currentBlock(pairStatus, f, plan),
    privileged: f.privileged,
    phase: (f.phase ?? null) as FixPhase | null,
    fixState: f.fixState,
  };
}

/** Acknowledgements are keyed by what a finding is about, so they carry over from run to run. */
export const findingKey = (f: { checkId: string; side: string; subject: string }) =>
  `${f.checkId}\u0000${f.side}\u0000${f.subject}`;

export interface AckRow {
  checkId: string;
  side: string;
  subject: string;
  evidenceDigest: string;
  reason: string;
  expiresAt: Date;
  userId: string;
  createdAt: Date;
}

export const acknowledgementOutput = z
  .object({
    reason: z.string(),
    by: z.string(),
    at: z.string(),
    expiresAt: z.string(),
    /** active: the warning is accepted; evidence-changed / expired: it lapsed and shows again. */
    state: z.enum(['active', 'evidence-changed', 'expired']),
  })
  .nullable();

/** An acknowledgement's state for this finding, decided now (it lapses when the evidence changes or it expires). */
export function acknowledgementOf(
  f: FindingRow,
  ack: AckRow | undefined,
  names: Map<string, string>,
  now: Date,
): z.infer<typeof acknowledgementOutput> {
  if (!ack) return null;
  const state = ack.evidenceDigest !== f.evidenceDigest ? 'evidence-changed' : ack.expiresAt <= now ? 'expired' : 'active';
  return {
    reason: ack.reason,
    by: names.get(ack.userId) ?? 'a former member',
    at: ack.createdAt.toISOString(),
    expiresAt: ack.expiresAt.toISOString(),
    state,
  };
}

const jsonRecord = z.record(z.string(), z.unknown()).catch({});

export const findingOutput = z.object({
  id: z.string(),
  runId: z.string(),
  checkId: z.string(),
  family: z.string(),
  title: z.string(),
  /** What the check detects (the drawer's explanation). */
  detects: z.string(),
  side: z.string(),
  subject: z.string(),
  message: z.string(),
  severity: z.string(),
  status: z.enum(displayStatuses),
  evidence: z.record(z.string(), z.unknown()),
  guidance: z.string().nullable(),
  plan: z.array(fixActionSchema).nullable(),
  blockedReason: z.string().nullable(),
  privileged: z.boolean(),
  phase: z.number().nullable(),
  fixState: z.string().nullable(),
  fixError: z.string().nullable(),
  acknowledgement: acknowledgementOutput,
});
export type FindingView = z.infer<typeof findingOutput>;

export function familyOf(checkId: string) {
  return checkById(checkId)?.family ?? checkId.split('.')[0] ?? checkId;
}

export function toFindingView(pairStatus: string, f: FindingRow, ack: z.infer<typeof acknowledgementOutput>): FindingView {
  const check = checkById(f.checkId);
  const plan = storedPlan(f.plan);
  return {
    id: f.id,
    runId: f.validationRunId,
    checkId: f.checkId,
    family: familyOf(f.checkId),
    title: check?.title ?? f.checkId,
    detects: check?.detects ?? '',
    side: f.side,
    subject: f.subject,
    message: f.message,
    severity: f.severity,
    status: displayStatus(f.status),
    evidence: jsonRecord.parse(f.evidence ?? {}),
    guidance: f.guidance,
    plan,
    blockedReason: currentBlock(pairStatus, f, plan),
    privileged: f.privileged,
    phase: f.phase,
    fixState: f.fixState,
    fixError: f.fixError,
    acknowledgement: ack,
  };
}

/** Display names of the users who acknowledged (users are global rows; only their names are shown). */
export async function userNames(db: TenantTx, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const users = await db.user.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true, name: true } });
  return new Map(users.map((u) => [u.id, u.name]));
}

/** A run's findings with their acknowledgement state, as the portal shows them. */
export async function findingViews(
  db: TenantTx,
  pair: { id: string; status: string },
  runId: string,
  now = new Date(),
): Promise<FindingView[]> {
  const [rows, acks] = await Promise.all([
    db.finding.findMany({
      where: { validationRunId: runId },
      orderBy: [{ checkId: 'asc' }, { side: 'asc' }, { subject: 'asc' }],
    }),
    db.findingAcknowledgement.findMany({ where: { pairId: pair.id } }),
  ]);
  const byKey = new Map(acks.map((a) => [findingKey(a), a]));
  const names = await userNames(
    db,
    acks.map((a) => a.userId),
  );
  return rows.map((f) =>
    toFindingView(pair.status, f, f.severity === 'warning' ? acknowledgementOf(f, byKey.get(findingKey(f)), names, now) : null),
  );
}

/** The stored per-check results (CheckResult without findings); rows that do not parse are skipped. */
const storedResultSchema = z.object({
  checkId: z.string(),
  side: z.enum(['source', 'target', 'none']).catch('none'),
  status: z.enum(displayStatuses).catch('unknown'),
  unknown: z
    .object({ reason: z.string(), facts: z.array(z.string()).catch([]), gate: z.string().optional() })
    .optional()
    .catch(undefined),
});
export type StoredResult = z.infer<typeof storedResultSchema>;

export function storedResults(value: unknown): StoredResult[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((r) => {
    const parsed = storedResultSchema.safeParse(r);
    return parsed.success ? [parsed.data] : [];
  });
}

export const runSummaryOutput = z.object({
  id: z.string(),
  status: z.string(),
  trigger: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  overall: z.enum(displayStatuses).nullable(),
  readinessScore: z.number().nullable(),
  errors: z.number().int(),
  warnings: z.number().int(),
  operationId: z.string().nullable(),
});
export type RunSummary = z.infer<typeof runSummaryOutput>;

export function toRunSummary(r: {
  id: string;
  status: string;
  trigger: string;
  startedAt: Date;
  finishedAt: Date | null;
  overall: string | null;
  readinessScore: number | null;
  operationId: string | null;
  findings: { severity: string }[];
}): RunSummary {
  return {
    id: r.id,
    status: r.status,
    trigger: r.trigger,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    overall: r.overall === null ? null : displayStatus(r.overall),
    readinessScore: r.readinessScore,
    errors: r.findings.filter((f) => f.severity === 'error').length,
    warnings: r.findings.filter((f) => f.severity === 'warning').length,
    operationId: r.operationId,
  };
}

/** The latest finished run of the pair (a running one has no findings to act on yet). */
export function latestFinishedRun(db: TenantTx, pairId: string) {
  return db.validationRun.findFirst({ where: { pairId, finishedAt: { not: null } }, orderBy: { startedAt: 'desc' } });
}

export const readinessOutput = z.object({
  score: z.number().int().nullable(),
  /** What lowers the score, largest first. */
  lowers: z.array(z.object({ label: z.string(), points: z.number().nullable() })),
});
export type ReadinessView = z.infer<typeof readinessOutput>;

/** The engine's Readiness as the worker stores it (readinessScore in the catalogue). */
const storedReadiness = z.object({
  score: z.number(),
  factors: z.array(z.object({ label: z.string(), penalty: z.number(), detail: z.string() })),
});

/**
 * The pair's readiness (written by the worker with each run): the score and what lowers it. A
 * stored value of another shape (from before a change) shows the score alone.
 */
export function readinessOf(score: number | null, value: unknown): ReadinessView {
  const parsed = storedReadiness.safeParse(value);
  const lowers = parsed.success
    ? parsed.data.factors.filter((f) => f.penalty > 0).map((f) => ({ label: `${f.label}: ${f.detail}`, points: f.penalty }))
    : [];
  lowers.sort((a, b) => (b.points ?? 0) - (a.points ?? 0));
  return { score: score ?? (parsed.success ? Math.round(parsed.data.score) : null), lowers };
}
