'use client';

// One failover or failback operation as it runs: its dry-run diff (what will change, in order,
// with the point of no return) and its step timeline (status, timing, attempts, output, errors,
// undo steps), then the outcome's warnings and next steps. Refetched when the pair's live
// stream says an operation moved (the page invalidates pair.operation); polled slowly otherwise.
import { useQuery } from '@tanstack/react-query';
import { Badge } from '@/components/ui';
import { duration } from '@/lib/format';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { activeOperationStatuses } from './pair-activity';

export interface ChangeView {
  position: number;
  kind: string;
  side: string | null;
  summary: string;
  before: string | null;
  after: string | null;
  pastPointOfNoReturn: boolean;
}

export interface OutcomeView {
  lagAtCutoverSeconds: number | null;
  warnings: string[];
  nextSteps: string[];
}

const kindLabel: Record<string, string> = {
  dns: 'DNS',
  address: 'Address',
  service: 'Service',
  database: 'Database',
  hook: 'Hook',
  replication: 'Replication',
  state: 'State',
  check: 'Check',
};

/** The dry-run diff: every change in order, with a line where the point of no return lies. */
export function ChangeList({ changes }: { changes: ChangeView[] }) {
  if (changes.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">Nothing would change.</p>;
  const firstPast = changes.findIndex((c) => c.pastPointOfNoReturn);
  return (
    <ol className="space-y-1 text-sm" aria-label="Changes, in order" data-testid="change-list">
      {changes.map((c, i) => (
        <li key={`${c.position}-${i}`} className="contents">
          {i === firstPast && (
            <div
              role="separator"
              aria-label="Point of no return"
              data-testid="point-of-no-return"
              className="my-2 flex items-center gap-2 text-xs font-semibold uppercase tracking-wide text-red-700 dark:text-red-400"
            >
              <span className="h-px flex-1 bg-red-500" />
              Point of no return: from here on a failure is not undone
              <span className="h-px flex-1 bg-red-500" />
            </div>
          )}
          <div className="flex gap-2 rounded px-1 py-0.5" data-change={c.kind}>
            <span className="w-6 shrink-0 text-right text-xs tabular-nums text-slate-500">{i + 1}.</span>
            <span className="w-20 shrink-0">
              <Badge tone={c.kind === 'dns' ? 'sky' : c.kind === 'hook' ? 'amber' : 'slate'}>{kindLabel[c.kind] ?? c.kind}</Badge>
            </span>
            <span className="min-w-0 flex-1">
              <span>{c.summary}</span>
              {c.side && c.side !== 'dns' && <span className="text-xs text-slate-500 dark:text-slate-400"> · on the {c.side}</span>}
              {(c.before !== null || c.after !== null) && (
                <span className="block font-mono text-xs">
                  {/* No "before" means it is not known in advance (a service's state): only the result is shown. */}
                  {c.before !== null && <span className="text-red-800 dark:text-red-300">{c.before}</span>}
                  <span aria-hidden className="mx-1 text-slate-400">
                    →
                  </span>
                  <span className="sr-only">{c.before !== null ? ' becomes ' : 'Result: '}</span>
                  <span className="text-emerald-800 dark:text-emerald-300">{c.after ?? 'unchanged'}</span>
                </span>
              )}
            </span>
          </div>
        </li>
      ))}
    </ol>
  );
}

const stepLook: Record<string, { icon: string; text: string; className: string }> = {
  pending: { icon: '○', text: 'Pending', className: 'text-slate-400 dark:text-slate-500' },
  running: { icon: '◔', text: 'Running', className: 'text-sky-600 dark:text-sky-400 motion-safe:animate-pulse' },
  succeeded: { icon: '✓', text: 'Done', className: 'text-emerald-600 dark:text-emerald-400' },
  failed: { icon: '✗', text: 'Failed', className: 'text-red-600 dark:text-red-400' },
  skipped: { icon: '–', text: 'Skipped', className: 'text-slate-400 dark:text-slate-500' },
};

function took(a: string | null, b: string | null): string | null {
  if (!a || !b) return null;
  return duration(Math.max(0, (new Date(b).getTime() - new Date(a).getTime()) / 1000));
}

/** A step's output as text: hook output (stdout/stderr, exit code) or the raw JSON. */
function StepOutput({ output }: { output: unknown }) {
  if (output === null || output === undefined) return null;
  const o = (typeof output === 'object' ? output : {}) as { stdout?: unknown; stderr?: unknown; exitCode?: unknown; timedOut?: unknown; truncated?: unknown };
  const isHook = typeof o.stdout === 'string' || typeof o.stderr === 'string';
  return (
    <details className="mt-1">
      <summary className="cursor-pointer text-xs text-sky-700 dark:text-sky-400">Output</summary>
      {isHook ? (
        <div className="mt-1 space-y-1 text-xs">
          <p>
            {o.timedOut === true ? 'Timed out' : typeof o.exitCode === 'number' ? `Exit code ${o.exitCode}` : 'No exit code'}
            {o.truncated === true ? ' · output truncated' : ''}
          </p>
          {typeof o.stdout === 'string' && o.stdout && (
            <>
              <p className="font-medium">stdout</p>
              <pre className="max-h-48 overflow-auto whitespace-pre-wrap rounded bg-slate-100 p-2 font-mono dark:bg-slate-950">{o.stdout}</pre>
            </>
          )}
          {typeof o.stderr === 'string' && o.stderr && (
            <>
              <p className="font-medium">stderr</p>
              <pre className="max-h-48 overflow-auto whitespace-pre-wrap rounded bg-slate-100 p-2 font-mono dark:bg-slate-950">{o.stderr}</pre>
            </>
          )}
        </div>
      ) : (
        <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-100 p-2 font-mono text-xs dark:bg-slate-950">
          {JSON.stringify(output, null, 2)}
        </pre>
      )}
    </details>
  );
}

export function OutcomeNotes({ outcome }: { outcome: OutcomeView | null }) {
  if (!outcome || (outcome.warnings.length === 0 && outcome.nextSteps.length === 0)) return null;
  return (
    <div className="mt-3 space-y-2 text-sm">
      {outcome.warnings.length > 0 && (
        <div
          role="status"
          className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
        >
          <p className="font-medium">Warnings</p>
          <ul className="ml-4 list-disc">
            {outcome.warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </div>
      )}
      {outcome.nextSteps.length > 0 && (
        <div className="rounded-md border border-sky-200 bg-sky-50 px-3 py-2 dark:border-sky-900 dark:bg-sky-950">
          <p className="font-medium">Next steps</p>
          <ol className="ml-4 list-decimal">
            {outcome.nextSteps.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

/**
 * The live timeline of one operation. `live`: the page's stream is up and refetches on notices;
 * otherwise a running operation is polled every 3 s.
 */
export function OperationTimeline({ operationId, live, showChanges = false }: { operationId: string; live: boolean; showChanges?: boolean }) {
  const trpc = useTRPC();
  const op = useQuery({
    ...trpc.pair.operation.queryOptions({ operationId }),
    refetchInterval: (q) => (!live && q.state.data && activeOperationStatuses.includes(q.state.data.status) ? 3_000 : false),
  });
  if (op.error) return <p role="alert" className="text-sm text-red-700 dark:text-red-400">{describeError(op.error).message}</p>;
  if (!op.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const o = op.data;
  const running = activeOperationStatuses.includes(o.status);
  return (
    <div data-testid="operation-timeline" data-operation-status={o.status}>
      <p className="text-xs text-slate-500 dark:text-slate-400">
        {o.dryRun ? 'Dry run asked by' : 'Started by'} {o.requestedBy} · {timeAgo(o.createdAt)}
        {o.finishedAt ? ` · took ${took(o.startedAt ?? o.createdAt, o.finishedAt) ?? ''}` : running ? ' · running' : ''}
      </p>
      {o.error && (
        <p className="mt-2 rounded bg-red-50 px-2 py-1 text-sm text-red-800 dark:bg-red-950 dark:text-red-200" role="alert">
          {o.error}
        </p>
      )}
      {showChanges && o.changes && (
        <details className="mt-2">
          <summary className="cursor-pointer text-sm text-sky-700 dark:text-sky-400">What this operation changes</summary>
          <div className="mt-2">
            <ChangeList changes={o.changes} />
          </div>
        </details>
      )}
      <ol className="mt-2 space-y-1.5 text-sm" aria-label="Steps">
        {o.steps.map((s) => {
          const look = stepLook[s.status] ?? stepLook.pending!;
          const t = took(s.startedAt, s.finishedAt);
          const undo = s.phase === 'undo';
          const noReturn = !undo && o.pointOfNoReturn !== null && s.position === o.pointOfNoReturn;
          return (
            <li
              key={`${s.phase}-${s.position}`}
              data-step={s.kind}
              data-step-status={s.status}
              data-phase={s.phase}
              className={`flex gap-2 ${undo ? 'ml-4 border-l-2 border-amber-400 pl-2' : ''}`}
            >
              <span aria-hidden className={`w-4 shrink-0 text-center font-semibold ${look.className}`}>
                {look.icon}
              </span>
              <span className="min-w-0 flex-1">
                {undo && <Badge tone="amber">Undo</Badge>}{' '}
                <span className={s.status === 'skipped' ? 'text-slate-500 line-through dark:text-slate-400' : undefined}>
                  {s.description}
                </span>
                {noReturn && (
                  <span className="ml-2 text-xs font-semibold text-red-700 dark:text-red-400">
                    (point of no return: from here on a failure is not undone)
                  </span>
                )}
                <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">
                  {look.text}
                  {t && s.status !== 'running' ? ` · ${t}` : ''}
                  {s.status === 'running' && s.startedAt ? ` · since ${new Date(s.startedAt).toLocaleTimeString()}` : ''}
                  {s.attempts > 1 ? ` · attempt ${s.attempts}` : ''}
                </span>
                {s.error && <span className="block text-xs text-red-700 dark:text-red-400">{s.error}</span>}
                <StepOutput output={s.output} />
              </span>
            </li>
          );
        })}
      </ol>
      <OutcomeNotes outcome={o.outcome} />
    </div>
  );
}
