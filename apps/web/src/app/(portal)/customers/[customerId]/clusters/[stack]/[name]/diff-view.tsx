'use client';

// A readable diff between two configuration versions: the engine's canonical form (one XML
// element or attribute per line), changed lines with a little context, as hunks.
import { useQuery } from '@tanstack/react-query';
import { ErrorBanner } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

const lineStyle = {
  ' ': 'text-slate-700 dark:text-slate-300',
  '-': 'bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200',
  '+': 'bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200',
} as const;

export function DiffView({ fromId, toId }: { fromId: string; toId: string }) {
  const trpc = useTRPC();
  const diff = useQuery(trpc.cluster.diff.queryOptions({ fromId, toId }));
  if (diff.error) return <ErrorBanner message={describeError(diff.error).message} />;
  if (!diff.data) return <p className="mt-3 text-sm text-slate-500">Comparing…</p>;
  const d = diff.data;
  return (
    <section className="mt-4" aria-label="Differences" data-testid="cluster-diff">
      <p className="mb-2 text-sm">
        {d.identical ? (
          'The two versions are the same.'
        ) : (
          <>
            <span className="text-red-700 dark:text-red-400">{d.removed} lines removed</span>,{' '}
            <span className="text-emerald-700 dark:text-emerald-400">{d.added} added</span>
            {d.tooLarge && ' (too different to compare line by line: shown whole)'}
          </>
        )}
      </p>
      {d.hunks.map((h, i) => (
        <pre
          key={i}
          className="mb-2 overflow-x-auto rounded border border-slate-200 text-xs dark:border-slate-800"
          data-testid="diff-hunk"
        >
          <div className="bg-slate-100 px-2 py-0.5 text-slate-500 dark:bg-slate-800">
            @@ −{h.oldStart},{h.oldLines} +{h.newStart},{h.newLines} @@
          </div>
          {h.lines.map((l, j) => (
            <div
              key={j}
              className={`px-2 ${lineStyle[l.op]}`}
              data-op={l.op === '+' ? 'added' : l.op === '-' ? 'removed' : 'same'}
            >
              <span aria-hidden="true" className="mr-2 select-none">
                {l.op}
              </span>
              <span className="sr-only">{l.op === '+' ? 'Added: ' : l.op === '-' ? 'Removed: ' : ''}</span>
              {l.text}
            </div>
          ))}
        </pre>
      ))}
    </section>
  );
}
