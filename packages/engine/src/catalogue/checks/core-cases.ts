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
  if (exp.gate !== undefined || out.gate !== undefined) res.gate = out.gate;
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

/**
 * A row of the application families' tables (fileserver, generic-service, mariadb, postgres): a
 * snapshot bent from the app's healthy pair, and exactly the findings one check must give on it.
 */
export interface AppRow {
  name: string;
  check: string;
  snap: () => FactsSnapshot;
  want: AppWant[];
}
export interface AppWant {
  subject: string;
  status: DisplayStatus;
  side?: string;
  /** Matched as a subset of the plan (only the keys named are compared). */
  plan?: unknown[];
  guidance?: RegExp;
  privileged?: boolean;
  /** What blockedReason must match (the postgres table asserts none when unnamed). */
  blocked?: RegExp;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegExp);

/** `actual` cut down to the shape of `pattern`, so toEqual(pattern) behaves like toMatchObject. */
function subset(actual: unknown, pattern: unknown): unknown {
  if (Array.isArray(pattern) && Array.isArray(actual)) return (actual as unknown[]).map((a, i) => (i < pattern.length ? subset(a, pattern[i]) : a));
  if (isPlain(pattern) && isPlain(actual)) return Object.fromEntries(Object.keys(pattern).map((k) => [k, subset(actual[k], pattern[k])]));
  return actual;
}

/**
 * One row evaluated: `actual` and `expected` are to be equal (one result, not unknown, the
 * subjects in order, and per finding what the row names: status, side, plan as a subset, no plan
 * for a manual finding, guidance, privileged, every planned action valid vocabulary). `findings`
 * for a table's further assertions.
 */
export function appRowOutcome(checks: readonly CheckDef[], row: AppRow) {
  const check = checks.find((c) => c.id === row.check);
  if (!check) throw new Error(`no check ${row.check} in this family`);
  const [result, ...more] = evaluateChecks([check], row.snap());
  const findings = result?.findings ?? [];
  const actual = { more: more.map((r) => `${r.checkId}/${r.side}`), unknown: result?.unknown, subjects: findings.map((f) => f.subject), findings: [] as unknown[] };
  const expected = { more: [], unknown: undefined, subjects: row.want.map((w) => w.subject), findings: [] as unknown[] };
  row.want.forEach((w, i) => {
    const f = findings[i];
    const a: Record<string, unknown> = { status: f?.status };
    const e: Record<string, unknown> = { status: w.status };
    if (w.side) [a.side, e.side] = [f?.side, w.side];
    if (w.plan) [a.plan, e.plan] = [subset(f?.plan, w.plan), w.plan];
    else if (w.status.endsWith('-manual')) [a.plan, e.plan] = [f?.plan, null];
    if (w.guidance) [a.guidance, e.guidance] = [f?.guidance != null && w.guidance.test(f.guidance) ? w.guidance : f?.guidance, w.guidance];
    if (w.privileged !== undefined) [a.privileged, e.privileged] = [f?.privileged, w.privileged];
    [a.invalidActions, e.invalidActions] = [(f?.plan ?? []).filter((p) => !fixActionSchema.safeParse(p).success), []];
    actual.findings.push(a);
    expected.findings.push(e);
  });
  return { actual, expected, findings };
}

/**
 * A firing case of the Windows application families' tables (exchange, sharepoint, sqlserver):
 * the check must not be good on `snap`, and give the finding `subject` like this.
 */
export interface FiringCase {
  id: string;
  name: string;
  snap: FactsSnapshot;
  subject: string;
  status: DisplayStatus;
  side?: FindingSide;
  /** The first planned action's `op` (app actions) or `action`. */
  plan?: string;
  /** Manual guidance must match this. */
  guidance?: RegExp;
  /** How many findings the check gives in all. */
  count?: number;
}

/**
 * One firing case evaluated: `actual` and `expected` are to be equal. A case naming a plan (or a
 * fixable status) wants that first action and valid vocabulary throughout; any other wants no
 * plan and some guidance. `finding` for a table's further assertions.
 */
export function firingOutcome(checks: readonly CheckDef[], c: FiringCase) {
  const check = checks.find((x) => x.id === c.id);
  if (!check) throw new Error(`no check ${c.id} in this family`);
  const [result] = evaluateChecks([check], c.snap).filter((r) => r.status !== 'good');
  const finding = result?.findings.find((x) => x.subject === c.subject);
  const actual: Record<string, unknown> = { fired: !!result, subject: finding ? c.subject : `${c.subject} not in [${result?.findings.map((x) => x.subject).join(', ') ?? ''}] ${result?.unknown?.reason ?? ''}`, status: finding?.status };
  const expected: Record<string, unknown> = { fired: true, subject: c.subject, status: c.status };
  if (c.side) [actual.side, expected.side] = [finding?.side, c.side];
  if (c.count) [actual.count, expected.count] = [result?.findings.length, c.count];
  if (c.plan !== undefined || c.status.endsWith('fixable')) {
    const a = finding?.plan?.[0];
    [actual.plan, expected.plan] = [a && (a.action === 'app' ? a.op : a.action), c.plan];
    [actual.invalidActions, expected.invalidActions] = [(finding?.plan ?? []).filter((p) => !fixActionSchema.safeParse(p).success), []];
  } else {
    [actual.plan, expected.plan] = [finding?.plan, null];
    [actual.hasGuidance, expected.hasGuidance] = [!!finding?.guidance, true];
    if (c.guidance) [actual.guidance, expected.guidance] = [finding?.guidance && c.guidance.test(finding.guidance) ? c.guidance : finding?.guidance, c.guidance];
  }
  return { actual, expected, finding };
}
