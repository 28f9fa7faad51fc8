'use client';

// A test failover's evidence report as a page: the same contents as its PDF (which the "Download
// PDF" link fetches from /api/reports/test/<operationId>), in the same words (@tandem/reports/format).
// While the test runs there is no report yet: the page says so and looks again every few seconds.
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { TestReport } from '@tandem/engine';
import {
  cleanupText,
  describeCopy,
  describeStarter,
  formatDuration,
  formatLag,
  formatTime,
  settingsRows,
} from '@tandem/reports/format';
import { Badge, Card, ErrorBanner, PageHeader, tableStyles } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function TestReportView({ customerId, pairId, operationId }: { customerId: string; pairId: string; operationId: string }) {
  const trpc = useTRPC();
  const report = useQuery({
    ...trpc.pair.testReport.queryOptions({ operationId }),
    refetchInterval: (q) => (q.state.data === null ? 3_000 : false),
  });
  const pairHref = `/customers/${customerId}/pairs/${pairId}`;
  const back = (
    <Link href={pairHref} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
      ← Back to the pair
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
  const r = report.data;
  if (!r || r.pair.id !== pairId) {
    return (
      <div className="space-y-3">
        <PageHeader title="Test failover report" />
        <Card>
          <p className="text-sm" data-testid="report-pending">
            {r ? 'This report belongs to another pair.' : 'The test has not ended yet: its report appears here when it does.'}
          </p>
        </Card>
        {back}
      </div>
    );
  }
  return <ReportBody r={r} back={back} />;
}

function ReportBody({ r, back }: { r: TestReport; back: ReactNode }) {
  const passed = r.result === 'passed';
  const passedProbes = r.probes.filter((p) => p.passed).length;
  return (
    <div className="space-y-4" data-testid="test-report" data-result={r.result}>
      <PageHeader
        title="Test failover report"
        description={`${r.pair.name} · ${r.customer.name}`}
        actions={
          <div className="flex items-center gap-3">
            {back}
            <a
              href={`/api/reports/test/${r.operationId}`}
              download
              className="inline-flex items-center justify-center rounded-md bg-sky-700 px-3 py-2 text-sm font-medium text-white hover:bg-sky-800 dark:bg-sky-600 dark:hover:bg-sky-500"
            >
              Download PDF
            </a>
          </div>
        }
      />

      <section
        aria-label="Result"
        className={`rounded-lg border-l-4 p-4 ${passed ? 'border-emerald-600 bg-emerald-50 dark:bg-emerald-950' : 'border-red-600 bg-red-50 dark:bg-red-950'}`}
      >
        <p
          className={`text-2xl font-bold ${passed ? 'text-emerald-800 dark:text-emerald-300' : 'text-red-800 dark:text-red-300'}`}
          data-testid="report-result"
        >
          {passed ? 'Passed' : 'Failed'}
        </p>
        <p className="text-sm">
          {passed ? 'Every probe passed and the test copy was removed.' : 'The test did not prove a failover would work.'}
        </p>
        {r.error && <p className="mt-1 text-sm text-red-800 dark:text-red-300">{r.error}</p>}
      </section>

      <Card>
        <h2 className="mb-2 text-lg font-semibold">The test</h2>
        <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[12rem_1fr]">
          <Row label="Customer">{r.customer.name}</Row>
          <Row label="Protection pair">
            {r.pair.name} ({r.pair.application}, {r.pair.method})
          </Row>
          <Row label="Source">{r.pair.source}</Row>
          <Row label="Target">{r.pair.target}</Row>
          <Row label="Started by">{describeStarter(r.startedBy)}</Row>
          <Row label="Started">{formatTime(r.startedAt)}</Row>
          <Row label="Finished">{formatTime(r.finishedAt)}</Row>
          <Row label="Duration">{formatDuration(r.durationMs)}</Row>
          <Row label="Test copy">{describeCopy(r.copy)}</Row>
          <Row label="Copy removed">
            <span className={r.cleanedUp ? '' : 'font-medium text-red-700 dark:text-red-400'} data-testid="report-cleanup">
              {cleanupText(r.cleanedUp)}
            </span>
          </Row>
        </dl>
      </Card>

      <Card>
        <h2 className="mb-1 text-lg font-semibold">Replication lag</h2>
        <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">
          How far the replica was behind the source around the test; replication kept running throughout.
        </p>
        <dl className="grid grid-cols-3 gap-4 text-sm">
          {(['before', 'during', 'after'] as const).map((m) => (
            <div key={m}>
              <dt className="text-slate-500 dark:text-slate-400">{m[0]!.toUpperCase() + m.slice(1)} the test</dt>
              <dd className="text-lg font-medium" data-testid={`lag-${m}`}>
                {formatLag(r.lag[m])}
              </dd>
            </div>
          ))}
        </dl>
      </Card>

      <Card>
        <h2 className="mb-2 text-lg font-semibold">
          Probes ({passedProbes} of {r.probes.length} passed)
        </h2>
        {r.probes.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">No probe ran.</p>
        ) : (
          <table className={tableStyles.table} aria-label="Probes">
            <thead className={tableStyles.head}>
              <tr>
                <th className={tableStyles.cell}>Probe</th>
                <th className={tableStyles.cell}>Result</th>
                <th className={tableStyles.cell}>Summary</th>
                <th className={`${tableStyles.cell} text-right`}>Took</th>
              </tr>
            </thead>
            <tbody>
              {[...r.probes]
                .sort((a, b) => a.index - b.index)
                .map((p) => (
                  <tr key={p.index} className={tableStyles.row} data-probe={p.kind} data-passed={p.passed}>
                    <td className={`${tableStyles.cell} font-medium`}>{p.description}</td>
                    <td className={tableStyles.cell}>
                      <Badge tone={p.passed ? 'green' : 'red'}>{p.passed ? 'Passed' : 'Failed'}</Badge>
                    </td>
                    <td className={tableStyles.cell}>
                      {p.summary}
                      {p.detail.trim() && (
                        <details className="mt-1">
                          <summary className="cursor-pointer text-xs text-sky-700 dark:text-sky-400">Details</summary>
                          <pre className="mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">
                            {p.detail}
                          </pre>
                        </details>
                      )}
                    </td>
                    <td className={`${tableStyles.cell} whitespace-nowrap text-right text-slate-500 dark:text-slate-400`}>
                      {formatDuration(p.durationMs)}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card>
        <h2 className="mb-2 text-lg font-semibold">Timeline</h2>
        {r.timeline.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">No step ran.</p>
        ) : (
          <table className={tableStyles.table} aria-label="Timeline">
            <thead className={tableStyles.head}>
              <tr>
                <th className={tableStyles.cell}>Step</th>
                <th className={tableStyles.cell}>Status</th>
                <th className={tableStyles.cell}>Started</th>
                <th className={`${tableStyles.cell} text-right`}>Took</th>
              </tr>
            </thead>
            <tbody>
              {[...r.timeline]
                .sort((a, b) => a.position - b.position)
                .map((s) => (
                  <tr key={s.position} className={tableStyles.row} data-step={s.kind} data-status={s.status}>
                    <td className={tableStyles.cell}>
                      {s.description}
                      {s.error && <span className="block text-xs text-red-700 dark:text-red-400">{s.error}</span>}
                    </td>
                    <td className={tableStyles.cell}>
                      <Badge tone={s.status === 'succeeded' ? 'green' : s.status === 'failed' ? 'red' : 'slate'}>
                        {s.status}
                      </Badge>
                    </td>
                    <td className={`${tableStyles.cell} whitespace-nowrap text-slate-500 dark:text-slate-400`}>
                      {formatTime(s.startedAt)}
                    </td>
                    <td className={`${tableStyles.cell} whitespace-nowrap text-right text-slate-500 dark:text-slate-400`}>
                      {formatDuration(s.durationMs)}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card>
        <h2 className="mb-2 text-lg font-semibold">Pair settings at the time of the test</h2>
        <SettingsList settings={r.settings} />
        <p className="mt-3 font-mono text-xs text-slate-500 dark:text-slate-400">Operation {r.operationId}</p>
      </Card>
    </div>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="font-medium text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="break-words">{children}</dd>
    </>
  );
}

function SettingsList({ settings }: { settings: Record<string, unknown> }) {
  const rows = settingsRows(settings);
  if (rows.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">No settings were recorded.</p>;
  return (
    <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[16rem_1fr]" aria-label="Settings">
      {rows.map((row) => (
        <Row key={row.key} label={row.key}>
          {row.value.includes('\n') ? (
            <pre className="whitespace-pre-wrap break-all font-mono text-xs">{row.value}</pre>
          ) : (
            row.value
          )}
        </Row>
      ))}
    </dl>
  );
}
