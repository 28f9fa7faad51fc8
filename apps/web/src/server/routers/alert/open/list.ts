import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { orgProcedure } from '../../../trpc';
import { alertViews, openAlertOutput } from './schemas';

/** The organization's open (and recently resolved) alerts, optionally of one customer. */
export const listOpenAlerts = orgProcedure('viewer')
  .input(z.object({ customerId: idSchema.optional() }).default({}))
  .output(z.array(openAlertOutput))
  .query(async ({ ctx, input }) => {
    if (input.customerId && !(await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } }))) throw notFound('Customer');
    return alertViews(ctx.db, input.customerId ? { customerId: input.customerId } : {}, new Date());
  });
