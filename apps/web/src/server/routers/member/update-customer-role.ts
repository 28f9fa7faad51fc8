import { z } from 'zod';
import { customerRoleSchema, idSchema, notFound } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';

export const updateCustomerRole = orgProcedure('operator')
  .input(z.object({ membershipId: idSchema, role: customerRoleSchema }))
  .output(z.object({ membershipId: z.string(), role: customerRoleSchema }))
  .mutation(async ({ ctx, input }) => {
    const m = await ctx.db.customerMembership.findUnique({
      where: { id: input.membershipId },
      include: { user: true, customer: true },
    });
    if (!m) throw notFound('Customer user');
    const updated = await ctx.db.customerMembership.update({ where: { id: m.id }, data: { role: input.role } });
    await audit(ctx.db, ctx.actor, {
      action: 'member.role',
      targetType: 'CustomerMembership',
      targetId: m.id,
      customerId: m.customerId,
      summary: `Changed ${m.user.email} of "${m.customer.name}" from ${m.role} to ${input.role}`,
      changes: { role: { from: m.role, to: input.role } },
    });
    return { membershipId: updated.id, role: updated.role };
  });
