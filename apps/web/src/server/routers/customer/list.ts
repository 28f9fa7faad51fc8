import { z } from 'zod';
import { likeLiteral } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { customerOutput, toCustomerOutput } from './schemas';

export const listCustomersInput = z
  .object({ search: z.string().trim().max(120, 'Search is too long').optional() })
  .optional();

/** MSP staff: every customer of the organization. A customer user: their own customer only. */
export const listCustomers = memberProcedure
  .input(listCustomersInput)
  .output(z.array(customerOutput))
  .query(async ({ ctx, input }) => {
    const rows = await ctx.db.customer.findMany({
      where: input?.search ? { name: { contains: likeLiteral(input.search), mode: 'insensitive' } } : {},
      include: { _count: { select: { servers: true } } },
      orderBy: { name: 'asc' },
    });
    return rows.map(toCustomerOutput);
  });
