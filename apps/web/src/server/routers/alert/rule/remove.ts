import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { loadRule } from './schemas';

/** Deletes a rule (a customer without rules of its own falls back to the defaults). */
export const removeRule = orgProcedure('operator')
  .input(z.object({ ruleId: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const r = await loadRule(ctx.db, input.ruleId);
    await ctx.db.alertRule.delete({ where: { id: r.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.rule.remove',
      targetType: 'AlertRule',
      targetId: r.id,
      customerId: r.customerId,
      summary: `Deleted the rule for "${r.channel.name}" ${r.customer ? `of ${r.customer.name}` : '(organization default)'}`,
      changes: { channelId: r.channelId, events: r.events },
    });
    return { id: r.id };
  });
