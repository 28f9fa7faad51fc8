import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { loadChannel } from '../schemas';

export const CHANNEL_REMOVED = 'Not sent: the channel was removed before this message went out';

/**
 * Deletes a channel with its rules. Its delivery log stays (without the channel); messages still
 * waiting to go out through it are ended as not sent.
 */
export const removeChannel = orgProcedure('admin')
  .input(z.object({ channelId: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const c = await loadChannel(ctx.db, input.channelId);
    const rules = await ctx.db.alertRule.count({ where: { channelId: c.id } });
    const ended = await ctx.db.alertDelivery.updateMany({
      where: { channelId: c.id, status: 'pending' },
      data: { status: 'failed', lastError: CHANNEL_REMOVED, claimedUntil: null },
    });
    await ctx.db.alertChannel.delete({ where: { id: c.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.channel.remove',
      targetType: 'AlertChannel',
      targetId: c.id,
      summary: `Deleted channel "${c.name}"${rules ? ` and its ${rules} ${rules === 1 ? 'rule' : 'rules'}` : ''}${ended.count ? `; ${ended.count} waiting ${ended.count === 1 ? 'message was' : 'messages were'} not sent` : ''}`,
      changes: { name: c.name, kind: c.kind, rules, notSent: ended.count },
    });
    return { id: c.id };
  });
