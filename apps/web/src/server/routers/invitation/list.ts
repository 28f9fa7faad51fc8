import { z } from 'zod';
import { orgProcedure } from '../../trpc';
import { invitationOutput } from './schemas';

/** Invitations not yet accepted, revoked or expired. */
export const listInvitations = orgProcedure('operator')
  .output(z.array(invitationOutput))
  .query(async ({ ctx }) => {
    const rows = await ctx.db.invitation.findMany({
      where: { acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
      include: { customer: { select: { name: true } } },
      orderBy: { createdAt: 'desc' },
    });
    return rows.map((i) => ({
      id: i.id,
      email: i.email,
      kind: i.customerId ? ('customer' as const) : ('org' as const),
      role: (i.orgRole ?? i.customerRole)!,
      customerId: i.customerId,
      customerName: i.customer?.name ?? null,
      expiresAt: i.expiresAt.toISOString(),
      createdAt: i.createdAt.toISOString(),
    }));
  });
