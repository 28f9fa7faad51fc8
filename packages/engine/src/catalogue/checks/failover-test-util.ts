import { fixActionSchema } from '../actions.ts';
import { evaluateChecks } from '../evaluate.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckDef, CheckResult, DisplayStatus, EvaluatedFinding, FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

// Table-driven cases for the failover-facing families' tests: a snapshot bent from the healthy
// fixture, and the findings expected of one check on it (an empty list: the check is good).

export type Patch = Parameters<typeof withFacts<FactsSnapshot>>[1];
export const snap = (patch: Patch = {}) => withFacts(snapshotFixture(), patch);

export interface Expected {
  subject: string;
  status: Exclude<DisplayStatus, 'good' | 'unknown'>;
  side?: FindingSide;
  /** Action names of the plan (fixable findings). */
  plan?: string[];
  /** Text the manual guidance must contain. */
  guidance?: RegExp;
  /** Further assertions on the finding (plan values, evidence). */
  also?: (f: EvaluatedFinding) => void;
}
export interface Case {
  id: string;
  name: string;
  snap: FactsSnapshot;
  expect: Expected[];
}

export function run(checks: readonly CheckDef[], id: string, s: FactsSnapshot): CheckResult[] {
  const check = checks.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return evaluateChecks([check], s);
}

const project = (f: EvaluatedFinding | undefined, e: Expected) => ({
  subject: f?.subject,
  status: f?.status,
  ...(e.side ? { side: f?.side } : {}),
  plan: f?.plan?.map((a) => a.action) ?? null,
  /** Every planned action is valid fix vocabulary with a description. */
  planDescribed: (f?.plan ?? []).every((a) => a.description.length > 0 && fixActionSchema.safeParse(a).success),
  guidance: e.guidance ? e.guidance.test(f?.guidance ?? '') : (f?.guidance ?? '').length > 10 || !!f?.plan,
});

/**
 * One case evaluated: `actual` and `expected` are to be equal (findings projected onto what the
 * case names; unknown results listed), `findings` for the case's further assertions.
 */
export function outcome(checks: readonly CheckDef[], c: Case) {
  const results = run(checks, c.id, c.snap);
  const findings = results.flatMap((r) => r.findings);
  const n = Math.max(findings.length, c.expect.length);
  const actual = { applies: results.length > 0, unknown: results.filter((r) => r.status === 'unknown').map((r) => r.unknown?.reason), findings: [] as unknown[] };
  const expected = { applies: true, unknown: [], findings: [] as unknown[] };
  for (let i = 0; i < n; i++) {
    const e = c.expect[i] ?? { subject: '?', status: 'error-manual' as const };
    actual.findings.push(project(findings[i], e));
    expected.findings.push({ subject: e.subject, status: e.status, ...(e.side ? { side: e.side } : {}), plan: e.plan ?? null, planDescribed: true, guidance: true });
  }
  return { actual, expected, findings };
}

/** Results of a check expected to be unknown (optionally on one side): their status, gate and whether a reason is given. */
export function unknownOutcome(checks: readonly CheckDef[], id: string, s: FactsSnapshot, side?: FindingSide) {
  return run(checks, id, s)
    .filter((r) => !side || r.side === side)
    .map((r) => ({ status: r.status, gate: r.unknown?.gate ?? null, reason: !!r.unknown?.reason }));
}
