import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { drillStatus, idSchema, notFound, type DrillLastTest } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { drillScheduleOutput, type DrillScheduleView } from './schemas';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Drill schedules of the organization (or of one customer), with what each last started and
 * whether it is overdue: its last due time passed a day ago without a passing test since.
 */
export const listDrills = orgProcedure('viewer')
  .input(z.object({ customerId: idSchema.optional() }).optional())
  .output(z.array(drillScheduleOutput))
  .query(async ({ ctx, input }) => {
    const customerId = input?.customerId;
    if (customerId && !(await ctx.db.customer.findUnique({ where: { id: customerId }, select: { id: true } })))
      throw notFound('Customer');
    return drillViews(ctx.db, customerId ? { customerId } : {}, new Date());
  });

/** The schedules matching `where`, with status (shared with the dashboard). */
export async function drillViews(db: TenantTx, where: { customerId?: string }, now: Date): Promise<DrillScheduleView[]> {
  const drills = await db.drillSchedule.findMany({
    where,
    include: { pair: { select: { name: true, lastTestSucceededAt: true } } },
    orderBy: [{ nextDueAt: 'asc' }, { id: 'asc' }],
  });
  if (drills.length === 0) return [];
  const customerIds = [...new Set(drills.map((d) => d.customerId))];
  const [customers, protectedPairs, lastOps] = await Promise.all([
    db.customer.findMany({ where: { id: { in: customerIds } }, select: { id: true, name: true } }),
    // Customer-wide schedules count every protected pair: the one tested longest ago decides.
    db.protectionPair.findMany({
      where: { customerId: { in: customerIds }, status: 'protected' },
      select: { customerId: true, lastTestSucceededAt: true },
    }),
    db.operation.findMany({
      where: { drillScheduleId: { in: drills.map((d) => d.id) }, kind: 'test_failover' },
      orderBy: { createdAt: 'desc' },
      distinct: ['drillScheduleId'],
      select: { id: true, drillScheduleId: true, pairId: true, status: true, createdAt: true, finishedAt: true },
    }),
  ]);
  const customerName = new Map(customers.map((c) => [c.id, c.name]));
  const lastOp = new Map(lastOps.map((o) => [o.drillScheduleId, o]));
  return drills.map((d) => {
    let lastPassed: Date | null;
    if (d.pairId) lastPassed = d.pair?.lastTestSucceededAt ?? null;
    else {
      const pairs = protectedPairs.filter((p) => p.customerId === d.customerId);
      lastPassed =
        pairs.length === 0 || pairs.some((p) => !p.lastTestSucceededAt)
          ? null
          : new Date(Math.min(...pairs.map((p) => p.lastTestSucceededAt!.getTime())));
    }
    const lastTest: DrillLastTest | null = lastPassed ? { at: lastPassed, passed: true } : null;
    const status = drillStatus(d, lastTest, now);
    const op = lastOp.get(d.id);
    return {
      id: d.id,
      customerId: d.customerId,
      customerName: customerName.get(d.customerId) ?? '',
      pairId: d.pairId,
      pairName: d.pair?.name ?? null,
      everyDays: d.everyDays,
      enabled: d.enabled,
      nextDueAt: d.nextDueAt.toISOString(),
      lastStartedAt: iso(d.lastStartedAt),
      lastResult: op
        ? {
            operationId: op.id,
            pairId: op.pairId,
            status: op.status,
            createdAt: op.createdAt.toISOString(),
            finishedAt: iso(op.finishedAt),
          }
        : null,
      lastPassedAt: iso(lastPassed),
      status,
      overdue: status.state === 'overdue',
    };
  });
}
