'use client';

import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Card, ErrorBanner, Field, PageHeader, Select, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function AuditView({ lockedCustomerId }: { lockedCustomerId: string | null }) {
  const trpc = useTRPC();
  const facets = useQuery(trpc.audit.facets.queryOptions());
  const [customerId, setCustomerId] = useState('');
  const [actorId, setActorId] = useState('');
  const [action, setAction] = useState('');
  const filters = {
    customerId: lockedCustomerId ?? (customerId || undefined),
    actorId: actorId || undefined,
    action: action || undefined,
  };
  const events = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(filters, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const customerName = new Map(facets.data?.customers.map((c) => [c.id, c.name]));

  return (
    <>
      <PageHeader title="Audit trail" description="Every change, who made it and when. Records cannot be edited or deleted." />
      <Card className="mb-4">
        <form className="grid gap-3 sm:grid-cols-3" aria-label="Filter audit events" onSubmit={(e) => e.preventDefault()}>
          {!lockedCustomerId && (
            <Field id="filter-customer" label="Customer">
              <Select id="filter-customer" value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
                <option value="">All customers</option>
                {facets.data?.customers.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          <Field id="filter-actor" label="Who">
            <Select id="filter-actor" value={actorId} onChange={(e) => setActorId(e.target.value)}>
              <option value="">Anyone</option>
              {facets.data?.actors.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field id="filter-action" label="Action">
            <Select id="filter-action" value={action} onChange={(e) => setAction(e.target.value)}>
              <option value="">Any action</option>
              {facets.data?.actions.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </Select>
          </Field>
        </form>
      </Card>
      <Card>
        {events.error && <ErrorBanner message={describeError(events.error).message} />}
        <div className="overflow-x-auto">
          <table className={t.table} data-testid="audit-table">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>When</th>
                <th className={t.cell}>Who</th>
                <th className={t.cell}>Action</th>
                <th className={t.cell}>Customer</th>
                <th className={t.cell}>What</th>
              </tr>
            </thead>
            <tbody>
              {events.data?.pages.flatMap((p) =>
                p.events.map((e) => (
                  <tr key={e.id} className={t.row}>
                    <td className={`${t.cell} whitespace-nowrap`}>
                      <time dateTime={e.createdAt}>{new Date(e.createdAt).toLocaleString()}</time>
                    </td>
                    <td className={t.cell}>{e.actorLabel}</td>
                    <td className={`${t.cell} font-mono text-xs`}>{e.action}</td>
                    <td className={t.cell}>{e.customerId ? (customerName.get(e.customerId) ?? '(deleted)') : '—'}</td>
                    <td className={t.cell}>{e.summary}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
        {events.data?.pages[0]?.events.length === 0 && <p className="p-2 text-sm text-slate-500">No events match.</p>}
        {events.hasNextPage && (
          <Button variant="secondary" className="mt-3" onClick={() => void events.fetchNextPage()} disabled={events.isFetchingNextPage}>
            Load more
          </Button>
        )}
      </Card>
    </>
  );
}
