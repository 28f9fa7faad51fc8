import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { minSeveritySchema, ruleChannel, ruleEventsSchema, ruleInclude, ruleOutput, toRuleOutput } from './schemas';

export const createRuleInput = z.object({
  /** null: an organization default. */
  customerId: idSchema.nullable(),
  channelId: idSchema,
  events: ruleEventsSchema,
  minSeverity: minSeveritySchema.default('info'),
  enabled: z.boolean().default(true),
});

/** Which events of a customer (or, by default, of every customer) go to a channel. */
export const createRule = orgProcedure('operator')
  .input(createRuleInput)
  .output(ruleOutput)
  .mutation(async ({ ctx, input }) => {
    const customer = input.customerId ? await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true, name: true } }) : null;
    if (input.customerId && !customer) throw notFound('Customer');
    const channel = await ruleChannel(ctx.db, input.channelId);
    const r = await ctx.db.alertRule.create({
      data: {
        organizationId: ctx.actor.organizationId,
        customerId: customer?.id ?? null,
        channelId: channel.id,
        events: input.events,
        minSeverity: input.minSeverity,
        enabled: input.enabled,
      },
      include: ruleInclude,
    });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.rule.create',
      targetType: 'AlertRule',
      targetId: r.id,
      customerId: r.customerId,
      summary: `Added a rule sending ${input.events.join(', ')} ${customer ? `of ${customer.name}` : 'of every customer (default)'} to "${channel.name}"`,
      changes: { channelId: channel.id, events: input.events, minSeverity: input.minSeverity, enabled: input.enabled },
    });
    return toRuleOutput(r);
  });
