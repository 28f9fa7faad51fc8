'use client';

import Link from 'next/link';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { orgRoleAtLeast, type OrgRole } from '@tandem/engine';
import { Button, Card, ErrorBanner, Field, Input, PageHeader, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

/** Seeded demo customers: their servers are made up and no agent stands behind them. */
export function SampleBadge() {
  return (
    <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-800 dark:bg-amber-900/40 dark:text-amber-200" title="Made-up servers for trying the portal: no agent stands behind them">
      Sample data
    </span>
  );
}

export function CustomersView({ role }: { role: OrgRole }) {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const customers = useQuery(trpc.customer.list.queryOptions(search ? { search } : undefined));
  const [creating, setCreating] = useState(false);
  const canEdit = orgRoleAtLeast(role, 'operator');

  return (
    <>
      <PageHeader
        title="Customers"
        description="Every company you protect. Open one to see its servers."
        actions={canEdit && !creating ? <Button onClick={() => setCreating(true)}>New customer</Button> : null}
      />
      {creating && <CreateCustomer onDone={() => setCreating(false)} />}
      <Card>
        <div className="mb-3 max-w-xs">
          <label htmlFor="customer-search" className="sr-only">
            Search customers
          </label>
          <Input id="customer-search" type="search" placeholder="Search customers" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        {customers.error && <ErrorBanner message={describeError(customers.error).message} />}
        {customers.data && customers.data.length === 0 && <p className="text-sm text-slate-500">No customers yet.</p>}
        {customers.data && customers.data.length > 0 && (
          <div className="overflow-x-auto">
            <table className={t.table}>
              <thead className={t.head}>
                <tr>
                  <th className={t.cell}>Name</th>
                  <th className={t.cell}>Contact</th>
                  <th className={t.cell}>Servers</th>
                </tr>
              </thead>
              <tbody>
                {customers.data.map((c) => (
                  <tr key={c.id} className={t.row}>
                    <td className={t.cell}>
                      <Link href={`/customers/${c.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                        {c.name}
                      </Link>
                      {c.sample && <SampleBadge />}
                    </td>
                    <td className={t.cell}>{c.contactEmail ?? '—'}</td>
                    <td className={t.cell}>{c.serverCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}

function CreateCustomer({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [contactEmail, setContactEmail] = useState('');
  const create = useMutation(
    trpc.customer.create.mutationOptions({
      onSuccess: async () => {
        // A first load still in flight may have read the list before this customer existed, and
        // invalidating would only join it: cancel it so the refetch starts after the create.
        await qc.cancelQueries({ queryKey: trpc.customer.list.queryKey() });
        await qc.invalidateQueries({ queryKey: trpc.customer.list.queryKey() });
        onDone();
      },
    }),
  );
  const err = create.error ? describeError(create.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ name, contactEmail: contactEmail || null });
  };
  return (
    <Card className="mb-4">
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2" aria-label="New customer">
        <Field id="customer-name" label="Name" help="The company as your team calls it." error={err?.fields.name}>
          <Input id="customer-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!err?.fields.name} required autoFocus />
        </Field>
        <Field id="customer-contact" label="Contact e-mail (optional)" help="Who to reach at the customer about incidents." error={err?.fields.contactEmail}>
          <Input id="customer-contact" type="email" value={contactEmail} onChange={(e) => setContactEmail(e.target.value)} aria-invalid={!!err?.fields.contactEmail} />
        </Field>
        <div className="sm:col-span-2">
          <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
        </div>
        <div className="flex gap-2 sm:col-span-2">
          <Button type="submit" disabled={create.isPending}>
            Create customer
          </Button>
          <Button type="button" variant="secondary" onClick={onDone}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}
