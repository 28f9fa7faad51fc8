import { z } from 'zod';
import { orgRoleAtLeast } from '@tandem/engine';
import { customerProcedure } from '../../../trpc';
import { deliveryFilters, deliveryPage, deliveryPageOutput } from './schemas';

/**
 * One customer's deliveries, for its page: MSP staff and the customer's own users. The
 * organization's own messages (no customer) are not among them.
 */
export const listCustomerDeliveries = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .input(z.object(deliveryFilters))
  .output(deliveryPageOutput)
  .query(async ({ ctx, input }) => {
    const where = { customerId: ctx.customer.id, status: input.status, event: input.event };
    // Webhook URLs in full only for staff who may see the channels themselves.
    const full = ctx.actor.kind === 'staff' && orgRoleAtLeast(ctx.actor.role, 'operator');
    return deliveryPage(ctx.db, where, input.page, full);
  });
