'use client';

// What failover and failback dialogs share: the dry run of the chosen options (re-run whenever
// they change) and its diff, confirmation by typing the pair's name, then the live timeline of
// the started operation.
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Button, ErrorBanner, Input } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { Modal } from './modal';
import { ChangeList, OperationTimeline, type ChangeView } from './operation-timeline';
import { activeOperationStatuses } from './pair-activity';

export function RunbookDialog({
  title,
  pairName,
  action,
  options,
  intro,
  previewId,
  previewError,
  previewPending,
  startedId,
  startError,
  startPending,
  onStart,
  onClose,
  live,
}: {
  title: string;
  pairName: string;
  /** "Start failover" / "Start failback". */
  action: string;
  /** The option fields (mode, restore first…); changing them re-runs the dry run, so they wait while one is planned. */
  options: (planning: boolean) => ReactNode;
  intro: ReactNode;
  previewId: string | null;
  previewError: unknown;
  previewPending: boolean;
  startedId: string | null;
  startError: unknown;
  startPending: boolean;
  onStart: (confirmName: string) => void;
  onClose: () => void;
  live: boolean;
}) {
  const trpc = useTRPC();
  const [confirm, setConfirm] = useState('');
  const preview = useQuery({
    ...trpc.pair.operation.queryOptions({ operationId: previewId ?? '' }),
    enabled: !!previewId,
    // The worker plans a dry run in a moment; the live stream usually says when (then this is a fallback).
    refetchInterval: (q) => (q.state.data && !activeOperationStatuses.includes(q.state.data.status) ? false : live ? 5_000 : 3_000),
  });
  // Start waits until the diff is on screen (or the dry run was refused: the server then decides).
  const planning = !previewError && !preview.error && (previewPending || !previewId || !preview.data || activeOperationStatuses.includes(preview.data.status));
  const [mismatch, setMismatch] = useState(false);
  const confirmId = `confirm-${action.replaceAll(' ', '-').toLowerCase()}`;
  return (
    <Modal title={title} onClose={onClose}>
      {startedId ? (
        <div className="space-y-3">
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Started. It runs to its end whether or not this window stays open; the pair page shows it too.
          </p>
          <OperationTimeline operationId={startedId} live={live} showChanges />
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
            // Checked here for a quick answer; the server checks the name again.
            if (confirm.trim() !== pairName) {
              setMismatch(true);
              return;
            }
            setMismatch(false);
            onStart(confirm.trim());
          }}
        >
          <div className="text-sm">{intro}</div>
          {options(planning)}
          <section aria-label="Dry run" className="rounded-md border border-slate-200 p-3 dark:border-slate-800">
            <h3 className="mb-2 text-sm font-semibold">What will change (dry run)</h3>
            <Preview planning={planning} error={previewError ?? preview.error} op={preview.data} />
          </section>
          <div className="space-y-1">
            <label htmlFor={confirmId} className="block text-sm font-medium">
              Type the pair’s name to confirm
            </label>
            <p className="text-xs text-slate-500 dark:text-slate-400">
              Type <span className="font-mono font-semibold text-slate-800 dark:text-slate-200">{pairName}</span> exactly.
            </p>
            <Input
              id={confirmId}
              autoComplete="off"
              value={confirm}
              onChange={(e) => {
                setConfirm(e.target.value);
                setMismatch(false);
              }}
              aria-invalid={mismatch}
              aria-describedby={mismatch ? `${confirmId}-error` : undefined}
            />
            {mismatch && (
              <p id={`${confirmId}-error`} role="alert" className="text-xs text-red-700 dark:text-red-400">
                The name does not match: nothing was started. Type {pairName} exactly.
              </p>
            )}
          </div>
          <ErrorBanner message={startError ? describeError(startError).message : null} />
          <div className="flex justify-end gap-2">
            <Button type="button" variant="ghost" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={startPending || planning}>
              {startPending ? 'Starting…' : planning ? 'Waiting for the dry run…' : action}
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

/** The dry run's diff once the worker has planned it. */
function Preview({
  planning,
  error,
  op,
}: {
  planning: boolean;
  error: unknown;
  op: { status: string; error: string | null; changes: ChangeView[] | null } | undefined;
}) {
  if (error) return <ErrorBanner message={`The dry run was refused: ${describeError(error).message}`} />;
  if (planning || !op) {
    return (
      <p className="text-sm text-slate-500" role="status">
        Planning: reading both servers and the current DNS answers…
      </p>
    );
  }
  if (op.status === 'failed') return <ErrorBanner message={`The dry run failed: ${op.error ?? 'no reason given'}`} />;
  return <ChangeList changes={op.changes ?? []} />;
}
