'use client';

// A customer's monthly report as a page: the same contents and words as its PDF (the "Download
// PDF" link fetches /api/reports/monthly/<customerId>/<month>). Printing hides the links.
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { MonthlyReport } from '@tandem/engine';
import {
  findingsText,
  formatPercent,
  formatSeconds,
  formatTime,
  lagText,
  monthLabel,
  runKindLabel,
  runOutcomeLabel,
} from '@tandem/reports/format';
import { Badge, Button, Card, ErrorBanner, PageHeader, tableStyles } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function MonthlyReportView({ customerId, month }: { customerId: string; month: string }) {
  const trpc = useTRPC();
  const report = useQuery(trpc.report.monthly.queryOptions({ customerId, month }));
  const back = (
    <Link href={`/customers/${customerId}/reports`} className="text-sm text-sky-700 hover:underline print:hidden dark:text-sky-400">
      ← All monthly reports
    </Link>
  );
  if (report.isPending) return <p className="text-sm text-slate-500 dark:text-slate-400">Loading the report…</p>;
  if (report.isError) {
    return (
      <div className="space-y-3">
        <ErrorBanner message={describeError(report.error).message} />
        {back}
      </div>
    );
  }
  return <ReportBody r={report.data} back={back} />;
}

function ReportBody({ r, back }: { r: MonthlyReport; back: ReactNode }) {
  const t = r.totals;
  const rpo = r.customer.rpoSeconds;
  return (
    <div className="space-y-4" data-testid="monthly-report" data-month={r.month}>
      <PageHeader
        title={`Monthly report: ${monthLabel(r.month)}`}
        description={`${r.customer.name}${r.organizationName ? ` · by ${r.organizationName}` : ''}`}
        actions={
          <div className="flex items-center gap-3 print:hidden">
            {back}
            <Button variant="secondary" onClick={() => window.print()}>
              Print
            </Button>
            <a
              href={`/api/reports/monthly/${r.customer.id}/${r.month}`}
              download
              className="inline-flex items-center justify-center rounded-md bg-sky-700 px-3 py-2 text-sm font-medium text-white hover:bg-sky-800 dark:bg-sky-600 dark:hover:bg-sky-500"
            >
              Download PDF
            </a>
          </div>
        }
      />
      {r.partial && (
        <p className="text-sm italic text-slate-600 dark:text-slate-400">The month is not over: figures run up to {formatTime(r.periodEnd)}.</p>
      )}

      <Card>
        <h2 className="mb-2 text-lg font-semibold">Summary</h2>
        <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4" aria-label="Summary">
          <Figure label="Protection pairs" testId="total-pairs">
            {t.pairs}
          </Figure>
          <Figure label="Time protected" testId="total-protected">
            {formatPercent(t.protectedPercent)}
          </Figure>
          <Figure label={`Lag within the RPO (${formatSeconds(rpo)})`} testId="total-within-rpo">
            {formatPercent(t.withinRpoPercent)}
          </Figure>
          <Figure label="Worst p95 lag" testId="total-worst-p95" bad={t.worstP95 !== null && t.worstP95 > rpo}>
            {formatSeconds(t.worstP95)}
          </Figure>
          <Figure label="Failovers" testId="total-failovers" bad={t.failovers.failed > 0}>
            {t.failovers.total}
            <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">
              {t.failovers.succeeded} succeeded, {t.failovers.failed} failed
            </span>
          </Figure>
          <Figure label="Test failovers" testId="total-tests" bad={t.tests.failed > 0}>
            {t.tests.total}
            <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">
              {t.tests.passed} passed, {t.tests.failed} failed
            </span>
          </Figure>
          <Figure label="Open findings" testId="total-findings" bad={t.findings.error > 0}>
            {findingsText(t.findings)}
          </Figure>
          <Figure label="Period">
            <span className="text-sm font-normal">
              {formatTime(r.periodStart)} to {formatTime(r.periodEnd)}
            </span>
          </Figure>
        </dl>
      </Card>

      <Card>
        <h2 className="mb-2 text-lg font-semibold">Pairs</h2>
        {r.pairs.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">This customer had no protection pairs in the month.</p>
        ) : (
          <table className={tableStyles.table} aria-label="Pairs">
            <thead className={tableStyles.head}>
              <tr>
                <th className={tableStyles.cell}>Pair</th>
                <th className={`${tableStyles.cell} text-right`}>Protected</th>
                <th className={tableStyles.cell}>Lag</th>
                <th className={`${tableStyles.cell} text-right`}>Within RPO</th>
                <th className={`${tableStyles.cell} text-right`}>Longest above</th>
                <th className={tableStyles.cell}>Runs</th>
                <th className={tableStyles.cell}>Open findings</th>
              </tr>
            </thead>
            <tbody>
              {r.pairs.map((p) => (
                <tr key={p.id} className={tableStyles.row} data-pair={p.name}>
                  <td className={`${tableStyles.cell} font-medium`}>
                    <Link href={`/customers/${r.customer.id}/pairs/${p.id}`} className="hover:underline">
                      {p.name}
                    </Link>
                    <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">{p.application}</span>
                  </td>
                  <td className={`${tableStyles.cell} text-right`} data-testid="pair-protected">
                    {formatPercent(p.protectedPercent)}
                  </td>
                  <td className={tableStyles.cell}>{lagText(p.lag)}</td>
                  <td className={`${tableStyles.cell} text-right`}>{formatPercent(p.lag.withinRpoPercent)}</td>
                  <td className={`${tableStyles.cell} text-right`}>{p.lag.samples ? formatSeconds(p.lag.longestAboveRpoSeconds) : '—'}</td>
                  <td className={tableStyles.cell}>
                    {p.failovers} failover{p.failovers === 1 ? '' : 's'}, {p.tests.total} test{p.tests.total === 1 ? '' : 's'}
                  </td>
                  <td className={`${tableStyles.cell} ${p.findings.error ? 'text-red-700 dark:text-red-400' : ''}`}>{findingsText(p.findings)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card>
        <h2 className="mb-2 text-lg font-semibold">Failovers and tests</h2>
        {r.runs.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">No failover, failback or test failover ran this month.</p>
        ) : (
          <table className={tableStyles.table} aria-label="Failovers and tests">
            <thead className={tableStyles.head}>
              <tr>
                <th className={tableStyles.cell}>Started</th>
                <th className={tableStyles.cell}>Pair</th>
                <th className={tableStyles.cell}>What</th>
                <th className={tableStyles.cell}>Outcome</th>
                <th className={`${tableStyles.cell} text-right`}>Took</th>
              </tr>
            </thead>
            <tbody>
              {r.runs.map((run) => (
                <tr key={run.operationId} className={tableStyles.row} data-kind={run.kind} data-outcome={run.outcome}>
                  <td className={`${tableStyles.cell} whitespace-nowrap`}>{formatTime(run.startedAt)}</td>
                  <td className={tableStyles.cell}>{run.pairName}</td>
                  <td className={tableStyles.cell}>
                    {run.kind === 'test_failover' ? (
                      <Link href={`/customers/${r.customer.id}/pairs/${run.pairId}/tests/${run.operationId}`} className="text-sky-700 hover:underline dark:text-sky-400">
                        {runKindLabel[run.kind]}
                      </Link>
                    ) : (
                      runKindLabel[run.kind]
                    )}
                  </td>
                  <td className={tableStyles.cell}>
                    <Badge tone={run.outcome === 'succeeded' ? 'green' : run.outcome === 'failed' ? 'red' : 'slate'}>{runOutcomeLabel(run)}</Badge>
                    {run.error && <span className="block text-xs text-red-700 dark:text-red-400">{run.error}</span>}
                  </td>
                  <td className={`${tableStyles.cell} whitespace-nowrap text-right`}>{formatSeconds(run.durationSeconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <p className="text-xs text-slate-500 dark:text-slate-400">
        Time protected: while replication ran from source to target. Lag: the month&apos;s replication samples (one-minute roll-ups keep
        the worst lag of each minute); samples are kept for 35 days.
      </p>
    </div>
  );
}

function Figure({ label, children, testId, bad }: { label: string; children: ReactNode; testId?: string; bad?: boolean }) {
  return (
    <div>
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className={`text-lg font-medium ${bad ? 'text-red-700 dark:text-red-400' : ''}`} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}
