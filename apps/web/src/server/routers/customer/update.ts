import { customerInputSchema } from '@tandem/engine';
import { customerProcedure } from '../../trpc';
import { audit, diff } from '../../services/audit';
import { customerOutput, toCustomerOutput } from './schemas';

export const updateCustomerInput = customerInputSchema.partial();

export const updateCustomer = customerProcedure({ staff: 'operator' })
  .input(updateCustomerInput)
  .output(customerOutput)
  .mutation(async ({ ctx, input }) => {
    const before = ctx.customer;
    const changes = diff(before, { name: input.name, contactEmail: input.contactEmail, notes: input.notes });
    const customer = await ctx.db.customer.update({
      where: { id: before.id },
      data: { name: input.name, contactEmail: input.contactEmail, notes: input.notes },
      include: { _count: { select: { servers: true } } },
    });
    if (Object.keys(changes).length > 0) {
      await audit(ctx.db, ctx.actor, {
        action: 'customer.update',
        targetType: 'Customer',
        targetId: customer.id,
        customerId: customer.id,
        summary: `Changed ${Object.keys(changes).join(', ')} of customer "${customer.name}"`,
        changes,
      });
    }
    return toCustomerOutput(customer);
  });
