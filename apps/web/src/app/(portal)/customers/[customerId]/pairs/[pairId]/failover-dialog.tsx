'use client';

// The Failover dialog: graceful or immediate, the dry run's diff, confirm by name, then the
// live timeline. A failover, once started, runs to its end.
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { settingsHelp } from '@tandem/engine';
import { useTRPC } from '@/trpc/client';
import { RunbookDialog } from './runbook-dialog';

type Mode = 'graceful' | 'immediate';

export function FailoverDialog({
  pairId,
  pairName,
  sourceHostname,
  targetHostname,
  defaultMode,
  onClose,
  onStarted,
  live,
}: {
  pairId: string;
  pairName: string;
  sourceHostname: string;
  targetHostname: string;
  defaultMode: Mode;
  onClose: () => void;
  onStarted: () => void;
  live: boolean;
}) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<Mode>(defaultMode);
  const preview = useMutation(trpc.pair.failover.preview.mutationOptions());
  const start = useMutation(trpc.pair.failover.start.mutationOptions({ onSuccess: onStarted }));
  const { mutate: runPreview } = preview;
  // A new dry run for each mode: graceful adds stopping the source and draining the queue.
  useEffect(() => {
    runPreview({ pairId, mode });
  }, [runPreview, pairId, mode]);
  const name = 'failover-mode';
  return (
    <RunbookDialog
      title={`Fail over ${pairName}`}
      pairName={pairName}
      action="Start failover"
      live={live}
      intro={
        <p>
          {targetHostname} takes over from {sourceHostname}. Every change is listed below in the order it will be made. Once
          started, a failover cannot be cancelled: a failure before the point of no return undoes what ran, after it the
          failover finishes and says what to do.
        </p>
      }
      options={(planning) => (
        <fieldset aria-describedby={`${name}-help`}>
          <legend className="mb-1 text-sm font-medium">Failover mode</legend>
          <div className="flex flex-wrap gap-3 text-sm">
            {(['graceful', 'immediate'] as const).map((m) => (
              <label key={m} className="flex items-center gap-2">
                <input
                  type="radio"
                  name={name}
                  value={m}
                  checked={mode === m}
                  onChange={() => setMode(m)}
                  className="accent-sky-700"
                  disabled={start.isPending || planning}
                />
                {m === 'graceful' ? 'Graceful' : 'Immediate'}
                {m === defaultMode && <span className="text-xs text-slate-500 dark:text-slate-400">(the pair’s default)</span>}
              </label>
            ))}
          </div>
          <p id={`${name}-help`} className="mt-1 text-xs text-slate-500 dark:text-slate-400">
            {settingsHelp.failoverMode}
          </p>
        </fieldset>
      )}
      previewId={preview.data?.operationId ?? null}
      previewError={preview.error}
      previewPending={preview.isPending}
      startedId={start.data?.operationId ?? null}
      startError={start.error}
      startPending={start.isPending}
      onStart={(confirmName) => start.mutate({ pairId, mode, confirmName })}
      onClose={onClose}
    />
  );
}
