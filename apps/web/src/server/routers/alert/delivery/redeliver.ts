import { z } from 'zod';
import { AppError, idSchema, notFound } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';

/**
 * Sends a delivery again: back to pending, due now, unclaimed. It keeps its id (the webhook-id),
 * so a receiver can tell it is the same message; the log grows with the next attempt.
 */
export const redeliver = orgProcedure('operator')
  .input(z.object({ deliveryId: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const d = await ctx.db.alertDelivery.findUnique({
      where: { id: input.deliveryId },
      select: { id: true, status: true, customerId: true, recipient: true, kind: true, event: true, channel: { select: { name: true, enabled: true } } },
    });
    if (!d) throw notFound('Delivery');
    // The sender does not send through a turned-off channel: queuing it again would only fail it again.
    if (d.channel && !d.channel.enabled && d.event !== 'alert.test') throw new AppError('CONFLICT', `The channel "${d.channel.name}" is turned off; turn it on before redelivering`);
    await ctx.db.alertDelivery.update({ where: { id: d.id }, data: { status: 'pending', nextAttemptAt: new Date(), claimedUntil: null } });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.delivery.redeliver',
      targetType: 'AlertDelivery',
      targetId: d.id,
      customerId: d.customerId,
      summary: `Queued ${d.event} for redelivery to ${d.kind === 'email' ? d.recipient : 'a webhook'} (was ${d.status})`,
      changes: { status: { from: d.status, to: 'pending' } },
    });
    return { id: d.id };
  });
