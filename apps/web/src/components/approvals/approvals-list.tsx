'use client';

// Pending failover approvals first (with their deadlines), then recent decisions. Customer users
// see their company's; MSP staff see every customer's of their organization.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { Badge, Card, ErrorBanner, PageHeader, tableStyles } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { Countdown } from './approval-view';

const tone = { pending: 'amber', approved: 'green', rejected: 'red', expired: 'slate' } as const;

export function ApprovalsView() {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.approval.list.queryOptions(), refetchInterval: 10_000 });
  return (
    <>
      <PageHeader title="Approvals" description="Failovers waiting for a decision, and recent decisions." />
      {q.error && <ErrorBanner message={describeError(q.error).message} />}
      <Card>
        {q.data?.length === 0 && <p className="text-sm text-slate-500">No approval requests.</p>}
        {q.data && q.data.length > 0 && (
          <div className="overflow-x-auto">
            <table className={tableStyles.table} data-testid="approvals-table">
              <thead className={tableStyles.head}>
                <tr>
                  <th className={tableStyles.cell}>Pair</th>
                  <th className={tableStyles.cell}>Customer</th>
                  <th className={tableStyles.cell}>State</th>
                  <th className={tableStyles.cell}>Deadline</th>
                  <th className={tableStyles.cell}>Policy</th>
                </tr>
              </thead>
              <tbody>
                {q.data.map((a) => (
                  <tr key={a.id} className={tableStyles.row}>
                    <td className={tableStyles.cell}>
                      <Link href={`/approvals/${a.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                        {a.pairName ?? 'Failover'}
                      </Link>
                      {a.canVote && (
                        <span className="ml-2">
                          <Badge tone="sky">your answer is needed</Badge>
                        </span>
                      )}
                    </td>
                    <td className={tableStyles.cell}>{a.customerName}</td>
                    <td className={tableStyles.cell}>
                      <Badge tone={tone[a.decision]}>{a.decision === 'expired' ? 'closed' : a.decision}</Badge>
                      {a.decision === 'pending' && a.requiredApprovals > 1 && (
                        <span className="ml-1 text-xs text-slate-500">
                          {a.approvals} of {a.requiredApprovals}
                        </span>
                      )}
                    </td>
                    <td className={tableStyles.cell}>{a.decision === 'pending' ? <Countdown deadlineAt={a.deadlineAt} /> : a.decidedAt ? `decided ${timeAgo(a.decidedAt)}` : '—'}</td>
                    <td className={`${tableStyles.cell} text-xs`}>{a.policyStatement}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
