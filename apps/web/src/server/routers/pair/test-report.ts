// The evidence report of one test failover, as the worker stored it when the test ended. The
// report page shows it and /api/reports/test/<operationId> renders it as PDF (the same reader).
import { z } from 'zod';
import { idSchema, notFound, testReportSchema, type TestReport } from '@tandem/engine';
import { isSecretName } from '@tandem/reports/format';
import type { TenantTx } from '@tandem/db';
import type { Actor } from '../../actor';
import { memberProcedure } from '../../trpc';

/** Settings hold no secrets by contract; a field named like one never leaves the server anyway. */
function withoutSecretNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecretNames);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !isSecretName(k))
        .map(([k, v]) => [k, withoutSecretNames(v)]),
    );
  }
  return value;
}

/**
 * The stored report of a test failover, or null while the test runs (or if it ended without
 * one). Row-level security decides who may read it: MSP staff of the organization, and users of
 * the pair's customer; anything else, and an operation that is not a test failover, is NOT_FOUND.
 */
export async function readTestReport(db: TenantTx, actor: Actor, operationId: string): Promise<TestReport | null> {
  const op = await db.operation.findUnique({ where: { id: operationId }, select: { id: true, kind: true, report: true } });
  if (!op || op.kind !== 'test_failover') throw notFound('Test failover');
  if (op.report === null) return null;
  const parsed = testReportSchema.safeParse(op.report);
  if (!parsed.success) {
    console.error(`[pair.testReport] operation ${op.id} has a report of an unexpected shape`, parsed.error.issues[0]);
    return null;
  }
  const report = parsed.data;
  // Customer users do not see the MSP's staff directory (row-level security): the name stays, as
  // the evidence says who ran the test, but not the address.
  const startedBy = actor.kind === 'customer' ? { ...report.startedBy, email: null } : report.startedBy;
  return { ...report, startedBy, settings: withoutSecretNames(report.settings) as Record<string, unknown> };
}

export const pairTestReport = memberProcedure
  .input(z.object({ operationId: idSchema }))
  .output(testReportSchema.nullable())
  .query(({ ctx, input }) => readTestReport(ctx.db, ctx.actor, input.operationId));
