import { z } from 'zod';
import { pairStatuses } from '@tandem/engine';

// What the report procedures answer (engine MonthlyReport), checked on the way out.

const lagOutput = z.object({
  samples: z.number().int(),
  withinRpo: z.number().int(),
  withinRpoPercent: z.number().nullable(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  max: z.number().nullable(),
  longestAboveRpoSeconds: z.number(),
});
const findingsOutput = z.object({ error: z.number().int(), warning: z.number().int(), info: z.number().int() });
const testsOutput = z.object({ total: z.number().int(), passed: z.number().int(), failed: z.number().int() });

export const monthlyReportOutput = z.object({
  month: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  partial: z.boolean(),
  customer: z.object({ id: z.string(), name: z.string(), rpoSeconds: z.number().int() }),
  organizationName: z.string(),
  pairs: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      application: z.string(),
      status: z.enum(pairStatuses),
      protectedSeconds: z.number(),
      protectedPercent: z.number(),
      lag: lagOutput,
      failovers: z.number().int(),
      failbacks: z.number().int(),
      tests: testsOutput,
      findings: findingsOutput,
    }),
  ),
  runs: z.array(
    z.object({
      operationId: z.string(),
      pairId: z.string(),
      pairName: z.string(),
      kind: z.enum(['failover', 'failback', 'test_failover']),
      outcome: z.enum(['succeeded', 'failed', 'cancelled', 'running', 'waiting']),
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      durationSeconds: z.number().nullable(),
      error: z.string().nullable(),
    }),
  ),
  totals: z.object({
    pairs: z.number().int(),
    protectedPercent: z.number().nullable(),
    worstP95: z.number().nullable(),
    withinRpoPercent: z.number().nullable(),
    failovers: z.object({ total: z.number().int(), succeeded: z.number().int(), failed: z.number().int() }),
    tests: testsOutput,
    findings: findingsOutput,
  }),
});
