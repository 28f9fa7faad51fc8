import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { emitTestEvent, loadChannel } from '../schemas';

/** "Send test": an `alert.test` event for this one channel (even a disabled one, to check it before enabling); the delivery shows in the log. */
export const sendChannelTest = orgProcedure('operator')
  .input(z.object({ channelId: idSchema }))
  .output(z.object({ eventId: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const c = await loadChannel(ctx.db, input.channelId);
    const eventId = await emitTestEvent(ctx.db, ctx.actor.organizationId, {
      message: `Test message from Tandem for channel "${c.name}"`,
      data: { channelId: c.id },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.channel.test',
      targetType: 'AlertChannel',
      targetId: c.id,
      summary: `Sent a test message to channel "${c.name}"`,
      changes: { eventId },
    });
    return { eventId };
  });
