'use client';

// A pair's approval policy: the customer's, or this pair's override of some of it. Operators edit
// the override; everyone sees the effective policy in words.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import type { ApprovalPolicyOverride } from '@tandem/engine';
import { Button, Card, ErrorBanner } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { emailsToText, PolicyFields, textToEmails, type PolicyDraft } from './policy-form';

export function PairPolicyCard({ customerId, pairId, canEdit }: { customerId: string; pairId: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const policy = useQuery(trpc.approval.pairPolicy.queryOptions({ customerId, pairId }));
  const requests = useQuery({ ...trpc.approval.list.queryOptions({ customerId, limit: 5 }), refetchInterval: 10_000 });
  const waiting = requests.data?.find((r) => r.pairId === pairId && r.decision === 'pending');
  const [editing, setEditing] = useState(false);
  if (policy.error) return <ErrorBanner message={describeError(policy.error).message} />;
  if (!policy.data) return null;
  return (
    <Card className="mb-4">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Failover approval</h2>
        {canEdit && !editing && (
          <Button variant="secondary" onClick={() => setEditing(true)}>
            {policy.data.inherited ? 'Override for this pair' : 'Edit override'}
          </Button>
        )}
      </div>
      {waiting && (
        <p className="mb-2 rounded-md border border-amber-300 bg-amber-50 p-2 text-sm dark:border-amber-800 dark:bg-amber-950" role="status" data-testid="pair-approval-waiting">
          A failover of this pair is waiting for approval ({waiting.approvals} of {waiting.requiredApprovals}).{' '}
          <Link href={`/approvals/${waiting.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
            {waiting.canVote ? 'Review and answer' : 'Open the request'}
          </Link>
        </p>
      )}
      {editing ? (
        <OverrideEditor customerId={customerId} pairId={pairId} override={policy.data.override} onDone={() => setEditing(false)} />
      ) : (
        <p className="text-sm" data-testid="pair-approval-policy">
          {policy.data.statement}{' '}
          <span className="text-slate-500 dark:text-slate-400">{policy.data.inherited ? '(the customer’s policy)' : '(this pair overrides the customer’s policy)'}</span>
        </p>
      )}
    </Card>
  );
}

function OverrideEditor({ customerId, pairId, override, onDone }: { customerId: string; pairId: string; override: ApprovalPolicyOverride; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<PolicyDraft>({
    approvers: override.approvers,
    fourEyes: override.fourEyes,
    deadlineMinutes: override.deadlineMinutes,
    escalate: override.escalate,
    escalationEmails: override.escalationEmails,
    onDeadline: override.onDeadline,
  });
  const [emails, setEmails] = useState(emailsToText(override.escalationEmails));
  const save = useMutation(
    trpc.approval.setPairPolicy.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.approval.pairPolicy.queryKey({ customerId, pairId }) });
        onDone();
      },
    }),
  );
  const err = save.error ? describeError(save.error) : null;
  const send = (o: ApprovalPolicyOverride) => save.mutate({ customerId, pairId, override: o });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const list = textToEmails(emails);
    const o = Object.fromEntries(Object.entries({ ...draft, escalationEmails: list.length ? list : undefined }).filter(([, v]) => v !== undefined));
    send(o);
  };
  return (
    <form onSubmit={submit} aria-label="Pair approval policy" className="space-y-3">
      <PolicyFields idPrefix="pair-policy" inheritable draft={draft} onChange={setDraft} fields={err?.fields} emailsText={emails} onEmailsText={setEmails} />
      <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={save.isPending}>
          Save override
        </Button>
        <Button type="button" variant="secondary" disabled={save.isPending} onClick={() => send({})}>
          Use the customer’s policy
        </Button>
        <Button type="button" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
