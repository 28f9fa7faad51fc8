import { z } from 'zod';
import { AppError, forbidden, idSchema, notFound, orgRoleAtLeast } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';

export const revokeInvitation = orgProcedure('operator')
  .input(z.object({ invitationId: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const inv = await ctx.db.invitation.findUnique({ where: { id: input.invitationId } });
    if (!inv) throw notFound('Invitation');
    if (inv.orgRole && !orgRoleAtLeast(ctx.actor.role, 'admin')) throw forbidden('Only admins revoke organization invitations');
    if (inv.acceptedAt) throw new AppError('CONFLICT', 'This invitation was already accepted');
    if (inv.revokedAt) throw new AppError('CONFLICT', 'This invitation was already revoked');
    await ctx.db.invitation.update({ where: { id: inv.id }, data: { revokedAt: new Date() } });
    await audit(ctx.db, ctx.actor, {
      action: 'invitation.revoke',
      targetType: 'Invitation',
      targetId: inv.id,
      customerId: inv.customerId,
      summary: `Revoked the invitation of ${inv.email}`,
    });
    return { id: inv.id };
  });
