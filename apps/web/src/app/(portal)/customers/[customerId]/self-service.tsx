'use client';

// The top of a customer user's home (their own customer page): a "Decision needed" banner while a
// failover waits for their company's answer, the places that are theirs (approvals, test reports,
// audit trail, monthly reports) and their latest test failovers with the evidence reports.
import { useQueries, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { CustomerRole } from '@tandem/engine';
import { Badge, Card, tableStyles as t } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { useTRPC } from '@/trpc/client';

const link = 'text-sky-700 hover:underline dark:text-sky-400';

export function CustomerSelfService({ customerId, role }: { customerId: string; role: CustomerRole }) {
  return (
    <>
      <DecisionNeeded customerId={customerId} />
      <Card className="mb-4">
        <h2 className="mb-2 text-lg font-semibold">Your service</h2>
        <ul className="grid gap-2 text-sm sm:grid-cols-2" aria-label="Your service">
          <li>
            <Link href="/approvals" className={link}>
              Approvals
            </Link>{' '}
            <span className="text-slate-500 dark:text-slate-400">
              {role === 'approver' ? '(failovers waiting for your decision, and past decisions)' : '(failover decisions; approvers of your company answer them)'}
            </span>
          </li>
          <li>
            <Link href={`/customers/${customerId}/reports`} className={link}>
              Monthly reports
            </Link>{' '}
            <span className="text-slate-500 dark:text-slate-400">(HTML and PDF)</span>
          </li>
          <li>
            <Link href="/audit" className={link}>
              Audit trail
            </Link>{' '}
            <span className="text-slate-500 dark:text-slate-400">(everything done for your company)</span>
          </li>
          <li>
            <a href="#test-reports" className={link}>
              Test failover reports
            </a>{' '}
            <span className="text-slate-500 dark:text-slate-400">
              {role === 'approver' ? '(you can request a test from a pair’s page)' : '(below)'}
            </span>
          </li>
        </ul>
      </Card>
    </>
  );
}

/** Shown while at least one failover of this customer waits for an answer. */
function DecisionNeeded({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.approval.list.queryOptions({ customerId, limit: 1 }), refetchInterval: 10_000 });
  const pending = (q.data ?? []).filter((a) => a.decision === 'pending');
  if (pending.length === 0) return null;
  return (
    <div
      role="alert"
      data-testid="decision-needed"
      className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
    >
      <p className="font-semibold">Decision needed</p>
      <ul className="mt-1 space-y-1">
        {pending.map((a) => (
          <li key={a.id}>
            The failover of {a.pairName ?? 'a pair'} waits for approval (deadline {new Date(a.deadlineAt).toLocaleString()}).{' '}
            <Link href={`/approvals/${a.id}`} className="font-medium underline">
              {a.canVote ? 'Review and decide' : 'Open the request'}
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The latest test failovers of every pair of the customer, with their evidence reports (page and PDF). */
export function CustomerTestReports({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const pairs = useQuery(trpc.pair.list.queryOptions({ customerId }));
  const tests = useQueries({
    queries: (pairs.data ?? []).map((p) => ({ ...trpc.pair.tests.queryOptions({ pairId: p.id, limit: 5 }), refetchInterval: 30_000 })),
  });
  const rows = (pairs.data ?? [])
    .flatMap((p, i) => (tests[i]?.data?.tests ?? []).map((test) => ({ pair: p, test })))
    .sort((a, b) => b.test.createdAt.localeCompare(a.test.createdAt));
  return (
    <Card className="mb-4">
      <h2 id="test-reports" className="mb-2 text-lg font-semibold">
        Test failover reports
      </h2>
      {rows.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">No test failover has run yet.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className={t.table} data-testid="customer-test-reports">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Pair</th>
                <th className={t.cell}>When</th>
                <th className={t.cell}>Result</th>
                <th className={t.cell}>Started by</th>
                <th className={t.cell}>Report</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ pair, test }) => (
                <tr key={test.id} className={t.row}>
                  <td className={t.cell}>{pair.name}</td>
                  <td className={t.cell} title={test.createdAt}>
                    {timeAgo(test.createdAt)}
                  </td>
                  <td className={t.cell}>
                    {test.result ? <Badge tone={test.result === 'passed' ? 'green' : 'red'}>{test.result}</Badge> : <Badge>{test.status}</Badge>}
                  </td>
                  <td className={t.cell}>{test.startedBy}</td>
                  <td className={t.cell}>
                    {test.hasReport ? (
                      <span className="flex gap-3">
                        <Link href={`/customers/${customerId}/pairs/${pair.id}/tests/${test.id}`} className={link}>
                          Open
                        </Link>
                        <a href={`/api/reports/test/${test.id}`} className={link}>
                          PDF
                        </a>
                      </span>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
