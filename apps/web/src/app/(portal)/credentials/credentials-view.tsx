'use client';

// Credentials Tandem uses on customers' behalf (TSIG keys, domain accounts): list, create, edit,
// delete (refused while a pair uses it) and test. Secrets are never shown: not in the list, not
// in the edit form.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Badge, Button, Card, ErrorBanner, PageHeader, tableStyles } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { CredentialForm, type CredentialRow } from './credential-form';
import { CredentialTest } from './credential-test';

type Panel = { kind: 'none' } | { kind: 'new' } | { kind: 'edit'; id: string } | { kind: 'test'; id: string };

export function CredentialsView({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.credential.list.queryOptions({}));
  const customers = useQuery(trpc.customer.list.queryOptions({}));
  const [panel, setPanel] = useState<Panel>({ kind: 'none' });
  const [removing, setRemoving] = useState<string | null>(null);
  const remove = useMutation(
    trpc.credential.remove.mutationOptions({
      onSuccess: async () => {
        setRemoving(null);
        await qc.invalidateQueries({ queryKey: trpc.credential.pathKey() });
      },
    }),
  );
  const customerName = (id: string | null) => (id ? (customers.data?.find((c) => c.id === id)?.name ?? 'One customer') : 'Every customer');
  const rows = (list.data ?? []) as CredentialRow[];
  const editing = panel.kind === 'edit' ? rows.find((r) => r.id === panel.id) : undefined;
  const testing = panel.kind === 'test' ? rows.find((r) => r.id === panel.id) : undefined;
  return (
    <>
      <PageHeader
        title="Credentials"
        description="TSIG keys and domain accounts Tandem uses to update customers’ DNS at failover. Secrets are sealed when saved and never shown again."
        actions={
          canEdit && (
            <Button onClick={() => setPanel(panel.kind === 'new' ? { kind: 'none' } : { kind: 'new' })} aria-expanded={panel.kind === 'new'}>
              New credential
            </Button>
          )
        }
      />
      {panel.kind === 'new' && (
        <Card className="mb-4">
          <h2 className="mb-3 text-lg font-semibold">New credential</h2>
          <CredentialForm editing={null} customers={customers.data ?? []} onDone={() => setPanel({ kind: 'none' })} />
        </Card>
      )}
      {editing && (
        <Card className="mb-4">
          <h2 className="mb-3 text-lg font-semibold">Edit {editing.name}</h2>
          <CredentialForm key={editing.id} editing={editing} customers={customers.data ?? []} onDone={() => setPanel({ kind: 'none' })} />
        </Card>
      )}
      {testing && (
        <Card className="mb-4">
          <h2 className="mb-3 text-lg font-semibold">Test {testing.name}</h2>
          <CredentialTest key={testing.id} credential={testing} onClose={() => setPanel({ kind: 'none' })} />
        </Card>
      )}
      <Card>
        {list.error ? (
          <ErrorBanner message={describeError(list.error).message} />
        ) : !list.data ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : rows.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">
            No credentials yet. A pair with DNS failover needs a TSIG key (or, for Active Directory zones, a domain account).
          </p>
        ) : (
          <div className="overflow-x-auto">
            <table className={tableStyles.table} aria-label="Credentials">
              <thead className={tableStyles.head}>
                <tr>
                  <th className={tableStyles.cell}>Name</th>
                  <th className={tableStyles.cell}>Kind</th>
                  <th className={tableStyles.cell}>Key name / account</th>
                  <th className={tableStyles.cell}>Algorithm</th>
                  <th className={tableStyles.cell}>Usable for</th>
                  <th className={tableStyles.cell}>Last verified</th>
                  {canEdit && <th className={tableStyles.cell}>Actions</th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} className={tableStyles.row} data-credential={c.name}>
                    <td className={`${tableStyles.cell} font-medium`}>{c.name}</td>
                    <td className={tableStyles.cell}>{c.kind === 'dns_tsig' ? 'TSIG key' : 'Domain account'}</td>
                    <td className={`${tableStyles.cell} font-mono text-xs`}>{c.publicInfo.keyName ?? c.publicInfo.user ?? '—'}</td>
                    <td className={`${tableStyles.cell} font-mono text-xs`}>{c.publicInfo.algorithm ?? '—'}</td>
                    <td className={tableStyles.cell}>{customerName(c.customerId)}</td>
                    <td className={tableStyles.cell}>
                      {c.lastVerifiedAt ? (
                        <span title={new Date(c.lastVerifiedAt).toLocaleString()}>{timeAgo(c.lastVerifiedAt)}</span>
                      ) : (
                        <Badge tone="amber">Never</Badge>
                      )}
                    </td>
                    {canEdit && (
                      <td className={tableStyles.cell}>
                        <div className="flex flex-wrap gap-1">
                          <Button variant="secondary" aria-label={`Edit ${c.name}`} onClick={() => setPanel({ kind: 'edit', id: c.id })}>
                            Edit
                          </Button>
                          <Button variant="secondary" aria-label={`Test ${c.name}`} onClick={() => setPanel({ kind: 'test', id: c.id })}>
                            Test
                          </Button>
                          {removing === c.id ? (
                            <>
                              <Button variant="danger" onClick={() => remove.mutate({ id: c.id })} disabled={remove.isPending}>
                                Yes, delete
                              </Button>
                              <Button variant="ghost" onClick={() => (setRemoving(null), remove.reset())}>
                                Keep
                              </Button>
                            </>
                          ) : (
                            <Button variant="ghost" aria-label={`Delete ${c.name}`} onClick={() => (setRemoving(c.id), remove.reset())}>
                              Delete
                            </Button>
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div className="mt-3">
          <ErrorBanner message={remove.error ? describeError(remove.error).message : null} />
        </div>
      </Card>
    </>
  );
}
