'use client';

// One approval request, for MSP staff and customer users alike: the pair, what detection saw,
// what the failover would change (the same plan the run will execute), the policy in words, the
// time left, the answers so far, and Approve / Reject for those who may answer.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState, type FormEvent } from 'react';
import { ChangeList } from '@/app/(portal)/customers/[customerId]/pairs/[pairId]/operation-timeline';
import { Badge, Button, Card, ErrorBanner, Field, PageHeader, Textarea } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';

const decisionTone = { pending: 'amber', approved: 'green', rejected: 'red', expired: 'slate' } as const;
const decisionLabel = { pending: 'Waiting for approval', approved: 'Approved', rejected: 'Rejected', expired: 'Closed without approval' } as const;

/** "12 min 03 s left" (or "deadline passed"), ticking. */
export function Countdown({ deadlineAt }: { deadlineAt: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  const left = Math.max(0, Math.floor((new Date(deadlineAt).getTime() - now) / 1000));
  if (left === 0) return <span className="font-medium text-red-700 dark:text-red-400">deadline passed</span>;
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, '0');
  return (
    <span className="font-medium tabular-nums" role="timer" aria-label="Time left">
      {m} min {s} s left
    </span>
  );
}

export function ApprovalView({ approvalId }: { approvalId: string }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.approval.get.queryOptions({ approvalId }), refetchInterval: 5000 });
  if (q.error) return <ErrorBanner message={describeError(q.error).message} />;
  if (!q.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const a = q.data;
  const pairHref = a.pair ? `/customers/${a.customerId}/pairs/${a.pair.id}` : null;
  return (
    <>
      <PageHeader
        title={`Failover of ${a.pair?.name ?? 'a pair'}`}
        description={`${a.customerName}${a.pair ? ` · ${a.pair.source} → ${a.pair.target}` : ''}`}
        actions={<Badge tone={decisionTone[a.decision]}>{decisionLabel[a.decision]}</Badge>}
      />
      <Card className="mb-4">
        <h2 className="mb-1 text-lg font-semibold">What happened</h2>
        {a.happened ? (
          <p className="text-sm" data-testid="approval-happened">
            {a.happened.message} <span className="text-slate-500">({timeAgo(a.happened.at)})</span>
          </p>
        ) : (
          <p className="text-sm text-slate-500">The source was reported lost.</p>
        )}
        <p className="mt-2 text-sm">
          Requested {timeAgo(a.createdAt)}
          {a.operation.mode ? `, ${a.operation.mode} failover` : ''}. Deadline {new Date(a.deadlineAt).toLocaleString()}
          {a.decision === 'pending' && (
            <>
              {' '}
              (<Countdown deadlineAt={a.deadlineAt} />)
            </>
          )}
          .{pairHref && (
            <>
              {' '}
              <Link href={pairHref} className="text-sky-700 hover:underline dark:text-sky-400">
                Open the pair
              </Link>
            </>
          )}
        </p>
        <p className="mt-2 text-sm text-slate-700 dark:text-slate-300" data-testid="approval-policy-statement">
          {a.policyStatement}
        </p>
      </Card>
      <Card className="mb-4">
        <h2 className="mb-1 text-lg font-semibold">What the failover will change</h2>
        {a.operation.changes ? (
          <ChangeList changes={a.operation.changes} />
        ) : a.operation.note ? (
          <ErrorBanner message={a.operation.note} />
        ) : (
          <p className="text-sm text-slate-500" role="status">
            Planning: reading both servers and the current DNS answers…
          </p>
        )}
      </Card>
      <Card className="mb-4">
        <h2 className="mb-1 text-lg font-semibold">
          Answers ({a.approvals} of {a.requiredApprovals} approval{a.requiredApprovals === 1 ? '' : 's'})
        </h2>
        {a.votes.length === 0 ? (
          <p className="text-sm text-slate-500">Nobody has answered yet.</p>
        ) : (
          <ul className="space-y-1 text-sm" data-testid="approval-votes">
            {a.votes.map((v, i) => (
              <li key={i}>
                <Badge tone={v.decision === 'approved' ? 'green' : 'red'}>{v.decision}</Badge> {v.who} ({v.side === 'msp' ? 'MSP' : 'customer'}), {timeAgo(v.at)}
                {v.comment ? `: “${v.comment}”` : ''}
              </li>
            ))}
          </ul>
        )}
        {a.decision !== 'pending' && a.comment && <p className="mt-2 text-sm">{a.comment}</p>}
        {a.decision === 'approved' && pairHref && (
          <p className="mt-2 text-sm">
            The failover runs now:{' '}
            <Link href={pairHref} className="text-sky-700 hover:underline dark:text-sky-400">
              follow it on the pair page
            </Link>
            .
          </p>
        )}
      </Card>
      {a.canVote ? <Decide approvalId={a.id} /> : a.decision === 'pending' && a.cannotVoteReason && <p className="text-sm text-slate-600 dark:text-slate-400">{a.cannotVoteReason}.</p>}
    </>
  );
}

function Decide({ approvalId }: { approvalId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [comment, setComment] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const decide = useMutation(
    trpc.approval.decide.mutationOptions({
      onSuccess: async (r) => {
        setResult(
          r.decision === 'approved'
            ? 'Approved: the failover starts now.'
            : r.decision === 'rejected'
              ? 'Rejected: the failover does not run; the pair stays pending.'
              : `Your approval is recorded (${r.approvals} of ${r.needed}); a second person must approve.`,
        );
        await qc.invalidateQueries({ queryKey: trpc.approval.pathKey() });
      },
    }),
  );
  const err = decide.error ? describeError(decide.error) : null;
  const send = (decision: 'approved' | 'rejected') => (e?: FormEvent) => {
    e?.preventDefault();
    decide.mutate({ approvalId, decision, comment: comment.trim() || undefined });
  };
  return (
    <Card>
      <form onSubmit={send('approved')} aria-label="Answer the request" className="space-y-3">
        <Field id="approval-comment" label="Comment" help="Optional when approving; required to reject (say why)." error={err?.fields.comment}>
          <Textarea id="approval-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} aria-invalid={!!err?.fields.comment} />
        </Field>
        <ErrorBanner message={err && !err.fields.comment ? err.message : null} />
        {result && (
          <p role="status" className="text-sm font-medium">
            {result}
          </p>
        )}
        <div className="flex gap-2">
          <Button type="submit" disabled={decide.isPending}>
            Approve failover
          </Button>
          <Button type="button" variant="danger" disabled={decide.isPending} onClick={() => send('rejected')()}>
            Reject
          </Button>
        </div>
      </form>
    </Card>
  );
}
