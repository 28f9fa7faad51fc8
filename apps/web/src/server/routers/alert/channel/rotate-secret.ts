import { z } from 'zod';
import { AppError, idSchema, webhookChannelConfigSchema } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { channelSecretContext, loadChannel, newSigningSecret } from '../schemas';

/** A new signing secret for a webhook channel, returned this once; the old one stops working. */
export const rotateChannelSecret = orgProcedure('admin')
  .input(z.object({ channelId: idSchema }))
  .output(z.object({ secret: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const c = await loadChannel(ctx.db, input.channelId);
    if (c.kind !== 'webhook') throw new AppError('BAD_REQUEST', 'E-mail channels have no signing secret');
    if (webhookChannelConfigSchema.parse(c.config).preset === 'pagerduty') {
      throw new AppError('BAD_REQUEST', 'PagerDuty channels use a routing key, not a signing secret: enter a new key in the channel’s settings');
    }
    const secret = newSigningSecret();
    await ctx.db.alertChannel.update({ where: { id: c.id }, data: { secretEnc: sealSecret(secret, channelSecretContext(c.id)) } });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.channel.rotate-secret',
      targetType: 'AlertChannel',
      targetId: c.id,
      summary: `Rotated the signing secret of channel "${c.name}"`,
    });
    return { secret };
  });
