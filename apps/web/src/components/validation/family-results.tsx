'use client';

// A run's results, family by family: each check with its status (good ones folded away), the
// reason an unknown check could not be evaluated (and the gate finding behind it), and each
// finding with a button to its details.
import type { DisplayStatus } from '@tandem/engine';
import type { CheckView as Check, FamilyView as Family, FindingView } from './types';
import { sideLabel, statusInfo, ValidationStatus } from './status';

const countOrder: DisplayStatus[] = ['error-manual', 'error-fixable', 'unknown', 'warning-manual', 'warning-fixable', 'good'];

export function FamilyResults({ families, onOpen }: { families: Family[]; onOpen: (f: FindingView) => void }) {
  return (
    <div className="space-y-3" data-testid="validation-families">
      {families.map((fam) => (
        <FamilySection key={fam.family} family={fam} onOpen={onOpen} />
      ))}
    </div>
  );
}

function FamilySection({ family, onOpen }: { family: Family; onOpen: (f: FindingView) => void }) {
  const open = family.checks.filter((c) => c.status !== 'good');
  const good = family.checks.filter((c) => c.status === 'good');
  return (
    <section
      aria-label={`${family.family} checks`}
      data-family={family.family}
      className="rounded-md border border-slate-200 p-3 dark:border-slate-800"
    >
      <div className="mb-2 flex flex-wrap items-center gap-2">
        <h3 className="font-semibold capitalize">{family.family}</h3>
        <span className="text-xs text-slate-600 dark:text-slate-400">
          {countOrder
            .filter((s) => family.counts[s])
            .map((s) => `${family.counts[s]} ${statusInfo[s].label.toLowerCase()}`)
            .join(' · ')}
        </span>
      </div>
      <ul className="space-y-2">
        {open.map((c) => (
          <CheckRow key={`${c.checkId}|${c.side}`} check={c} onOpen={onOpen} />
        ))}
      </ul>
      {good.length > 0 && (
        <details className="mt-2 text-sm">
          <summary className="cursor-pointer text-slate-600 dark:text-slate-400">
            {good.length} good check{good.length === 1 ? '' : 's'}
          </summary>
          <ul className="mt-1 space-y-1">
            {good.map((c) => (
              <CheckRow key={`${c.checkId}|${c.side}`} check={c} onOpen={onOpen} />
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function CheckRow({ check: c, onOpen }: { check: Check; onOpen: (f: FindingView) => void }) {
  const side = sideLabel(c.side);
  return (
    <li className="text-sm" data-check={c.checkId} data-side={c.side}>
      <div className="flex flex-wrap items-center gap-2">
        <ValidationStatus status={c.status} />
        <span className="font-medium">{c.title}</span>
        {side && <span className="text-xs text-slate-500">({side})</span>}
        {c.findings.length > 1 && <span className="text-xs text-slate-500">{c.findings.length} findings</span>}
      </div>
      {c.unknown && (
        <p className="ml-6 text-xs text-slate-600 dark:text-slate-400">
          Not evaluated: {c.unknown.reason}
          {c.unknown.gate && <> (see “{c.unknown.gateTitle ?? c.unknown.gate}”)</>}
        </p>
      )}
      {c.findings.length > 0 && (
        <ul className="ml-6 mt-1 space-y-1">
          {c.findings.map((f) => (
            <li key={f.id} className="flex flex-wrap items-center gap-2" data-finding={f.id}>
              <span className="text-slate-700 dark:text-slate-300">{f.message}</span>
              {f.acknowledgement?.state === 'active' && (
                <span className="text-xs text-emerald-700 dark:text-emerald-400">acknowledged</span>
              )}
              <button
                type="button"
                className="text-xs font-medium text-sky-700 underline dark:text-sky-400"
                onClick={() => onOpen(f)}
                aria-label={`Details: ${f.title}${f.subject ? ` (${f.subject})` : ''}`}
              >
                Details
              </button>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
