import { z } from 'zod';
import { customerProcedure } from '../../../trpc';
import { alertViews, openAlertOutput } from './schemas';

/** One customer's open (and recently resolved) alerts: MSP staff and the customer's own users. */
export const listCustomerAlerts = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .output(z.array(openAlertOutput))
  .query(async ({ ctx }) => alertViews(ctx.db, { customerId: ctx.customer.id }, new Date()));
