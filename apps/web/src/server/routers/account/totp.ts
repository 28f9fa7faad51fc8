import { z } from 'zod';
import { withTenant, withUser, type TenantTx } from '@tandem/db';
import { AppError, forbidden, totpCodeSchema } from '@tandem/engine';
import { matchTotp, newTotpSecret, openSecret, sealSecret, totpUri } from '@tandem/security';
import { resolveActor, type Actor } from '../../actor';
import { audit } from '../../services/audit';
import { revokeOtherSessions } from '../../services/sessions';
import { checkAttemptLimit, recordAttempt } from '../../services/sign-in';
import { authedProcedure } from '../../trpc';

const totpContext = (userId: string) => `user:${userId}:totp`;

/**
 * Account changes run in the user's active workspace, so the change and its audit event commit
 * together. (A user with no workspace cannot use the portal at all.)
 */
export async function inAccountTx<T>(userId: string, workspaceKey: string | null, fn: (tx: TenantTx, actor: Actor) => Promise<T>) {
  const actor = await resolveActor(userId, workspaceKey);
  if (!actor) throw forbidden('Your account has no access to any organization or customer');
  return withTenant(
    { organizationId: actor.organizationId, userId, customerId: actor.kind === 'customer' ? actor.customerId : null },
    (tx) => fn(tx, actor),
  );
}

export const accountMe = authedProcedure
  .output(z.object({ id: z.string(), name: z.string(), email: z.string(), totpEnabled: z.boolean() }))
  .query(async ({ ctx }) =>
    withUser(ctx.userId, async (tx) => {
      const u = await tx.user.findUniqueOrThrow({ where: { id: ctx.userId } });
      return { id: u.id, name: u.name, email: u.email, totpEnabled: u.totpEnabledAt !== null };
    }),
  );

/**
 * Starts TOTP set-up: a fresh secret, shown once so the user can add it to an authenticator app.
 * It takes effect only after `totpEnable` proves the app produces matching codes.
 */
export const totpBegin = authedProcedure
  .output(z.object({ secret: z.string(), uri: z.string() }))
  .mutation(async ({ ctx }) =>
    withUser(ctx.userId, async (tx) => {
      const u = await tx.user.findUniqueOrThrow({ where: { id: ctx.userId } });
      if (u.totpEnabledAt) throw new AppError('CONFLICT', 'Two-factor sign-in is already on; turn it off first to change it');
      const secret = newTotpSecret();
      await tx.user.update({ where: { id: u.id }, data: { totpSecretEnc: sealSecret(secret, totpContext(u.id)) } });
      return { secret, uri: totpUri(secret, u.email) };
    }),
  );

export const totpEnable = authedProcedure
  .input(z.object({ code: totpCodeSchema }))
  .output(z.object({ totpEnabled: z.literal(true) }))
  .mutation(({ ctx, input }) =>
    inAccountTx(ctx.userId, ctx.workspaceKey, async (tx, actor) => {
      const u = await tx.user.findUniqueOrThrow({ where: { id: ctx.userId } });
      if (u.totpEnabledAt) throw new AppError('CONFLICT', 'Two-factor sign-in is already on');
      if (!u.totpSecretEnc) throw new AppError('BAD_REQUEST', 'Start the set-up first');
      const step = matchTotp(openSecret(u.totpSecretEnc, totpContext(u.id)), input.code, Date.now());
      if (step === null) {
        throw new AppError('BAD_REQUEST', 'That code does not match. Check the time on your phone and try the next code.', {
          code: 'Code does not match',
        });
      }
      await tx.user.update({ where: { id: u.id }, data: { totpEnabledAt: new Date(), totpLastStep: step } });
      // Sessions opened without the second factor end; this one stays.
      await revokeOtherSessions(tx, u.id, ctx.sessionId ?? null);
      await audit(tx, actor, { action: 'account.totp.enable', targetType: 'User', targetId: u.id, summary: 'Turned on two-factor sign-in' });
      return { totpEnabled: true as const };
    }),
  );

/**
 * Turning two-factor sign-in off needs a current code: never one already used (a code seen over a
 * shoulder or in a log cannot be replayed), and wrong codes are limited exactly like sign-in
 * attempts, so the six digits cannot be guessed.
 */
export const totpDisable = authedProcedure
  .input(z.object({ code: totpCodeSchema }))
  .output(z.object({ totpEnabled: z.literal(false) }))
  .mutation(async ({ ctx, input }) => {
    const now = Date.now();
    const key = `totp-disable:${ctx.userId}`;
    // A refused attempt is returned, not thrown, so its record commits with the transaction.
    const outcome = await inAccountTx(ctx.userId, ctx.workspaceKey, async (tx, actor): Promise<AppError | null> => {
      const u = await tx.user.findUniqueOrThrow({ where: { id: ctx.userId } });
      if (!u.totpEnabledAt || !u.totpSecretEnc) throw new AppError('CONFLICT', 'Two-factor sign-in is not on');
      const limited = await checkAttemptLimit(tx, key, now);
      if (limited) return limited;
      const step = matchTotp(openSecret(u.totpSecretEnc, totpContext(u.id)), input.code, now);
      if (step === null || (u.totpLastStep !== null && step <= u.totpLastStep)) {
        await recordAttempt(tx, key, false, now);
        return new AppError('BAD_REQUEST', 'That code does not match (or was already used). Wait for the next code.', {
          code: 'Code does not match or was already used',
        });
      }
      await recordAttempt(tx, key, true, now);
      await tx.user.update({ where: { id: u.id }, data: { totpEnabledAt: null, totpSecretEnc: null, totpLastStep: null } });
      await revokeOtherSessions(tx, u.id, ctx.sessionId ?? null);
      await audit(tx, actor, { action: 'account.totp.disable', targetType: 'User', targetId: u.id, summary: 'Turned off two-factor sign-in' });
      return null;
    });
    if (outcome) throw outcome;
    return { totpEnabled: false as const };
  });
