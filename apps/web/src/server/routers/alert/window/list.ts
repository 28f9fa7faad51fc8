import { z } from 'zod';
import { customerProcedure } from '../../../trpc';
import { toWindowOutput, windowOutput } from './schemas';

/** The customer's maintenance windows, current and upcoming first, then the last 50 ended. */
export const listWindows = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .output(z.array(windowOutput))
  .query(async ({ ctx }) => {
    const now = new Date();
    const [current, ended] = await Promise.all([
      ctx.db.maintenanceWindow.findMany({ where: { customerId: ctx.customer.id, endsAt: { gt: now } }, orderBy: [{ startsAt: 'asc' }, { id: 'asc' }] }),
      ctx.db.maintenanceWindow.findMany({ where: { customerId: ctx.customer.id, endsAt: { lte: now } }, orderBy: [{ endsAt: 'desc' }, { id: 'asc' }], take: 50 }),
    ]);
    const rows = [...current, ...ended];
    const pairIds = [...new Set(rows.map((w) => w.pairId).filter((id): id is string => id !== null))];
    const pairs = pairIds.length ? await ctx.db.protectionPair.findMany({ where: { id: { in: pairIds } }, select: { id: true, name: true } }) : [];
    const pairName = new Map(pairs.map((p) => [p.id, p.name]));
    return rows.map((w) => toWindowOutput(w, w.pairId ? (pairName.get(w.pairId) ?? null) : null, now));
  });
