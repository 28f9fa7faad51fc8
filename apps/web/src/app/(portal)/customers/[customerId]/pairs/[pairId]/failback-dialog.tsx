'use client';

// The Failback dialog: restore first and re-protect when done, the dry run's diff, confirm by
// name, then the live timeline.
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTRPC } from '@/trpc/client';
import { RunbookDialog } from './runbook-dialog';

export function FailbackDialog({
  pairId,
  pairName,
  sourceHostname,
  targetHostname,
  onClose,
  onStarted,
  live,
}: {
  pairId: string;
  pairName: string;
  sourceHostname: string;
  targetHostname: string;
  onClose: () => void;
  onStarted: () => void;
  live: boolean;
}) {
  const trpc = useTRPC();
  const [restoreFirst, setRestoreFirst] = useState(true);
  const [reprotect, setReprotect] = useState(true);
  const preview = useMutation(trpc.pair.failback.preview.mutationOptions());
  const start = useMutation(trpc.pair.failback.start.mutationOptions({ onSuccess: onStarted }));
  const { mutate: runPreview } = preview;
  useEffect(() => {
    runPreview({ pairId, restoreFirst, reprotect });
  }, [runPreview, pairId, restoreFirst, reprotect]);
  const option = (id: string, label: string, help: string, checked: boolean, set: (v: boolean) => void, planning: boolean) => (
    <div className="flex items-start gap-2">
      <input
        id={id}
        type="checkbox"
        className="mt-0.5 h-4 w-4 accent-sky-700"
        checked={checked}
        onChange={(e) => set(e.target.checked)}
        aria-describedby={`${id}-help`}
        disabled={start.isPending || planning}
      />
      <span>
        <label htmlFor={id} className="text-sm font-medium">
          {label}
        </label>
        <span id={`${id}-help`} className="block text-xs text-slate-500 dark:text-slate-400">
          {help}
        </span>
      </span>
    </div>
  );
  return (
    <RunbookDialog
      title={`Fail back ${pairName}`}
      pairName={pairName}
      action="Start failback"
      live={live}
      intro={
        <p>
          {sourceHostname} takes its role back from {targetHostname}: the target’s services stop, DNS records and addresses return
          to exactly what they were before the failover, and the source’s services start.
        </p>
      }
      options={(planning) => (
        <div className="space-y-2" role="group" aria-label="Failback options">
          {option(
            'failback-restore-first',
            'Restore first',
            `Copy what changed on ${targetHostname} while it served back to ${sourceHostname} before switching (only differing blocks travel). Off: anything written on the target during the failover stays there only.`,
            restoreFirst,
            setRestoreFirst,
            planning,
          )}
          {option(
            'failback-reprotect',
            'Re-protect when done',
            `Enable replication ${sourceHostname} → ${targetHostname} again afterwards, with a checksum mirror. Off: the pair ends unprotected.`,
            reprotect,
            setReprotect,
            planning,
          )}
        </div>
      )}
      previewId={preview.data?.operationId ?? null}
      previewError={preview.error}
      previewPending={preview.isPending}
      startedId={start.data?.operationId ?? null}
      startError={start.error}
      startPending={start.isPending}
      onStart={(confirmName) => start.mutate({ pairId, restoreFirst, reprotect, confirmName })}
      onClose={onClose}
    />
  );
}
