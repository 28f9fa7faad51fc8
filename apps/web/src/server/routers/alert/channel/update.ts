import { z } from 'zod';
import { AppError, emailChannelConfigSchema, idSchema, webhookChannelConfigSchema } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit, diff } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { addressesSchema, channelNameSchema, channelOutput, channelSecretContext, loadChannel, presetSchema, routingKeySchema, toChannelOutput, webhookUrlSchema } from '../schemas';

export const updateChannelInput = z.object({
  channelId: idSchema,
  name: channelNameSchema.optional(),
  enabled: z.boolean().optional(),
  addresses: addressesSchema.optional(),
  url: webhookUrlSchema.optional(),
  preset: presetSchema.optional(),
  /** PagerDuty only; empty keeps the stored key. */
  routingKey: z.union([z.literal('').transform(() => undefined), routingKeySchema]).optional(),
});

/** Renames, enables/disables or re-targets a channel. Its kind, and whether it is PagerDuty, stay. */
export const updateChannel = orgProcedure('admin')
  .input(updateChannelInput)
  .output(channelOutput)
  .mutation(async ({ ctx, input }) => {
    const c = await loadChannel(ctx.db, input.channelId);
    const email = c.kind === 'email';
    const wrong = email ? (['url', 'preset', 'routingKey'] as const).find((k) => input[k] !== undefined) : input.addresses !== undefined ? 'addresses' : undefined;
    if (wrong) throw new AppError('BAD_REQUEST', `A${email ? 'n e-mail' : ' webhook'} channel has no ${wrong}`, { [wrong]: 'Not part of this kind of channel' });

    let before: Record<string, unknown>;
    let config: Record<string, unknown>;
    if (email) {
      const old = emailChannelConfigSchema.parse(c.config);
      before = old;
      config = emailChannelConfigSchema.parse({ addresses: input.addresses ?? old.addresses });
    } else {
      const old = webhookChannelConfigSchema.parse(c.config);
      before = old;
      const preset = input.preset ?? old.preset;
      // The stored secret means a signing secret or a routing key depending on the preset.
      if ((preset === 'pagerduty') !== (old.preset === 'pagerduty')) {
        throw new AppError('BAD_REQUEST', 'A channel cannot switch to or from PagerDuty; create a new channel instead', { preset: 'Create a new channel for this' });
      }
      if (input.routingKey !== undefined && preset !== 'pagerduty') {
        throw new AppError('BAD_REQUEST', 'Only PagerDuty channels take a routing key', { routingKey: 'Not part of this kind of channel' });
      }
      config = webhookChannelConfigSchema.parse({ url: input.url ?? old.url, preset });
    }
    const updated = await ctx.db.alertChannel.update({
      where: { id: c.id },
      data: {
        name: input.name,
        enabled: input.enabled,
        config: config as never,
        ...(input.routingKey !== undefined ? { secretEnc: sealSecret(input.routingKey, channelSecretContext(c.id)) } : {}),
      },
      include: { _count: { select: { rules: true } } },
    });
    const changes: Record<string, unknown> = diff(
      { name: c.name, enabled: c.enabled, ...before, addresses: JSON.stringify(before.addresses ?? null) },
      { name: input.name, enabled: input.enabled, ...config, addresses: JSON.stringify(config.addresses ?? null) },
    );
    if (input.routingKey !== undefined) changes.routingKey = 'replaced';
    const what = input.enabled === false ? 'Disabled' : input.enabled === true && !c.enabled ? 'Enabled' : 'Updated';
    await audit(ctx.db, ctx.actor, {
      action: 'alert.channel.update',
      targetType: 'AlertChannel',
      targetId: c.id,
      summary: `${what} channel "${updated.name}"`,
      changes,
    });
    return toChannelOutput(updated);
  });
