// Validation roll-up per customer and for the whole MSP: pairs whose latest run has errors, with
// warnings, never validated, and readiness (average and lowest). A customer user gets their own
// customer only (the tenant scope does that).
import { z } from 'zod';
import { displayStatuses } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { displayStatus, readinessOf, readinessOutput } from './shared';

const pairRow = z.object({
  pairId: z.string(),
  name: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  readinessScore: z.number().nullable(),
  validatedAt: z.string().nullable(),
});

const countsOutput = z.object({
  pairs: z.number().int(),
  withErrors: z.number().int(),
  withWarnings: z.number().int(),
  notValidated: z.number().int(),
  /** Average readiness over the pairs that have a score; null when none has. */
  readinessAverage: z.number().int().nullable(),
  readinessLowest: z.number().int().nullable(),
});
export const rollupOutput = z.object({
  customers: z.array(countsOutput.extend({ customerId: z.string(), name: z.string() })),
  totals: countsOutput.extend({ customers: z.number().int(), customersWithErrors: z.number().int() }),
  /** Every pair whose latest run has errors (error-fixable, error-manual or unknown on an error check), worst first. */
  pairsWithErrors: z.array(pairRow.extend({ overall: z.enum(displayStatuses) })),
  /** Every pair with its latest run's status and readiness (what lowers it), lowest readiness first. */
  pairs: z.array(pairRow.extend({ overall: z.enum(displayStatuses).nullable(), readiness: readinessOutput })),
});
export type ValidationRollup = z.infer<typeof rollupOutput>;

const errorStatuses = new Set(['error-fixable', 'error-manual', 'unknown']);
const warningStatuses = new Set(['warning-fixable', 'warning-manual']);

function counts(pairs: { overall: string | null; readinessScore: number | null }[]): z.infer<typeof countsOutput> {
  const scores = pairs.map((p) => p.readinessScore).filter((s): s is number => s !== null);
  return {
    pairs: pairs.length,
    withErrors: pairs.filter((p) => p.overall !== null && errorStatuses.has(p.overall)).length,
    withWarnings: pairs.filter((p) => p.overall !== null && warningStatuses.has(p.overall)).length,
    notValidated: pairs.filter((p) => p.overall === null).length,
    readinessAverage: scores.length ? Math.round(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
    readinessLowest: scores.length ? Math.min(...scores) : null,
  };
}

export const validationRollup = memberProcedure.output(rollupOutput).query(async ({ ctx }) => {
  const [customers, pairs] = await Promise.all([
    ctx.db.customer.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } }),
    ctx.db.protectionPair.findMany({
      select: {
        id: true,
        name: true,
        customerId: true,
        readinessScore: true,
        readiness: true,
        validationRuns: {
          where: { finishedAt: { not: null } },
          orderBy: { startedAt: 'desc' },
          take: 1,
          select: { overall: true, finishedAt: true },
        },
      },
    }),
  ]);
  const rows = pairs.map((p) => ({
    ...p,
    overall: p.validationRuns[0]?.overall ?? null,
    validatedAt: p.validationRuns[0]?.finishedAt ?? null,
  }));
  const names = new Map(customers.map((c) => [c.id, c.name]));
  const perCustomer = customers.map((c) => ({
    customerId: c.id,
    name: c.name,
    ...counts(rows.filter((p) => p.customerId === c.id)),
  }));
  const rank = (s: string) => ['unknown', 'error-fixable', 'error-manual'].indexOf(s);
  const view = (p: (typeof rows)[number]) => ({
    pairId: p.id,
    name: p.name,
    customerId: p.customerId,
    customerName: names.get(p.customerId) ?? '',
    readinessScore: p.readinessScore,
    validatedAt: p.validatedAt?.toISOString() ?? null,
  });
  return {
    customers: perCustomer,
    totals: {
      ...counts(rows),
      customers: customers.length,
      customersWithErrors: perCustomer.filter((c) => c.withErrors > 0).length,
    },
    pairsWithErrors: rows
      .filter((p) => p.overall !== null && errorStatuses.has(p.overall))
      .map((p) => ({ ...view(p), overall: displayStatus(p.overall!) }))
      .sort(
        (a, b) =>
          rank(b.overall) - rank(a.overall) ||
          (a.readinessScore ?? 101) - (b.readinessScore ?? 101) ||
          a.name.localeCompare(b.name),
      ),
    pairs: rows
      .map((p) => ({
        ...view(p),
        overall: p.overall === null ? null : displayStatus(p.overall),
        readiness: readinessOf(p.readinessScore, p.readiness),
      }))
      .sort((a, b) => (a.readinessScore ?? 101) - (b.readinessScore ?? 101) || a.name.localeCompare(b.name)),
  };
});
