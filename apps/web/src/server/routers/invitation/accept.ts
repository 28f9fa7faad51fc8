import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { findUserForSignIn, enterTenant } from '@tandem/db';
import { AppError, forbidden, passwordSchema, personNameSchema } from '@tandem/engine';
import { hashPassword } from '@tandem/security';
import { publicProcedure } from '../../trpc';
import { withOpenInvitation } from './find';
import { invitationTokenSchema } from './preview';

export const acceptInvitationInput = z.object({
  token: invitationTokenSchema,
  /** A new account only: its name and password. Someone who has an account signs in instead. */
  name: personNameSchema.optional(),
  password: z.string().max(200, 'Password is too long').optional(),
});

/** Said to whoever tries to create an account for an address that has one. */
export const signInToAcceptMessage = (email: string) => `Sign in as ${email} to accept this invitation`;

/**
 * Accepts an invitation, then grants the membership it names. Signed in: the signed-in account must
 * be the invited address (it proved itself through the normal sign-in, with its attempt limit and
 * TOTP). Signed out: a new account is created for the invited address; if the address already has
 * one, nothing is checked against its password: the person is told to sign in first.
 */
export const acceptInvitation = publicProcedure
  .input(acceptInvitationInput)
  .output(z.object({ email: z.string() }))
  .mutation(async ({ ctx, input }) =>
    withOpenInvitation(input.token, async (tx, inv) => {
      let userId: string;
      let name: string;
      if (ctx.userId) {
        await enterTenant(tx, { organizationId: inv.organizationId, userId: ctx.userId, customerId: inv.customerId });
        const me = await tx.user.findUnique({ where: { id: ctx.userId }, select: { id: true, email: true, name: true } });
        if (!me) throw new AppError('UNAUTHORIZED', 'Sign in first');
        if (me.email !== inv.email) {
          throw forbidden(`This invitation is for ${inv.email}, and you are signed in as ${me.email}. Sign out, then sign in as ${inv.email} to accept it.`);
        }
        userId = me.id;
        name = me.name;
      } else {
        if (await findUserForSignIn(inv.email, tx)) throw new AppError('CONFLICT', signInToAcceptMessage(inv.email));
        const pw = passwordSchema.safeParse(input.password ?? '');
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
