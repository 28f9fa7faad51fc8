import { z } from 'zod';
import { idSchema, notFound, orgRoleSchema } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';
import { assertMayManage, assertNotLastOwner } from './guards';

export const updateOrgRole = orgProcedure('admin')
  .input(z.object({ membershipId: idSchema, role: orgRoleSchema }))
  .output(z.object({ membershipId: z.string(), role: orgRoleSchema }))
  .mutation(async ({ ctx, input }) => {
    const m = await ctx.db.orgMembership.findUnique({ where: { id: input.membershipId }, include: { user: true } });
    if (!m) throw notFound('Member');
    assertMayManage(ctx.actor.role, m.role, input.role);
    if (input.role !== 'owner') await assertNotLastOwner(ctx.db, m);
    const updated = await ctx.db.orgMembership.update({ where: { id: m.id }, data: { role: input.role } });
    await audit(ctx.db, ctx.actor, {
      action: 'member.role',
      targetType: 'OrgMembership',
      targetId: m.id,
      summary: `Changed ${m.user.email} from ${m.role} to ${input.role}`,
      changes: { role: { from: m.role, to: input.role } },
    });
    return { membershipId: updated.id, role: updated.role };
  });
