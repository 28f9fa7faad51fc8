import { enterTenant, withInvitation, type AppTx } from '@tandem/db';
import { AppError } from '@tandem/engine';
import { sha256Hex } from '@tandem/security';

export const invalidLinkMessage = 'This invitation link is not valid';

/**
 * Opens the invitation named by a link's token and runs `fn` in a transaction that sees it, its
 * organization and (for customer invitations) its customer.
 */
export async function withOpenInvitation<T>(
  token: string,
  fn: (
    tx: AppTx,
    inv: {
      id: string;
      organizationId: string;
      organizationName: string;
      customerId: string | null;
      customerName: string | null;
      email: string;
      orgRole: string | null;
      customerRole: string | null;
    },
  ) => Promise<T>,
): Promise<T> {
  const tokenHash = sha256Hex(token);
  return withInvitation(tokenHash, async (tx) => {
    const inv = await tx.invitation.findUnique({ where: { tokenHash } });
    if (!inv) throw new AppError('NOT_FOUND', invalidLinkMessage);
    if (inv.revokedAt) throw new AppError('CONFLICT', 'This invitation was revoked. Ask for a new one.');
    if (inv.acceptedAt) throw new AppError('CONFLICT', 'This invitation was already accepted. Sign in instead.');
    if (inv.expiresAt.getTime() < Date.now()) throw new AppError('CONFLICT', 'This invitation has expired. Ask for a new one.');
    await enterTenant(tx, { organizationId: inv.organizationId, userId: null, customerId: inv.customerId });
    const org = await tx.organization.findUniqueOrThrow({ where: { id: inv.organizationId }, select: { name: true } });
    const customer = inv.customerId
      ? await tx.customer.findUniqueOrThrow({ where: { id: inv.customerId }, select: { name: true } })
      : null;
    return fn(tx, {
      id: inv.id,
      organizationId: inv.organizationId,
      organizationName: org.name,
      customerId: inv.customerId,
      customerName: customer?.name ?? null,
      email: inv.email,
      orgRole: inv.orgRole,
      customerRole: inv.customerRole,
    });
  });
}
