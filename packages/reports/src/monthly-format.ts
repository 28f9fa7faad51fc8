// Wording of the monthly report, shared by the PDF and the portal's HTML page (pure, no PDF code).
import type { MonthlyReport, ReportRun } from '@tandem/engine';
import { formatDuration } from './format.ts';

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2026-11" → "November 2026". */
export function monthLabel(month: string): string {
  return `${monthNames[Number(month.slice(5, 7)) - 1] ?? month} ${month.slice(0, 4)}`;
}

export const formatPercent = (p: number | null) => (p === null ? '—' : `${p.toFixed(1)}%`);

/** A number of seconds as a person reads it ("—" when nothing was measured). */
export const formatSeconds = (s: number | null) => (s === null ? '—' : s < 1 && s > 0 ? 'under 1 s' : formatDuration(s * 1000));

export const runKindLabel: Record<ReportRun['kind'], string> = {
  failover: 'Failover',
  failback: 'Failback',
  test_failover: 'Test failover',
};

export function runOutcomeLabel(r: Pick<ReportRun, 'kind' | 'outcome'>): string {
  if (r.kind === 'test_failover' && r.outcome === 'succeeded') return 'Passed';
  if (r.kind === 'test_failover' && r.outcome === 'failed') return 'Failed';
  return { succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled', running: 'Running', waiting: 'Waiting' }[r.outcome];
}

export const findingsText = (f: { error: number; warning: number; info: number }) =>
  f.error + f.warning + f.info === 0 ? 'none' : `${f.error} error${f.error === 1 ? '' : 's'}, ${f.warning} warning${f.warning === 1 ? '' : 's'}`;

/** The lag line of a pair: typical and worst against the RPO. */
export function lagText(lag: MonthlyReport['pairs'][number]['lag']): string {
  if (lag.samples === 0) return 'no samples';
  return `p50 ${formatSeconds(lag.p50)}, p95 ${formatSeconds(lag.p95)}, max ${formatSeconds(lag.max)}`;
}

/** A sane download name: letters, digits, dots and dashes only. */
export function monthlyReportFileName(r: Pick<MonthlyReport, 'customer' | 'month'>): string {
  const name = r.customer.name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  return `monthly-report-${name || 'customer'}-${r.month}.pdf`;
}
