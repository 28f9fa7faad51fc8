import { z } from 'zod';
import { enabledStatuses } from '../pair/lifecycle.ts';
import type { PairStatus } from '../pair/status.ts';

// The monthly report of one customer: how long each pair was protected, how its replication lag
// compared with the customer's RPO, which failovers and test failovers ran and how they ended, and
// what validation still finds. Pure: the rows are read by the caller and passed in.
//
// Time protected: a pair counts as protected while replication runs from its source to its target
// (the lifecycle's enabled statuses: mirroring, protected, failover pending). Status changes are
// not stored as rows of their own, so they are read off the operations that make them:
//   enable succeeded → on at its end;  disable succeeded → off at its end;
//   failover started → off at its start (a failed one puts the pair back to pending: on at its end);
//   failback succeeded with re-protect → on at its end.
// Before the first such operation the pair's enabledAt (when replication last started) decides.

/** A month as `YYYY-MM` (UTC). */
export const reportMonthSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'A month is written YYYY-MM')
  .refine((m) => Number(m.slice(0, 4)) >= 2000 && Number(m.slice(0, 4)) <= 2999, 'The year must be between 2000 and 2999');
export type ReportMonth = z.infer<typeof reportMonthSchema>;

/** The month's bounds in UTC: [start, end). */
export function monthBounds(month: ReportMonth): { start: Date; end: Date } {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7)) - 1;
  return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
}

/** The month (UTC) that `at` falls in. */
export const monthOf = (at: Date): ReportMonth => at.toISOString().slice(0, 7);

/** The month before `month`. */
export function previousMonth(month: ReportMonth): ReportMonth {
  const { start } = monthBounds(month);
  return monthOf(new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)));
}

/** Months from `first` to `last` inclusive, newest first. */
export function monthsBetween(first: ReportMonth, last: ReportMonth): ReportMonth[] {
  const out: ReportMonth[] = [];
  for (let m = last; m >= first && out.length < 1200; m = previousMonth(m)) out.push(m);
  return out;
}

export type ReportOperationKind = 'enable' | 'disable' | 'failover' | 'failback' | 'test_failover';

export interface ReportOperation {
  id: string;
  kind: ReportOperationKind;
  /** pending, awaiting_approval, running, succeeded, failed, cancelled. */
  status: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** Failback: whether protection was enabled again at its end (the default). */
  reprotect?: boolean;
  /** Test failover: the evidence report's verdict, when the test ended. */
  testResult?: 'passed' | 'failed' | null;
}

/** One replication sample: raw (resolution 0) or a one-minute roll-up holding the minute's worst lag. */
export interface LagSample {
  at: Date;
  lagSeconds: number | null;
  resolutionSeconds: number;
}

/** Lag over the month, against the RPO (computed by `lagStatistics`, or aggregated by the database the same way). */
export interface LagStats {
  /** Samples with a measured lag. */
  samples: number;
  /** Of those, at or below the RPO. */
  withinRpo: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  /** The longest stretch during which every sample was above the RPO. */
  longestAboveRpoSeconds: number;
}

/** Consecutive samples further apart than this are a hole in the data, not one stretch. */
export const maxSampleGapSeconds = 600;

export interface ReportPairInput {
  id: string;
  name: string;
  application: string;
  status: PairStatus;
  createdAt: Date;
  enabledAt: Date | null;
  /**
   * The pair's operations of these kinds that started before the month's end (older ones too:
   * the last one before the month tells its status at the start).
   */
  operations: ReportOperation[];
  lag: LagStats;
  /** Open validation findings (the latest run's, not fixed) by severity. */
  findings: { error: number; warning: number; info: number };
}

export interface MonthlyReportInput {
  month: ReportMonth;
  /** Now: a month still under way is measured up to now. */
  now: Date;
  customer: { id: string; name: string; rpoSeconds: number };
  organizationName: string;
  pairs: ReportPairInput[];
}

export interface ReportRun {
  operationId: string;
  pairId: string;
  pairName: string;
  kind: 'failover' | 'failback' | 'test_failover';
  outcome: 'succeeded' | 'failed' | 'cancelled' | 'running' | 'waiting';
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  error: string | null;
}

export interface ReportPair {
  id: string;
  name: string;
  application: string;
  status: PairStatus;
  protectedSeconds: number;
  /** Of the measured period (the month, or up to now while it runs), 0–100 with one decimal. */
  protectedPercent: number;
  lag: LagStats & { withinRpoPercent: number | null };
  failovers: number;
  failbacks: number;
  tests: { total: number; passed: number; failed: number };
  findings: { error: number; warning: number; info: number };
}

export interface MonthlyReport {
  month: ReportMonth;
  periodStart: string;
  periodEnd: string;
  /** The month has not ended yet: figures run up to periodEnd. */
  partial: boolean;
  customer: { id: string; name: string; rpoSeconds: number };
  organizationName: string;
  pairs: ReportPair[];
  runs: ReportRun[];
  totals: {
    pairs: number;
    /** Mean of the pairs' protected share. */
    protectedPercent: number | null;
    /** The worst pair's p95 lag. */
    worstP95: number | null;
    withinRpoPercent: number | null;
    failovers: { total: number; succeeded: number; failed: number };
    tests: { total: number; passed: number; failed: number };
    findings: { error: number; warning: number; info: number };
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const seconds = (ms: number) => Math.round(ms / 1000);

/** Linear-interpolated percentile of sorted values (as PostgreSQL's percentile_cont). */
export function percentileCont(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Lag statistics from the month's samples. A stretch above the RPO starts at its first sample
 * above and ends at the next sample (within RPO), or, when the data stops or has a hole, at the
 * last sample above plus its resolution.
 */
export function lagStatistics(samples: LagSample[], rpoSeconds: number, periodEnd?: Date): LagStats {
  const measured = samples.filter((s) => s.lagSeconds !== null).sort((a, b) => a.at.getTime() - b.at.getTime());
  const values = measured.map((s) => s.lagSeconds!).sort((a, b) => a - b);
  let longest = 0;
  let runStart: Date | null = null;
  for (let i = 0; i < measured.length; i++) {
    const s = measured[i]!;
    const next = measured[i + 1];
    const above = s.lagSeconds! > rpoSeconds;
    if (!above) {
      runStart = null;
      continue;
    }
    runStart ??= s.at;
    const closesOnNext = next && (next.at.getTime() - s.at.getTime()) / 1000 <= maxSampleGapSeconds;
    if (closesOnNext && next.lagSeconds! > rpoSeconds) continue;
    let end = closesOnNext ? next.at.getTime() : s.at.getTime() + s.resolutionSeconds * 1000;
    if (periodEnd) end = Math.min(end, periodEnd.getTime());
    longest = Math.max(longest, (end - runStart.getTime()) / 1000);
    runStart = null;
  }
  return {
    samples: values.length,
    withinRpo: values.filter((v) => v <= rpoSeconds).length,
    p50: percentileCont(values, 0.5),
    p95: percentileCont(values, 0.95),
    max: values.length ? values[values.length - 1]! : null,
    longestAboveRpoSeconds: Math.round(longest),
  };
}

/** When the operations turned replication on or off, in time order. */
function protectionChanges(ops: ReportOperation[]): { at: number; on: boolean }[] {
  const changes: { at: number; on: boolean }[] = [];
  for (const op of ops) {
    const end = op.finishedAt?.getTime();
    if (op.kind === 'enable' && op.status === 'succeeded' && end !== undefined) changes.push({ at: end, on: true });
    else if (op.kind === 'disable' && op.status === 'succeeded' && end !== undefined) changes.push({ at: end, on: false });
    else if (op.kind === 'failover' && op.startedAt) {
      changes.push({ at: op.startedAt.getTime(), on: false });
      if (op.status === 'failed' && end !== undefined) changes.push({ at: end, on: true });
    } else if (op.kind === 'failback' && op.status === 'succeeded' && end !== undefined && op.reprotect !== false)
      changes.push({ at: end, on: true });
  }
  return changes.sort((a, b) => a.at - b.at);
}

/** Seconds of [start, end) during which the pair was protected. */
export function protectedSeconds(pair: Pick<ReportPairInput, 'status' | 'enabledAt' | 'operations'>, start: Date, end: Date): number {
  const changes = protectionChanges(pair.operations);
  const from = start.getTime();
  const to = end.getTime();
  if (to <= from) return 0;
  // Before any operation: replication last started at enabledAt (pairs enabled without one, e.g.
  // before operations were recorded); with no operation at all, only if the pair is enabled now.
  const first = changes[0];
  if (pair.enabledAt && (first ? pair.enabledAt.getTime() < first.at : enabledStatuses.includes(pair.status)))
    changes.unshift({ at: pair.enabledAt.getTime(), on: true });
  let on = false;
  let since = Number.NEGATIVE_INFINITY;
  let total = 0;
  const add = (a: number, b: number) => {
    const lo = Math.max(a, from);
    const hi = Math.min(b, to);
    if (hi > lo) total += hi - lo;
  };
  for (const c of changes) {
    if (c.on === on) continue;
    if (on) add(since, c.at);
    on = c.on;
    since = c.at;
  }
  if (on) add(since, to);
  return seconds(total);
}

const runKinds = new Set(['failover', 'failback', 'test_failover']);

function runOutcome(status: string): ReportRun['outcome'] {
  if (status === 'succeeded' || status === 'failed' || status === 'cancelled' || status === 'running') return status;
  return 'waiting';
}

/** Builds the report. Runs count in the month they were created in. */
export function buildMonthlyReport(input: MonthlyReportInput): MonthlyReport {
  const { start, end } = monthBounds(input.month);
  const periodEnd = new Date(Math.max(start.getTime(), Math.min(end.getTime(), input.now.getTime())));
  const periodSeconds = (periodEnd.getTime() - start.getTime()) / 1000;
  const runs: ReportRun[] = [];
  const pairs: ReportPair[] = [...input.pairs]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => {
      const inMonth = p.operations.filter((o) => runKinds.has(o.kind) && o.createdAt >= start && o.createdAt < end);
      for (const o of inMonth) {
        const test = o.kind === 'test_failover';
        // A test failover's verdict is its report's: every probe passed and the copy was removed.
        let outcome = runOutcome(o.status);
        if (test && o.testResult) outcome = o.testResult === 'passed' ? 'succeeded' : 'failed';
        runs.push({
          operationId: o.id,
          pairId: p.id,
          pairName: p.name,
          kind: o.kind as ReportRun['kind'],
          outcome,
          startedAt: o.startedAt?.toISOString() ?? null,
          finishedAt: o.finishedAt?.toISOString() ?? null,
          durationSeconds: o.startedAt && o.finishedAt ? seconds(o.finishedAt.getTime() - o.startedAt.getTime()) : null,
          error: o.error,
        });
      }
      const mine = runs.filter((r) => r.pairId === p.id);
      const tests = mine.filter((r) => r.kind === 'test_failover');
      const prot = protectedSeconds(p, start, periodEnd);
      return {
        id: p.id,
        name: p.name,
        application: p.application,
        status: p.status,
        protectedSeconds: prot,
        protectedPercent: periodSeconds > 0 ? round1((prot / periodSeconds) * 100) : 0,
        lag: { ...p.lag, withinRpoPercent: p.lag.samples ? round1((p.lag.withinRpo / p.lag.samples) * 100) : null },
        failovers: mine.filter((r) => r.kind === 'failover').length,
        failbacks: mine.filter((r) => r.kind === 'failback').length,
        tests: {
          total: tests.length,
          passed: tests.filter((t) => t.outcome === 'succeeded').length,
          failed: tests.filter((t) => t.outcome === 'failed').length,
        },
        findings: { ...p.findings },
      };
    });
  runs.sort((a, b) => (a.startedAt ?? '9').localeCompare(b.startedAt ?? '9') || a.operationId.localeCompare(b.operationId));
  const failovers = runs.filter((r) => r.kind === 'failover');
  const tests = runs.filter((r) => r.kind === 'test_failover');
  const samples = pairs.reduce((n, p) => n + p.lag.samples, 0);
  const p95s = pairs.map((p) => p.lag.p95).filter((v): v is number => v !== null);
  return {
    month: input.month,
    periodStart: start.toISOString(),
    periodEnd: periodEnd.toISOString(),
    partial: periodEnd < end,
    customer: { ...input.customer },
    organizationName: input.organizationName,
    pairs,
    runs,
    totals: {
      pairs: pairs.length,
      protectedPercent: pairs.length ? round1(pairs.reduce((n, p) => n + p.protectedPercent, 0) / pairs.length) : null,
      worstP95: p95s.length ? Math.max(...p95s) : null,
      withinRpoPercent: samples ? round1((pairs.reduce((n, p) => n + p.lag.withinRpo, 0) / samples) * 100) : null,
      failovers: {
        total: failovers.length,
        succeeded: failovers.filter((r) => r.outcome === 'succeeded').length,
        failed: failovers.filter((r) => r.outcome === 'failed').length,
      },
      tests: {
        total: tests.length,
        passed: tests.filter((r) => r.outcome === 'succeeded').length,
        failed: tests.filter((r) => r.outcome === 'failed').length,
      },
      findings: {
        error: pairs.reduce((n, p) => n + p.findings.error, 0),
        warning: pairs.reduce((n, p) => n + p.findings.warning, 0),
        info: pairs.reduce((n, p) => n + p.findings.info, 0),
      },
    },
  };
}

const fmtSeconds = (s: number | null) => (s === null ? 'n/a' : s < 1 ? '<1 s' : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

/** Short lines for the e-mail that announces the report. */
export function monthlyReportSummary(r: MonthlyReport): string[] {
  const t = r.totals;
  return [
    `Pairs: ${t.pairs}`,
    `Time protected: ${t.protectedPercent === null ? 'n/a' : `${t.protectedPercent}%`} of the month`,
    `Lag p95 (worst pair): ${fmtSeconds(t.worstP95)} against an RPO of ${fmtSeconds(r.customer.rpoSeconds)}${t.withinRpoPercent === null ? '' : `; ${t.withinRpoPercent}% of samples within it`}`,
    `Failovers: ${t.failovers.total} (${t.failovers.succeeded} succeeded, ${t.failovers.failed} failed)`,
    `Test failovers: ${t.tests.total} (${t.tests.passed} passed, ${t.tests.failed} failed)`,
    `Open findings: ${t.findings.error} errors, ${t.findings.warning} warnings`,
  ];
}
