import { customerProcedure } from '../../trpc';
import { customerOutput, toCustomerOutput } from './schemas';

export const getCustomer = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .output(customerOutput)
  .query(async ({ ctx }) => {
    const servers = await ctx.db.server.count({ where: { customerId: ctx.customer.id } });
    return toCustomerOutput({ ...ctx.customer, _count: { servers } });
  });
