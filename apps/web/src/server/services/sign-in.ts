// Password (+ optional TOTP) sign-in with attempt limiting. Used by next-auth's credentials provider.
import { appDb, findUserForSignIn } from '@tandem/db';
import { AppError, emailSchema } from '@tandem/engine';
import { openSecret, verifyAgainstNobody, verifyPassword, verifyTotp } from '@tandem/security';

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

/**
 * After `freeFailures` failed attempts inside the window, each further attempt must wait
 * 30 s × 2^(extra failures), up to 15 minutes. A success clears the count.
 */
async function lockedFor(key: string, now: number): Promise<number> {
  const db = appDb();
  const lastSuccess = await db.loginAttempt.findFirst({ where: { key, success: true }, orderBy: { createdAt: 'desc' } });
  const since = new Date(Math.max(now - signInLimits.windowMs, lastSuccess?.createdAt.getTime() ?? 0));
  const failures = await db.loginAttempt.findMany({
    where: { key, success: false, createdAt: { gt: since } },
    orderBy: { createdAt: 'desc' },
    take: 50,
  });
  if (failures.length < signInLimits.freeFailures) return 0;
  const extra = failures.length - signInLimits.freeFailures;
  const lock = Math.min(signInLimits.baseLockMs * 2 ** extra, signInLimits.maxLockMs);
  return Math.max(0, failures[0]!.createdAt.getTime() + lock - now);
}

async function record(key: string, success: boolean) {
  await appDb().loginAttempt.create({ data: { key, success } });
}

export async function signIn(input: { email: unknown; password: unknown; totp?: unknown }, now = Date.now()) {
  const email = emailSchema.safeParse(input.email);
  const password = typeof input.password === 'string' ? input.password : '';
  if (!email.success || password.length === 0 || password.length > 200) {
    throw new SignInError('invalid', 'Wrong e-mail or password');
  }
  const key = `email:${email.data}`;
  const wait = await lockedFor(key, now);
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    throw new SignInError('rate_limited', `Too many failed sign-ins. Try again in ${seconds} seconds.`, seconds);
  }
  const user = await findUserForSignIn(email.data);
  const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyAgainstNobody(password);
  if (!user || !ok) {
    await record(key, false);
    throw new SignInError('invalid', 'Wrong e-mail or password');
  }
  if (user.totpEnabledAt && user.totpSecretEnc) {
    const code = typeof input.totp === 'string' ? input.totp.trim() : '';
    if (!code) throw new SignInError('totp_required', 'Enter the 6-digit code from your authenticator app');
    if (!verifyTotp(openSecret(user.totpSecretEnc, `user:${user.id}:totp`), code, now)) {
      await record(key, false);
      throw new SignInError('totp_invalid', 'That code does not match');
    }
  }
  await record(key, true);
  return { id: user.id, email: user.email, name: user.name };
}
