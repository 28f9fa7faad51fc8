'use client';

// One finding in full: what the check detects, the evidence, what Fix will do (each action with
// its before and after) or the guidance for a person, Fix (disabled with its reason when it cannot
// run now), and acknowledging a warning.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, ErrorBanner } from '@/components/ui';
import type { FindingView } from './types';
import { describeError, useTRPC } from '@/trpc/client';
import { AcknowledgeForm } from './acknowledge-form';
import { Modal } from '@/app/(portal)/customers/[customerId]/pairs/[pairId]/modal';
import { Evidence } from './evidence';
import { sideLabel, ValidationStatus } from './status';

export interface Permissions {
  /** Operators and above: validate, fix, acknowledge. */
  canOperate: boolean;
  /** Owners and admins: confirm privileged fixes. */
  canConfirmPrivileged: boolean;
}

/** Why Fix cannot run for this finding now, or null. */
export function fixRefusal(f: FindingView, p: Permissions): string | null {
  if (!f.plan) return 'A person must fix this: Tandem has no automatic fix for it here.';
  if (f.blockedReason) return f.blockedReason;
  if (!p.canOperate) return 'Only MSP operators can run fixes.';
  if (f.privileged && !p.canConfirmPrivileged) return 'This fix widens access: an owner or admin must confirm it.';
  return null;
}

export function FindingDrawer({
  finding: f,
  permissions,
  onClose,
}: {
  finding: FindingView;
  permissions: Permissions;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [confirmed, setConfirmed] = useState(false);
  const fix = useMutation(
    trpc.validation.fix.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.pair.pathKey() }) }),
  );
  const refusal = fixRefusal(f, permissions);
  const side = sideLabel(f.side);
  return (
    <Modal title={f.title} onClose={onClose} drawer>
      <div className="space-y-4 text-sm" data-testid="finding-drawer">
        <div className="flex flex-wrap items-center gap-2">
          <ValidationStatus status={f.status} />
          <span className="font-mono text-xs">{f.checkId}</span>
          {side && <span className="text-xs text-slate-500">on the {side}</span>}
          {f.subject && <span className="font-mono text-xs">{f.subject}</span>}
        </div>
        <p>{f.message}</p>
        {f.detects && (
          <section>
            <h3 className="font-semibold">What it detects</h3>
            <p className="text-slate-700 dark:text-slate-300">{f.detects}</p>
          </section>
        )}
        <section>
          <h3 className="font-semibold">Evidence</h3>
          <Evidence evidence={f.evidence} />
        </section>
        {f.plan && (
          <section>
            <h3 className="font-semibold">What Fix will do</h3>
            <ul className="ml-4 list-disc" data-testid="finding-plan">
              {f.plan.map((a, i) => (
                <li key={i}>
                  {a.description}
                  {(a.before !== null || a.after !== null) && (
                    <span className="ml-1 font-mono text-xs text-slate-600 dark:text-slate-400">
                      ({a.before ?? '—'} → {a.after ?? '—'})
                    </span>
                  )}
                </li>
              ))}
            </ul>
          </section>
        )}
        {f.guidance && (
          <section>
            <h3 className="font-semibold">What to do</h3>
            <p className="whitespace-pre-line text-slate-700 dark:text-slate-300">{f.guidance}</p>
          </section>
        )}
        {f.fixState && (
          <p className={f.fixState === 'fixed' ? 'text-emerald-800 dark:text-emerald-300' : 'text-red-800 dark:text-red-300'}>
            Last fix: {f.fixState.replaceAll('-', ' ')}
            {f.fixError ? ` (${f.fixError})` : ''}
          </p>
        )}
        {f.plan && (
          <section className="space-y-2 border-t border-slate-200 pt-3 dark:border-slate-800">
            {f.privileged && permissions.canConfirmPrivileged && !f.blockedReason && (
              <label className="flex items-start gap-2">
                <input
                  type="checkbox"
                  className="mt-0.5 h-4 w-4 accent-sky-700"
                  checked={confirmed}
                  onChange={(e) => setConfirmed(e.target.checked)}
                />
                <span>I confirm this privileged fix (it widens access).</span>
              </label>
            )}
            <Button
              onClick={() => fix.mutate({ findingIds: [f.id], confirmPrivileged: f.privileged && confirmed })}
              disabled={!!refusal || fix.isPending || fix.isSuccess || (f.privileged && !confirmed)}
              aria-describedby={refusal ? `fix-refusal-${f.id}` : undefined}
            >
              {fix.isSuccess ? 'Fix started' : fix.isPending ? 'Starting…' : 'Fix'}
            </Button>
            {refusal && (
              <p id={`fix-refusal-${f.id}`} className="text-amber-800 dark:text-amber-300" data-testid="fix-refusal">
                {refusal}
              </p>
            )}
            <ErrorBanner message={fix.error ? describeError(fix.error).message : null} />
          </section>
        )}
        {f.severity === 'warning' && (
          <section className="border-t border-slate-200 pt-3 dark:border-slate-800">
            <h3 className="mb-1 font-semibold">Acknowledge</h3>
            <AcknowledgeForm finding={f} canOperate={permissions.canOperate} />
          </section>
        )}
      </div>
    </Modal>
  );
}
