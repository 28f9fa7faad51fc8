import type { CheckId } from '../ids.ts';
import type { CheckDef, CheckResult, DisplayStatus, FindingSide } from '../model.ts';
import { evaluateChecks, type EvaluateOptions } from '../evaluate.ts';
import { fixActionSchema } from '../actions.ts';
import type { FactsSnapshot } from '../snapshot.ts';

// Table-driven test support for the check families: runs one check through the evaluator (so
// applicability and unknown handling are exercised) and reduces one side's result to what the
// tables assert. Every planned action is parsed with fixActionSchema on the way.

export interface Outcome {
  /** 'hidden' when the check does not apply to the pair. */
  status: DisplayStatus | 'hidden';
  gate?: CheckId;
  findings: { subject: string; status: DisplayStatus; actions: string[]; plan: unknown[] | null; guidance: string | null; blocked: boolean; privileged: boolean }[];
}

export function outcomeOf(checks: readonly CheckDef[], id: CheckId, snap: FactsSnapshot, side: FindingSide, opts: EvaluateOptions = {}): Outcome {
  const check = checks.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id} in this family`);
  const results: CheckResult[] = evaluateChecks([check], snap, opts);
  const r = results.find((x) => x.side === side);
  if (!r) return { status: 'hidden', findings: [] };
  return {
    status: r.status,
    ...(r.unknown?.gate ? { gate: r.unknown.gate } : {}),
    findings: r.findings.map((f) => ({
      subject: f.subject,
      status: f.status,
      plan: f.plan ? f.plan.map((a) => fixActionSchema.parse(a)) : null,
      actions: (f.plan ?? []).map((a) => a.action),
      guidance: f.guidance,
      blocked: f.blockedReason !== null,
      privileged: f.privileged,
    })),
  };
}

export interface ExpectedFinding {
  subject?: string;
  status?: DisplayStatus;
  actions?: string[];
  /** Each entry: the keys of the planned action to compare. */
  plan?: Record<string, unknown>[];
  guidance?: RegExp;
  blocked?: boolean;
  privileged?: boolean;
}
export interface Expected {
  status: Outcome['status'];
  gate?: CheckId;
  findings?: ExpectedFinding[];
}

/**
 * The outcome cut down to the keys the expectation names, so `toEqual(expected)` compares only
 * those (a guidance RegExp is kept when it matches, so it compares equal).
 */
export function project(out: Outcome, exp: Expected): Expected {
  const res: Expected = { status: out.status };
  if (exp.gate !== undefined || out.gate !== undefined) res.gate = out.gate as CheckId;
  if (!exp.findings) return res;
  res.findings = out.findings.map((f, i) => {
    const e = exp.findings![Math.min(i, exp.findings!.length - 1)] ?? {};
    const p: ExpectedFinding = {};
    if ('subject' in e) p.subject = f.subject;
    if ('status' in e) p.status = f.status;
    if ('actions' in e) p.actions = f.actions;
    if ('blocked' in e) p.blocked = f.blocked;
    if ('privileged' in e) p.privileged = f.privileged;
    if (e.guidance) p.guidance = f.guidance !== null && e.guidance.test(f.guidance) ? e.guidance : (f.guidance as unknown as RegExp);
    if (e.plan) {
      p.plan = (f.plan ?? []).map((a, j) => {
        const keys = Object.keys(e.plan![Math.min(j, e.plan!.length - 1)] ?? {});
        return Object.fromEntries(keys.map((k) => [k, (a as Record<string, unknown>)[k]]));
      });
    }
    return p;
  });
  return res;
}

/** Every result of these checks on this snapshot that is not good (for the healthy-fixture test). */
export function notGood(checks: readonly CheckDef[], snap: FactsSnapshot): { id: string; side: FindingSide; status: DisplayStatus; why: string | undefined }[] {
  return evaluateChecks(checks, snap)
    .filter((r) => r.status !== 'good')
    .map((r) => ({ id: r.checkId, side: r.side, status: r.status, why: r.unknown?.reason ?? r.findings[0]?.message }));
}
