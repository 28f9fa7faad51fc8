'use client';

import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { bytes, duration } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { MonitoringBadge, PairStatusBadge } from './status-badge';
import { ReadinessScore } from './validation/readiness';
import { Card, tableStyles as t } from './ui';

/** The customer's protection pairs with their replication state, live; operators can start a new one. */
export function Pairs({ customerId, canOperate = false }: { customerId: string; canOperate?: boolean }) {
  const trpc = useTRPC();
  const pairs = useQuery({ ...trpc.pair.list.queryOptions({ customerId }), refetchInterval: 5_000 });
  const empty = !pairs.data || pairs.data.length === 0;
  if (empty && !canOperate) return null;
  return (
    <Card className="mb-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Protection pairs</h2>
        {canOperate && (
          <Link
            href={`/customers/${customerId}/pairs/new`}
            className="inline-flex items-center justify-center rounded-md bg-sky-700 px-3 py-2 text-sm font-medium text-white hover:bg-sky-800 dark:bg-sky-600 dark:hover:bg-sky-500"
          >
            New protection
          </Link>
        )}
      </div>
      {empty ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">No protection pairs yet. Start one with “New protection”.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className={t.table}>
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Pair</th>
                <th className={t.cell}>Source → target</th>
                <th className={t.cell}>Status</th>
                <th className={t.cell}>Lag</th>
                <th className={t.cell}>Queue</th>
                <th className={t.cell}>Readiness</th>
              </tr>
            </thead>
            <tbody>
              {(pairs.data ?? []).map((p) => (
                <tr key={p.id} className={t.row} data-testid="pair-row">
                  <td className={t.cell}>
                    <Link
                      className="font-medium text-sky-700 hover:underline dark:text-sky-400"
                      href={`/customers/${customerId}/pairs/${p.id}`}
                    >
                      {p.name}
                    </Link>
                  </td>
                  <td className={t.cell}>
                    {p.source.hostname} → {p.target.hostname}
                  </td>
                  <td className={t.cell}>
                    <span className="flex flex-wrap gap-1">
                      <PairStatusBadge status={p.status} />
                      {p.monitoringStatus !== 'off' && <MonitoringBadge status={p.monitoringStatus} />}
                    </span>
                  </td>
                  <td className={t.cell}>{p.latest?.lagSeconds == null ? '—' : duration(p.latest.lagSeconds)}</td>
                  <td className={t.cell}>{p.latest ? bytes(p.latest.queueBytes) : '—'}</td>
                  <td className={t.cell}>
                    <ReadinessScore score={p.readinessScore} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
