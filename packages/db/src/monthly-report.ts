// Reads one customer's month for the monthly report (engine buildMonthlyReport) in the caller's
// tenant transaction. Shared by the web (report pages, PDF) and the worker (the e-mail on the 1st).
//
// Replication samples are the one large table (a sample every few seconds, a roll-up per minute
// after a day), so their statistics are aggregated in PostgreSQL per pair — percentiles,
// counts and the longest stretch above the RPO — the same way engine lagStatistics computes
// them from a list. Raw SQL bypasses the Prisma tenant extension; row-level security applies.
import {
  buildMonthlyReport,
  maxSampleGapSeconds,
  monthBounds,
  monthOf,
  monthsBetween,
  type LagStats,
  type MonthlyReport,
  type ReportMonth,
  type ReportOperation,
} from '@tandem/engine';
import type { TenantTx } from './tenant.ts';

const sqlTime = (d: Date) => d.toISOString();
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

interface LagRow {
  pairId: string;
  samples: number;
  within: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  longest: number | null;
}

/** Lag statistics per pair of the customer over [start, end). */
async function lagByPair(tx: TenantTx, customerId: string, rpoSeconds: number, start: Date, end: Date): Promise<Map<string, LagStats>> {
  const rows = await tx.$queryRaw<LagRow[]>`
    WITH s AS (
      SELECT "pairId", at, "lagSeconds" AS lag, "resolutionSeconds" AS res,
             "lagSeconds" > ${rpoSeconds} AS above,
             lag("lagSeconds" > ${rpoSeconds}) OVER w AS prev_above,
             lag(at) OVER w AS prev_at,
             lead(at) OVER w AS next_at
      FROM "ReplicationSample"
      WHERE "customerId" = ${customerId} AND "lagSeconds" IS NOT NULL
        AND at >= (${sqlTime(start)}::timestamptz AT TIME ZONE 'UTC') AND at < (${sqlTime(end)}::timestamptz AT TIME ZONE 'UTC')
      WINDOW w AS (PARTITION BY "pairId" ORDER BY at)
    ), runs AS (
      -- A stretch above the RPO starts at a sample above whose predecessor was not (or is missing or too far back).
      SELECT *, sum(CASE WHEN above AND (prev_above IS NOT TRUE OR extract(epoch FROM at - prev_at) > ${maxSampleGapSeconds}) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY "pairId" ORDER BY at) AS run
      FROM s
    ), stretches AS (
      -- It ends at the next sample when that follows closely, else at the last sample above plus its resolution.
      SELECT "pairId",
             extract(epoch FROM least(
               max(CASE WHEN next_at IS NOT NULL AND extract(epoch FROM next_at - at) <= ${maxSampleGapSeconds} THEN next_at
                        ELSE at + make_interval(secs => res) END),
               (${sqlTime(end)}::timestamptz AT TIME ZONE 'UTC')) - min(at)) AS seconds
      FROM runs WHERE above GROUP BY "pairId", run
    ), longest AS (
      SELECT "pairId", max(seconds) AS longest FROM stretches GROUP BY "pairId"
    ), stats AS (
      SELECT "pairId", count(*)::int AS samples,
             count(*) FILTER (WHERE lag <= ${rpoSeconds})::int AS within,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY lag) AS p95,
             max(lag) AS max
      FROM s GROUP BY "pairId"
    )
    SELECT stats.*, longest.longest FROM stats LEFT JOIN longest USING ("pairId")`;
  return new Map(
    rows.map((r) => [
      r.pairId,
      {
        samples: Number(r.samples),
        withinRpo: Number(r.within),
        p50: num(r.p50),
        p95: num(r.p95),
        max: num(r.max),
        longestAboveRpoSeconds: Math.round(num(r.longest) ?? 0),
      },
    ]),
  );
}

const emptyLag: LagStats = { samples: 0, withinRpo: 0, p50: null, p95: null, max: null, longestAboveRpoSeconds: 0 };

const reportKinds = ['enable', 'disable', 'failover', 'failback', 'test_failover'] as const;

/** Open findings per pair at `at`: those of the last validation run finished before it, not fixed by then. */
async function findingsByPair(tx: TenantTx, pairIds: string[], at: Date) {
  const out = new Map<string, { error: number; warning: number; info: number }>();
  if (pairIds.length === 0) return out;
  const runs = await tx.validationRun.findMany({
    where: { pairId: { in: pairIds }, finishedAt: { not: null, lt: at } },
    orderBy: [{ finishedAt: 'desc' }, { id: 'asc' }],
    distinct: ['pairId'],
    select: { id: true, pairId: true },
  });
  if (runs.length === 0) return out;
  const groups = await tx.finding.groupBy({
    by: ['pairId', 'severity'],
    where: { validationRunId: { in: runs.map((r) => r.id) }, OR: [{ fixedAt: null }, { fixedAt: { gte: at } }] },
    _count: { _all: true },
  });
  for (const g of groups) {
    if (!g.pairId) continue;
    const f = out.get(g.pairId) ?? { error: 0, warning: 0, info: 0 };
    f[g.severity] += g._count._all;
    out.set(g.pairId, f);
  }
  return out;
}

const testResult = (report: unknown): 'passed' | 'failed' | null => {
  const r = report && typeof report === 'object' ? (report as { result?: unknown }).result : null;
  return r === 'passed' || r === 'failed' ? r : null;
};

/**
 * The customer's report for `month` (the caller has found the customer in its tenant). Null when
 * the customer is not visible in this transaction.
 */
export async function readMonthlyReport(tx: TenantTx, customerId: string, month: ReportMonth, now: Date): Promise<MonthlyReport | null> {
  const customer = await tx.customer.findUnique({ where: { id: customerId }, select: { id: true, name: true, rpoSeconds: true, organizationId: true } });
  if (!customer) return null;
  const org = await tx.organization.findUnique({ where: { id: customer.organizationId }, select: { name: true } });
  const { start, end } = monthBounds(month);
  const periodEnd = new Date(Math.min(end.getTime(), now.getTime()));
  // Pairs that existed during the month (created before its end); a deleted pair's rows are gone with it.
  const pairs = await tx.protectionPair.findMany({
    where: { customerId, createdAt: { lt: end } },
    select: { id: true, name: true, application: true, status: true, createdAt: true, enabledAt: true },
  });
  const pairIds = pairs.map((p) => p.id);
  const [ops, lag, findings] = await Promise.all([
    tx.operation.findMany({
      where: { pairId: { in: pairIds }, kind: { in: [...reportKinds] }, createdAt: { lt: end } },
      orderBy: { createdAt: 'asc' },
      select: { id: true, pairId: true, kind: true, status: true, createdAt: true, startedAt: true, finishedAt: true, error: true, options: true, report: true },
    }),
    lagByPair(tx, customerId, customer.rpoSeconds, start, periodEnd),
    findingsByPair(tx, pairIds, periodEnd),
  ]);
  const opsByPair = new Map<string, ReportOperation[]>();
  for (const o of ops) {
    if (!o.pairId) continue;
    const options = o.options && typeof o.options === 'object' ? (o.options as { reprotect?: unknown }) : {};
    const list = opsByPair.get(o.pairId) ?? [];
    list.push({
      id: o.id,
      kind: o.kind as ReportOperation['kind'],
      status: o.status,
      createdAt: o.createdAt,
      startedAt: o.startedAt,
      finishedAt: o.finishedAt,
      error: o.error,
      ...(o.kind === 'failback' ? { reprotect: options.reprotect !== false } : {}),
      ...(o.kind === 'test_failover' ? { testResult: testResult(o.report) } : {}),
    });
    opsByPair.set(o.pairId, list);
  }
  return buildMonthlyReport({
    month,
    now,
    customer: { id: customer.id, name: customer.name, rpoSeconds: customer.rpoSeconds },
    organizationName: org?.name ?? '',
    pairs: pairs.map((p) => ({
      ...p,
      operations: opsByPair.get(p.id) ?? [],
      lag: lag.get(p.id) ?? emptyLag,
      findings: findings.get(p.id) ?? { error: 0, warning: 0, info: 0 },
    })),
  });
}

/** Months the customer has a report for (from its first pair's creation to now), newest first. */
export async function readReportMonths(tx: TenantTx, customerId: string, now: Date): Promise<ReportMonth[]> {
  const first = await tx.protectionPair.findFirst({ where: { customerId }, orderBy: { createdAt: 'asc' }, select: { createdAt: true } });
  if (!first) return [];
  return monthsBetween(monthOf(first.createdAt), monthOf(now));
}
