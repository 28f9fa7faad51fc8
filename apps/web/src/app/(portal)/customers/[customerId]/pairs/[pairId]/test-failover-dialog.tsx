'use client';

// The Test failover dialog: a dry run first (what the test will do, step by step), then Start,
// then the live timeline and, once it has ended, the link to its evidence report. Nothing in a
// test touches the source or replication, so no typed confirmation is asked for.
import Link from 'next/link';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Button, ErrorBanner } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { Modal } from './modal';
import { ChangeList, OperationTimeline } from './operation-timeline';
import { activeOperationStatuses } from './pair-activity';

export const testReportHref = (customerId: string, pairId: string, operationId: string) =>
  `/customers/${customerId}/pairs/${pairId}/tests/${operationId}`;

export function TestFailoverDialog({
  customerId,
  pairId,
  pairName,
  sourceHostname,
  targetHostname,
  onClose,
  onStarted,
  live,
}: {
  customerId: string;
  pairId: string;
  pairName: string;
  sourceHostname: string;
  targetHostname: string;
  onClose: () => void;
  onStarted: () => void;
  live: boolean;
}) {
  const trpc = useTRPC();
  const preview = useMutation(trpc.pair.testFailover.preview.mutationOptions());
  const start = useMutation(trpc.pair.testFailover.start.mutationOptions({ onSuccess: onStarted }));
  const { mutate: runPreview } = preview;
  useEffect(() => {
    runPreview({ pairId });
  }, [runPreview, pairId]);
  const previewId = preview.data?.operationId ?? null;
  const plan = useQuery({
    ...trpc.pair.operation.queryOptions({ operationId: previewId ?? '' }),
    enabled: !!previewId,
    // The worker plans a dry run in a moment; the live stream usually says when (then this is a fallback).
    refetchInterval: (q) =>
      q.state.data && !activeOperationStatuses.includes(q.state.data.status) ? false : live ? 5_000 : 3_000,
  });
  const startedId = start.data?.operationId ?? null;
  const run = useQuery({ ...trpc.pair.operation.queryOptions({ operationId: startedId ?? '' }), enabled: !!startedId });
  const planError = preview.error ?? plan.error;
  const planning = !planError && (preview.isPending || !plan.data || activeOperationStatuses.includes(plan.data.status));
  const planFailed = plan.data?.status === 'failed';
  const finished = run.data && !activeOperationStatuses.includes(run.data.status);

  return (
    <Modal title={`Test failover of ${pairName}`} onClose={onClose}>
      {startedId ? (
        <div className="space-y-3">
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Started. It runs to its end whether or not this window stays open; the Tests list on the pair page shows it too.
          </p>
          <OperationTimeline operationId={startedId} live={live} />
          {finished && (
            <p className="text-sm" data-testid="test-report-link">
              The test has ended.{' '}
              <Link
                href={testReportHref(customerId, pairId, startedId)}
                className="font-medium text-sky-700 underline dark:text-sky-400"
              >
                Open the evidence report
              </Link>
            </p>
          )}
          <div className="flex justify-end">
            <Button variant="secondary" onClick={onClose}>
              Close
            </Button>
          </div>
        </div>
      ) : (
        <form
          className="space-y-4"
          onSubmit={(e) => {
            e.preventDefault();
            start.mutate({ pairId });
          }}
        >
          <div className="space-y-2 text-sm" data-testid="test-failover-intro">
            <p>
              A test failover proves that {targetHostname} could take over, without taking production down. The source (
              {sourceHostname}) and replication are untouched: nothing is written to the source, and changes keep reaching{' '}
              {targetHostname} during the test.
            </p>
            <p>
              A copy of the replica on {targetHostname} is made for the test (for a database, a temporary copy of the standby),
              the probes run against that copy, and the copy is then removed, also when a probe fails.
            </p>
          </div>
          <section aria-label="Dry run" className="rounded-md border border-slate-200 p-3 dark:border-slate-800">
            <h3 className="mb-2 text-sm font-semibold">What the test will do (dry run)</h3>
            {planError ? (
              <ErrorBanner message={`The dry run was refused: ${describeError(planError).message}`} />
            ) : planning || !plan.data ? (
              <p className="text-sm text-slate-500" role="status">
                Planning: reading the pair’s settings and the target…
              </p>
            ) : planFailed ? (
              <ErrorBanner message={`The dry run failed: ${plan.data.error ?? 'no reason given'}`} />
            ) : plan.data.steps.length === 0 ? (
              // Only the diff was stored with the dry run: show that.
              <ChangeList changes={plan.data.changes ?? []} />
            ) : (
              <ol className="space-y-1 text-sm" aria-label="Planned steps" data-testid="test-plan">
                {plan.data.steps
                  .filter((s) => s.phase === 'run')
                  .map((s, i) => (
                    <li key={s.position} className="flex gap-2" data-step={s.kind}>
                      <span className="w-6 shrink-0 text-right text-xs tabular-nums text-slate-500">{i + 1}.</span>
                      <span>{s.description}</span>
                    </li>
                  ))}
              </ol>
            )}
          </section>
          <ErrorBanner message={start.error ? describeError(start.error).message : null} />
          <div className="flex justify-end gap-2">
            <Button type="button" variant="ghost" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" disabled={start.isPending || planning || planFailed || !!planError}>
              {start.isPending ? 'Starting…' : planning ? 'Waiting for the dry run…' : 'Start test failover'}
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}
