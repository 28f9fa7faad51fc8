import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';
import { assertMayManage, assertNotLastOwner } from './guards';

export const removeOrgMember = orgProcedure('admin')
  .input(z.object({ membershipId: idSchema }))
  .output(z.object({ membershipId: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const m = await ctx.db.orgMembership.findUnique({ where: { id: input.membershipId }, include: { user: true } });
    if (!m) throw notFound('Member');
    assertMayManage(ctx.actor.role, m.role);
    await assertNotLastOwner(ctx.db, m);
    await ctx.db.orgMembership.delete({ where: { id: m.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'member.remove',
      targetType: 'OrgMembership',
      targetId: m.id,
      summary: `Removed ${m.user.email} (${m.role}) from the organization`,
    });
    return { membershipId: m.id };
  });
