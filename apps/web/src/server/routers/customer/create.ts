import { customerInputSchema } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';
import { customerOutput, toCustomerOutput } from './schemas';

export const createCustomerInput = customerInputSchema;

export const createCustomer = orgProcedure('operator')
  .input(createCustomerInput)
  .output(customerOutput)
  .mutation(async ({ ctx, input }) => {
    const customer = await ctx.db.customer.create({
      data: {
        organizationId: ctx.actor.organizationId,
        name: input.name,
        contactEmail: input.contactEmail ?? null,
        notes: input.notes ?? null,
      },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'customer.create',
      targetType: 'Customer',
      targetId: customer.id,
      customerId: customer.id,
      summary: `Created customer "${customer.name}"`,
      changes: { name: customer.name, contactEmail: customer.contactEmail },
    });
    return toCustomerOutput(customer);
  });
