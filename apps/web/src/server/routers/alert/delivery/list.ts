import { notFound } from '@tandem/engine';
import { orgProcedure } from '../../../trpc';
import { deliveryPage, deliveryPageOutput, staffDeliveryFilters } from './schemas';

/** The organization's delivery log (every customer's and its own), filtered, newest first. */
export const listDeliveries = orgProcedure('operator')
  .input(staffDeliveryFilters.default({ page: 0 }))
  .output(deliveryPageOutput)
  .query(async ({ ctx, input }) => {
    // A filter naming something that is not ours is an error, not an empty page.
    if (input.customerId && !(await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } }))) throw notFound('Customer');
    if (input.channelId && !(await ctx.db.alertChannel.findUnique({ where: { id: input.channelId }, select: { id: true } }))) throw notFound('Channel');
    const where = { status: input.status, event: input.event, channelId: input.channelId, customerId: input.customerId };
    return deliveryPage(ctx.db, where, input.page, true);
  });
