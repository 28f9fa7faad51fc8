import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { orgProcedure } from '../../../trpc';
import { ruleInclude, ruleOutput, toRuleOutput } from './schemas';

/**
 * Alert rules: the organization's defaults and every customer's own, or (with a customer) that
 * customer's rules and the defaults. Staff only: customer users do not see the MSP's channels.
 */
export const listRules = orgProcedure('operator')
  .input(z.object({ customerId: idSchema.optional() }).default({}))
  .output(z.array(ruleOutput))
  .query(async ({ ctx, input }) => {
    if (input.customerId && !(await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } }))) throw notFound('Customer');
    const rows = await ctx.db.alertRule.findMany({
      where: input.customerId ? { OR: [{ customerId: input.customerId }, { customerId: null }] } : {},
      include: ruleInclude,
      orderBy: [{ customerId: { sort: 'asc', nulls: 'first' } }, { createdAt: 'asc' }],
    });
    return rows.map(toRuleOutput);
  });
