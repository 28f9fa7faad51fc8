'use client';

// Failover and failback buttons for operators (MSP operator role and up), each opening its
// dialog. Failover is offered while the pair is protected or failover pending; failback while
// it is failed over. Test failover (nothing in production changes) sits beside Failover and is
// enabled while the pair is protected.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Card } from '@/components/ui';
import { useTRPC } from '@/trpc/client';
import { FailbackDialog } from './failback-dialog';
import { FailoverDialog } from './failover-dialog';
import { TestFailoverDialog } from './test-failover-dialog';

/** Replication methods a test failover can copy (the API refuses others). */
const testableMethods = ['file', 'postgresql_streaming'];

export function RecoveryControls({
  customerId,
  replicationMethod,
  pairId,
  pairName,
  status,
  sourceHostname,
  targetHostname,
  defaultMode,
  failoverEnabled,
  busy,
  live,
}: {
  customerId: string;
  replicationMethod: string;
  pairId: string;
  pairName: string;
  status: string;
  sourceHostname: string;
  targetHostname: string;
  defaultMode: 'graceful' | 'immediate';
  /** False when the settings turn failover off (the API refuses then). */
  failoverEnabled: boolean;
  busy: boolean;
  live: boolean;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [open, setOpen] = useState<'none' | 'failover' | 'failback' | 'test'>('none');
  const testable = testableMethods.includes(replicationMethod);
  const canFailover = status === 'protected' || status === 'failover_pending';
  const canFailback = status === 'failed_over';
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.pair.pathKey() });
  if (!canFailover && !canFailback && open === 'none') return null;
  return (
    <Card className="mb-4">
      <div role="region" aria-label="Failover controls">
        <h2 className="mb-1 text-lg font-semibold">{canFailback ? 'Failback' : 'Failover'}</h2>
        <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
          {canFailback
            ? `${targetHostname} serves in place of ${sourceHostname}. Failing back shows every change first and asks you to confirm.`
            : `Move the service to ${targetHostname} now. You see every change before anything happens, and confirm by typing the pair’s name. A test failover proves the target could take over without changing anything in production.`}
        </p>
        <div className="flex flex-wrap items-center gap-2">
          {canFailover && (
            <Button variant="danger" onClick={() => setOpen('failover')} disabled={busy || !failoverEnabled}>
              Failover
            </Button>
          )}
          {canFailover && (
            <Button variant="secondary" onClick={() => setOpen('test')} disabled={busy || status !== 'protected' || !testable}>
              Test failover
            </Button>
          )}
          {canFailback && (
            <Button onClick={() => setOpen('failback')} disabled={busy}>
              Failback
            </Button>
          )}
          {busy && <span className="text-sm text-slate-600 dark:text-slate-400">Another operation is running on this pair.</span>}
          {canFailover && !testable && (
            <span className="text-sm text-slate-600 dark:text-slate-400">
              Test failover is available for file and PostgreSQL pairs.
            </span>
          )}
          {canFailover && !failoverEnabled && (
            <span className="text-sm text-amber-800 dark:text-amber-300">Failover is turned off in this pair’s settings.</span>
          )}
        </div>
      </div>
      {open === 'failover' && (
        <FailoverDialog
          pairId={pairId}
          pairName={pairName}
          sourceHostname={sourceHostname}
          targetHostname={targetHostname}
          defaultMode={defaultMode}
          live={live}
          onStarted={refresh}
          onClose={() => setOpen('none')}
        />
      )}
      {open === 'test' && (
        <TestFailoverDialog
          customerId={customerId}
          pairId={pairId}
          pairName={pairName}
          sourceHostname={sourceHostname}
          targetHostname={targetHostname}
          live={live}
          onStarted={refresh}
          onClose={() => setOpen('none')}
        />
      )}
      {open === 'failback' && (
        <FailbackDialog
          pairId={pairId}
          pairName={pairName}
          sourceHostname={sourceHostname}
          targetHostname={targetHostname}
          live={live}
          onStarted={refresh}
          onClose={() => setOpen('none')}
        />
      )}
    </Card>
  );
}
