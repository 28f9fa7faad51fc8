'use client';

// The customer's approval policy (and RPO), stated in words; MSP admins edit it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { ApprovalPolicy } from '@tandem/engine';
import { Button, Card, ErrorBanner, Field, Input } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { emailsToText, PolicyFields, textToEmails, type PolicyDraft } from './policy-form';

export function CustomerPolicyCard({ customerId, canEdit }: { customerId: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const policy = useQuery(trpc.approval.policy.queryOptions({ customerId }));
  const [editing, setEditing] = useState(false);
  if (policy.error) return <ErrorBanner message={describeError(policy.error).message} />;
  if (!policy.data) return null;
  return (
    <Card className="mb-4">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Failover approval</h2>
        {canEdit && !editing && (
          <Button variant="secondary" onClick={() => setEditing(true)}>
            Edit policy
          </Button>
        )}
      </div>
      {editing ? (
        <PolicyEditor customerId={customerId} policy={policy.data.policy} rpoSeconds={policy.data.rpoSeconds} onDone={() => setEditing(false)} />
      ) : (
        <div className="space-y-1 text-sm" data-testid="approval-policy">
          <p>{policy.data.statement}</p>
          <p className="text-slate-600 dark:text-slate-400">
            Recovery point objective: {Math.round(policy.data.rpoSeconds / 60)} min (lag above it is alerted and reported).
          </p>
          {policy.data.policy.escalationEmails.length > 0 && <p className="text-slate-600 dark:text-slate-400">Escalation contacts: {policy.data.policy.escalationEmails.join(', ')}</p>}
        </div>
      )}
    </Card>
  );
}

function PolicyEditor({ customerId, policy, rpoSeconds, onDone }: { customerId: string; policy: ApprovalPolicy; rpoSeconds: number; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<PolicyDraft>(policy);
  const [emails, setEmails] = useState(emailsToText(policy.escalationEmails));
  const [rpoMinutes, setRpoMinutes] = useState(String(Math.round(rpoSeconds / 60)));
  const save = useMutation(
    trpc.approval.setPolicy.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.approval.policy.queryKey({ customerId }) });
        onDone();
      },
    }),
  );
  const err = save.error ? describeError(save.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({
      customerId,
      policy: { ...policy, ...Object.fromEntries(Object.entries(draft).filter(([, v]) => v !== undefined)), escalationEmails: textToEmails(emails) },
      rpoSeconds: Math.round(Number(rpoMinutes) * 60),
    });
  };
  return (
    <form onSubmit={submit} aria-label="Approval policy" className="space-y-3">
      <PolicyFields idPrefix="policy" draft={draft} onChange={setDraft} fields={err?.fields} emailsText={emails} onEmailsText={setEmails} />
      <Field id="policy-rpo" label="Recovery point objective (minutes)" error={err?.fields.rpoSeconds}>
        <Input id="policy-rpo" type="number" min={0} value={rpoMinutes} onChange={(e) => setRpoMinutes(e.target.value)} />
      </Field>
      <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      <div className="flex gap-2">
        <Button type="submit" disabled={save.isPending}>
          Save policy
        </Button>
        <Button type="button" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
