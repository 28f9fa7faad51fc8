import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { findUserForSignIn, enterTenant } from '@tandem/db';
import { AppError, passwordSchema, personNameSchema } from '@tandem/engine';
import { hashPassword, verifyPassword } from '@tandem/security';
import { publicProcedure } from '../../trpc';
import { withOpenInvitation } from './find';
import { invitationTokenSchema } from './preview';

export const acceptInvitationInput = z.object({
  token: invitationTokenSchema,
  /** Needed only when the invited e-mail has no account yet. */
  name: personNameSchema.optional(),
  password: z.string().min(1, 'Enter a password').max(200, 'Password is too long'),
});

/**
 * Accepts an invitation: creates the account (new e-mail) or checks the password (existing
 * account), then grants the membership the invitation names.
 */
export const acceptInvitation = publicProcedure
  .input(acceptInvitationInput)
  .output(z.object({ email: z.string() }))
  .mutation(async ({ input }) =>
    withOpenInvitation(input.token, async (tx, inv) => {
      const existing = await findUserForSignIn(inv.email, tx);
      let userId: string;
      let name: string;
      if (existing) {
        if (!(await verifyPassword(input.password, existing.passwordHash))) {
          throw new AppError('BAD_REQUEST', `Enter the current password of ${inv.email}`, { password: 'Wrong password' });
        }
        userId = existing.id;
        name = existing.name;
      } else {
        const pw = passwordSchema.safeParse(input.password);
        if (!pw.success) throw new AppError('BAD_REQUEST', pw.error.issues[0]!.message, { password: pw.error.issues[0]!.message });
        if (!input.name) throw new AppError('BAD_REQUEST', 'Enter your name', { name: 'Enter your name' });
        // The new row must be visible to its own INSERT ... RETURNING, so act as it first.
        const id = randomUUID();
        await enterTenant(tx, { organizationId: inv.organizationId, userId: id, customerId: inv.customerId });
        const user = await tx.user.create({
          data: { id, email: inv.email, name: input.name, passwordHash: await hashPassword(pw.data) },
        });
        userId = user.id;
        name = user.name;
      }
      await enterTenant(tx, { organizationId: inv.organizationId, userId, customerId: inv.customerId });
      if (inv.customerId) {
        const already = await tx.customerMembership.findFirst({ where: { customerId: inv.customerId, userId } });
        if (already) throw new AppError('CONFLICT', `You are already a user of ${inv.customerName}`);
        await tx.customerMembership.create({
          data: {
            organizationId: inv.organizationId,
            customerId: inv.customerId,
            userId,
            role: inv.customerRole as 'approver' | 'viewer',
          },
        });
      } else {
        const already = await tx.orgMembership.findFirst({ where: { organizationId: inv.organizationId, userId } });
        if (already) throw new AppError('CONFLICT', `You are already a member of ${inv.organizationName}`);
        await tx.orgMembership.create({
          data: { organizationId: inv.organizationId, userId, role: inv.orgRole as 'owner' | 'admin' | 'operator' | 'viewer' },
        });
      }
      await tx.invitation.update({ where: { id: inv.id }, data: { acceptedAt: new Date() } });
      await tx.auditEvent.create({
        data: {
          organizationId: inv.organizationId,
          customerId: inv.customerId,
          actorId: userId,
          actorLabel: `${name} <${inv.email}>`,
          action: 'invitation.accept',
          targetType: 'Invitation',
          targetId: inv.id,
          summary: inv.customerName
            ? `${inv.email} joined customer "${inv.customerName}" as ${inv.customerRole}`
            : `${inv.email} joined the organization as ${inv.orgRole}`,
        },
      });
      return { email: inv.email };
    }),
  );
