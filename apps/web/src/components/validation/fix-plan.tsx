// A fix plan as the person confirms it (catalogue §5): phase by phase, per node, each action with
// the value seen now and the value it sets; then what the plan leaves out, and why.
import type { PlanView } from './types';

export function FixPlan({
  plan,
  onToggle,
  deselected,
}: {
  plan: PlanView;
  onToggle?: (findingIds: string[], include: boolean) => void;
  deselected?: ReadonlySet<string>;
}) {
  return (
    <div className="space-y-3 text-sm" data-testid="fix-plan">
      {plan.phases.length === 0 && <p className="text-slate-600 dark:text-slate-400">Nothing to run.</p>}
      {plan.phases.map((p) => (
        <section key={p.phase} aria-label={`Phase ${p.phase}: ${p.title}`}>
          <h3 className="font-semibold">
            Phase {p.phase}: {p.title}
          </h3>
          {p.nodes.map((n) => (
            <div key={n.runsOn} className="ml-2 mt-1">
              <h4 className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{n.label}</h4>
              <ul className="ml-2 space-y-1">
                {n.items.map((i, idx) => (
                  <li key={idx} className="flex items-start gap-2" data-testid="plan-action">
                    {onToggle && (
                      <input
                        type="checkbox"
                        className="mt-1 h-4 w-4 accent-sky-700"
                        aria-label={`Include: ${i.action.description}`}
                        checked={true}
                        onChange={() => onToggle(i.findingIds, false)}
                      />
                    )}
                    <span>
                      {i.action.description}
                      {(i.action.before !== null || i.action.after !== null) && (
                        <span className="ml-1 font-mono text-xs text-slate-600 dark:text-slate-400">
                          ({i.action.before ?? '—'} → {i.action.after ?? '—'})
                        </span>
                      )}
                      <span className="ml-1 text-xs text-slate-500">[{i.checkIds.join(', ')}]</span>
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </section>
      ))}
      {plan.skipped.length > 0 && (
        <section aria-label="Left out of the plan">
          <h3 className="font-semibold">Left out</h3>
          <ul className="ml-2 space-y-1">
            {plan.skipped.map((s) => (
              <li key={s.findingId} className="flex items-start gap-2" data-testid="plan-skipped">
                {onToggle && deselected?.has(s.findingId) && (
                  <input
                    type="checkbox"
                    className="mt-1 h-4 w-4 accent-sky-700"
                    aria-label={`Include: ${s.checkId} ${s.subject}`}
                    checked={false}
                    onChange={() => onToggle([s.findingId], true)}
                  />
                )}
                <span>
                  <span className="font-mono text-xs">{s.checkId}</span> {s.subject}:{' '}
                  <span className="text-slate-600 dark:text-slate-400">{s.reason}</span>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
