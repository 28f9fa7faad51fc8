'use client';

// The pair's test failovers: when a test last passed, and each test with its result, who started
// it, its timeline on demand and a link to its evidence report. Refetched whenever the pair's
// operations move (the page follows those live).
import Link from 'next/link';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Badge, Card } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { useTRPC } from '@/trpc/client';
import { OperationTimeline } from './operation-timeline';
import { activeOperationStatuses, type OperationView } from './pair-activity';
import { testReportHref } from './test-failover-dialog';

type TestView = {
  id: string;
  status: string;
  result: 'passed' | 'failed' | null;
  probes: { passed: number; total: number } | null;
  cleanedUp: boolean | null;
  hasReport: boolean;
  error: string | null;
  startedBy: string;
  drill: boolean;
  createdAt: string;
  finishedAt: string | null;
};

function outcome(t: TestView): { tone: 'green' | 'red' | 'sky' | 'slate'; text: string } {
  if (t.result === 'passed') return { tone: 'green', text: 'Passed' };
  if (t.result === 'failed' || t.status === 'failed') return { tone: 'red', text: 'Failed' };
  if (t.status === 'running') return { tone: 'sky', text: 'Running' };
  if (t.status === 'pending') return { tone: 'slate', text: 'Queued' };
  if (t.status === 'succeeded') return { tone: 'green', text: 'Passed' };
  return { tone: 'slate', text: t.status.replace(/_/g, ' ') };
}

export function TestsCard({
  customerId,
  pairId,
  operations,
  live,
}: {
  customerId: string;
  pairId: string;
  operations: OperationView[] | undefined;
  live: boolean;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const tests = useQuery(trpc.pair.tests.queryOptions({ pairId }));
  // A test's status changes arrive as operation notices: read the list again when they do.
  const signature = (operations ?? [])
    .filter((o) => o.kind === 'test_failover' && !o.dryRun)
    .map((o) => `${o.id}:${o.status}`)
    .join(',');
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: trpc.pair.tests.queryKey({ pairId }) });
  }, [signature, qc, trpc, pairId]);
  const data = tests.data;
  return (
    <Card className="mb-4">
      <section aria-label="Tests">
        <h2 className="mb-1 text-lg font-semibold">Tests</h2>
        <p className="mb-3 text-sm" data-testid="last-test-passed">
          {!data ? (
            'Loading…'
          ) : data.lastTestSucceededAt ? (
            <>
              Last successful test:{' '}
              <span className="font-medium" title={new Date(data.lastTestSucceededAt).toLocaleString()}>
                {new Date(data.lastTestSucceededAt).toLocaleDateString()} ({timeAgo(data.lastTestSucceededAt)})
              </span>
            </>
          ) : (
            'No test failover has passed yet.'
          )}
        </p>
        {data && data.tests.length === 0 && (
          <p className="text-sm text-slate-500 dark:text-slate-400">
            No test failovers yet. A test proves the target could take over, without touching production.
          </p>
        )}
        {data && data.tests.length > 0 && (
          <ul className="space-y-2">
            {data.tests.map((t, i) => (
              <TestRow
                key={t.id}
                test={t}
                customerId={customerId}
                pairId={pairId}
                live={live}
                open={i === 0 && activeOperationStatuses.includes(t.status)}
              />
            ))}
          </ul>
        )}
      </section>
    </Card>
  );
}

function TestRow({
  test: t,
  customerId,
  pairId,
  live,
  open,
}: {
  test: TestView;
  customerId: string;
  pairId: string;
  live: boolean;
  open: boolean;
}) {
  const [shown, setShown] = useState(open);
  const o = outcome(t);
  const ended = !activeOperationStatuses.includes(t.status);
  return (
    <li
      className="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-800"
      data-test-operation={t.id}
      data-operation-status={t.status}
    >
      <details open={shown} onToggle={(e) => setShown((e.target as HTMLDetailsElement).open)}>
        <summary className="cursor-pointer">
          <span className="inline-flex flex-wrap items-center gap-2">
            <span className="font-medium">{t.drill ? 'Scheduled drill' : 'Test failover'}</span>
            <Badge tone={o.tone}>{o.text}</Badge>
            {t.probes && (
              <span className="text-xs text-slate-600 dark:text-slate-400">
                {t.probes.passed} of {t.probes.total} probes passed
              </span>
            )}
            {t.cleanedUp === false && <Badge tone="amber">Copy not removed</Badge>}
            <span className="text-xs text-slate-500 dark:text-slate-400" title={new Date(t.createdAt).toLocaleString()}>
              {timeAgo(t.createdAt)} · started by {t.startedBy}
            </span>
            {ended && (
              <Link
                href={testReportHref(customerId, pairId, t.id)}
                className="text-xs font-medium text-sky-700 underline dark:text-sky-400"
              >
                Report
              </Link>
            )}
          </span>
          {t.error && <span className="block text-xs text-red-700 dark:text-red-400">{t.error}</span>}
        </summary>
        {shown && (
          <div className="mt-2">
            <OperationTimeline operationId={t.id} live={live} />
          </div>
        )}
      </details>
    </li>
  );
}
