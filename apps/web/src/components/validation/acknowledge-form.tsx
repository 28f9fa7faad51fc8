'use client';

// Acknowledging a warning: a reason and how long (at most 90 days). It lapses by itself when the
// finding's evidence changes; it can be withdrawn.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Button, ErrorBanner, Field, Input, Textarea } from '@/components/ui';
import type { FindingView } from './types';
import { describeError, useTRPC } from '@/trpc/client';

const lapsed = { 'evidence-changed': 'lapsed: the evidence changed since', expired: 'lapsed: it expired' } as const;

export function AcknowledgeForm({ finding, canOperate }: { finding: FindingView; canOperate: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const id = useId();
  const [reason, setReason] = useState('');
  const [days, setDays] = useState(30);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.validation.pathKey() });
  const ack = useMutation(trpc.validation.acknowledge.mutationOptions({ onSuccess: refresh }));
  const unack = useMutation(trpc.validation.unacknowledge.mutationOptions({ onSuccess: refresh }));
  const a = finding.acknowledgement;
  const error = ack.error ?? unack.error;
  return (
    <div className="space-y-2 text-sm" data-testid="acknowledgement">
      {a && (
        <p className={a.state === 'active' ? 'text-emerald-800 dark:text-emerald-300' : 'text-amber-800 dark:text-amber-300'}>
          {a.state === 'active' ? 'Acknowledged' : `Was acknowledged (${lapsed[a.state]})`} by {a.by} until{' '}
          {new Date(a.expiresAt).toLocaleDateString()}: “{a.reason}”
        </p>
      )}
      {canOperate && a?.state === 'active' && (
        <Button variant="secondary" onClick={() => unack.mutate({ findingId: finding.id })} disabled={unack.isPending}>
          Withdraw acknowledgement
        </Button>
      )}
      {canOperate && a?.state !== 'active' && (
        <form
          className="space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            ack.mutate({ findingId: finding.id, reason, days });
          }}
        >
          <Field id={`${id}-reason`} label="Reason for accepting this warning">
            <Textarea
              id={`${id}-reason`}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              rows={2}
              maxLength={1000}
              required
            />
          </Field>
          <Field id={`${id}-days`} label="For how many days (1–90)">
            <Input
              id={`${id}-days`}
              type="number"
              min={1}
              max={90}
              value={days}
              onChange={(e) => setDays(Number(e.target.value))}
            />
          </Field>
          <Button type="submit" variant="secondary" disabled={ack.isPending || reason.trim().length < 3}>
            Acknowledge warning
          </Button>
        </form>
      )}
      <ErrorBanner message={error ? describeError(error).message : null} />
    </div>
  );
}
