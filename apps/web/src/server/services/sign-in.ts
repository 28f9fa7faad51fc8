// Password (+ optional TOTP) sign-in with attempt limiting. Used by next-auth's credentials provider.
import { appDb, findUserForSignIn, type TenantTx } from '@tandem/db';
import { AppError, emailSchema } from '@tandem/engine';
import { matchTotp, openSecret, verifyAgainstNobody, verifyPassword } from '@tandem/security';

/** Free attempts before slowing down, and the window they are counted in. */
export const signInLimits = { freeFailures: 5, windowMs: 15 * 60_000, baseLockMs: 30_000, maxLockMs: 15 * 60_000 };

export type SignInFailure = 'invalid' | 'totp_required' | 'totp_invalid' | 'rate_limited';

export class SignInError extends AppError {
  constructor(
    readonly reason: SignInFailure,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(reason === 'rate_limited' ? 'TOO_MANY_REQUESTS' : 'UNAUTHORIZED', message);
  }
}

type Tx = Parameters<Parameters<ReturnType<typeof appDb>['$transaction']>[0]>[0];

/**
 * After `freeFailures` failed attempts inside the window, each further attempt must wait
 * 30 s × 2^(extra failures), up to 15 minutes. A success clears the count.
 */
async function lockedFor(tx: Tx, key: string, now: number): Promise<number> {
  const lastSuccess = await tx.loginAttempt.findFirst({ where: { key, success: true }, orderBy: { createdAt: 'desc' } });
  const since = new Date(Math.max(now - signInLimits.windowMs, lastSuccess?.createdAt.getTime() ?? 0));
  const failures = await tx.loginAttempt.findMany({
    where: { key, success: false, createdAt: { gt: since } },
    orderBy: { createdAt: 'desc' },
    take: 50,
  });
  if (failures.length < signInLimits.freeFailures) return 0;
  const extra = failures.length - signInLimits.freeFailures;
  const lock = Math.min(signInLimits.baseLockMs * 2 ** extra, signInLimits.maxLockMs);
  return Math.max(0, failures[0]!.createdAt.getTime() + lock - now);
}

/** A plain or a tenant transaction (LoginAttempt belongs to no tenant, so both reach it alike). */
type AttemptTx = Tx | TenantTx;

/**
 * The sign-in limit for any other secret a person types (a TOTP code to turn two-factor off):
 * serialises attempts on `key` for the rest of the transaction and returns the refusal while the
 * key is locked, or null. Record the outcome with `recordAttempt` in the same transaction.
 */
export async function checkAttemptLimit(tx: AttemptTx, key: string, now: number): Promise<SignInError | null> {
  await (tx as Tx).$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
  const wait = await lockedFor(tx as Tx, key, now);
  if (wait <= 0) return null;
  const seconds = Math.ceil(wait / 1000);
  return new SignInError('rate_limited', `Too many failed attempts. Try again in ${seconds} seconds.`, seconds);
}

export async function recordAttempt(tx: AttemptTx, key: string, success: boolean, now: number): Promise<void> {
  await (tx as Tx).loginAttempt.create({ data: { key, success, createdAt: new Date(now) } });
}

/**
 * The attempt-limit key of a person's password. Sign-in and a password change (which asks for the
 * current one) count on the same key, so a stolen session cannot guess the password faster.
 */
export const passwordAttemptKey = (email: string) => `email:${email}`;

type Outcome = { ok: true; user: { id: string; email: string; name: string } } | { ok: false; error: SignInError };

export async function signIn(input: { email: unknown; password: unknown; totp?: unknown }, now = Date.now()) {
  const email = emailSchema.safeParse(input.email);
  const password = typeof input.password === 'string' ? input.password : '';
  if (!email.success || password.length === 0 || password.length > 200) {
    throw new SignInError('invalid', 'Wrong e-mail or password');
  }
  const key = passwordAttemptKey(email.data);
  // One attempt per e-mail at a time (an advisory lock), so parallel guesses cannot slip past the
  // limit. The outcome is returned, not thrown, so a failed attempt's record is committed.
  const outcome = await appDb().$transaction(
    async (tx): Promise<Outcome> => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
      const record = (success: boolean) => tx.loginAttempt.create({ data: { key, success, createdAt: new Date(now) } });
      const wait = await lockedFor(tx, key, now);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return { ok: false, error: new SignInError('rate_limited', `Too many failed sign-ins. Try again in ${seconds} seconds.`, seconds) };
      }
      const found = await findUserForSignIn(email.data, tx);
      const passwordOk = found ? await verifyPassword(password, found.passwordHash) : await verifyAgainstNobody(password);
      if (!found || !passwordOk) {
        await record(false);
        return { ok: false, error: new SignInError('invalid', 'Wrong e-mail or password') };
      }
      if (found.totpEnabledAt && found.totpSecretEnc) {
        const code = typeof input.totp === 'string' ? input.totp.trim() : '';
        if (!code) return { ok: false, error: new SignInError('totp_required', 'Enter the 6-digit code from your authenticator app') };
        // Acting as the user from here: they may read and update their own row.
        await tx.$executeRaw`SELECT set_config('app.user_id', ${found.id}, true)`;
        const user = await tx.user.findUniqueOrThrow({ where: { id: found.id }, select: { totpLastStep: true } });
        const step = matchTotp(openSecret(found.totpSecretEnc, `user:${found.id}:totp`), code, now);
        if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) {
          await record(false);
          return { ok: false, error: new SignInError('totp_invalid', 'That code does not match (or was already used)') };
        }
        await tx.user.update({ where: { id: found.id }, data: { totpLastStep: step } });
      }
      await record(true);
      return { ok: true, user: { id: found.id, email: found.email, name: found.name } };
    },
    { maxWait: 10_000, timeout: 20_000 },
  );
  if (!outcome.ok) throw outcome.error;
  return outcome.user;
}
