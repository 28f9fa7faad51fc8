'use client';

import Link from 'next/link';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useState } from 'react';
import {
  applicationLabels,
  inFlightStatuses,
  isEnabled,
  monitoringStatusInfo,
  pairStatusInfo,
  type Application,
  type MonitoringStatus,
  type PairStatus,
} from '@tandem/engine';
import type { PairChange } from '@tandem/agent-bus/live';
import { MonitoringBadge, PairStatusBadge } from '@/components/status-badge';
import { Button, Card, ErrorBanner, PageHeader } from '@/components/ui';
import { bytes, duration } from '@/lib/format';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { useBatchedRefresh, useStreamUp } from '@/trpc/live';
import { DnsRecordsCard } from './dns-records';
import { FailedOverNotice, FailoverHistoryCard, runbookOps } from './failover-history';
import { activeOperationStatuses, EventsCard, MonitorCard, OperationsCard, type OperationView } from './pair-activity';
import { ProtectionControls } from './pair-controls';
import { CustomerTestControls } from './customer-test-controls';
import { RecoveryControls } from './recovery-controls';
import { TestsCard } from './tests-card';
import { PairPolicyCard } from '@/components/approvals/pair-policy-card';
import { ValidationCard } from '@/components/validation/validation-card';

type LiveQuery = 'get' | 'operations' | 'events' | 'settings';
const allLiveQueries: LiveQuery[] = ['get', 'operations', 'events', 'settings'];
/** What each kind of pair notice makes the page refetch. */
const refreshedBy: Record<PairChange, LiveQuery[]> = {
  status: allLiveQueries,
  operation: allLiveQueries,
  settings: allLiveQueries,
  event: ['events', 'get'],
  lag: ['get'],
  monitor: ['settings'],
};

/** Statuses in which things change by the second: the page polls faster (when the stream is down). */
const fastStatuses: readonly string[] = ['mirroring', ...inFlightStatuses];

export function PairView({
  pairId,
  canOperate,
  canConfirmPrivileged = false,
  isStaff,
  canRequestTest = false,
}: {
  pairId: string;
  canOperate: boolean;
  canConfirmPrivileged?: boolean;
  isStaff: boolean;
  /** A customer's approver: only the test failover of the recovery controls. */
  canRequestTest?: boolean;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [span, setSpan] = useState<'hour' | 'day'>('hour');
  // Live without reloading: the pair's notices (pair.live) say what changed and the page refetches
  // it. Only while that stream is down does the page poll: every 2 s while an operation runs or
  // the pair is mirroring, else 5 s.
  const refresh = useBatchedRefresh<LiveQuery>((due) => {
    for (const q of due) void qc.invalidateQueries({ queryKey: trpc.pair[q].queryKey({ pairId }) });
    // Open timelines and dry runs (pair.operation) follow the operation notices.
    if (due.has('operations')) void qc.invalidateQueries({ queryKey: trpc.pair.operation.pathKey() });
    // Validation runs, fixes and acknowledgements arrive as operation and event notices.
    if (due.has('operations') || due.has('events')) void qc.invalidateQueries({ queryKey: trpc.validation.pathKey() });
  }, 300);
  // The chart needs no more than a point every 15 s.
  const refreshHistory = useBatchedRefresh<'history'>(() => void qc.invalidateQueries({ queryKey: trpc.pair.history.pathKey() }), 15_000);
  const stream = useStreamUp();
  const live = useSubscription(
    trpc.pair.live.subscriptionOptions(
      { pairId },
      {
        onConnectionStateChange: stream.handlers.onConnectionStateChange,
        onError: stream.handlers.onError,
        onData: ({ data: n }) => {
          stream.handlers.seen(n);
          refresh(n.kind === 'pair' ? refreshedBy[n.change] : n.kind === 'server' ? ['get', 'settings'] : allLiveQueries);
          if (n.kind === 'sync' || (n.kind === 'pair' && n.change === 'lag')) refreshHistory(['history']);
        },
      },
    ),
  );
  const connected = stream.up(live.status);
  const interval = () => {
    if (connected) return false;
    const ops = qc.getQueryData(trpc.pair.operations.queryKey({ pairId }));
    const current = qc.getQueryData(trpc.pair.get.queryKey({ pairId }));
    const running = ops?.some((o) => activeOperationStatuses.includes(o.status)) ?? false;
    return running || (current && fastStatuses.includes(current.status)) ? 2_000 : 5_000;
  };
  const pair = useQuery({ ...trpc.pair.get.queryOptions({ pairId }), refetchInterval: interval });
  const operations = useQuery({ ...trpc.pair.operations.queryOptions({ pairId }), refetchInterval: interval });
  const events = useQuery({ ...trpc.pair.events.queryOptions({ pairId }), refetchInterval: interval });
  // Stored settings and the monitor's view are for MSP staff only (hooks may hold internals).
  const settings = useQuery({ ...trpc.pair.settings.queryOptions({ pairId }), enabled: isStaff, refetchInterval: interval });
  const history = useQuery({
    ...trpc.pair.history.queryOptions({ pairId, window: span }),
    refetchInterval: connected ? false : span === 'hour' ? 15_000 : 60_000,
  });

  if (pair.error) return <ErrorBanner message={describeError(pair.error).message} />;
  if (!pair.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const p = pair.data;
  const busy = operations.data?.some((o) => activeOperationStatuses.includes(o.status)) ?? false;
  const statusInfo = pairStatusInfo[p.status as PairStatus];
  const monitoringInfo = monitoringStatusInfo[p.monitoringStatus as MonitoringStatus];
  const cfg = settings.data;
  const l = p.latest;
  const total = p.mirrorBytesTotal ?? 0;
  const done = l && total > 0 ? Math.min(1, 1 - l.mirrorBytesLeft / total) : l ? 1 : 0;
  const eta = l && l.mirrorBytesLeft > 0 && l.throughputBps > 0 ? l.mirrorBytesLeft / l.throughputBps : null;
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href={`/customers/${p.customerId}`} className="text-sky-700 hover:underline dark:text-sky-400">
          ← {p.customerName}
        </Link>
      </p>
      <PageHeader
        title={p.name}
        description={`${p.source.hostname} → ${p.target.hostname} · ${applicationLabels[p.application as Application] ?? p.application} · ${p.replicationMethod.replaceAll('_', ' ')}`}
      />
      <Card className="mb-4">
        <div className="flex flex-wrap items-center gap-2" data-testid="pair-status" data-live={connected ? 'on' : 'off'}>
          <PairStatusBadge status={p.status} />
          <MonitoringBadge status={p.monitoringStatus} />
        </div>
        <p className="mt-2 text-sm">
          {statusInfo?.description ?? ''}
          {monitoringInfo && <span className="text-slate-600 dark:text-slate-400"> {monitoringInfo.description}</span>}
        </p>
        {p.status === 'failover_pending' && (
          <div
            role="alert"
            className="mt-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
          >
            <p>
              The failure monitor decided that {p.source.hostname} is lost: the detection event below shows which observers agreed
              and which addresses stopped answering.
              {cfg?.settings &&
                !cfg.autoFailoverMarked &&
                (cfg.settings.failover.manualIntervention
                  ? ' Manual intervention is on, so nothing moves until an operator starts the failover.'
                  : '')}
            </p>
          </div>
        )}
        {cfg?.autoFailoverMarked && (
          <div
            role="status"
            data-testid="auto-failover-marked"
            className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
          >
            Marked for automatic failover: manual intervention is off, so Tandem starts the failover by itself.
          </div>
        )}
        {p.status === 'failed_over' && (
          <FailedOverNotice
            lastFailover={runbookOps(operations.data).find((o) => o.kind === 'failover')}
            sourceHeldAt={p.sourceHeldAt}
            sourceHostname={p.source.hostname}
          />
        )}
      </Card>
      {canOperate && (
        <RecoveryControls
          customerId={p.customerId}
          replicationMethod={p.replicationMethod}
          pairId={pairId}
          pairName={p.name}
          status={p.status}
          sourceHostname={p.source.hostname}
          targetHostname={p.target.hostname}
          defaultMode={cfg?.settings?.failover.mode ?? 'graceful'}
          failoverEnabled={cfg?.settings?.failover.enabled ?? true}
          busy={busy}
          live={connected}
        />
      )}
      {!canOperate && canRequestTest && (
        <CustomerTestControls
          customerId={p.customerId}
          pairId={pairId}
          pairName={p.name}
          status={p.status}
          replicationMethod={p.replicationMethod}
          sourceHostname={p.source.hostname}
          targetHostname={p.target.hostname}
          busy={busy}
          live={connected}
        />
      )}
      {canOperate && (
        <ProtectionControls
          pairId={pairId}
          customerId={p.customerId}
          status={p.status}
          monitoringStatus={p.monitoringStatus}
          replicationMethod={p.replicationMethod}
          enabledAt={cfg?.enabledAt ?? null}
          hasSettings={cfg ? cfg.settings !== null : true}
          busy={busy}
        />
      )}
      <PairPolicyCard customerId={p.customerId} pairId={pairId} canEdit={canOperate} />
      <ValidationCard pairId={pairId} permissions={{ canOperate, canConfirmPrivileged }} live={connected} />
      <Card className="mb-4">
        <h2 className="mb-2 text-lg font-semibold">Replication</h2>
        {!l ? (
          <p className="text-sm text-slate-500">
            No statistics yet: the source agent reports them every few seconds once replication runs.
          </p>
        ) : (
          <div className="space-y-3 text-sm">
            <div>
              <div className="mb-1 flex justify-between">
                <span>Initial mirror</span>
                <span>
                  {l.mirrorBytesLeft === 0
                    ? 'complete'
                    : `${bytes(l.mirrorBytesLeft)} and ${l.mirrorFilesLeft} files left${eta ? `, about ${duration(eta)}` : ''}`}
                </span>
              </div>
              <div
                className="h-3 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-800"
                role="progressbar"
                aria-label="Mirror progress"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.round(done * 100)}
              >
                <div className="h-full bg-sky-600" style={{ width: `${Math.round(done * 100)}%` }} />
              </div>
            </div>
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
              <Stat label="Lag now (RPO)" value={l.lagSeconds === null ? 'unknown' : duration(l.lagSeconds)} />
              <Stat label="Queue" value={bytes(l.queueBytes)} />
              <Stat label="Throughput" value={`${bytes(l.throughputBps)}/s`} />
              <Stat label="Reported" value={timeAgo(l.at)} />
            </dl>
          </div>
        )}
      </Card>
      <FailoverHistoryCard operations={operations.data} live={connected} />
      <TestsCard customerId={p.customerId} pairId={pairId} operations={operations.data} live={connected} />
      <DnsRecordsCard pairId={pairId} failedOver={p.status === 'failed_over'} />
      <OperationsCard operations={operations.data} />
      {isStaff && cfg && <MonitorCard monitor={cfg.monitor} monitoringStatus={p.monitoringStatus} />}
      {/* Verify compares files: only file pairs that are replicating have two sides to compare. */}
      {canOperate && p.replicationMethod === 'file' && isEnabled(p.status as PairStatus) && (
        <VerifyCard pairId={pairId} verifyOp={operations.data?.find((o) => o.kind === 'verify')} />
      )}
      <Card className="mb-4">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="text-lg font-semibold">Lag</h2>
          <div className="flex gap-1" role="group" aria-label="Chart window">
            <Button
              variant={span === 'hour' ? 'primary' : 'secondary'}
              onClick={() => setSpan('hour')}
              aria-pressed={span === 'hour'}
            >
              Last hour
            </Button>
            <Button
              variant={span === 'day' ? 'primary' : 'secondary'}
              onClick={() => setSpan('day')}
              aria-pressed={span === 'day'}
            >
              Last day
            </Button>
          </div>
        </div>
        {history.data && <LagChart from={history.data.from} to={history.data.to} points={history.data.points} />}
      </Card>
      <EventsCard events={events.data} />
    </>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="text-base font-medium">{value}</dd>
    </div>
  );
}

/** Worst lag per bucket as an SVG line; gaps where nothing was reported. */
function LagChart({ from, to, points }: { from: string; to: string; points: { at: string; lagSeconds: number | null }[] }) {
  const w = 720;
  const h = 180;
  const pad = 32;
  const t0 = new Date(from).getTime();
  const t1 = new Date(to).getTime();
  const max = Math.max(1, ...points.map((p) => p.lagSeconds ?? 0));
  const x = (at: string) => pad + ((new Date(at).getTime() - t0) / (t1 - t0)) * (w - pad - 8);
  const y = (lag: number) => h - pad - (lag / max) * (h - pad - 8);
  const path = points
    .filter((p) => p.lagSeconds !== null)
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.lagSeconds!).toFixed(1)}`)
    .join(' ');
  if (points.length === 0) return <p className="text-sm text-slate-500">No samples in this window.</p>;
  return (
    <svg
      viewBox={`0 0 ${w} ${h}`}
      className="w-full text-sky-600"
      role="img"
      aria-label={`Lag over time; highest ${duration(max)}`}
      data-testid="lag-chart"
    >
      <line x1={pad} y1={h - pad} x2={w - 8} y2={h - pad} className="stroke-slate-300 dark:stroke-slate-700" />
      <line x1={pad} y1={8} x2={pad} y2={h - pad} className="stroke-slate-300 dark:stroke-slate-700" />
      <text x={4} y={14} className="fill-slate-500 text-[10px]">
        {duration(max)}
      </text>
      <text x={4} y={h - pad} className="fill-slate-500 text-[10px]">
        0
      </text>
      <text x={pad} y={h - 10} className="fill-slate-500 text-[10px]">
        {new Date(from).toLocaleTimeString()}
      </text>
      <text x={w - 70} y={h - 10} className="fill-slate-500 text-[10px]">
        {new Date(to).toLocaleTimeString()}
      </text>
      <path d={path} fill="none" stroke="currentColor" strokeWidth={2} />
    </svg>
  );
}

/**
 * Verify on demand: compare both sides now, list what differs, and send those files again. The
 * comparison is a worker operation (`verifyOp`, the pair's latest); its step shows progress and
 * its output is the result, fetched again each time that operation moves on.
 */
function VerifyCard({ pairId, verifyOp }: { pairId: string; verifyOp: OperationView | undefined }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const verify = useMutation(
    trpc.pair.verify.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.pair.operations.queryKey({ pairId }) }) }),
  );
  const resend = useMutation(trpc.pair.resend.mutationOptions());
  const latest = useQuery(trpc.pair.verifyResult.queryOptions({ pairId }));
  const opState = verifyOp ? `${verifyOp.id}:${verifyOp.status}` : '';
  useEffect(() => {
    if (opState) void qc.invalidateQueries({ queryKey: trpc.pair.verifyResult.queryKey({ pairId }) });
  }, [opState, qc, trpc, pairId]);
  const running = verify.isPending || (verifyOp ? activeOperationStatuses.includes(verifyOp.status) : false);
  const step = verifyOp?.steps.find((s) => s.status === 'running');
  const failed = verifyOp?.status === 'failed' ? verifyOp.error : null;
  const error = verify.error ?? resend.error;
  const r = !running && latest.data?.operation?.status === 'succeeded' ? latest.data.result : null;
  return (
    <Card className="mb-4">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Verify</h2>
        <Button variant="secondary" onClick={() => verify.mutate({ pairId })} disabled={running}>
          {running ? 'Verifying…' : 'Verify now'}
        </Button>
      </div>
      <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">
        Compares the source’s and the target’s files by content hash and lists any that differ.
      </p>
      {running && (
        <p className="mb-2 text-sm text-sky-700 dark:text-sky-300" data-testid="verify-progress" role="status">
          {step ? `${step.description}${step.startedAt ? ` (started ${timeAgo(step.startedAt)})` : ''}…` : 'Queued for the worker…'}
        </p>
      )}
      <ErrorBanner message={error ? describeError(error).message : failed ? `Verify failed: ${failed}` : null} />
      {r && (
        <div className="space-y-2 text-sm" data-testid="verify-result">
          <p>
            {r.checkedFiles} files ({bytes(r.checkedBytes)}) checked:{' '}
            {r.differing.length === 0
              ? 'source and target are identical.'
              : `${r.differing.length}${r.truncated ? '+' : ''} differ.`}
          </p>
          {r.differing.length > 0 && (
            <>
              <ul className="max-h-64 overflow-y-auto font-mono text-xs">
                {r.differing.map((d) => (
                  <li key={`${d.root}/${d.path}`}>
                    {d.kind}: {d.root}/{d.path}
                    {d.detail ? ` (${d.detail})` : ''}
                  </li>
                ))}
              </ul>
              <Button
                onClick={() => resend.mutate({ pairId, items: r.differing.map((d) => ({ root: d.root, path: d.path })) })}
                disabled={resend.isPending}
              >
                Re-send {r.differing.length} file(s)
              </Button>
              {resend.data && (
                <p className="text-emerald-700 dark:text-emerald-300">{resend.data.queued} file(s) queued for sending.</p>
              )}
            </>
          )}
        </div>
      )}
    </Card>
  );
}
