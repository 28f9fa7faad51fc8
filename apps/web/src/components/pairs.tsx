'use client';

import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { bytes, duration } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { Badge, Card, tableStyles as t } from './ui';

/** The customer's protection pairs with their replication state, live. */
export function Pairs({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const pairs = useQuery({ ...trpc.pair.list.queryOptions({ customerId }), refetchInterval: 5_000 });
  if (!pairs.data || pairs.data.length === 0) return null;
  return (
    <Card className="mb-4">
      <h2 className="mb-3 text-lg font-semibold">Protection pairs</h2>
      <div className="overflow-x-auto">
        <table className={t.table}>
          <thead className={t.head}>
            <tr>
              <th className={t.cell}>Pair</th>
              <th className={t.cell}>Source → target</th>
              <th className={t.cell}>Status</th>
              <th className={t.cell}>Lag</th>
              <th className={t.cell}>Queue</th>
            </tr>
          </thead>
          <tbody>
            {pairs.data.map((p) => (
              <tr key={p.id} className={t.row}>
                <td className={t.cell}>
                  <Link className="font-medium text-sky-700 hover:underline dark:text-sky-400" href={`/customers/${customerId}/pairs/${p.id}`}>
                    {p.name}
                  </Link>
                </td>
                <td className={t.cell}>
                  {p.source.hostname} → {p.target.hostname}
                </td>
                <td className={t.cell}>
                  <Badge tone={p.status === 'protected' ? 'green' : p.status.startsWith('fail') ? 'red' : 'sky'}>{p.status.replaceAll('_', ' ')}</Badge>
                </td>
                <td className={t.cell}>{p.latest?.lagSeconds == null ? '—' : duration(p.latest.lagSeconds)}</td>
                <td className={t.cell}>{p.latest ? bytes(p.latest.queueBytes) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
