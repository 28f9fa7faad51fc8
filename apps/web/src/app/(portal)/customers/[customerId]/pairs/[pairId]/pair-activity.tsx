'use client';

// The pair page's history: recent operations with their steps, the failure monitor's current
// view (MSP staff only) and the event log with detection evidence.
import { operationInFlightStatuses } from '@tandem/engine';
import { Badge, Card } from '@/components/ui';
import { timeAgo } from '@/lib/time';

export interface OperationView {
  id: string;
  kind: string;
  status: string;
  dryRun: boolean;
  requestedBy: string;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: {
    position: number;
    kind: string;
    description: string;
    status: string;
    error: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  }[];
}

export const activeOperationStatuses: readonly string[] = operationInFlightStatuses;

const opLabels: Record<string, string> = {
  enable: 'Enable protection',
  disable: 'Disable protection',
  failover: 'Failover',
  failback: 'Failback',
  restore: 'Restore',
  test_failover: 'Test failover',
  fix: 'Fix',
  validate: 'Validation',
  verify: 'Verify',
  monitoring_on: 'Failure monitoring on',
  monitoring_off: 'Failure monitoring off',
};

const opTone = {
  pending: 'slate',
  awaiting_approval: 'amber',
  running: 'sky',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'slate',
} as const;
const opStatusLabel: Record<string, string> = {
  pending: 'Queued',
  awaiting_approval: 'Awaiting approval',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const stepLook: Record<string, { icon: string; text: string; className: string }> = {
  pending: { icon: '○', text: 'Pending', className: 'text-slate-400 dark:text-slate-500' },
  running: { icon: '◔', text: 'Running', className: 'text-sky-600 dark:text-sky-400 motion-safe:animate-pulse' },
  succeeded: { icon: '✓', text: 'Done', className: 'text-emerald-600 dark:text-emerald-400' },
  failed: { icon: '✗', text: 'Failed', className: 'text-red-600 dark:text-red-400' },
  skipped: { icon: '–', text: 'Skipped', className: 'text-slate-400 dark:text-slate-500' },
};

function seconds(a: string | null, b: string | null): string | null {
  if (!a || !b) return null;
  const s = (new Date(b).getTime() - new Date(a).getTime()) / 1000;
  return s < 60 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : `${Math.round(s / 60)} min`;
}

export function OperationsCard({ operations }: { operations: OperationView[] | undefined }) {
  return (
    <Card className="mb-4">
      <h2 className="mb-2 text-lg font-semibold">Recent operations</h2>
      {!operations ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : operations.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">
          No operations yet. Enabling or disabling protection runs one, step by step.
        </p>
      ) : (
        <ul className="space-y-3">
          {operations.map((op, i) => {
            const active = activeOperationStatuses.includes(op.status);
            const body = <Steps op={op} />;
            const head = (
              <span className="flex flex-wrap items-center gap-2">
                <span className="font-medium">
                  {opLabels[op.kind] ?? op.kind}
                  {op.dryRun ? ' (dry run)' : ''}
                </span>
                <Badge tone={opTone[op.status as keyof typeof opTone] ?? 'slate'}>{opStatusLabel[op.status] ?? op.status}</Badge>
                <span className="text-xs text-slate-500 dark:text-slate-400" title={op.createdAt}>
                  {timeAgo(op.createdAt)} · {op.requestedBy}
                  {op.finishedAt && seconds(op.startedAt ?? op.createdAt, op.finishedAt)
                    ? ` · took ${seconds(op.startedAt ?? op.createdAt, op.finishedAt)}`
                    : ''}
                </span>
              </span>
            );
            return (
              <li
                key={op.id}
                data-operation={op.kind}
                data-operation-status={op.status}
                data-dry-run={op.dryRun}
                className="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-800"
                aria-label={`${opLabels[op.kind] ?? op.kind}: ${opStatusLabel[op.status] ?? op.status}`}
              >
                {i === 0 || active || op.status === 'failed' ? (
                  <>
                    {head}
                    {body}
                  </>
                ) : (
                  <details>
                    <summary className="cursor-pointer">{head}</summary>
                    {body}
                  </details>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

function Steps({ op }: { op: OperationView }) {
  // A dry run's steps were planned, never run: listing them as pending would read as waiting.
  if (op.dryRun) {
    return (
      <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
        {op.status === 'failed' && op.error ? `${op.error} ` : ''}Dry run: planned only, nothing was changed.
      </p>
    );
  }
  return (
    <>
      {op.error && (
        <p className="mt-2 rounded bg-red-50 px-2 py-1 text-red-800 dark:bg-red-950 dark:text-red-200" role="alert">
          {op.error}
        </p>
      )}
      <ol className="mt-2 space-y-1" aria-label="Steps">
        {op.steps.map((s) => {
          const look = stepLook[s.status] ?? stepLook.pending!;
          const took = seconds(s.startedAt, s.finishedAt);
          return (
            <li key={s.position} data-step={s.kind} data-step-status={s.status} className="flex gap-2">
              <span aria-hidden className={`w-4 shrink-0 text-center font-semibold ${look.className}`}>
                {look.icon}
              </span>
              <span className="min-w-0 flex-1">
                <span className={s.status === 'skipped' ? 'text-slate-500 line-through dark:text-slate-400' : undefined}>
                  {s.description}
                </span>
                <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">
                  {look.text}
                  {took && s.status !== 'running' ? ` · ${took}` : ''}
                </span>
                {s.error && <span className="block text-xs text-red-700 dark:text-red-400">{s.error}</span>}
              </span>
            </li>
          );
        })}
      </ol>
    </>
  );
}

export interface MonitorView {
  targetState: string;
  targetReportAt: string | null;
  targetLostSince: string | null;
  addresses: { address: string; reachable: boolean; missed: number; lastOkAt: number | null }[];
  verdict: string;
}

const verdictText: Record<string, string> = {
  none: 'The source is answering: no observer has lost it.',
  target: 'The target has lost the source; the control plane still sees its agent, so nothing moves.',
  control: 'The control plane has lost the source’s agent; the target still reaches the source, so nothing moves.',
  both: 'Both observers have lost the source.',
};

export function MonitorCard({ monitor, monitoringStatus }: { monitor: MonitorView | null; monitoringStatus: string }) {
  if (monitoringStatus === 'off' && !monitor) return null;
  return (
    <Card className="mb-4">
      <h2 className="mb-1 text-lg font-semibold">Monitor</h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">What the target sees when it checks the source.</p>
      {!monitor ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">
          No report from the target yet; it reports once its first checks have run.
        </p>
      ) : (
        <div
          className="space-y-3 text-sm"
          data-testid="monitor"
          data-verdict={monitor.verdict}
          data-target-state={monitor.targetState}
        >
          <p>
            <span className="font-medium">Verdict: </span>
            {verdictText[monitor.verdict] ?? monitor.verdict}
            {monitor.targetLostSince && (
              <span className="text-slate-500 dark:text-slate-400">
                {' '}
                Lost since {new Date(monitor.targetLostSince).toLocaleTimeString()}.
              </span>
            )}
          </p>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            Target’s view:{' '}
            {monitor.targetState === 'ok' ? 'source reachable' : monitor.targetState === 'lost' ? 'source lost' : 'unknown'}
            {monitor.targetReportAt ? `, reported ${timeAgo(monitor.targetReportAt)}` : ''}
          </p>
          {monitor.addresses.length > 0 && (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500 dark:border-slate-700 dark:text-slate-400">
                  <tr>
                    <th className="px-2 py-1.5">Address</th>
                    <th className="px-2 py-1.5">Reachable</th>
                    <th className="px-2 py-1.5">Missed</th>
                    <th className="px-2 py-1.5">Last answer</th>
                  </tr>
                </thead>
                <tbody>
                  {monitor.addresses.map((a) => (
                    <tr
                      key={a.address}
                      className="border-b border-slate-100 last:border-0 dark:border-slate-800"
                      data-address={a.address}
                      data-reachable={a.reachable}
                    >
                      <td className="px-2 py-1.5 font-mono text-xs">{a.address}</td>
                      <td className="px-2 py-1.5">
                        {a.reachable ? <Badge tone="green">Yes</Badge> : <Badge tone="red">No</Badge>}
                      </td>
                      <td className="px-2 py-1.5 tabular-nums">{a.missed}</td>
                      <td className="px-2 py-1.5">{a.lastOkAt ? timeAgo(new Date(a.lastOkAt).toISOString()) : 'never'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </Card>
  );
}

export interface EventView {
  id: string;
  at: string;
  kind: string;
  severity: string;
  message: string;
  evidence: Record<string, unknown> | null;
}

const severityLook: Record<string, { bar: string; label: string }> = {
  info: { bar: 'bg-slate-300 dark:bg-slate-600', label: 'Info' },
  warning: { bar: 'bg-amber-500', label: 'Warning' },
  error: { bar: 'bg-red-600', label: 'Error' },
  critical: { bar: 'bg-red-700', label: 'Critical' },
};

export function EventsCard({ events }: { events: EventView[] | undefined }) {
  return (
    <Card className="mb-4">
      <h2 className="mb-2 text-lg font-semibold">Events</h2>
      {!events ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : events.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">Nothing has happened to this pair yet.</p>
      ) : (
        <ol className="space-y-1.5 text-sm" aria-label="Events, newest first">
          {events.map((e) => {
            const look = severityLook[e.severity] ?? severityLook.info!;
            return (
              <li key={e.id} className="flex gap-3" data-event={e.kind} data-severity={e.severity}>
                <span aria-hidden className={`mt-1 w-1 shrink-0 self-stretch rounded ${look.bar}`} />
                <div className="min-w-0 flex-1">
                  <p
                    className={
                      e.severity === 'error' || e.severity === 'critical'
                        ? 'text-red-800 dark:text-red-300'
                        : e.severity === 'warning'
                          ? 'text-amber-900 dark:text-amber-200'
                          : undefined
                    }
                  >
                    <span className="sr-only">{look.label}: </span>
                    {e.message}
                  </p>
                  <p className="text-xs text-slate-500 dark:text-slate-400">
                    <time dateTime={e.at} title={new Date(e.at).toLocaleString()}>
                      {timeAgo(e.at)}
                    </time>{' '}
                    · {e.kind}
                  </p>
                  {e.evidence && (
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-sky-700 dark:text-sky-400">Evidence</summary>
                      <pre className="mt-1 max-h-64 overflow-auto rounded bg-slate-100 p-2 font-mono text-xs text-slate-800 dark:bg-slate-950 dark:text-slate-200">
                        {JSON.stringify(e.evidence, null, 2)}
                      </pre>
                    </details>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Card>
  );
}
