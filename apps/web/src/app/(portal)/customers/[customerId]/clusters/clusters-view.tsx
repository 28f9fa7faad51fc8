'use client';

// A customer's clusters, as their nodes' agents report them: stack, nodes, resources running,
// fencing, and how many configuration versions are kept.
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { Badge, Card, ErrorBanner, PageHeader, tableStyles as t } from '@/components/ui';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';

export const stackLabels: Record<string, string> = {
  pacemaker: 'Pacemaker',
  'windows-failover-cluster': 'Windows failover cluster',
};
export const clusterHref = (customerId: string, stack: string, name: string) =>
  `/customers/${customerId}/clusters/${encodeURIComponent(stack)}/${encodeURIComponent(name)}`;

export function FencingBadge({ fencing }: { fencing: { enabled: boolean | null; devices: number } | null }) {
  if (!fencing || fencing.enabled === null) return <Badge tone="slate">Fencing unknown</Badge>;
  if (!fencing.enabled) return <Badge tone="amber">Fencing off</Badge>;
  return (
    <Badge tone={fencing.devices > 0 ? 'green' : 'red'}>
      {fencing.devices > 0
        ? `Fencing on (${fencing.devices} ${fencing.devices === 1 ? 'device' : 'devices'})`
        : 'Fencing on, no device'}
    </Badge>
  );
}

export function ClustersView({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const customer = useQuery(trpc.customer.get.queryOptions({ customerId }));
  const clusters = useQuery({ ...trpc.cluster.list.queryOptions({ customerId }), refetchInterval: 15_000 });
  return (
    <>
      <PageHeader
        title={`Clusters${customer.data ? ` of ${customer.data.name}` : ''}`}
        description="Pacemaker and Windows failover clusters, as the agents on their nodes report them."
        actions={
          <Link href={`/customers/${customerId}`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            Back to the customer
          </Link>
        }
      />
      <Card>
        {clusters.error && <ErrorBanner message={describeError(clusters.error).message} />}
        {!clusters.data && !clusters.error && <p className="text-sm text-slate-500">Loading…</p>}
        {clusters.data?.length === 0 && <p className="text-sm text-slate-500">No server of this customer reports a cluster.</p>}
        {clusters.data && clusters.data.length > 0 && (
          <table className={t.table} data-testid="clusters-table">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Cluster</th>
                <th className={t.cell}>Nodes</th>
                <th className={t.cell}>Resources</th>
                <th className={t.cell}>Fencing</th>
                <th className={t.cell}>Configuration versions</th>
              </tr>
            </thead>
            <tbody>
              {clusters.data.map((c) => (
                <tr key={`${c.stack}/${c.name}`} className={t.row} data-testid="cluster-row">
                  <td className={t.cell}>
                    <Link
                      href={clusterHref(customerId, c.stack, c.name)}
                      className="font-medium text-sky-700 hover:underline dark:text-sky-400"
                    >
                      {c.name}
                    </Link>
                    <div className="text-xs text-slate-500">
                      {stackLabels[c.stack] ?? c.stack}
                      {c.quorate === false && (
                        <>
                          {' '}
                          <Badge tone="red">No quorum</Badge>
                        </>
                      )}
                    </div>
                  </td>
                  <td className={t.cell}>
                    {c.nodes.map((n) => (
                      <span key={n.name} className="mr-2 inline-flex items-center gap-1 whitespace-nowrap">
                        <Badge tone={n.online ? 'green' : 'red'}>{n.online ? 'online' : 'offline'}</Badge> {n.name}
                      </span>
                    ))}
                  </td>
                  <td className={`${t.cell} tabular-nums`}>
                    {c.running} of {c.resources} running
                  </td>
                  <td className={t.cell}>
                    <FencingBadge fencing={c.fencing} />
                  </td>
                  <td className={t.cell}>
                    {c.versions}{' '}
                    {c.latestVersionAt && <span className="text-xs text-slate-500">(latest {timeAgo(c.latestVersionAt)})</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
