import { describe, expect, it } from 'vitest';
import {
  buildMonthlyReport,
  lagStatistics,
  monthBounds,
  monthlyReportSummary,
  monthsBetween,
  percentileCont,
  previousMonth,
  protectedSeconds,
  reportMonthSchema,
  type LagSample,
  type ReportOperation,
  type ReportPairInput,
} from './monthly.ts';

const t = (iso: string) => new Date(iso);
const noLag = { samples: 0, withinRpo: 0, p50: null, p95: null, max: null, longestAboveRpoSeconds: 0 };
const noFindings = { error: 0, warning: 0, info: 0 };
let n = 0;
const op = (kind: ReportOperation['kind'], status: string, startedAt: string | null, finishedAt: string | null, extra: Partial<ReportOperation> = {}): ReportOperation => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  kind,
  status,
  createdAt: t(startedAt ?? finishedAt ?? '2026-11-01T00:00:00Z'),
  startedAt: startedAt ? t(startedAt) : null,
  finishedAt: finishedAt ? t(finishedAt) : null,
  error: null,
  ...extra,
});
const pair = (over: Partial<ReportPairInput> = {}): ReportPairInput => ({
  id: '11111111-1111-4111-8111-111111111111',
  name: 'Files',
  application: 'file_server',
  status: 'protected',
  createdAt: t('2026-01-01T00:00:00Z'),
  enabledAt: null,
  operations: [],
  lag: noLag,
  findings: noFindings,
  ...over,
});
const nov = monthBounds('2026-11');
const day = 86_400;

describe('months', () => {
  it('bounds a month in UTC, across a year end', () => {
    expect(monthBounds('2026-12')).toEqual({ start: t('2026-12-01T00:00:00Z'), end: t('2027-01-01T00:00:00Z') });
    expect(previousMonth('2027-01')).toBe('2026-12');
    expect(monthsBetween('2026-11', '2027-02')).toEqual(['2027-02', '2027-01', '2026-12', '2026-11']);
  });
  it('refuses a malformed month', () => {
    expect(reportMonthSchema.safeParse('2026-13').success).toBe(false);
    expect(reportMonthSchema.safeParse('2026-1').success).toBe(false);
    expect(reportMonthSchema.safeParse('2026-02').success).toBe(true);
  });
});

describe('lag statistics', () => {
  it('interpolates percentiles like percentile_cont', () => {
    expect(percentileCont([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentileCont([0, 10], 0.95)).toBeCloseTo(9.5);
    expect(percentileCont([], 0.5)).toBeNull();
  });

  it('counts samples within the RPO and finds the longest stretch above it', () => {
    const s = (iso: string, lag: number | null, res = 0): LagSample => ({ at: t(iso), lagSeconds: lag, resolutionSeconds: res });
    const stats = lagStatistics(
      [
        s('2026-11-02T10:00:00Z', 5),
        s('2026-11-02T10:01:00Z', 200), // above from 10:01 …
        s('2026-11-02T10:02:00Z', 300),
        s('2026-11-02T10:05:00Z', 50), // … until 10:05: 240 s
        s('2026-11-02T10:06:00Z', null), // not measured: ignored
        s('2026-11-03T00:00:00Z', 150, 60), // a lone roll-up above, data stops: its minute, 60 s
        s('2026-11-05T00:00:00Z', 10),
      ],
      100,
    );
    expect(stats).toEqual({ samples: 6, withinRpo: 3, p50: 100, p95: 275, max: 300, longestAboveRpoSeconds: 240 });
  });

  it('ends a stretch at a hole in the data', () => {
    const stats = lagStatistics(
      [
        { at: t('2026-11-02T10:00:00Z'), lagSeconds: 500, resolutionSeconds: 60 },
        { at: t('2026-11-02T12:00:00Z'), lagSeconds: 500, resolutionSeconds: 60 },
      ],
      100,
    );
    expect(stats.longestAboveRpoSeconds).toBe(60);
  });
});

describe('time protected', () => {
  it('counts a pair enabled before the month and untouched as protected all month', () => {
    expect(protectedSeconds(pair({ enabledAt: t('2026-10-01T00:00:00Z') }), nov.start, nov.end)).toBe(30 * day);
  });

  it('counts nothing for a pair never enabled, or disabled now with no operation', () => {
    expect(protectedSeconds(pair({ status: 'unprotected' }), nov.start, nov.end)).toBe(0);
    expect(protectedSeconds(pair({ status: 'unprotected', enabledAt: t('2026-10-01T00:00:00Z') }), nov.start, nov.end)).toBe(0);
  });

  it('follows enable, failover, failback and disable', () => {
    const ops = [
      op('enable', 'succeeded', '2026-10-31T23:00:00Z', '2026-11-01T01:00:00Z'), // on from 1 Nov 01:00
      op('failover', 'succeeded', '2026-11-10T01:00:00Z', '2026-11-10T01:10:00Z'), // off 10 Nov 01:00
      op('failback', 'succeeded', '2026-11-12T00:00:00Z', '2026-11-12T01:00:00Z', { reprotect: true }), // on 12 Nov 01:00
      op('disable', 'succeeded', '2026-11-20T00:00:00Z', '2026-11-20T01:00:00Z'), // off 20 Nov 01:00
    ];
    expect(protectedSeconds(pair({ status: 'unprotected', enabledAt: t('2026-11-12T00:30:00Z'), operations: ops }), nov.start, nov.end)).toBe(9 * day + 8 * day);
  });

  it('puts a failed failover back to protected at its end, and a failback without re-protect leaves it off', () => {
    const ops = [
      op('enable', 'succeeded', '2026-10-01T00:00:00Z', '2026-10-01T00:10:00Z'),
      op('failover', 'failed', '2026-11-05T00:00:00Z', '2026-11-05T12:00:00Z'),
      op('failover', 'succeeded', '2026-11-20T00:00:00Z', '2026-11-20T00:10:00Z'),
      op('failback', 'succeeded', '2026-11-25T00:00:00Z', '2026-11-25T00:10:00Z', { reprotect: false }),
      op('failover', 'cancelled', null, null),
    ];
    expect(protectedSeconds(pair({ status: 'unprotected', operations: ops }), nov.start, nov.end)).toBe(19 * day - day / 2);
  });

  it('measures a month under way up to now', () => {
    const r = buildMonthlyReport({
      month: '2026-11',
      now: t('2026-11-11T00:00:00Z'),
      customer: { id: 'c', name: 'Contoso', rpoSeconds: 900 },
      organizationName: 'MSP',
      pairs: [pair({ enabledAt: t('2026-11-06T00:00:00Z') })],
    });
    expect(r.partial).toBe(true);
    expect(r.periodEnd).toBe('2026-11-11T00:00:00.000Z');
    expect(r.pairs[0]!.protectedSeconds).toBe(5 * day);
    expect(r.pairs[0]!.protectedPercent).toBe(50);
  });
});

describe('the report', () => {
  const report = () =>
    buildMonthlyReport({
      month: '2026-11',
      now: t('2026-12-01T00:05:00Z'),
      customer: { id: 'c', name: 'Contoso', rpoSeconds: 60 },
      organizationName: 'MSP',
      pairs: [
        pair({
          id: 'b',
          name: 'SQL',
          enabledAt: t('2026-10-01T00:00:00Z'),
          lag: { samples: 10, withinRpo: 9, p50: 2, p95: 70, max: 80, longestAboveRpoSeconds: 120 },
          findings: { error: 1, warning: 2, info: 0 },
          operations: [
            op('test_failover', 'succeeded', '2026-11-03T10:00:00Z', '2026-11-03T10:04:00Z', { testResult: 'passed' }),
            op('test_failover', 'succeeded', '2026-11-04T10:00:00Z', '2026-11-04T10:01:00Z', { testResult: 'failed', error: 'probe 2 failed' }),
            op('test_failover', 'succeeded', '2026-10-04T10:00:00Z', '2026-10-04T10:01:00Z', { testResult: 'passed' }), // October
          ],
        }),
        pair({
          id: 'a',
          name: 'Files',
          enabledAt: t('2026-10-01T00:00:00Z'),
          lag: { samples: 10, withinRpo: 10, p50: 1, p95: 3, max: 4, longestAboveRpoSeconds: 0 },
          operations: [op('failover', 'failed', '2026-11-15T00:00:00Z', '2026-11-15T00:02:00Z', { error: 'DNS refused' })],
        }),
      ],
    });

  it('lists pairs by name with their runs of the month, outcomes and durations', () => {
    const r = report();
    expect(r.partial).toBe(false);
    expect(r.pairs.map((p) => p.name)).toEqual(['Files', 'SQL']);
    expect(r.runs.map((x) => [x.pairName, x.kind, x.outcome, x.durationSeconds])).toEqual([
      ['SQL', 'test_failover', 'succeeded', 240],
      ['SQL', 'test_failover', 'failed', 60],
      ['Files', 'failover', 'failed', 120],
    ]);
    expect(r.pairs[1]!.tests).toEqual({ total: 2, passed: 1, failed: 1 });
    expect(r.pairs[1]!.lag.withinRpoPercent).toBe(90);
    // The failed failover left Files unprotected for its two minutes.
    expect(r.pairs[0]!.protectedSeconds).toBe(30 * day - 120);
  });

  it('adds up the customer totals and summarises them in short lines', () => {
    const r = report();
    expect(r.totals).toMatchObject({
      pairs: 2,
      worstP95: 70,
      withinRpoPercent: 95,
      failovers: { total: 1, succeeded: 0, failed: 1 },
      tests: { total: 2, passed: 1, failed: 1 },
      findings: { error: 1, warning: 2, info: 0 },
    });
    expect(r.totals.protectedPercent).toBe(100);
    const lines = monthlyReportSummary(r);
    expect(lines).toContain('Pairs: 2');
    expect(lines.join('\n')).toMatch(/Lag p95 \(worst pair\): 70 s against an RPO of 60 s; 95% of samples within it/);
    expect(lines.join('\n')).toMatch(/Failovers: 1 \(0 succeeded, 1 failed\)/);
  });

  it('has no figures to average for a customer without pairs', () => {
    const r = buildMonthlyReport({ month: '2026-11', now: t('2026-12-02T00:00:00Z'), customer: { id: 'c', name: 'C', rpoSeconds: 900 }, organizationName: 'M', pairs: [] });
    expect(r.totals.protectedPercent).toBeNull();
    expect(r.totals.worstP95).toBeNull();
  });
});
