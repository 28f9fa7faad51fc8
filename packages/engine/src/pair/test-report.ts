import { z } from 'zod';

// The evidence report of a test failover: what ran, what the probes saw, the lag around it, who
// started it and the pair's settings at the time. Built when the test ends (buildTestReport),
// stored with the operation, shown in the portal and rendered as PDF; never recomputed later.

/** What a test.probe step's output holds. */
export const probeResultSchema = z.object({
  passed: z.boolean(),
  /** One line: what was checked and what was seen ("20 of 20 sampled files match"). */
  summary: z.string().max(500),
  /** Details (mismatching files, the query's first rows, a script's output), bounded. */
  detail: z.string().max(16_000),
});
export type ProbeResult = z.infer<typeof probeResultSchema>;

/** What a test.lag step's output holds: seconds behind the source (null: not measurable then). */
export const lagSampleSchema = z.object({ lagSeconds: z.number().nullable(), at: z.iso.datetime() });

export const testReportSchema = z.object({
  version: z.literal(1),
  operationId: z.uuid(),
  pair: z.object({ id: z.uuid(), name: z.string(), application: z.string(), method: z.string(), source: z.string(), target: z.string() }),
  customer: z.object({ id: z.uuid(), name: z.string() }),
  /** A person (manual) or a drill schedule. */
  startedBy: z.object({ kind: z.enum(['user', 'drill']), name: z.string(), email: z.string().nullable() }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number().int().min(0),
  /** passed: every probe passed and the copy was removed; failed otherwise. */
  result: z.enum(['passed', 'failed']),
  error: z.string().nullable(),
  copy: z
    .object({ kind: z.enum(['files', 'postgresql']), method: z.string(), bytes: z.number().nullable(), files: z.number().nullable(), durationMs: z.number().nullable() })
    .nullable(),
  lag: z.object({ before: z.number().nullable(), during: z.number().nullable(), after: z.number().nullable() }),
  probes: z.array(
    z.object({ index: z.number().int(), kind: z.string(), description: z.string(), passed: z.boolean(), summary: z.string(), detail: z.string(), durationMs: z.number().nullable() }),
  ),
  timeline: z.array(
    z.object({
      position: z.number().int(),
      kind: z.string(),
      description: z.string(),
      status: z.string(),
      startedAt: z.iso.datetime().nullable(),
      finishedAt: z.iso.datetime().nullable(),
      durationMs: z.number().nullable(),
      error: z.string().nullable(),
    }),
  ),
  /** Whether the teardown removed every copy (false: the report says what is left). */
  cleanedUp: z.boolean(),
  /** The pair's settings when the test ran (no secrets: settings hold none). */
  settings: z.record(z.string(), z.unknown()),
});
export type TestReport = z.infer<typeof testReportSchema>;

/** A stored step of the test, as the runner read it back. */
export interface TestReportStep {
  position: number;
  kind: string;
  description: string;
  params: unknown;
  status: string;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  output: unknown;
}

export interface TestReportInput {
  operation: { id: string; createdAt: Date; startedAt: Date | null; error: string | null };
  steps: TestReportStep[];
  pair: TestReport['pair'];
  customer: TestReport['customer'];
  startedBy: TestReport['startedBy'];
  /** The pair's settings when the test ran (settingsToColumns shape or the settings object). */
  settings: Record<string, unknown>;
  finishedAt: Date;
}

const ms = (a: Date | null, b: Date | null) => (a && b ? Math.max(0, b.getTime() - a.getTime()) : null);
const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * The evidence report of a finished test failover, from its stored steps. It passes only when the
 * copy was made, every probe ran and passed, and the teardown removed the copy; the first reason
 * it did not is its error (the operation's own error when the runner gave one).
 */
export function buildTestReport(i: TestReportInput): TestReport {
  const steps = [...i.steps].sort((a, b) => a.position - b.position);
  const byKind = (kind: string) => steps.filter((s) => s.kind === kind);

  const copyStep = byKind('test.copy')[0] ?? byKind('test.postgresql-copy')[0] ?? null;
  let copy: TestReport['copy'] = null;
  if (copyStep && copyStep.status === 'succeeded') {
    const out = record(copyStep.output);
    const files = copyStep.kind === 'test.copy';
    copy = {
      kind: files ? 'files' : 'postgresql',
      method: typeof out.method === 'string' ? out.method : files ? 'copy' : 'base backup',
      bytes: num(out.bytes),
      files: files ? num(out.files) : null,
      durationMs: num(out.durationMs) ?? ms(copyStep.startedAt, copyStep.finishedAt),
    };
  }

  const lag: TestReport['lag'] = { before: null, during: null, after: null };
  for (const s of byKind('test.lag')) {
    const moment = record(s.params).moment;
    const parsed = lagSampleSchema.safeParse(s.output);
    if ((moment === 'before' || moment === 'during' || moment === 'after') && s.status === 'succeeded' && parsed.success) lag[moment] = parsed.data.lagSeconds;
  }

  const probes = byKind('test.probe').map((s) => {
    const params = record(s.params);
    const probe = record(params.probe);
    const result = probeResultSchema.safeParse(s.output);
    const ran = result.success && (s.status === 'succeeded' || s.status === 'failed');
    const notRun = s.status === 'pending' || s.status === 'skipped' || s.status === 'running' ? 'Not run' : 'Failed';
    return {
      index: num(params.index) ?? 0,
      kind: typeof probe.kind === 'string' ? probe.kind : 'unknown',
      description: s.description,
      passed: ran ? result.data.passed && s.status === 'succeeded' : false,
      summary: ran ? result.data.summary : clip(`${notRun}${s.error ? `: ${s.error}` : ''}`, 500),
      detail: ran ? result.data.detail : '',
      durationMs: ms(s.startedAt, s.finishedAt),
    };
  });

  const teardown = byKind('test.teardown')[0] ?? null;
  // A test refused before it planned any step made no copy: nothing is left to remove.
  const cleanedUp = teardown === null ? steps.length === 0 : teardown.status === 'succeeded';

  let error = i.operation.error;
  if (!error) {
    const failedStep = steps.find((s) => s.status === 'failed' && s.kind !== 'test.probe');
    const failedProbes = probes.filter((p) => !p.passed);
    if (failedStep) error = `${failedStep.description}: ${failedStep.error ?? 'failed'}`;
    else if (!copy) error = 'The test copy was not made';
    else if (probes.length === 0) error = 'No probe ran';
    else if (failedProbes.length) error = `${failedProbes.length} of ${probes.length} probe${probes.length === 1 ? '' : 's'} failed: ${failedProbes.map((p) => p.summary).join('; ')}`;
    else if (!cleanedUp) error = `The test copy was not removed${teardown?.error ? `: ${teardown.error}` : ''}`;
  }
  const startedAt = i.operation.startedAt ?? i.operation.createdAt;
  return testReportSchema.parse({
    version: 1,
    operationId: i.operation.id,
    pair: i.pair,
    customer: i.customer,
    startedBy: i.startedBy,
    startedAt: startedAt.toISOString(),
    finishedAt: i.finishedAt.toISOString(),
    durationMs: Math.max(0, i.finishedAt.getTime() - startedAt.getTime()),
    result: error ? 'failed' : 'passed',
    error: error ? clip(error, 2000) : null,
    copy,
    lag,
    probes,
    timeline: steps.map((s) => ({
      position: s.position,
      kind: s.kind,
      description: s.description,
      status: s.status,
      startedAt: s.startedAt?.toISOString() ?? null,
      finishedAt: s.finishedAt?.toISOString() ?? null,
      durationMs: ms(s.startedAt, s.finishedAt),
      error: s.error,
    })),
    cleanedUp,
    settings: i.settings,
  });
}
