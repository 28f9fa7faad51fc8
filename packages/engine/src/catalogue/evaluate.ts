import type { CheckId } from './ids.ts';
import { missingFact, type FactKey } from './facts.ts';
import type { AutoFix, CheckContext, CheckDef, CheckResult, ConditionalFix, DisplayStatus, EvaluatedFinding, FindingDraft, FindingSide } from './model.ts';
import { actionRunsOn, type FixAction } from './actions.ts';
import type { FactsSnapshot } from './snapshot.ts';

// Evaluating the catalogue over one snapshot (catalogue §1.5, §1.6): which checks apply, each
// evaluated per side where its scope says so, unknown when a declared fact is missing (linked to
// the gate finding that explains it), findings with their display status and their fix resolved.
// Pure: the same snapshot always gives the same results.

export interface EvaluateOptions {
  /** unplanned-failover: the source is lost, so checks reading only source facts are skipped (§1.3). */
  context?: 'validate' | 'unplanned-failover';
}

/** Gate check → the fact keys its finding explains (on the side it fired for). */
const gateCovers: Partial<Record<CheckId, (key: FactKey) => boolean>> = {
  'agent.unreachable': (k) => /^[STN]\./.test(k),
  'services.inventory-unavailable': (k) => /^[STN]\.svc$/.test(k),
  'directory.unreachable': (k) => k === 'A',
  'dns.provider-unreachable': (k) => k === 'D',
  'dns.validation-timeout': (k) => k === 'D',
};

/** Does this check apply to the pair at all (hidden otherwise, not good)? */
export function applies(check: CheckDef, snap: FactsSnapshot): boolean {
  const app = snap.pair.app;
  const appOk = check.appliesTo.includes('any') || check.appliesTo.includes(app) || (app === 'sharepoint' && check.appliesTo.includes('sqlserver') && (!check.methods || check.methods.includes('instance')));
  if (!appOk) return false;
  if (check.methods && !check.methods.includes(snap.pair.method)) {
    // SharePoint runs the sqlserver checks of the instance method (§1.2).
    if (!(app === 'sharepoint' && check.appliesTo.includes('sqlserver') && check.methods.includes('instance'))) return false;
  }
  return check.when ? check.when(snap) : true;
}

/** The sides a check is evaluated for. */
export function sidesOf(check: CheckDef): FindingSide[] {
  const sides: FindingSide[] = [];
  if (check.scope.includes('source')) sides.push('source');
  if (check.scope.includes('target')) sides.push('target');
  return sides.length ? sides : ['none'];
}

/** A stable digest of JSON-like data (FNV-1a, 64-bit, hex): acknowledgements lapse when it changes. */
export function stableDigest(value: unknown): string {
  const text = stableJson(value);
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

export function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

const nodeKeysOnly = (check: CheckDef, side: 'source' | 'target') => {
  const keys = check.facts.filter((k) => k !== 'P' && k !== 'X');
  return keys.length > 0 && keys.every((k) => k.startsWith(side === 'source' ? 'S.' : 'T.') || (k.startsWith('N.') && check.scope.every((s) => s === side)));
};

/** A fix with this plan is refused while the pair is protected (§1.4): always, or when it runs on the target. */
export function blockedWhileProtected(fix: AutoFix | ConditionalFix, plan: readonly FixAction[]): boolean {
  return fix.blockedWhileProtected === 'target' ? plan.some((a) => actionRunsOn(a) === 'target') : fix.blockedWhileProtected;
}

function resolveFinding(check: CheckDef, ctx: CheckContext, draft: FindingDraft): EvaluatedFinding {
  const base = { ...draft, checkId: check.id, side: ctx.side, severity: check.severity, evidenceDigest: stableDigest(draft.evidence) };
  const fix = check.fix;
  if (fix.kind === 'manual') {
    return { ...base, status: `${check.severity}-manual`, plan: null, guidance: fix.guidance, blockedReason: null, privileged: false, phase: null };
  }
  let plan: EvaluatedFinding['plan'] = null;
  let guidance: string | null = null;
  if (fix.kind === 'auto') plan = fix.plan(ctx, draft);
  else {
    const decided = fix.decide(ctx, draft);
    if ('plan' in decided) plan = decided.plan;
    else guidance = decided.guidance;
  }
  if (!plan || plan.length === 0) {
    return { ...base, status: `${check.severity}-manual`, plan: null, guidance: guidance ?? 'Tandem cannot fix this automatically here.', blockedReason: null, privileged: false, phase: null };
  }
  const pair = ctx.snap.pair;
  let blockedReason: string | null = null;
  if (blockedWhileProtected(fix, plan) && pair.protected) blockedReason = 'Disable protection first: this fix changes the target, which is refused while the pair is protected.';
  else if (pair.failedOver && plan.some((a) => actionRunsOn(a) === 'source')) blockedReason = 'The pair is failed over: the source is being repaired, so fixes that change it wait for the failback.';
  return { ...base, status: `${check.severity}-fixable`, plan, guidance, blockedReason, privileged: fix.privileged === true, phase: fix.phase };
}

const rank: Record<DisplayStatus, number> = { good: 0, 'warning-fixable': 1, 'warning-manual': 2, unknown: 3, 'error-fixable': 4, 'error-manual': 5 };

/** Runs every applicable check of `checks` over the snapshot. */
export function evaluateChecks(checks: readonly CheckDef[], snap: FactsSnapshot, opts: EvaluateOptions = {}): CheckResult[] {
  const applicable = checks.filter((c) => applies(c, snap));
  // Gates first, so that the checks they explain can point at them.
  const ordered = [...applicable.filter((c) => c.gate), ...applicable.filter((c) => !c.gate)];
  const firedGates: { id: CheckId; side: FindingSide }[] = [];
  const results: CheckResult[] = [];
  for (const check of ordered) {
    for (const side of sidesOf(check)) {
      if (opts.context === 'unplanned-failover' && (side === 'source' ? check.scope.every((s) => s === 'source') || nodeKeysOnly(check, 'source') : false)) continue;
      const node = side === 'source' ? snap.source : side === 'target' ? snap.target : null;
      const ctx: CheckContext = { snap, side, node };
      if (!check.gate) {
        const missing = check.facts.map((k) => ({ key: k, why: missingFact(snap, k, side) })).filter((m) => m.why !== null);
        if (missing.length) {
          const gate = firedGates.find((g) => (g.side === side || g.side === 'none' || side === 'none') && missing.some((m) => gateCovers[g.id]?.(m.key)));
          results.push({ checkId: check.id, side, status: 'unknown', unknown: { reason: missing[0]!.why!, facts: missing.map((m) => m.key), ...(gate ? { gate: gate.id } : {}) }, findings: [] });
          continue;
        }
      }
      let drafts: FindingDraft[];
      try {
        drafts = check.evaluate(ctx);
      } catch (err) {
        results.push({ checkId: check.id, side, status: 'unknown', unknown: { reason: `the check could not read its facts: ${err instanceof Error ? err.message : String(err)}`, facts: [] }, findings: [] });
        continue;
      }
      const findings = drafts.map((d) => resolveFinding(check, ctx, d));
      if (check.gate && findings.length) firedGates.push({ id: check.id, side });
      const status = findings.reduce<DisplayStatus>((worst, f) => (rank[f.status] > rank[worst] ? f.status : worst), 'good');
      results.push({ checkId: check.id, side, status, findings });
    }
  }
  return results;
}

/**
 * The pair's overall status: the worst among its results (§1.5). Unknown counts only on
 * error-severity checks (an unknown warning blocks nothing).
 */
export function overallStatus(results: readonly CheckResult[], severityOf: (id: CheckId) => 'error' | 'warning'): DisplayStatus {
  let worst: DisplayStatus = 'good';
  for (const r of results) {
    const s = r.status === 'unknown' && severityOf(r.checkId) === 'warning' ? 'good' : r.status;
    if (rank[s] > rank[worst]) worst = s;
  }
  return worst;
}
