// Readiness 0–100 (catalogue: lag against RPO, days since the last successful test failover, open
// findings, credential validity, DNS TTL) and what lowers it.
import type { ReadinessView } from './types';

const tone = (s: number) =>
  s >= 80
    ? 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-200'
    : s >= 50
      ? 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100'
      : 'bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-200';

export function ReadinessScore({ score }: { score: number | null }) {
  if (score === null) return <span className="text-xs text-slate-500">Readiness: not scored yet</span>;
  return (
    <span
      data-testid="readiness-score"
      data-score={score}
      className={`inline-block rounded-full px-2 py-0.5 text-xs font-semibold ${tone(score)}`}
    >
      Readiness {score}/100
    </span>
  );
}

export function ReadinessDetails({ readiness }: { readiness: ReadinessView }) {
  return (
    <div className="text-sm" data-testid="readiness">
      <ReadinessScore score={readiness.score} />
      {readiness.lowers.length > 0 && (
        <ul className="ml-4 mt-1 list-disc text-slate-700 dark:text-slate-300" aria-label="What lowers readiness">
          {readiness.lowers.map((l, i) => (
            <li key={i}>
              {l.label}
              {l.points !== null && <span className="text-xs text-slate-500"> (−{l.points})</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
