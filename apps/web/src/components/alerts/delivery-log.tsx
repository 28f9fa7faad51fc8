'use client';

// The delivery log: one row per message to one channel or person, with its attempts, the last
// response code and error, and "Redeliver". With a customer: that customer's deliveries only.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { Badge, Button, Card, ErrorBanner, Select, tableStyles as t } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';

type Status = 'pending' | 'delivered' | 'failed';
const statusTone = { pending: 'amber', delivered: 'green', failed: 'red' } as const;

export function DeliveryLog({ customerId, canRedeliver }: { customerId?: string; canRedeliver: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [status, setStatus] = useState<Status | ''>('');
  const [channelId, setChannelId] = useState('');
  const [page, setPage] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const filters = { status: status || undefined, page };
  const staff = useQuery({ ...trpc.alert.delivery.list.queryOptions({ ...filters, channelId: channelId || undefined }), enabled: !customerId, refetchInterval: 5_000 });
  const forCustomer = useQuery({ ...trpc.alert.delivery.listForCustomer.queryOptions({ ...filters, customerId: customerId ?? '' }), enabled: !!customerId, refetchInterval: 5_000 });
  const list = customerId ? forCustomer : staff;
  const channels = useQuery({ ...trpc.alert.channel.list.queryOptions(), enabled: !customerId });
  const redeliver = useMutation(trpc.alert.delivery.redeliver.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.alert.delivery.pathKey() }) }));
  const cols = customerId ? 7 : 8;

  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-end justify-between gap-2">
        <h2 className="text-lg font-semibold">Delivery log</h2>
        <div className="flex flex-wrap gap-2">
          <Select aria-label="Filter by status" value={status} onChange={(e) => (setStatus(e.target.value as Status | ''), setPage(0))} className="w-auto">
            <option value="">Any status</option>
            <option value="pending">Pending</option>
            <option value="delivered">Delivered</option>
            <option value="failed">Failed</option>
          </Select>
          {!customerId && (
            <Select aria-label="Filter by channel" value={channelId} onChange={(e) => (setChannelId(e.target.value), setPage(0))} className="w-auto">
              <option value="">Any channel</option>
              {channels.data?.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          )}
        </div>
      </div>
      {list.error && <ErrorBanner message={describeError(list.error).message} />}
      {list.data?.items.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">No deliveries{status ? ` with status ${status}` : ''}.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="overflow-x-auto">
          <table className={t.table} aria-label="Delivery log">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>When</th>
                <th className={t.cell}>Event</th>
                {!customerId && <th className={t.cell}>Customer</th>}
                <th className={t.cell}>To</th>
                <th className={t.cell}>Status</th>
                <th className={t.cell}>Attempts</th>
                <th className={t.cell}>Last code / error</th>
                <th className={t.cell}>Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <Fragment key={d.id}>
                  <tr className={t.row} data-delivery={d.id} data-status={d.status}>
                    <td className={t.cell}>
                      <span title={new Date(d.createdAt).toLocaleString()}>{timeAgo(d.createdAt)}</span>
                    </td>
                    <td className={t.cell}>
                      <div className="font-medium">{d.summary}</div>
                      <div className="font-mono text-xs text-slate-500">{d.event}</div>
                    </td>
                    {!customerId && <td className={t.cell}>{d.customerName ?? 'Organization'}</td>}
                    <td className={`${t.cell} break-all`}>
                      {d.channelName && <div>{d.channelName}</div>}
                      <div className="font-mono text-xs text-slate-500">{d.recipient}</div>
                    </td>
                    <td className={t.cell}>
                      <Badge tone={statusTone[d.status]}>{d.status}</Badge>
                      {d.nextAttemptAt && d.attempts > 0 && <div className="text-xs text-slate-500">retry {new Date(d.nextAttemptAt).toLocaleTimeString()}</div>}
                    </td>
                    <td className={t.cell}>{d.attempts}</td>
                    <td className={t.cell}>
                      {d.lastStatusCode !== null && <span className="font-mono">{d.lastStatusCode}</span>}
                      {d.lastError && <div className="text-xs text-red-700 dark:text-red-400">{d.lastError}</div>}
                      {d.lastStatusCode === null && !d.lastError && '—'}
                    </td>
                    <td className={t.cell}>
                      <div className="flex flex-wrap gap-1">
                        {d.log.length > 0 && (
                          <Button variant="ghost" aria-expanded={open === d.id} onClick={() => setOpen(open === d.id ? null : d.id)}>
                            {open === d.id ? 'Hide attempts' : 'Attempts'}
                          </Button>
                        )}
                        {canRedeliver && d.status !== 'pending' && (
                          <Button variant="secondary" aria-label={`Redeliver ${d.summary} to ${d.recipient}`} disabled={redeliver.isPending} onClick={() => redeliver.mutate({ deliveryId: d.id })}>
                            Redeliver
                          </Button>
                        )}
                      </div>
                    </td>
                  </tr>
                  {open === d.id && (
                    <tr className={t.row}>
                      <td colSpan={cols} className={`${t.cell} bg-slate-50 dark:bg-slate-950`}>
                        <ol className="space-y-1 text-xs">
                          {d.log.map((a, i) => (
                            <li key={i} className="font-mono">
                              #{i + 1} {new Date(a.at).toLocaleString()} {a.statusCode !== undefined ? `HTTP ${a.statusCode}` : ''} {a.ms !== undefined ? `${a.ms} ms` : ''} {a.error ?? ''}
                            </li>
                          ))}
                        </ol>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (page > 0 || list.data.hasMore) && (
        <div className="mt-3 flex gap-2">
          <Button variant="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Newer
          </Button>
          <Button variant="secondary" disabled={!list.data.hasMore} onClick={() => setPage(page + 1)}>
            Older
          </Button>
        </div>
      )}
      <div className="mt-3">
        <ErrorBanner message={redeliver.error ? describeError(redeliver.error).message : null} />
      </div>
    </Card>
  );
}
