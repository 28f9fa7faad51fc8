'use client';

import Link from 'next/link';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { pairStatuses, pairStatusInfo, type PairStatus } from '@tandem/engine';
import { PairStatusBadge } from '@/components/status-badge';
import { Badge, Button, Card, ErrorBanner, Input, PageHeader, Select, tableStyles as t } from '@/components/ui';
import { duration } from '@/lib/format';
import type { DashboardCustomer, DashboardSummary } from '@/server/routers/dashboard/summary';
import { describeError, useTRPC } from '@/trpc/client';
import { useBatchedRefresh, useStreamUp } from '@/trpc/live';
import { DrillsPanel } from './drills-panel';

type SortKey = 'name' | 'lag' | 'pending' | 'offline';
type Sort = { key: SortKey; dir: 'asc' | 'desc' };

const sortLabels: Record<SortKey, string> = {
  name: 'Name (A–Z)',
  lag: 'Worst lag (highest first)',
  pending: 'Waiting for decision (most first)',
  offline: 'Agents offline (most first)',
};
/** Name reads A–Z; the problem columns put the worst first. */
const defaultDir: Record<SortKey, 'asc' | 'desc'> = { name: 'asc', lag: 'desc', pending: 'desc', offline: 'desc' };

const sortValue: Record<Exclude<SortKey, 'name'>, (c: DashboardCustomer) => number> = {
  lag: (c) => c.worstLagSeconds ?? -1,
  pending: (c) => c.pending,
  offline: (c) => c.agentsOffline,
};

const byName = (a: DashboardCustomer, b: DashboardCustomer) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });

function compare(sort: Sort) {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return (a: DashboardCustomer, b: DashboardCustomer) => {
    if (sort.key === 'name') return sign * byName(a, b);
    const value = sortValue[sort.key];
    return sign * (value(a) - value(b)) || byName(a, b);
  };
}

/**
 * The MSP's landing page: every customer with its pairs by status, worst current lag, pairs
 * waiting for a failover decision and agents offline. The whole list arrives in one call, refetched
 * when something in the organization changes (dashboard.live); sorting and filtering happen here,
 * without a round trip.
 */
export function DashboardView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // A change anywhere in the organization refetches the summary, at most every 2 s (lag samples
  // of many pairs arrive all the time); only while the stream is down does the page poll.
  const refresh = useBatchedRefresh<'summary'>(() => void qc.invalidateQueries({ queryKey: trpc.dashboard.summary.queryKey() }), 2_000);
  const stream = useStreamUp();
  const live = useSubscription(
    trpc.dashboard.live.subscriptionOptions(undefined, {
      onConnectionStateChange: stream.handlers.onConnectionStateChange,
      onError: stream.handlers.onError,
      onData: ({ data }) => {
        stream.handlers.seen(data);
        refresh(['summary']);
      },
    }),
  );
  const summary = useQuery({ ...trpc.dashboard.summary.queryOptions(), refetchInterval: stream.up(live.status) ? false : 5_000 });
  const [search, setSearch] = useState('');
  const [attentionOnly, setAttentionOnly] = useState(false);
  const [status, setStatus] = useState<PairStatus | ''>('');
  const [sort, setSort] = useState<Sort>({ key: 'name', dir: 'asc' });

  const data = summary.data;
  const rows = useMemo(() => {
    if (!data) return [];
    const needle = search.trim().toLowerCase();
    return data.customers
      .filter((c) => (!needle || c.name.toLowerCase().includes(needle)) && (!attentionOnly || c.needsAttention) && (!status || c.byStatus[status] > 0))
      .sort(compare(sort));
  }, [data, search, attentionOnly, status, sort]);

  const sortBy = (key: SortKey) => setSort((s) => (s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: defaultDir[key] }));
  const filtered = search.trim() !== '' || attentionOnly || status !== '';
  const clearFilters = () => {
    setSearch('');
    setAttentionOnly(false);
    setStatus('');
  };

  return (
    <>
      <PageHeader title="Dashboard" description="Every customer at a glance. Live: refreshes every 5 seconds." />
      {summary.error && (
        <div className="mb-4">
          <ErrorBanner message={`${data ? 'Could not refresh' : 'Could not load the dashboard'}: ${describeError(summary.error).message}`} />
        </div>
      )}
      {!data && !summary.error && <p className="text-sm text-slate-500">Loading…</p>}
      {data && (
        <>
          <Totals totals={data.totals} attentionLagSeconds={data.attentionLagSeconds} />
          <DrillsPanel />
          <Card>
            <div className="mb-3 grid grid-cols-2 gap-3 lg:grid-cols-4" role="search" aria-label="Filter customers">
              <div className="col-span-2 lg:col-span-1">
                <label htmlFor="dashboard-search" className="mb-1 block text-sm font-medium">
                  Search
                </label>
                <Input id="dashboard-search" type="search" placeholder="Customer name" value={search} onChange={(e) => setSearch(e.target.value)} />
              </div>
              <div>
                <label htmlFor="dashboard-show" className="mb-1 block text-sm font-medium">
                  Show
                </label>
                <Select id="dashboard-show" value={attentionOnly ? 'attention' : 'all'} onChange={(e) => setAttentionOnly(e.target.value === 'attention')}>
                  <option value="all">All customers</option>
                  <option value="attention">Needs attention</option>
                </Select>
              </div>
              <div>
                <label htmlFor="dashboard-status" className="mb-1 block text-sm font-medium">
                  With a pair that is
                </label>
                <Select id="dashboard-status" value={status} onChange={(e) => setStatus(e.target.value as PairStatus | '')}>
                  <option value="">Any status</option>
                  {pairStatuses.map((s) => (
                    <option key={s} value={s}>
                      {pairStatusInfo[s].label} ({data.totals.byStatus[s]})
                    </option>
                  ))}
                </Select>
              </div>
              <div>
                <label htmlFor="dashboard-sort" className="mb-1 block text-sm font-medium">
                  Sort by
                </label>
                <Select id="dashboard-sort" value={sort.key} onChange={(e) => setSort({ key: e.target.value as SortKey, dir: defaultDir[e.target.value as SortKey] })}>
                  {(Object.keys(sortLabels) as SortKey[]).map((k) => (
                    <option key={k} value={k}>
                      {sortLabels[k]}
                    </option>
                  ))}
                </Select>
              </div>
            </div>
            <p className="mb-2 text-xs text-slate-500 dark:text-slate-400" aria-live="polite" data-testid="dashboard-count">
              Showing {rows.length} of {data.customers.length} customers.
              {filtered && (
                <button type="button" onClick={clearFilters} className="ml-2 text-sky-700 hover:underline dark:text-sky-400">
                  Clear filters
                </button>
              )}
            </p>
            {data.customers.length === 0 ? (
              <p className="text-sm text-slate-500">
                No customers yet.{' '}
                <Link href="/customers" className="text-sky-700 hover:underline dark:text-sky-400">
                  Add your first customer
                </Link>
                .
              </p>
            ) : rows.length === 0 ? (
              <div className="flex flex-wrap items-center gap-3 py-4 text-sm text-slate-500">
                No customer matches these filters.
                <Button variant="secondary" onClick={clearFilters}>
                  Clear filters
                </Button>
              </div>
            ) : (
              <div className="overflow-x-auto">
                <table className={t.table} data-testid="dashboard-table">
                  <thead className={t.head}>
                    <tr>
                      <SortHeader label="Customer" sortKey="name" sort={sort} onSort={sortBy} />
                      <th className={`${t.cell} whitespace-nowrap`}>Pairs</th>
                      <SortHeader label="Worst lag" sortKey="lag" sort={sort} onSort={sortBy} />
                      <SortHeader label="Waiting for decision" sortKey="pending" sort={sort} onSort={sortBy} />
                      <SortHeader label="Agents offline" sortKey="offline" sort={sort} onSort={sortBy} />
                      <th className={`${t.cell} whitespace-nowrap`}>Servers</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((c) => (
                      <CustomerRow key={c.id} c={c} attentionLagSeconds={data.attentionLagSeconds} />
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
        </>
      )}
    </>
  );
}

function SortHeader({ label, sortKey, sort, onSort }: { label: string; sortKey: SortKey; sort: Sort; onSort: (k: SortKey) => void }) {
  const active = sort.key === sortKey;
  return (
    <th className={t.cell} aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button
        type="button"
        onClick={() => onSort(sortKey)}
        className={`inline-flex items-center gap-1 whitespace-nowrap uppercase tracking-wide hover:text-slate-900 dark:hover:text-white ${active ? 'text-slate-900 dark:text-white' : ''}`}
      >
        {label}
        <span aria-hidden="true" className={active ? '' : 'opacity-0'}>
          {sort.dir === 'asc' || !active ? '▲' : '▼'}
        </span>
      </button>
    </th>
  );
}

function CustomerRow({ c, attentionLagSeconds }: { c: DashboardCustomer; attentionLagSeconds: number }) {
  const lagging = c.worstLagSeconds !== null && c.worstLagSeconds > attentionLagSeconds;
  return (
    <tr className={t.row} data-testid="dashboard-row" data-customer={c.name}>
      <td className={`${t.cell} min-w-40`}>
        <Link href={`/customers/${c.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {c.name}
        </Link>
        {c.needsAttention && (
          <div className="mt-1">
            <Badge tone="amber">Needs attention</Badge>
          </div>
        )}
      </td>
      <td className={`${t.cell} min-w-48`} data-testid="pairs-cell">
        {c.pairs === 0 ? (
          <span className="text-slate-500 dark:text-slate-400">No pairs</span>
        ) : (
          <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
            <span className="sr-only">{c.pairs} pairs:</span>
            {pairStatuses
              .filter((s) => c.byStatus[s] > 0)
              .map((s) => (
                <span key={s} className="inline-flex items-center gap-1 whitespace-nowrap" data-status-count={s}>
                  <PairStatusBadge status={s} />
                  <span className="tabular-nums">{c.byStatus[s]}</span>
                </span>
              ))}
          </div>
        )}
      </td>
      <td className={`${t.cell} whitespace-nowrap tabular-nums`} data-testid="lag-cell">
        {c.worstLagSeconds === null ? (
          <span className="text-slate-500 dark:text-slate-400">—</span>
        ) : (
          <span className={lagging ? 'font-semibold text-red-700 dark:text-red-400' : ''}>{duration(c.worstLagSeconds)}</span>
        )}
      </td>
      <td className={`${t.cell} tabular-nums`} data-testid="pending-cell">
        {c.pending > 0 ? <Badge tone="red">{c.pending}</Badge> : <span className="text-slate-500 dark:text-slate-400">0</span>}
      </td>
      <td className={`${t.cell} whitespace-nowrap tabular-nums`} data-testid="offline-cell">
        {c.agentsOffline > 0 ? <Badge tone="red">{c.agentsOffline}</Badge> : <span className="text-slate-500 dark:text-slate-400">0</span>}
        {c.neverConnected > 0 && (
          <span className="ml-2 text-xs text-slate-500 dark:text-slate-400" title="Servers whose agent has not connected yet">
            {c.neverConnected} never connected
          </span>
        )}
      </td>
      <td className={`${t.cell} tabular-nums`}>{c.servers}</td>
    </tr>
  );
}

function Tile({ label, value, detail, tone, testId }: { label: string; value: ReactNode; detail?: ReactNode; tone?: 'danger' | 'good'; testId: string }) {
  const colour = tone === 'danger' ? 'text-red-700 dark:text-red-400' : tone === 'good' ? 'text-emerald-700 dark:text-emerald-400' : '';
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid={testId}>
      <div className="text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</div>
      <div className={`mt-1 text-2xl font-semibold tabular-nums ${colour}`}>{value}</div>
      {detail && <div className="mt-1 text-xs text-slate-600 dark:text-slate-400">{detail}</div>}
    </div>
  );
}

function Totals({ totals, attentionLagSeconds }: { totals: DashboardSummary['totals']; attentionLagSeconds: number }) {
  return (
    <div className="mb-4">
      <div className="grid grid-cols-2 gap-3 md:grid-cols-3 lg:grid-cols-5">
        <Tile
          testId="total-customers"
          label="Customers"
          value={totals.customers}
          detail={totals.needsAttention > 0 ? `${totals.needsAttention} need attention` : 'None needs attention'}
        />
        <Tile testId="total-pairs" label="Pairs" value={totals.pairs} detail={`${totals.byStatus.protected} protected`} />
        <Tile
          testId="total-lag"
          label="Worst lag"
          value={totals.worstLagSeconds === null ? '—' : duration(totals.worstLagSeconds)}
          tone={totals.worstLagSeconds !== null && totals.worstLagSeconds > attentionLagSeconds ? 'danger' : undefined}
          detail={`Attention above ${duration(attentionLagSeconds)}`}
        />
        <Tile testId="total-pending" label="Waiting for decision" value={totals.pending} tone={totals.pending > 0 ? 'danger' : undefined} detail="Failovers pending" />
        <Tile
          testId="total-offline"
          label="Agents offline"
          value={totals.agentsOffline}
          tone={totals.agentsOffline > 0 ? 'danger' : undefined}
          detail={`${totals.agentsOnline} online${totals.neverConnected > 0 ? `, ${totals.neverConnected} never connected` : ''}`}
        />
      </div>
      {totals.pairs > 0 && (
        <div className="mt-3 flex flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="total-by-status">
          <span className="text-slate-600 dark:text-slate-400">All pairs:</span>
          {pairStatuses
            .filter((s) => totals.byStatus[s] > 0)
            .map((s) => (
              <span key={s} className="inline-flex items-center gap-1 whitespace-nowrap" data-status-count={s}>
                <PairStatusBadge status={s} />
                <span className="tabular-nums">{totals.byStatus[s]}</span>
              </span>
            ))}
        </div>
      )}
    </div>
  );
}
