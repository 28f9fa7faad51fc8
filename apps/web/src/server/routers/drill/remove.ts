import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { audit } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { everyText, loadDrill } from './schemas';

/** Deletes a schedule; drills it already started run to their end and keep their reports. */
export const removeDrill = orgProcedure('operator')
  .input(z.object({ id: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const drill = await loadDrill(ctx.db, input.id);
    await ctx.db.drillSchedule.delete({ where: { id: drill.id } });
    const what = drill.pair ? `pair "${drill.pair.name}"` : 'every protected pair of the customer';
    await audit(ctx.db, ctx.actor, {
      action: 'drill.remove',
      targetType: 'DrillSchedule',
      targetId: drill.id,
      customerId: drill.customerId,
      summary: `Removed the drill of ${what} (${everyText(drill.everyDays)})`,
    });
    return { id: drill.id };
  });
