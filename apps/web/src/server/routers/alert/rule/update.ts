import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { audit, diff } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { loadRule, minSeveritySchema, ruleChannel, ruleEventsSchema, ruleInclude, ruleOutput, toRuleOutput } from './schemas';

export const updateRuleInput = z.object({
  ruleId: idSchema,
  channelId: idSchema.optional(),
  events: ruleEventsSchema.optional(),
  minSeverity: minSeveritySchema.optional(),
  enabled: z.boolean().optional(),
});

/** Changes a rule's channel, events, minimum severity or whether it is on. Its customer stays. */
export const updateRule = orgProcedure('operator')
  .input(updateRuleInput)
  .output(ruleOutput)
  .mutation(async ({ ctx, input }) => {
    const r = await loadRule(ctx.db, input.ruleId);
    if (input.channelId) await ruleChannel(ctx.db, input.channelId);
    const updated = await ctx.db.alertRule.update({
      where: { id: r.id },
      data: { channelId: input.channelId, events: input.events, minSeverity: input.minSeverity, enabled: input.enabled },
      include: ruleInclude,
    });
    const flat = (x: { channelId: string; events: string[]; minSeverity: string; enabled: boolean }) => ({ channelId: x.channelId, events: x.events.join(','), minSeverity: x.minSeverity, enabled: x.enabled });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.rule.update',
      targetType: 'AlertRule',
      targetId: r.id,
      customerId: r.customerId,
      summary: `Updated the rule for "${updated.channel.name}" ${r.customer ? `of ${r.customer.name}` : '(organization default)'}`,
      changes: diff(flat(r), flat(updated)),
    });
    return toRuleOutput(updated);
  });
