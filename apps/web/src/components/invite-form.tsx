'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { customerRoleDescriptions, customerRoles, orgRoleDescriptions, orgRoles } from '@tandem/engine';
import { describeError, useTRPC } from '@/trpc/client';
import { Button, ErrorBanner, Field, Input, Select } from './ui';

/**
 * Invites someone by link. With `customerId` it invites a user of that customer; otherwise the
 * form lets the operator choose the organization or one of its customers.
 */
export function InviteForm({ customerId }: { customerId?: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const customers = useQuery({ ...trpc.customer.list.queryOptions(), enabled: !customerId });
  const [target, setTarget] = useState<string>(customerId ?? 'org');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string>(customerId ? 'approver' : 'operator');
  const [link, setLink] = useState<string | null>(null);
  const create = useMutation(
    trpc.invitation.create.mutationOptions({
      onSuccess: async (res) => {
        setLink(res.link);
        setEmail('');
        await qc.invalidateQueries({ queryKey: trpc.invitation.list.queryKey() });
      },
    }),
  );
  const isOrg = target === 'org';
  const err = create.error ? describeError(create.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setLink(null);
    create.mutate(
      isOrg
        ? { kind: 'org', email, role: role as (typeof orgRoles)[number] }
        : { kind: 'customer', customerId: target, email, role: role as (typeof customerRoles)[number] },
    );
  };
  const roles = isOrg ? orgRoles : customerRoles;
  const descriptions: Record<string, string> = isOrg ? orgRoleDescriptions : customerRoleDescriptions;
  return (
    <form onSubmit={submit} aria-label="Invite a user" className="space-y-3">
      <div className="grid gap-3 sm:grid-cols-3">
        {!customerId && (
          <Field id="invite-target" label="Invite to" help="Your organization (MSP staff) or one customer (their own people).">
            <Select
              id="invite-target"
              value={target}
              onChange={(e) => {
                setTarget(e.target.value);
                setRole(e.target.value === 'org' ? 'operator' : 'approver');
              }}
            >
              <option value="org">The organization (staff)</option>
              {customers.data?.map((c) => (
                <option key={c.id} value={c.id}>
                  Customer: {c.name}
                </option>
              ))}
            </Select>
          </Field>
        )}
        <Field id="invite-email" label="E-mail" error={err?.fields.email}>
          <Input id="invite-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={!!err?.fields.email} />
        </Field>
        <Field id="invite-role" label="Role" help={descriptions[role]}>
          <Select id="invite-role" value={role} onChange={(e) => setRole(e.target.value)}>
            {[...roles].reverse().map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <ErrorBanner message={err && !err.fields.email ? err.message : null} />
      <Button type="submit" disabled={create.isPending}>
        Create invitation link
      </Button>
      {link && (
        <div className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950" role="status">
          <p className="font-medium">Invitation created and e-mailed to the person. The link is also here if you want to pass it on yourself (valid for 7 days, shown only once):</p>
          <div className="mt-2 flex gap-2">
            <Input readOnly value={link} aria-label="Invitation link" data-testid="invitation-link" onFocus={(e) => e.currentTarget.select()} />
            <Button type="button" variant="secondary" onClick={() => void navigator.clipboard?.writeText(link)}>
              Copy
            </Button>
          </div>
        </div>
      )}
    </form>
  );
}
