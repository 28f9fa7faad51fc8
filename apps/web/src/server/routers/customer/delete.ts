import { z } from 'zod';
import { AppError, engagedStatuses } from '@tandem/engine';
import { customerProcedure } from '../../trpc';
import { audit } from '../../services/audit';

export const deleteCustomerInput = z.object({
  /** The customer's name typed again: deleting removes its servers and pairs. */
  confirmName: z.string().trim().min(1, 'Type the customer name to confirm'),
});

export const deleteCustomer = customerProcedure({ staff: 'admin' })
  .input(deleteCustomerInput)
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const customer = ctx.customer;
    if (input.confirmName !== customer.name) {
      throw new AppError('BAD_REQUEST', 'The name you typed does not match the customer name', {
        confirmName: 'Does not match the customer name',
      });
    }
    const active = await ctx.db.protectionPair.count({
      where: { customerId: customer.id, status: { in: [...engagedStatuses] } },
    });
    if (active > 0) {
      throw new AppError('CONFLICT', `Disable protection on this customer's ${active} active pair(s) first`);
    }
    const servers = await ctx.db.server.count({ where: { customerId: customer.id } });
    await ctx.db.protectionPair.deleteMany({ where: { customerId: customer.id } });
    await ctx.db.customer.delete({ where: { id: customer.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'customer.delete',
      targetType: 'Customer',
      targetId: customer.id,
      customerId: customer.id,
      summary: `Deleted customer "${customer.name}" and its ${servers} server(s)`,
    });
    return { id: customer.id };
  });
