'use client';

// Drills on the dashboard: how many scheduled drills are overdue, which, and which protected
// pairs were never tested or failed their last test. Hidden when there is nothing to say.
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { Badge, Card, ErrorBanner, tableStyles as t } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { DrillStatusBadge } from '../drills/drills-view';

export function DrillsPanel() {
  const trpc = useTRPC();
  const drills = useQuery({ ...trpc.dashboard.drills.queryOptions(), refetchInterval: 60_000 });
  if (drills.error) return <ErrorBanner message={`Could not load drills: ${describeError(drills.error).message}`} />;
  const d = drills.data;
  if (!d || (d.schedules.length === 0 && d.pairs.length === 0)) return null;
  return (
    <Card className="mb-4">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Test failovers</h2>
        <Link href="/drills" className="text-sm text-sky-700 hover:underline dark:text-sky-400">
          All drills
        </Link>
      </div>
      <p className="mb-3 text-sm" data-testid="drills-summary">
        <span className={d.overdue > 0 ? 'font-semibold text-red-700 dark:text-red-400' : ''} data-testid="drills-overdue">
          {d.overdue} overdue {d.overdue === 1 ? 'drill' : 'drills'}
        </span>
        {d.due > 0 && `, ${d.due} due now`} · {d.untested} protected {d.untested === 1 ? 'pair' : 'pairs'} never tested ·{' '}
        {d.failedLast} whose last test failed
      </p>
      <div className="grid gap-4 lg:grid-cols-2">
        {d.schedules.length > 0 && (
          <table className={t.table} aria-label="Drills overdue or due">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Drill</th>
                <th className={t.cell}>State</th>
              </tr>
            </thead>
            <tbody>
              {d.schedules.map((s) => (
                <tr key={s.id} className={t.row} data-testid="dashboard-drill">
                  <td className={t.cell}>
                    {s.customerName}: {s.pairName ?? 'every protected pair'}
                  </td>
                  <td className={t.cell}>
                    <DrillStatusBadge d={s} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {d.pairs.length > 0 && (
          <table className={t.table} aria-label="Pairs without a passing last test">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Pair</th>
                <th className={t.cell}>Last test</th>
              </tr>
            </thead>
            <tbody>
              {d.pairs.map((p) => (
                <tr key={p.pairId} className={t.row} data-testid="dashboard-untested">
                  <td className={t.cell}>
                    <Link
                      href={`/customers/${p.customerId}/pairs/${p.pairId}`}
                      className="text-sky-700 hover:underline dark:text-sky-400"
                    >
                      {p.pairName}
                    </Link>{' '}
                    <span className="text-xs text-slate-500">({p.customerName})</span>
                  </td>
                  <td className={t.cell}>
                    {p.lastTest ? (
                      <>
                        <Badge tone="red">{p.lastTest.status}</Badge>{' '}
                        <span className="text-xs text-slate-500">{timeAgo(p.lastTest.at)}</span>
                      </>
                    ) : (
                      <Badge tone="amber">Never tested</Badge>
                    )}
                    {p.lastPassedAt && <div className="text-xs text-slate-500">Last passed {timeAgo(p.lastPassedAt)}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Card>
  );
}
