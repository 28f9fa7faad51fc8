'use client';

// The pair's DNS records that move at failover with what the DNS servers answer now (asked
// through the DNS executor's agent). An answer that could not be had says why.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Badge, Button, Card, ErrorBanner, tableStyles } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function DnsRecordsCard({ pairId, failedOver }: { pairId: string; failedOver: boolean }) {
  const trpc = useTRPC();
  // Each read asks a DNS server through an agent: on open and on the button, not in a loop.
  const q = useQuery({ ...trpc.pair.dnsRecords.queryOptions({ pairId }), staleTime: 60_000, refetchOnWindowFocus: false, retry: false });
  // A failover or failback just ended: the answers have changed, ask again.
  const { refetch } = q;
  const seen = useRef(failedOver);
  useEffect(() => {
    if (seen.current === failedOver) return;
    seen.current = failedOver;
    void refetch();
  }, [failedOver, refetch]);
  const d = q.data;
  if (d && !d.configured) return null;
  return (
    <Card className="mb-4">
      <section aria-label="DNS records">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-lg font-semibold">DNS records</h2>
          <Button variant="secondary" onClick={() => void q.refetch()} disabled={q.isFetching}>
            {q.isFetching ? 'Asking…' : 'Refresh answers'}
          </Button>
        </div>
        <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">
          {failedOver
            ? 'These records point at the target while the pair is failed over.'
            : 'These records move to the target at failover.'}
          {d && !d.picked && ' None were picked in the settings, so the source name’s own addresses are shown.'}
          {d?.executor && ` Asked through ${d.executor.hostname}${d.server ? `, answered by ${d.server}` : ''}.`}
        </p>
        {q.error ? (
          <ErrorBanner message={describeError(q.error).message} />
        ) : !d ? (
          <p className="text-sm text-slate-500">Asking the DNS servers…</p>
        ) : d.records.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">No records to show.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className={tableStyles.table} aria-label="DNS records and their answers">
              <thead className={tableStyles.head}>
                <tr>
                  <th className={tableStyles.cell}>Name</th>
                  <th className={tableStyles.cell}>Type</th>
                  <th className={tableStyles.cell}>Answer now</th>
                  <th className={tableStyles.cell}>TTL</th>
                </tr>
              </thead>
              <tbody>
                {d.records.map((r) => (
                  <tr key={`${r.zone}|${r.name}|${r.type}`} className={tableStyles.row} data-record={`${r.name} ${r.type}`} data-state={r.state}>
                    <td className={`${tableStyles.cell} font-mono text-xs`}>{r.name}</td>
                    <td className={tableStyles.cell}>{r.type}</td>
                    <td className={tableStyles.cell}>
                      {r.state === 'unknown' ? (
                        <span>
                          <Badge tone="amber">Unknown</Badge> <span className="text-xs text-slate-600 dark:text-slate-400">{r.reason}</span>
                        </span>
                      ) : r.values.length === 0 ? (
                        <span className="text-xs text-slate-600 dark:text-slate-400">{r.reason ?? 'No record'}</span>
                      ) : (
                        <span className="font-mono text-xs">{r.values.join(', ')}</span>
                      )}
                    </td>
                    <td className={`${tableStyles.cell} tabular-nums`}>{r.ttl === null ? '—' : `${r.ttl} s`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Card>
  );
}
