'use client';

// Failover and failback history (dry runs left out): outcome, who started each, and its full
// timeline on demand. While failed over: what the failover lost and whether the old source is
// held stopped.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Badge, Card } from '@/components/ui';
import { duration } from '@/lib/format';
import { timeAgo } from '@/lib/time';
import { useTRPC } from '@/trpc/client';
import { OperationTimeline } from './operation-timeline';
import { activeOperationStatuses, type OperationView } from './pair-activity';

const tone = { succeeded: 'green', failed: 'red', running: 'sky', pending: 'slate' } as const;
const statusText: Record<string, string> = {
  pending: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  awaiting_approval: 'Awaiting approval',
};

export const runbookOps = (ops: OperationView[] | undefined) =>
  (ops ?? []).filter((o) => (o.kind === 'failover' || o.kind === 'failback') && !o.dryRun);

export function FailoverHistoryCard({ operations, live }: { operations: OperationView[] | undefined; live: boolean }) {
  const ops = runbookOps(operations);
  if (ops.length === 0) return null;
  return (
    <Card className="mb-4">
      <section aria-label="Failover history">
        <h2 className="mb-2 text-lg font-semibold">Failover history</h2>
        <ul className="space-y-2">
          {ops.map((o, i) => (
            <HistoryRow key={o.id} op={o} live={live} open={i === 0 && activeOperationStatuses.includes(o.status)} />
          ))}
        </ul>
      </section>
    </Card>
  );
}

function HistoryRow({ op, live, open }: { op: OperationView; live: boolean; open: boolean }) {
  const [shown, setShown] = useState(open);
  const label = op.kind === 'failover' ? 'Failover' : 'Failback';
  return (
    <li className="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-800" data-history={op.kind} data-operation-status={op.status}>
      <details open={shown} onToggle={(e) => setShown((e.target as HTMLDetailsElement).open)}>
        <summary className="cursor-pointer">
          <span className="inline-flex flex-wrap items-center gap-2">
            <span className="font-medium">{label}</span>
            <Badge tone={tone[op.status as keyof typeof tone] ?? 'slate'}>{statusText[op.status] ?? op.status}</Badge>
            <span className="text-xs text-slate-500 dark:text-slate-400" title={new Date(op.createdAt).toLocaleString()}>
              {timeAgo(op.createdAt)} · started by {op.requestedBy}
            </span>
          </span>
          {op.error && <span className="block text-xs text-red-700 dark:text-red-400">{op.error}</span>}
        </summary>
        {shown && (
          <div className="mt-2">
            <OperationTimeline operationId={op.id} live={live} showChanges />
          </div>
        )}
      </details>
    </li>
  );
}

/** Shown while failed over: the data the failover lost, and fencing of a returned source. */
export function FailedOverNotice({
  lastFailover,
  sourceHeldAt,
  sourceHostname,
}: {
  lastFailover: OperationView | undefined;
  sourceHeldAt: string | null;
  sourceHostname: string;
}) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.pair.operation.queryOptions({ operationId: lastFailover?.id ?? '' }), enabled: !!lastFailover });
  const lag = detail.data?.outcome?.lagAtCutoverSeconds;
  const mode = detail.data?.options.mode;
  return (
    <div
      role="status"
      data-testid="failed-over-notice"
      className="mt-3 space-y-1 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
    >
      <p data-testid="data-lost">
        <span className="font-medium">What was lost: </span>
        {!lastFailover || !detail.data
          ? 'unknown (no failover record found)'
          : lag === null || lag === undefined
            ? 'unknown: the lag at cut-over was not recorded'
            : lag === 0
              ? `nothing${mode === 'graceful' ? ' (graceful, queue drained)' : ''}`
              : `about ${duration(lag)} of changes that had not reached the target at cut-over`}
      </p>
      {sourceHeldAt && (
        <p data-testid="source-held">
          <span className="font-medium">Source returned, held stopped: </span>
          {sourceHostname}’s agent reconnected {timeAgo(sourceHeldAt)} and was told to keep the pair’s replication and services
          stopped, so it cannot serve as a second primary.
        </p>
      )}
    </div>
  );
}
