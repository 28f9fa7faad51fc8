'use client';

// Open alerts (one per condition until it clears) and those resolved in the last day. With a
// customer: that customer's, readable by its own users too.
import { useQuery } from '@tanstack/react-query';
import { Badge, Card, ErrorBanner, tableStyles as t } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';

const severityTone = { info: 'sky', warning: 'amber', error: 'red' } as const;

export function OpenAlertsCard({ customerId }: { customerId?: string }) {
  const trpc = useTRPC();
  // Polled so a newly opened or resolved alert shows without a reload.
  const staffList = useQuery({ ...trpc.alert.open.list.queryOptions({}), enabled: !customerId, refetchInterval: 10_000 });
  const customerList = useQuery({ ...trpc.alert.open.listForCustomer.queryOptions({ customerId: customerId ?? '' }), enabled: !!customerId, refetchInterval: 10_000 });
  const list = customerId ? customerList : staffList;
  const open = list.data?.filter((a) => !a.resolvedAt).length ?? 0;
  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <h2 className="text-lg font-semibold">Open alerts</h2>
        {list.data && <Badge tone={open > 0 ? 'red' : 'green'}>{open} open</Badge>}
      </div>
      {list.error && <ErrorBanner message={describeError(list.error).message} />}
      {list.data?.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">Nothing open, and nothing resolved in the last day.</p>}
      {list.data && list.data.length > 0 && (
        <div className="overflow-x-auto">
          <table className={t.table} aria-label="Open alerts">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Severity</th>
                <th className={t.cell}>Alert</th>
                {!customerId && <th className={t.cell}>Customer</th>}
                <th className={t.cell}>Pair</th>
                <th className={t.cell}>Opened</th>
                <th className={t.cell}>State</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((a) => (
                <tr key={a.id} className={t.row}>
                  <td className={t.cell}>
                    <Badge tone={severityTone[a.severity]}>{a.severity}</Badge>
                  </td>
                  <td className={t.cell}>{a.message}</td>
                  {!customerId && <td className={t.cell}>{a.customerName ?? 'Organization'}</td>}
                  <td className={t.cell}>{a.pairName ?? '—'}</td>
                  <td className={t.cell}>
                    <span title={new Date(a.openedAt).toLocaleString()}>{timeAgo(a.openedAt)}</span>
                  </td>
                  <td className={t.cell}>{a.resolvedAt ? <Badge tone="green">Resolved {timeAgo(a.resolvedAt)}</Badge> : <Badge tone="red">Open</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
