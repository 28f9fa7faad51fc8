import { z } from 'zod';
import { orgProcedure } from '../../trpc';
import { drillViews } from '../drill/list';
import { drillScheduleOutput } from '../drill/schemas';

const pairTestOutput = z.object({
  pairId: z.string(),
  pairName: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  /** The last real (not dry-run) test failover: when it started and how it ended. */
  lastTest: z.object({ operationId: z.string(), status: z.string(), at: z.string() }).nullable(),
  lastPassedAt: z.string().nullable(),
});

export const dashboardDrillsOutput = z.object({
  overdue: z.number().int(),
  due: z.number().int(),
  /** Overdue and due schedules, most overdue first. */
  schedules: z.array(drillScheduleOutput),
  /** Protected pairs never tested, or whose last test did not pass (first 100). */
  untested: z.number().int(),
  failedLast: z.number().int(),
  pairs: z.array(pairTestOutput),
});

/** The dashboard's drills panel: overdue drills, and protected pairs without a passing last test. */
export const dashboardDrills = orgProcedure('viewer')
  .output(dashboardDrillsOutput)
  .query(async ({ ctx }) => {
    const schedules = (await drillViews(ctx.db, {}, new Date()))
      .filter((d) => d.status.state !== 'ok')
      .sort((a, b) => b.status.days - a.status.days);
    const pairs = await ctx.db.protectionPair.findMany({
      where: { status: 'protected' },
      select: { id: true, name: true, customerId: true, lastTestSucceededAt: true, customer: { select: { name: true } } },
      orderBy: [{ customerId: 'asc' }, { name: 'asc' }],
    });
    const lastTests = await ctx.db.operation.findMany({
      where: { pairId: { in: pairs.map((p) => p.id) }, kind: 'test_failover', dryRun: false },
      orderBy: { createdAt: 'desc' },
      distinct: ['pairId'],
      select: { id: true, pairId: true, status: true, createdAt: true },
    });
    const rows = pairs.map((p) => {
      const op = lastTests.find((o) => o.pairId === p.id);
      return {
        pairId: p.id,
        pairName: p.name,
        customerId: p.customerId,
        customerName: p.customer.name,
        lastTest: op ? { operationId: op.id, status: op.status, at: op.createdAt.toISOString() } : null,
        lastPassedAt: p.lastTestSucceededAt?.toISOString() ?? null,
      };
    });
    const never = rows.filter((r) => !r.lastTest && !r.lastPassedAt);
    const failed = rows.filter((r) => r.lastTest && (r.lastTest.status === 'failed' || r.lastTest.status === 'cancelled'));
    return {
      overdue: schedules.filter((s) => s.overdue).length,
      due: schedules.filter((s) => s.status.state === 'due').length,
      schedules,
      untested: never.length,
      failedLast: failed.length,
      pairs: [...failed, ...never].slice(0, 100),
    };
  });
