'use client';

import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/trpc/client';
import { Badge, Card, tableStyles as t } from './ui';

const labels = { postgresql: 'PostgreSQL', mariadb: 'MariaDB / MySQL', file_server: 'File server', sql_server: 'SQL Server', exchange: 'Exchange' };

/** Discovered applications and whether a protection pair covers them yet. */
export function Coverage({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const coverage = useQuery({ ...trpc.customer.coverage.queryOptions({ customerId }), refetchInterval: 15_000 });
  const rows = coverage.data ?? [];
  const uncovered = rows.filter((r) => !r.covered);
  return (
    <Card className="mb-4">
      <h2 className="text-lg font-semibold">Coverage</h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
        Applications the agents found on this customer’s servers.{' '}
        {rows.length > 0 && (uncovered.length ? `${uncovered.length} not protected yet.` : 'All are protected.')}
      </p>
      {rows.length === 0 ? (
        <p className="text-sm text-slate-500">No applications discovered yet (servers report them when their agent connects).</p>
      ) : (
        <div className="overflow-x-auto">
          <table className={t.table} data-testid="coverage-table">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Server</th>
                <th className={t.cell}>Application</th>
                <th className={t.cell}>Details</th>
                <th className={t.cell}>Protection</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${r.serverId}-${r.application}-${i}`} className={t.row}>
                  <td className={t.cell}>
                    <Link className="text-sky-700 hover:underline dark:text-sky-400" href={`/customers/${customerId}/servers/${r.serverId}`}>
                      {r.hostname}
                    </Link>
                  </td>
                  <td className={t.cell}>{labels[r.application]}</td>
                  <td className={t.cell}>{r.detail}</td>
                  <td className={t.cell}>{r.covered ? <Badge tone="green">protected</Badge> : <Badge tone="amber">not protected</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
