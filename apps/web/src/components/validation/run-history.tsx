'use client';

// The pair's validation runs, and what changed between two of them (new, resolved and changed
// findings).
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Field, Select } from '@/components/ui';
import type { FindingView } from './types';
import { useTRPC } from '@/trpc/client';
import { sideLabel, ValidationStatus } from './status';

const when = (iso: string) => new Date(iso).toLocaleString();

export function RunHistory({ pairId }: { pairId: string }) {
  const trpc = useTRPC();
  const id = useId();
  const runs = useQuery(trpc.validation.runs.queryOptions({ pairId }));
  const list = runs.data ?? [];
  const [a, setA] = useState<string>('');
  const [b, setB] = useState<string>('');
  const from = a || list[1]?.id || '';
  const to = b || list[0]?.id || '';
  const diff = useQuery({
    ...trpc.validation.diff.queryOptions({ runA: from, runB: to }),
    enabled: !!from && !!to && from !== to,
  });
  if (!list.length) return <p className="text-sm text-slate-500">No validation runs yet.</p>;
  return (
    <div className="space-y-3 text-sm" data-testid="run-history">
      <ul className="space-y-1">
        {list.map((r) => (
          <li key={r.id} className="flex flex-wrap items-center gap-2" data-run={r.id}>
            {r.overall ? <ValidationStatus status={r.overall} /> : <span className="text-xs text-slate-500">{r.status}</span>}
            <span>{when(r.startedAt)}</span>
            <span className="text-xs text-slate-500">
              {r.trigger} · {r.errors} error{r.errors === 1 ? '' : 's'}, {r.warnings} warning{r.warnings === 1 ? '' : 's'}
            </span>
          </li>
        ))}
      </ul>
      {list.length > 1 && (
        <div className="space-y-2 border-t border-slate-200 pt-3 dark:border-slate-800">
          <h3 className="font-semibold">Compare two runs</h3>
          <div className="grid gap-2 sm:grid-cols-2">
            <Field id={`${id}-from`} label="From">
              <Select id={`${id}-from`} value={from} onChange={(e) => setA(e.target.value)}>
                {list.map((r) => (
                  <option key={r.id} value={r.id}>
                    {when(r.startedAt)}
                  </option>
                ))}
              </Select>
            </Field>
            <Field id={`${id}-to`} label="To">
              <Select id={`${id}-to`} value={to} onChange={(e) => setB(e.target.value)}>
                {list.map((r) => (
                  <option key={r.id} value={r.id}>
                    {when(r.startedAt)}
                  </option>
                ))}
              </Select>
            </Field>
          </div>
          {from === to && <p className="text-slate-500">Pick two different runs.</p>}
          {diff.data && (
            <div className="space-y-2" data-testid="run-diff">
              <DiffList title="New" items={diff.data.added} />
              <DiffList title="Resolved" items={diff.data.resolved} />
              <DiffList
                title="Changed"
                items={diff.data.changed.map((c) => c.after)}
                notes={diff.data.changed.map((c) => `${c.what.join(' and ')} changed`)}
              />
              <p className="text-xs text-slate-500">{diff.data.unchanged} unchanged.</p>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

function DiffList({ title, items, notes }: { title: string; items: FindingView[]; notes?: string[] }) {
  return (
    <section aria-label={`${title} findings`}>
      <h4 className="font-medium">
        {title} ({items.length})
      </h4>
      <ul className="ml-2 space-y-1">
        {items.map((f, i) => (
          <li key={f.id} className="flex flex-wrap items-center gap-2">
            <ValidationStatus status={f.status} />
            <span>{f.title}</span>
            {sideLabel(f.side) && <span className="text-xs text-slate-500">({sideLabel(f.side)})</span>}
            <span className="font-mono text-xs">{f.subject}</span>
            {notes?.[i] && <span className="text-xs text-slate-500">{notes[i]}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
