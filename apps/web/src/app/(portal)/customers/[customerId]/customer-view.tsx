'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { orgRoleAtLeast, type CustomerRole, type OrgRole } from '@tandem/engine';
import { AddServer } from '@/components/add-server';
import { CustomerAlertsSection } from '@/components/alerts/customer-alerts';
import { CustomerPolicyCard } from '@/components/approvals/customer-policy-card';
import { Coverage } from '@/components/coverage';
import { InviteForm } from '@/components/invite-form';
import { Pairs } from '@/components/pairs';
import { timeAgo } from '@/lib/time';
import { Badge, Button, Card, ErrorBanner, Field, Input, PageHeader, Textarea, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { ValidationRollupCard } from '@/components/validation/rollup-card';
import { CustomerSelfService, CustomerTestReports } from './self-service';

const agentTone = { online: 'green', offline: 'red', pending: 'amber', revoked: 'slate', none: 'slate' } as const;

export function CustomerView({
  customerId,
  staffRole,
  customerRole = null,
}: {
  customerId: string;
  staffRole: OrgRole | null;
  /** Set for the customer's own users: their home shows the self-service parts. */
  customerRole?: CustomerRole | null;
}) {
  const trpc = useTRPC();
  const customer = useQuery(trpc.customer.get.queryOptions({ customerId }));
  // Polled so agent badges and last-seen times stay live without a reload.
  const servers = useQuery({ ...trpc.server.list.queryOptions({ customerId }), refetchInterval: 5_000 });
  const [editing, setEditing] = useState(false);
  const canEdit = staffRole !== null && orgRoleAtLeast(staffRole, 'operator');
  const canDelete = staffRole !== null && orgRoleAtLeast(staffRole, 'admin');

  if (customer.error) return <ErrorBanner message={describeError(customer.error).message} />;
  if (!customer.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const c = customer.data;

  return (
    <>
      <PageHeader
        title={c.name}
        description={
          c.sample
            ? `Sample data: these servers are made up and no agent stands behind them.${c.contactEmail ? ` Contact: ${c.contactEmail}` : ''}`
            : c.contactEmail
              ? `Contact: ${c.contactEmail}`
              : undefined
        }
        actions={canEdit && !editing ? <Button variant="secondary" onClick={() => setEditing(true)}>Edit</Button> : null}
      />
      {editing && <EditCustomer customer={c} onDone={() => setEditing(false)} />}
      {customerRole && <CustomerSelfService customerId={customerId} role={customerRole} />}
      {c.notes && !editing && (
        <Card className="mb-4">
          <h2 className="mb-1 text-sm font-semibold">Notes</h2>
          <p className="whitespace-pre-wrap text-sm">{c.notes}</p>
        </Card>
      )}
      <Card className="mb-4">
        <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-lg font-semibold">Servers</h2>
          {canEdit && <AddServer customerId={customerId} />}
        </div>
        {servers.error && <ErrorBanner message={describeError(servers.error).message} />}
        {servers.data?.length === 0 && <p className="text-sm text-slate-500">No servers yet. Servers appear here when their agent enrols.</p>}
        {servers.data && servers.data.length > 0 && (
          <div className="overflow-x-auto">
            <table className={t.table}>
              <thead className={t.head}>
                <tr>
                  <th className={t.cell}>Hostname</th>
                  <th className={t.cell}>Operating system</th>
                  <th className={t.cell}>Addresses</th>
                  <th className={t.cell}>Agent</th>
                </tr>
              </thead>
              <tbody>
                {servers.data.map((s) => (
                  <tr key={s.id} className={t.row}>
                    <td className={`${t.cell} font-medium`}>
                      <Link href={`/customers/${customerId}/servers/${s.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
                        {s.hostname}
                      </Link>
                    </td>
                    <td className={t.cell}>{s.osVersion ?? s.osFamily}</td>
                    <td className={t.cell}>{s.addresses.join(', ') || '—'}</td>
                    <td className={t.cell}>
                      <Badge tone={agentTone[s.agentStatus]}>{s.agentStatus === 'none' ? 'no agent' : s.agentStatus}</Badge>
                      {s.lastSeenAt && (
                        <span className="ml-2 text-xs text-slate-500" title={s.lastSeenAt}>
                          seen {timeAgo(s.lastSeenAt)}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Pairs customerId={customerId} canOperate={canEdit} />
      <ValidationRollupCard customerId={customerId} />
      {customerRole && <CustomerTestReports customerId={customerId} />}
      <CustomerPolicyCard customerId={customerId} canEdit={canDelete} />
      <CustomerAlertsSection customerId={customerId} staffRole={staffRole} />
      {staffRole !== null && (
        <p className="mb-4 text-sm">
          <Link href={`/customers/${customerId}/clusters`} className="text-sky-700 hover:underline dark:text-sky-400">
            Clusters
          </Link>{' '}
          <span className="text-slate-500 dark:text-slate-400">(resources, configuration versions, backup and restore)</span>
        </p>
      )}
      <p className="mb-4 text-sm">
        <Link href={`/customers/${customerId}/reports`} className="text-sky-700 hover:underline dark:text-sky-400">
          Monthly reports
        </Link>{' '}
        <span className="text-slate-500 dark:text-slate-400">(time protected, lag against the RPO, failovers and tests; PDF)</span>
      </p>
      <Coverage customerId={customerId} />
      {canEdit && (
        <Card className="mb-4">
          <h2 className="mb-1 text-lg font-semibold">Invite a user of {c.name}</h2>
          <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
            Customer users see only this customer: its servers, reports and audit trail. Approvers can approve failovers.
          </p>
          <InviteForm customerId={customerId} />
        </Card>
      )}
      {canDelete && <DeleteCustomer customerId={customerId} name={c.name} />}
    </>
  );
}

function EditCustomer({
  customer,
  onDone,
}: {
  customer: { id: string; name: string; contactEmail: string | null; notes: string | null };
  onDone: () => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [name, setName] = useState(customer.name);
  const [contactEmail, setContactEmail] = useState(customer.contactEmail ?? '');
  const [notes, setNotes] = useState(customer.notes ?? '');
  const update = useMutation(
    trpc.customer.update.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.customer.pathKey() });
        onDone();
      },
    }),
  );
  const err = update.error ? describeError(update.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ customerId: customer.id, name, contactEmail: contactEmail || null, notes: notes || null });
  };
  return (
    <Card className="mb-4">
      <form onSubmit={submit} className="space-y-3" aria-label="Edit customer">
        <Field id="edit-name" label="Name" error={err?.fields.name}>
          <Input id="edit-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!err?.fields.name} required />
        </Field>
        <Field id="edit-contact" label="Contact e-mail" error={err?.fields.contactEmail}>
          <Input id="edit-contact" type="email" value={contactEmail} onChange={(e) => setContactEmail(e.target.value)} />
        </Field>
        <Field id="edit-notes" label="Notes" help="Anything the team should know: maintenance windows, on-site contacts." error={err?.fields.notes}>
          <Textarea id="edit-notes" rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} />
        </Field>
        <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
        <div className="flex gap-2">
          <Button type="submit" disabled={update.isPending}>
            Save
          </Button>
          <Button type="button" variant="secondary" onClick={onDone}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}

function DeleteCustomer({ customerId, name }: { customerId: string; name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [confirmName, setConfirmName] = useState('');
  const del = useMutation(
    trpc.customer.delete.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.customer.pathKey() });
        router.push('/customers');
      },
    }),
  );
  const err = del.error ? describeError(del.error) : null;
  return (
    <Card className="border-red-200 dark:border-red-900">
      <h2 className="text-lg font-semibold text-red-800 dark:text-red-300">Delete customer</h2>
      {!open ? (
        <>
          <p className="mb-3 mt-1 text-sm">Removes the customer, its servers and its users’ access. The audit trail is kept.</p>
          <Button variant="danger" onClick={() => setOpen(true)}>
            Delete {name}…
          </Button>
        </>
      ) : (
        <form
          className="mt-2 space-y-3"
          aria-label="Confirm deletion"
          onSubmit={(e) => {
            e.preventDefault();
            del.mutate({ customerId, confirmName });
          }}
        >
          <Field id="confirm-name" label={`Type “${name}” to confirm`} error={err?.fields.confirmName}>
            <Input id="confirm-name" value={confirmName} onChange={(e) => setConfirmName(e.target.value)} autoFocus aria-invalid={!!err?.fields.confirmName} />
          </Field>
          <ErrorBanner message={err && !err.fields.confirmName ? err.message : null} />
          <div className="flex gap-2">
            <Button type="submit" variant="danger" disabled={confirmName !== name || del.isPending}>
              Delete permanently
            </Button>
            <Button type="button" variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
