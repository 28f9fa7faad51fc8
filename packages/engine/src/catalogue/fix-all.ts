import { actionRunsOn, type FixAction } from './actions.ts';
import { stableDigest, stableJson } from './evaluate.ts';
import { fixPhases, type DisplayStatus, type FindingSide, type FixPhase } from './model.ts';

// Turning findings into one plan (catalogue §5): Fix (the findings a person picked) and Fix All
// (every fixable finding of the latest run, minus what is blocked, privileged without the
// tenant's consent, deselected, or never part of Fix All), ordered in the catalogue's phases.
// Identical actions asked for by several findings run once. Pure: the worker executes the plan.

/** A stored finding as the planner needs it. */
export interface FixCandidate {
  id: string;
  checkId: string;
  side: FindingSide;
  subject: string;
  status: DisplayStatus;
  plan: FixAction[] | null;
  blockedReason: string | null;
  privileged: boolean;
  phase: FixPhase | null;
  /** A previous fix's outcome; did-not-hold findings are left out of Fix All's second pass. */
  fixState?: string | null;
}

export interface FixPlanItem {
  /** Every finding this action settles. */
  findingIds: string[];
  checkIds: string[];
  action: FixAction;
  runsOn: ReturnType<typeof actionRunsOn>;
}

export interface FixPlan {
  phases: { phase: FixPhase; title: string; items: FixPlanItem[] }[];
  skipped: { findingId: string; checkId: string; subject: string; reason: string }[];
  /** Digest of the actions (the operation stores it; the same plan twice has the same digest). */
  digest: string;
  /** Some item widens access: an owner or admin must confirm. */
  privileged: boolean;
}

export interface FixPlanOptions {
  /** Fix: the person has confirmed the privileged fixes among the picked findings. */
  confirmPrivileged?: boolean;
  /** Fix All: the tenant lets Fix All include privileged fixes. */
  privilegedInFixAll?: boolean;
  /** Fix All: findings the person took out of the plan. */
  deselected?: ReadonlySet<string>;
}

const fixable = (s: DisplayStatus) => s === 'error-fixable' || s === 'warning-fixable';
/** Actions that are fixable one at a time but never part of Fix All (§5). */
const notInFixAll = new Set<FixAction['action']>(['drill.schedule']);

/** Within a phase: agent work on the target before the source (§5 phase 2), then plan order. */
const nodeOrder: Record<FixPlanItem['runsOn'], number> = { control: 0, target: 1, source: 2, dns: 3, directory: 4 };

function assemble(chosen: FixCandidate[], skipped: FixPlan['skipped']): FixPlan {
  const byKey = new Map<string, FixPlanItem & { phase: FixPhase; order: number }>();
  let order = 0;
  for (const f of chosen) {
    for (const action of f.plan ?? []) {
      // The description and shown values do not make two actions different.
      const { description: _d, before: _b, after: _a, ...what } = action;
      const key = stableJson(what);
      const existing = byKey.get(key);
      if (existing) {
        if (!existing.findingIds.includes(f.id)) existing.findingIds.push(f.id);
        if (!existing.checkIds.includes(f.checkId)) existing.checkIds.push(f.checkId);
        continue;
      }
      byKey.set(key, { findingIds: [f.id], checkIds: [f.checkId], action, runsOn: actionRunsOn(action), phase: f.phase ?? 1, order: order++ });
    }
  }
  const items = [...byKey.values()];
  const phases = (Object.keys(fixPhases).map(Number) as FixPhase[])
    .map((phase) => ({
      phase,
      title: fixPhases[phase],
      items: items
        .filter((i) => i.phase === phase)
        .sort((a, b) => (phase === 2 ? nodeOrder[a.runsOn] - nodeOrder[b.runsOn] : 0) || a.order - b.order)
        .map(({ findingIds, checkIds, action, runsOn }) => ({ findingIds, checkIds, action, runsOn })),
    }))
    .filter((p) => p.items.length > 0);
  const digest = stableDigest(phases.map((p) => p.items.map((i) => i.action)));
  return { phases, skipped, digest, privileged: chosen.some((f) => f.privileged) };
}

function refusal(f: FixCandidate): string | null {
  if (!fixable(f.status) || !f.plan?.length) return 'A person must fix this (no automatic fix here).';
  if (f.blockedReason) return f.blockedReason;
  return null;
}

/** Fix: the findings a person picked, as one plan. */
export function planFix(candidates: readonly FixCandidate[], opts: FixPlanOptions = {}): FixPlan {
  const chosen: FixCandidate[] = [];
  const skipped: FixPlan['skipped'] = [];
  for (const f of candidates) {
    const why = refusal(f) ?? (f.privileged && !opts.confirmPrivileged ? 'This fix widens access: an owner or admin must confirm it.' : null);
    if (why) skipped.push({ findingId: f.id, checkId: f.checkId, subject: f.subject, reason: why });
    else chosen.push(f);
  }
  return assemble(chosen, skipped);
}

/** Fix All: every fixable finding of the run, minus the exclusions of §5. */
export function planFixAll(candidates: readonly FixCandidate[], opts: FixPlanOptions = {}): FixPlan {
  const chosen: FixCandidate[] = [];
  const skipped: FixPlan['skipped'] = [];
  for (const f of candidates) {
    if (!fixable(f.status)) continue; // manual findings are not Fix All's business
    let why = refusal(f);
    if (!why && f.privileged && !opts.privilegedInFixAll) why = 'Privileged fix: apply it on its own (the organization keeps privileged fixes out of Fix All).';
    if (!why && opts.deselected?.has(f.id)) why = 'Taken out of the plan.';
    if (!why && f.plan!.some((a) => notInFixAll.has(a.action))) why = 'Scheduling a drill is done on its own, never by Fix All.';
    if (!why && f.fixState === 'did-not-hold') why = 'An earlier fix did not hold: look at it before trying again.';
    if (why) skipped.push({ findingId: f.id, checkId: f.checkId, subject: f.subject, reason: why });
    else chosen.push(f);
  }
  return assemble(chosen, skipped);
}
