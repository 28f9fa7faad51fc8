import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';

export const removeCustomerMember = orgProcedure('operator')
  .input(z.object({ membershipId: idSchema }))
  .output(z.object({ membershipId: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const m = await ctx.db.customerMembership.findUnique({
      where: { id: input.membershipId },
      include: { user: true, customer: true },
    });
    if (!m) throw notFound('Customer user');
    await ctx.db.customerMembership.delete({ where: { id: m.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'member.remove',
      targetType: 'CustomerMembership',
      targetId: m.id,
      customerId: m.customerId,
      summary: `Removed ${m.user.email} from customer "${m.customer.name}"`,
    });
    return { membershipId: m.id };
  });
