'use client';

// Scheduled drills: a test failover repeated every N days, of one pair or of every protected
// pair of a customer. Listed with when the next is due, what the last one did, and whether one is
// overdue; operators add, change, pause and remove them.
import Link from 'next/link';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Badge, Button, Card, ErrorBanner, Field, Input, PageHeader, Select, tableStyles as t } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import type { DrillScheduleView } from '@/server/routers/drill/schemas';
import { describeError, useTRPC } from '@/trpc/client';

const presets = [
  { days: 7, label: 'Weekly' },
  { days: 30, label: 'Monthly (30 days)' },
  { days: 91, label: 'Quarterly (91 days)' },
];

const every = (days: number) => presets.find((p) => p.days === days)?.label ?? (days === 1 ? 'Daily' : `Every ${days} days`);
const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function DrillStatusBadge({ d }: { d: Pick<DrillScheduleView, 'enabled' | 'status'> }) {
  if (!d.enabled) return <Badge tone="slate">Paused</Badge>;
  if (d.status.state === 'overdue')
    return (
      <Badge tone="red">
        Overdue {d.status.days} {d.status.days === 1 ? 'day' : 'days'}
      </Badge>
    );
  if (d.status.state === 'due') return <Badge tone="amber">Due now</Badge>;
  return <Badge tone="green">On schedule</Badge>;
}

const resultTone = {
  succeeded: 'green',
  failed: 'red',
  cancelled: 'slate',
  pending: 'sky',
  running: 'sky',
  awaiting_approval: 'amber',
} as const;

export function DrillsView({ canOperate }: { canOperate: boolean }) {
  const trpc = useTRPC();
  const drills = useQuery({ ...trpc.drill.list.queryOptions(), refetchInterval: 30_000 });
  const [adding, setAdding] = useState(false);
  return (
    <>
      <PageHeader
        title="Drills"
        description="Scheduled test failovers: each proves a pair could take over, without touching production. A drill is overdue when its due time passed a day ago without a passing test."
        actions={canOperate && !adding ? <Button onClick={() => setAdding(true)}>Schedule a drill</Button> : null}
      />
      {adding && <NewDrill onDone={() => setAdding(false)} />}
      <Card>
        {drills.error && <ErrorBanner message={describeError(drills.error).message} />}
        {!drills.data && !drills.error && <p className="text-sm text-slate-500">Loading…</p>}
        {drills.data?.length === 0 && <p className="text-sm text-slate-500">No drills scheduled yet.</p>}
        {drills.data && drills.data.length > 0 && (
          <div className="overflow-x-auto">
            <table className={t.table} data-testid="drills-table">
              <thead className={t.head}>
                <tr>
                  <th className={t.cell}>Customer</th>
                  <th className={t.cell}>Tests</th>
                  <th className={t.cell}>How often</th>
                  <th className={t.cell}>Next due</th>
                  <th className={t.cell}>Last drill</th>
                  <th className={t.cell}>State</th>
                  {canOperate && <th className={t.cell}>Actions</th>}
                </tr>
              </thead>
              <tbody>
                {drills.data.map((d) => (
                  <DrillRow key={d.id} d={d} canOperate={canOperate} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}

function DrillRow({ d, canOperate }: { d: DrillScheduleView; canOperate: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [everyDays, setEveryDays] = useState(String(d.everyDays));
  const done = async () => {
    await qc.invalidateQueries({ queryKey: trpc.drill.pathKey() });
    await qc.invalidateQueries({ queryKey: trpc.dashboard.drills.queryKey() });
  };
  const update = useMutation(
    trpc.drill.update.mutationOptions({
      onSuccess: async () => {
        setEditing(false);
        await done();
      },
    }),
  );
  const remove = useMutation(trpc.drill.remove.mutationOptions({ onSuccess: done }));
  const err = update.error ? describeError(update.error) : remove.error ? describeError(remove.error) : null;
  const what = d.pairId ? d.pairName : 'Every protected pair';
  return (
    <tr className={t.row} data-testid="drill-row" data-drill={d.id}>
      <td className={t.cell}>
        <Link href={`/customers/${d.customerId}`} className="text-sky-700 hover:underline dark:text-sky-400">
          {d.customerName}
        </Link>
      </td>
      <td className={`${t.cell} font-medium`}>
        {d.pairId ? (
          <Link href={`/customers/${d.customerId}/pairs/${d.pairId}`} className="text-sky-700 hover:underline dark:text-sky-400">
            {what}
          </Link>
        ) : (
          what
        )}
      </td>
      <td className={t.cell}>
        {editing ? (
          <form
            className="flex items-center gap-1"
            aria-label="Change how often"
            onSubmit={(e) => {
              e.preventDefault();
              update.mutate({ id: d.id, everyDays: Number(everyDays) });
            }}
          >
            <label htmlFor={`every-${d.id}`} className="sr-only">
              Days between drills
            </label>
            <Input
              id={`every-${d.id}`}
              type="number"
              min={1}
              max={366}
              value={everyDays}
              onChange={(e) => setEveryDays(e.target.value)}
              className="w-20"
            />
            <Button type="submit" variant="secondary" disabled={update.isPending}>
              Save
            </Button>
          </form>
        ) : (
          every(d.everyDays)
        )}
      </td>
      <td className={`${t.cell} whitespace-nowrap`} title={d.nextDueAt}>
        {when(d.nextDueAt)}
      </td>
      <td className={t.cell}>
        {d.lastResult ? (
          <span className="inline-flex items-center gap-1">
            <Badge tone={resultTone[d.lastResult.status as keyof typeof resultTone] ?? 'slate'}>
              {d.lastResult.status.replace(/_/g, ' ')}
            </Badge>
            <span className="text-xs text-slate-500">{timeAgo(d.lastResult.createdAt)}</span>
          </span>
        ) : (
          <span className="text-slate-500">Not run yet</span>
        )}
        {d.lastPassedAt && <div className="text-xs text-slate-500">Last passed {timeAgo(d.lastPassedAt)}</div>}
      </td>
      <td className={t.cell} data-testid="drill-state">
        <DrillStatusBadge d={d} />
      </td>
      {canOperate && (
        <td className={`${t.cell} whitespace-nowrap`}>
          <div className="flex flex-wrap gap-1">
            <Button variant="ghost" onClick={() => setEditing((v) => !v)}>
              {editing ? 'Cancel' : 'Edit'}
            </Button>
            <Button variant="ghost" disabled={update.isPending} onClick={() => update.mutate({ id: d.id, enabled: !d.enabled })}>
              {d.enabled ? 'Pause' : 'Resume'}
            </Button>
            <Button
              variant="ghost"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(`Remove the drill of ${what} (${d.customerName})?`)) remove.mutate({ id: d.id });
              }}
            >
              Remove
            </Button>
          </div>
          {err && <ErrorBanner message={err.message} />}
        </td>
      )}
    </tr>
  );
}

function NewDrill({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const customers = useQuery(trpc.customer.list.queryOptions());
  const [customerId, setCustomerId] = useState('');
  const pairs = useQuery({ ...trpc.pair.list.queryOptions({ customerId }), enabled: customerId !== '' });
  const [pairId, setPairId] = useState('');
  const [everyDays, setEveryDays] = useState('30');
  const [firstDueAt, setFirstDueAt] = useState('');
  const create = useMutation(
    trpc.drill.create.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.drill.pathKey() });
        onDone();
      },
    }),
  );
  const err = create.error ? describeError(create.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({
      customerId,
      pairId: pairId || null,
      everyDays: Number(everyDays),
      // datetime-local is the browser's local time; sent as an instant.
      firstDueAt: firstDueAt ? new Date(firstDueAt).toISOString() : undefined,
    });
  };
  return (
    <Card className="mb-4">
      <form onSubmit={submit} className="grid gap-3 md:grid-cols-2" aria-label="Schedule a drill">
        <Field id="drill-customer" label="Customer" error={err?.fields.customerId}>
          <Select
            id="drill-customer"
            value={customerId}
            onChange={(e) => {
              setCustomerId(e.target.value);
              setPairId('');
            }}
            required
          >
            <option value="">Choose a customer…</option>
            {customers.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          id="drill-pair"
          label="What to test"
          help="One pair, or every pair of the customer that is protected when the drill runs."
          error={err?.fields.pairId}
        >
          <Select id="drill-pair" value={pairId} onChange={(e) => setPairId(e.target.value)} disabled={!customerId}>
            <option value="">Every protected pair of the customer</option>
            {pairs.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.status.replace(/_/g, ' ')})
              </option>
            ))}
          </Select>
        </Field>
        <Field
          id="drill-every"
          label="Days between drills"
          help="7 weekly, 30 monthly, 91 quarterly (1 to 366)."
          error={err?.fields.everyDays}
        >
          <Input
            id="drill-every"
            type="number"
            min={1}
            max={366}
            value={everyDays}
            onChange={(e) => setEveryDays(e.target.value)}
            list="drill-presets"
            required
            aria-invalid={!!err?.fields.everyDays}
          />
          <datalist id="drill-presets">
            {presets.map((p) => (
              <option key={p.days} value={p.days} label={p.label} />
            ))}
          </datalist>
        </Field>
        <Field
          id="drill-first"
          label="First drill (optional)"
          help="Leave empty for one period from now."
          error={err?.fields.firstDueAt}
        >
          <Input id="drill-first" type="datetime-local" value={firstDueAt} onChange={(e) => setFirstDueAt(e.target.value)} />
        </Field>
        <div className="md:col-span-2">
          <ErrorBanner message={err && Object.keys(err.fields).length === 0 ? err.message : null} />
        </div>
        <div className="flex gap-2 md:col-span-2">
          <Button type="submit" disabled={create.isPending || !customerId}>
            Schedule
          </Button>
          <Button type="button" variant="secondary" onClick={onDone}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}
