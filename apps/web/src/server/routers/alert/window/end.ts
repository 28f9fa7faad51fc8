import { z } from 'zod';
import { AppError, idSchema, notFound } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { customerProcedure } from '../../../trpc';
import { toWindowOutput, windowOutput } from './schemas';

/**
 * Ends a window now (alerts flow again). Windows are never deleted: the record of when alerts
 * were muted stays. An upcoming window ends before it starts, so it starts a moment earlier too
 * (a window always ends after it starts).
 */
export const endWindow = customerProcedure({ staff: 'operator' })
  .input(z.object({ windowId: idSchema }))
  .output(windowOutput)
  .mutation(async ({ ctx, input }) => {
    const w = await ctx.db.maintenanceWindow.findUnique({ where: { id: input.windowId } });
    if (!w || w.customerId !== ctx.customer.id) throw notFound('Maintenance window');
    const now = new Date();
    if (w.endsAt <= now) throw new AppError('CONFLICT', 'That maintenance window has already ended');
    const upcoming = w.startsAt >= now;
    const updated = await ctx.db.maintenanceWindow.update({
      where: { id: w.id },
      data: { endsAt: now, ...(upcoming ? { startsAt: new Date(now.getTime() - 1) } : {}) },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.window.end',
      targetType: 'MaintenanceWindow',
      targetId: w.id,
      customerId: w.customerId,
      summary: `${upcoming ? 'Cancelled' : 'Ended early'} the maintenance window "${w.reason}"`,
      changes: { endsAt: { from: w.endsAt.toISOString(), to: now.toISOString() }, ...(upcoming ? { startsAt: { from: w.startsAt.toISOString(), to: updated.startsAt.toISOString() } } : {}) },
    });
    const pair = w.pairId ? await ctx.db.protectionPair.findUnique({ where: { id: w.pairId }, select: { name: true } }) : null;
    return toWindowOutput(updated, pair?.name ?? null, now);
  });
