'use client';

// Self-service for a customer's approvers: a test failover of their own pair (the same dialog the
// MSP's operators use: dry run first, then the test; nothing in production changes). Real
// failover, failback and the pair's settings stay with the MSP.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Card } from '@/components/ui';
import { useTRPC } from '@/trpc/client';
import { TestFailoverDialog } from './test-failover-dialog';

/** Replication methods a test failover can copy (the API refuses others). */
const testableMethods = ['file', 'postgresql_streaming'];

export function CustomerTestControls(p: {
  customerId: string;
  pairId: string;
  pairName: string;
  status: string;
  replicationMethod: string;
  sourceHostname: string;
  targetHostname: string;
  busy: boolean;
  live: boolean;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  if (!testableMethods.includes(p.replicationMethod)) return null;
  return (
    <Card className="mb-4">
      <div role="region" aria-label="Test failover">
        <h2 className="mb-1 text-lg font-semibold">Test failover</h2>
        <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
          Prove that {p.targetHostname} could take over, without changing anything in production. The report appears under Tests when it ends.
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <Button variant="secondary" onClick={() => setOpen(true)} disabled={p.busy || p.status !== 'protected'}>
            Request a test failover
          </Button>
          {p.status !== 'protected' && <span className="text-sm text-slate-600 dark:text-slate-400">Available while the pair is protected.</span>}
          {p.busy && <span className="text-sm text-slate-600 dark:text-slate-400">Another operation is running on this pair.</span>}
        </div>
      </div>
      {open && (
        <TestFailoverDialog
          customerId={p.customerId}
          pairId={p.pairId}
          pairName={p.pairName}
          sourceHostname={p.sourceHostname}
          targetHostname={p.targetHostname}
          live={p.live}
          onStarted={() => void qc.invalidateQueries({ queryKey: trpc.pair.pathKey() })}
          onClose={() => setOpen(false)}
        />
      )}
    </Card>
  );
}
