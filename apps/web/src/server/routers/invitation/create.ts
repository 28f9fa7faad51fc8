import { z } from 'zod';
import { AppError, canGrantOrgRole, customerRoleSchema, emailSchema, forbidden, idSchema, notFound, orgRoleSchema } from '@tandem/engine';
import { emitEvent } from '@tandem/db';
import { randomToken, sealSecret, sha256Hex } from '@tandem/security';
import { orgProcedure } from '../../trpc';
import { audit } from '../../services/audit';
import { invitationLifetimeMs, invitationOutput } from './schemas';

export const createInvitationInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('org'), email: emailSchema, role: orgRoleSchema }),
  z.object({ kind: z.literal('customer'), customerId: idSchema, email: emailSchema, role: customerRoleSchema }),
]);

/**
 * Invites a person by link, to the organization (admins) or to one customer (operators).
 * The link is returned once and e-mailed (sealed in the event); only its hash is stored.
 */
export const createInvitation = orgProcedure('operator')
  .input(createInvitationInput)
  .output(z.object({ invitation: invitationOutput, link: z.string() }))
  .mutation(async ({ ctx, input }) => {
    let customer: { id: string; name: string } | null = null;
    if (input.kind === 'org') {
      if (!canGrantOrgRole(ctx.actor.role, input.role)) throw forbidden(`You cannot invite someone as ${input.role}`);
      const existing = await ctx.db.orgMembership.findFirst({ where: { user: { email: input.email } } });
      if (existing) throw new AppError('CONFLICT', `${input.email} is already a member of this organization`);
    } else {
      customer = await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true, name: true } });
      if (!customer) throw notFound('Customer');
      const existing = await ctx.db.customerMembership.findFirst({
        where: { customerId: customer.id, user: { email: input.email } },
      });
      if (existing) throw new AppError('CONFLICT', `${input.email} is already a user of ${customer.name}`);
    }
    const token = randomToken();
    const inv = await ctx.db.invitation.create({
      data: {
        organizationId: ctx.actor.organizationId,
        customerId: customer?.id ?? null,
        email: input.email,
        orgRole: input.kind === 'org' ? input.role : null,
        customerRole: input.kind === 'customer' ? input.role : null,
        tokenHash: sha256Hex(token),
        invitedById: ctx.actor.userId,
        expiresAt: new Date(Date.now() + invitationLifetimeMs),
      },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'invitation.create',
      targetType: 'Invitation',
      targetId: inv.id,
      customerId: customer?.id ?? null,
      summary: customer
        ? `Invited ${input.email} to customer "${customer.name}" as ${input.role}`
        : `Invited ${input.email} to the organization as ${input.role}`,
    });
    // The invitation is e-mailed too (alerting sends it); the link is still shown to the inviter.
    const link = `${ctx.origin}/invite/${token}`;
    const organization = await ctx.db.organization.findUnique({ where: { id: ctx.actor.organizationId }, select: { name: true } });
    await emitEvent(ctx.db, {
      organizationId: ctx.actor.organizationId,
      customerId: customer?.id ?? null,
      type: 'invitation.sent',
      message: customer ? `${ctx.actor.label} invited ${input.email} to ${customer.name} as ${input.role}` : `${ctx.actor.label} invited ${input.email} to the organization as ${input.role}`,
      subject: { kind: 'invitation', id: inv.id, name: input.email },
      ...(customer ? { customerName: customer.name } : {}),
      recipients: [{ email: input.email, linkEnc: sealSecret(link, 'delivery-link') }],
      data: { organizationName: organization?.name ?? '', ...(customer ? { customerName: customer.name } : {}), role: input.role, expiresAt: inv.expiresAt.toISOString() },
    });
    return {
      invitation: {
        id: inv.id,
        email: inv.email,
        kind: input.kind,
        role: input.role,
        customerId: customer?.id ?? null,
        customerName: customer?.name ?? null,
        expiresAt: inv.expiresAt.toISOString(),
        createdAt: inv.createdAt.toISOString(),
      },
      link,
    };
  });
