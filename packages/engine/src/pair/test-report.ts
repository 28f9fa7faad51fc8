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
