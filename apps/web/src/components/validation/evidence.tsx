// A finding's evidence: the fact values that triggered it (secrets were redacted before storing).
export function Evidence({ evidence }: { evidence: Record<string, unknown> }) {
  const entries = Object.entries(evidence);
  if (!entries.length) return <p className="text-sm text-slate-500">No evidence recorded.</p>;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm" data-testid="finding-evidence">
      {entries.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="font-mono text-xs text-slate-500 dark:text-slate-400">{k}</dt>
          <dd className="break-all font-mono text-xs">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
