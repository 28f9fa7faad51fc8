import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { emailChannelConfigSchema, webhookChannelConfigSchema } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { addressesSchema, channelNameSchema, channelOutput, channelSecretContext, newSigningSecret, presetSchema, routingKeySchema, toChannelOutput, webhookUrlSchema } from '../schemas';

export const createChannelInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('email'), name: channelNameSchema, addresses: addressesSchema }),
  z.object({ kind: z.literal('webhook'), name: channelNameSchema, url: webhookUrlSchema, preset: presetSchema.default('standard'), routingKey: routingKeySchema.optional() }),
]);

/**
 * A new e-mail or webhook channel. A webhook gets a fresh signing secret, returned in this answer
 * only; a PagerDuty one stores the routing key it is given instead (never returned).
 */
export const createChannel = orgProcedure('admin')
  .input(createChannelInput.superRefine((v, c) => {
    if (v.kind === 'webhook' && v.preset === 'pagerduty' && !v.routingKey) c.addIssue({ code: 'custom', path: ['routingKey'], message: 'Enter the PagerDuty integration (routing) key' });
    if (v.kind === 'webhook' && v.preset !== 'pagerduty' && v.routingKey) c.addIssue({ code: 'custom', path: ['routingKey'], message: 'Only PagerDuty channels take a routing key' });
  }))
  .output(z.object({ channel: channelOutput, secret: z.string().nullable() }))
  .mutation(async ({ ctx, input }) => {
    // The id first, so the sealed secret is bound to this very row.
    const id = randomUUID();
    let config: object;
    let secret: string | null = null;
    let secretEnc: string | null = null;
    if (input.kind === 'email') {
      config = emailChannelConfigSchema.parse({ addresses: input.addresses });
    } else {
      config = webhookChannelConfigSchema.parse({ url: input.url, preset: input.preset });
      if (input.preset === 'pagerduty') secretEnc = sealSecret(input.routingKey!, channelSecretContext(id));
      else {
        secret = newSigningSecret();
        secretEnc = sealSecret(secret, channelSecretContext(id));
      }
    }
    const c = await ctx.db.alertChannel.create({
      data: { id, organizationId: ctx.actor.organizationId, kind: input.kind, name: input.name, config: config as never, secretEnc },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.channel.create',
      targetType: 'AlertChannel',
      targetId: c.id,
      summary: `Created ${input.kind === 'email' ? 'e-mail' : `${input.preset} webhook`} channel "${c.name}"`,
      changes: { name: c.name, kind: c.kind, ...config },
    });
    return { channel: toChannelOutput(c), secret };
  });
