'use client';

// Fix All: the whole plan of the latest run in its phases, per node with before and after; the
// person takes items out, then confirms once. What the plan leaves out is listed with why.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, ErrorBanner } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { Modal } from '@/app/(portal)/customers/[customerId]/pairs/[pairId]/modal';
import { FixPlan } from './fix-plan';

export function FixAllDialog({ pairId, onClose }: { pairId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [deselected, setDeselected] = useState<ReadonlySet<string>>(new Set());
  const plan = useQuery({
    ...trpc.validation.fixAllPreview.queryOptions({ pairId, deselected: [...deselected] }),
    placeholderData: (prev) => prev,
  });
  const run = useMutation(
    trpc.validation.fixAll.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.pair.pathKey() });
        onClose();
      },
    }),
  );
  const toggle = (ids: string[], include: boolean) => {
    const next = new Set(deselected);
    for (const id of ids) {
      if (include) next.delete(id);
      else next.add(id);
    }
    setDeselected(next);
  };
  const p = plan.data;
  return (
    <Modal title="Fix All" onClose={onClose}>
      <div className="space-y-3 text-sm">
        <p className="text-slate-700 dark:text-slate-300">
          Runs these actions phase by phase through the agents, then validates the pair again. Clear an item to leave it out.
        </p>
        <ErrorBanner message={plan.error ? describeError(plan.error).message : null} />
        {p ? (
          <FixPlan plan={p} onToggle={toggle} deselected={deselected} />
        ) : (
          !plan.error && <p className="text-slate-500">Planning…</p>
        )}
        {p?.privileged && (
          <p className="text-amber-800 dark:text-amber-300">
            The plan includes privileged fixes (your organization allows them in Fix All).
          </p>
        )}
        <ErrorBanner message={run.error ? describeError(run.error).message : null} />
        <div className="flex gap-2">
          <Button
            onClick={() => p && run.mutate({ pairId, deselected: [...deselected], planDigest: p.digest })}
            disabled={!p || p.actions === 0 || run.isPending || plan.isFetching}
          >
            {run.isPending ? 'Starting…' : `Run ${p?.actions ?? 0} action${p?.actions === 1 ? '' : 's'}`}
          </Button>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
        </div>
      </div>
    </Modal>
  );
}
