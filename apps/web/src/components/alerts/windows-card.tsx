'use client';

// Maintenance windows of one customer: alerts of the customer (or one pair) are muted while one
// is active. MSP operators create and end them early (never delete: the record stays); the
// customer's own users see them.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Badge, Button, Card, ErrorBanner, Field, Input, Select, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

const stateTone = { active: 'amber', upcoming: 'sky', ended: 'slate' } as const;

/** A datetime-local value (local time, minutes) for a moment. */
function localInput(d: Date) {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function WindowsCard({ customerId, canEdit }: { customerId: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.alert.window.list.queryOptions({ customerId }));
  const [adding, setAdding] = useState(false);
  const end = useMutation(trpc.alert.window.end.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.alert.window.pathKey() }) }));
  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Maintenance windows</h2>
        {canEdit && !adding && <Button onClick={() => setAdding(true)}>New window</Button>}
      </div>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">While a window is active, alerts of the customer (or of the one pair) are not sent.</p>
      {adding && <WindowForm customerId={customerId} onDone={() => setAdding(false)} />}
      {list.error && <ErrorBanner message={describeError(list.error).message} />}
      {list.data?.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">No maintenance windows.</p>}
      {list.data && list.data.length > 0 && (
        <div className="overflow-x-auto">
          <table className={t.table} aria-label="Maintenance windows">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>From</th>
                <th className={t.cell}>Until</th>
                <th className={t.cell}>Mutes</th>
                <th className={t.cell}>Reason</th>
                <th className={t.cell}>State</th>
                {canEdit && <th className={t.cell}>Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.data.map((w) => (
                <tr key={w.id} className={t.row}>
                  <td className={t.cell}>{new Date(w.startsAt).toLocaleString()}</td>
                  <td className={t.cell}>{new Date(w.endsAt).toLocaleString()}</td>
                  <td className={t.cell}>{w.pairName ? `Pair ${w.pairName}` : 'The whole customer'}</td>
                  <td className={t.cell}>{w.reason}</td>
                  <td className={t.cell}>
                    <Badge tone={stateTone[w.state]}>{w.state}</Badge>
                  </td>
                  {canEdit && (
                    <td className={t.cell}>
                      {w.state !== 'ended' && (
                        <Button variant="secondary" disabled={end.isPending} onClick={() => end.mutate({ customerId, windowId: w.id })}>
                          {w.state === 'active' ? 'End now' : 'Cancel'}
                        </Button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="mt-3">
        <ErrorBanner message={end.error ? describeError(end.error).message : null} />
      </div>
    </Card>
  );
}

function WindowForm({ customerId, onDone }: { customerId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const pairs = useQuery(trpc.pair.list.queryOptions({ customerId }));
  const now = new Date();
  const [pairId, setPairId] = useState('');
  const [startsAt, setStartsAt] = useState(localInput(now));
  const [endsAt, setEndsAt] = useState(localInput(new Date(now.getTime() + 2 * 3600_000)));
  const [reason, setReason] = useState('');
  const create = useMutation(
    trpc.alert.window.create.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.alert.window.pathKey() });
        onDone();
      },
    }),
  );
  const err = create.error ? describeError(create.error) : null;
  const iso = (local: string) => (Number.isNaN(new Date(local).getTime()) ? local : new Date(local).toISOString());
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ customerId, pairId: pairId || null, startsAt: iso(startsAt), endsAt: iso(endsAt), reason });
  };
  return (
    <form onSubmit={submit} className="mb-4 grid gap-3 rounded-md border border-slate-200 p-3 sm:grid-cols-2 dark:border-slate-700" aria-label="New maintenance window">
      <Field id="window-starts" label="From" error={err?.fields.startsAt}>
        <Input id="window-starts" type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} aria-invalid={!!err?.fields.startsAt} required />
      </Field>
      <Field id="window-ends" label="Until" help="At most 30 days." error={err?.fields.endsAt}>
        <Input id="window-ends" type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} aria-invalid={!!err?.fields.endsAt} required />
      </Field>
      <Field id="window-pair" label="Mutes" error={err?.fields.pairId}>
        <Select id="window-pair" value={pairId} onChange={(e) => setPairId(e.target.value)}>
          <option value="">The whole customer</option>
          {pairs.data?.map((p) => (
            <option key={p.id} value={p.id}>
              Pair {p.name}
            </option>
          ))}
        </Select>
      </Field>
      <Field id="window-reason" label="Reason" error={err?.fields.reason}>
        <Input id="window-reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="SAN firmware upgrade" aria-invalid={!!err?.fields.reason} required />
      </Field>
      <div className="sm:col-span-2">
        <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
      </div>
      <div className="flex gap-2 sm:col-span-2">
        <Button type="submit" disabled={create.isPending}>
          Create window
        </Button>
        <Button type="button" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
