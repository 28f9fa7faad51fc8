'use client';

// Operator controls on the pair page: enable or disable protection, failure monitoring on/off,
// and the way into "Edit configuration" (only while the pair is not replicating).
import Link from 'next/link';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { isConfigurable, methodSupport, pairStatusInfo, transition, type PairStatus, type ReplicationMethod } from '@tandem/engine';
import { Button, Card, ErrorBanner } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';


const linkButton =
  'inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700';

export function ProtectionControls({
  pairId,
  customerId,
  status,
  monitoringStatus,
  replicationMethod,
  enabledAt,
  hasSettings,
  busy,
}: {
  pairId: string;
  customerId: string;
  status: string;
  monitoringStatus: string;
  replicationMethod: string;
  /** When protection was last enabled (null: never); from pair.settings. */
  enabledAt: string | null;
  /** False when the stored configuration is incomplete (enable would refuse). */
  hasSettings: boolean;
  /** An operation is queued or running on the pair. */
  busy: boolean;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [panel, setPanel] = useState<'none' | 'enable' | 'disable'>('none');
  const [withMonitoring, setWithMonitoring] = useState(true);
  const refresh = async () => {
    await qc.invalidateQueries({ queryKey: trpc.pair.pathKey() });
  };
  const enable = useMutation(trpc.pair.enable.mutationOptions({ onSuccess: async () => (setPanel('none'), await refresh()) }));
  const disable = useMutation(trpc.pair.disable.mutationOptions({ onSuccess: async () => (setPanel('none'), await refresh()) }));
  const monitoring = useMutation(trpc.pair.setMonitoring.mutationOptions({ onSuccess: refresh }));
  const error = enable.error ?? disable.error ?? monitoring.error;
  const toggle = (p: 'enable' | 'disable') => {
    enable.reset();
    disable.reset();
    monitoring.reset();
    setPanel(panel === p ? 'none' : p);
  };

  // The lifecycle decides which buttons a status offers; the server asks it again on each request.
  const canEnable = 'status' in transition(status as PairStatus, 'enable.requested');
  const canDisable = 'status' in transition(status as PairStatus, 'disable.requested');
  const unsupported = methodSupport[replicationMethod as ReplicationMethod] ?? null;
  const configurable = isConfigurable(status as PairStatus);
  const monitoringOn = monitoringStatus !== 'off';
  // The switch is an operation the worker runs; until it (or another operation) ends, the switch waits.
  const switching = monitoring.isPending || (busy && !!monitoring.data?.operationId);
  const statusLabel = pairStatusInfo[status as PairStatus]?.label.toLowerCase() ?? status;

  return (
    <Card className="mb-4">
      <div role="region" aria-label="Protection controls">
        <h2 className="mb-3 text-lg font-semibold">Protection</h2>
        <div className="flex flex-wrap items-center gap-2">
          {canEnable && (
            <Button
              onClick={() => toggle('enable')}
              disabled={busy || !!unsupported || !hasSettings}
              aria-expanded={panel === 'enable'}
            >
              Enable protection
            </Button>
          )}
          {canDisable && (
            <Button variant="secondary" onClick={() => toggle('disable')} disabled={busy} aria-expanded={panel === 'disable'}>
              Disable protection
            </Button>
          )}
          {configurable ? (
            <Link href={`/customers/${customerId}/pairs/${pairId}/edit`} className={linkButton}>
              Edit configuration
            </Link>
          ) : (
            <span className="text-sm text-slate-600 dark:text-slate-400" data-testid="config-locked">
              Configuration is locked while the pair is {statusLabel}; disable protection to change it.
            </span>
          )}
        </div>

        {canDisable && (
          <div className="mt-4 flex flex-wrap items-center gap-3 border-t border-slate-200 pt-3 dark:border-slate-800">
            <button
              type="button"
              role="switch"
              aria-checked={monitoringOn}
              aria-label="Failure monitoring"
              disabled={switching || busy}
              onClick={() => {
                enable.reset();
                disable.reset();
                monitoring.mutate({ pairId, enabled: !monitoringOn });
              }}
              className={`relative inline-flex h-6 w-11 shrink-0 items-center rounded-full transition-colors disabled:opacity-50 ${monitoringOn ? 'bg-sky-700 dark:bg-sky-600' : 'bg-slate-300 dark:bg-slate-600'}`}
            >
              <span
                className={`inline-block h-5 w-5 rounded-full bg-white shadow transition-transform ${monitoringOn ? 'translate-x-5' : 'translate-x-0.5'}`}
              />
            </button>
            <span className="text-sm">
              <span className="font-medium">Failure monitoring {monitoringOn ? 'on' : 'off'}</span>
              <span className="block text-xs text-slate-500 dark:text-slate-400">
                {switching
                  ? 'Telling both agents… (the operation’s steps are listed below)'
                  : monitoringOn
                    ? 'The target and the control plane watch the source; replication is not affected by turning this off.'
                    : 'Nobody watches the source for failure; replication keeps running. Both agents must be online to turn it on.'}
              </span>
            </span>
          </div>
        )}

        {busy && (
          <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">
            An operation is in progress on this pair; its steps are listed below.
          </p>
        )}
        {canEnable && unsupported && <p className="mt-3 text-sm text-amber-800 dark:text-amber-300">{unsupported}</p>}
        {canEnable && !hasSettings && (
          <p className="mt-3 text-sm text-amber-800 dark:text-amber-300">
            The pair has no complete configuration yet: edit it before enabling protection.
          </p>
        )}

        {panel === 'enable' && canEnable && (
          <div
            className="mt-4 space-y-3 rounded-md border border-sky-200 bg-sky-50 p-3 text-sm dark:border-sky-900 dark:bg-sky-950"
            role="group"
            aria-label="Enable protection"
          >
            {enabledAt ? (
              <p>
                Protection was enabled before ({new Date(enabledAt).toLocaleString()}). Enabling again reuses the saved
                configuration.{' '}
                <Link
                  href={`/customers/${customerId}/pairs/${pairId}/edit`}
                  className="font-medium text-sky-700 underline dark:text-sky-300"
                >
                  Edit configuration first
                </Link>
              </p>
            ) : (
              <p>
                Prepares both agents, opens the data channel and starts the initial mirror. The pair becomes protected when the
                mirror finishes.
              </p>
            )}
            <label className="flex items-start gap-2">
              <input
                type="checkbox"
                className="mt-0.5 h-4 w-4 accent-sky-700"
                checked={withMonitoring}
                onChange={(e) => setWithMonitoring(e.target.checked)}
              />
              <span>
                <span className="font-medium">With failure monitoring</span>
                <span className="block text-xs text-slate-600 dark:text-slate-400">
                  Start watching the source as soon as replication runs. You can turn it on or off later.
                </span>
              </span>
            </label>
            <div className="flex gap-2">
              <Button onClick={() => enable.mutate({ pairId, monitoring: withMonitoring })} disabled={enable.isPending}>
                {enable.isPending ? 'Starting…' : 'Start protection'}
              </Button>
              <Button variant="ghost" onClick={() => setPanel('none')}>
                Cancel
              </Button>
            </div>
          </div>
        )}

        {panel === 'disable' && canDisable && (
          <div
            className="mt-4 space-y-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950"
            role="group"
            aria-label="Disable protection"
          >
            <p>
              Stops replication and the failure monitor on both servers. The target keeps the data it has and the configuration is
              kept, so protection can be enabled again later.
            </p>
            {status === 'failover_pending' && (
              <p className="font-medium">
                The source is currently lost: after disabling, no failover will be offered for this loss.
              </p>
            )}
            <div className="flex gap-2">
              <Button variant="danger" onClick={() => disable.mutate({ pairId })} disabled={disable.isPending}>
                {disable.isPending ? 'Stopping…' : 'Yes, disable protection'}
              </Button>
              <Button variant="ghost" onClick={() => setPanel('none')}>
                Cancel
              </Button>
            </div>
          </div>
        )}

        <div className="mt-3">
          <ErrorBanner message={error ? describeError(error).message : null} />
          {/* The enable gate refuses until a clean validation run: point at Validate. */}
          {enable.error && /validat/i.test(describeError(enable.error).message) && (
            <p className="mt-2 text-sm" data-testid="enable-gate">
              <a href="#validation" className="font-medium text-sky-700 underline dark:text-sky-300">
                Go to Validate
              </a>{' '}
              to run a validation and see what stands in the way.
            </p>
          )}
        </div>
      </div>
    </Card>
  );
}
