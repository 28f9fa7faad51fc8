'use client';

// The months a customer has a monthly report for, newest first, each with its page and PDF.
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { monthLabel } from '@tandem/reports/format';
import { Card, ErrorBanner, PageHeader, tableStyles } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function ReportListView({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const customer = useQuery(trpc.customer.get.queryOptions({ customerId }));
  const months = useQuery(trpc.report.months.queryOptions({ customerId }));
  const current = new Date().toISOString().slice(0, 7);
  return (
    <div className="space-y-4">
      <PageHeader
        title="Monthly reports"
        description={customer.data?.name}
        actions={
          <Link href={`/customers/${customerId}`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            ← Back to the customer
          </Link>
        }
      />
      {months.isError && <ErrorBanner message={describeError(months.error).message} />}
      <Card>
        {months.isPending ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">Loading…</p>
        ) : months.data && months.data.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">No reports yet: the first one covers the month the first protection pair was added.</p>
        ) : (
          <table className={tableStyles.table} aria-label="Monthly reports">
            <thead className={tableStyles.head}>
              <tr>
                <th className={tableStyles.cell}>Month</th>
                <th className={tableStyles.cell}>Download</th>
              </tr>
            </thead>
            <tbody>
              {months.data?.map((m) => (
                <tr key={m} className={tableStyles.row} data-month={m}>
                  <td className={tableStyles.cell}>
                    <Link href={`/customers/${customerId}/reports/${m}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                      {monthLabel(m)}
                    </Link>
                    {m === current && <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">(so far)</span>}
                  </td>
                  <td className={tableStyles.cell}>
                    <a href={`/api/reports/monthly/${customerId}/${m}`} download className="text-sky-700 hover:underline dark:text-sky-400">
                      PDF
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
