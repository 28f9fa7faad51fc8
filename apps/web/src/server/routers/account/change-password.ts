import { z } from 'zod';
import { AppError, passwordSchema } from '@tandem/engine';
import { hashPassword, verifyPassword } from '@tandem/security';
import { audit } from '../../services/audit';
import { revokeOtherSessions } from '../../services/sessions';
import { checkAttemptLimit, passwordAttemptKey, recordAttempt } from '../../services/sign-in';
import { authedProcedure } from '../../trpc';
import { inAccountTx } from './totp';

export const changePasswordInput = z.object({
  // Only length-checked: it is compared with the stored hash, whatever rules applied when it was set.
  currentPassword: z.string().min(1, 'Enter your current password').max(200, 'Password is too long (200 characters at most)'),
  newPassword: passwordSchema,
});

export const changePasswordOutput = z.object({ changed: z.literal(true), otherSessionsEnded: z.number().int() });

/**
 * Changes the signed-in person's password. The current password is checked under the sign-in
 * attempt limit (same key as sign-in, so a stolen cookie gives no faster way to guess it), and
 * every other session of the person ends: whoever knew the old password is signed out.
 */
export const changePassword = authedProcedure
  .input(changePasswordInput)
  .output(changePasswordOutput)
  .mutation(async ({ ctx, input }) => {
    const now = Date.now();
    // A refused attempt is returned, not thrown, so its record commits with the transaction.
    const outcome = await inAccountTx(ctx.userId, ctx.workspaceKey, async (tx, actor): Promise<{ error: AppError } | { ended: number }> => {
      const u = await tx.user.findUniqueOrThrow({ where: { id: ctx.userId } });
      const key = passwordAttemptKey(u.email);
      const limited = await checkAttemptLimit(tx, key, now);
      if (limited) return { error: limited };
      if (!(await verifyPassword(input.currentPassword, u.passwordHash))) {
        await recordAttempt(tx, key, false, now);
        return { error: new AppError('BAD_REQUEST', 'Your current password is not right', { currentPassword: 'Wrong password' }) };
      }
      await recordAttempt(tx, key, true, now);
      if (await verifyPassword(input.newPassword, u.passwordHash)) {
        return { error: new AppError('BAD_REQUEST', 'Choose a password different from the current one', { newPassword: 'Same as the current password' }) };
      }
      await tx.user.update({ where: { id: u.id }, data: { passwordHash: await hashPassword(input.newPassword) } });
      const ended = await revokeOtherSessions(tx, u.id, ctx.sessionId ?? null);
      await audit(tx, actor, {
        action: 'account.password.change',
        targetType: 'User',
        targetId: u.id,
        summary: `Changed their password; ${ended} other session${ended === 1 ? '' : 's'} signed out`,
      });
      return { ended };
    });
    if ('error' in outcome) throw outcome.error;
    return { changed: true as const, otherSessionsEnded: outcome.ended };
  });
