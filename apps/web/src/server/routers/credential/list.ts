import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { credentialOutput, toCredentialOutput } from './schemas';

/**
 * The organization's credentials (never a secret). With a customer: the ones its pairs may use
 * (that customer's and the organization-wide ones). Customer users see their own customer's only.
 */
export const listCredentials = memberProcedure
  .input(z.object({ customerId: idSchema.optional() }).default({}))
  .output(z.array(credentialOutput))
  .query(async ({ ctx, input }) => {
    if (input.customerId) {
      const customer = await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } });
      if (!customer || (ctx.actor.kind === 'customer' && ctx.actor.customerId !== customer.id)) throw notFound('Customer');
    }
    const rows = await ctx.db.credential.findMany({
      where: { kind: { in: ['dns_tsig', 'domain'] }, ...(input.customerId ? { OR: [{ customerId: input.customerId }, { customerId: null }] } : {}) },
      orderBy: { name: 'asc' },
    });
    return rows.map(toCredentialOutput);
  });
