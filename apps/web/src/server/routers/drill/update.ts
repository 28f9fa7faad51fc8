import { z } from 'zod';
import { drillEveryDaysSchema, idSchema } from '@tandem/engine';
import { audit, diff } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { everyText, loadDrill } from './schemas';

/** Changes how often a drill runs, or pauses/resumes it (the next due time stays as it is). */
export const updateDrill = orgProcedure('operator')
  .input(z.object({ id: idSchema, everyDays: drillEveryDaysSchema.optional(), enabled: z.boolean().optional() }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const drill = await loadDrill(ctx.db, input.id);
    const changes = diff(
      { everyDays: drill.everyDays, enabled: drill.enabled },
      { everyDays: input.everyDays, enabled: input.enabled },
    );
    if (Object.keys(changes).length === 0) return { id: drill.id };
    await ctx.db.drillSchedule.update({ where: { id: drill.id }, data: { everyDays: input.everyDays, enabled: input.enabled } });
    const what = drill.pair ? `pair "${drill.pair.name}"` : 'every protected pair of the customer';
    const parts = [
      input.everyDays !== undefined && input.everyDays !== drill.everyDays ? `now runs ${everyText(input.everyDays)}` : null,
      input.enabled !== undefined && input.enabled !== drill.enabled ? (input.enabled ? 'resumed' : 'paused') : null,
    ].filter(Boolean);
    await audit(ctx.db, ctx.actor, {
      action: 'drill.update',
      targetType: 'DrillSchedule',
      targetId: drill.id,
      customerId: drill.customerId,
      summary: `Drill of ${what}: ${parts.join(', ')}`,
      changes,
    });
    return { id: drill.id };
  });
