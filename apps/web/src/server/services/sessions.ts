// Server-side sessions. The cookie is a JWT (next-auth), which on its own cannot be taken back, so
// each sign-in also gets a row here that the JWT names; reading the session checks the row. That
// is what makes sign-out, a TOTP or password change and the absolute lifetime real.
import { withUser, type AppTx, type TenantTx } from '@tandem/db';

/** A session ends this long after sign-in, however often its cookie is refreshed. */
export const sessionLifetimeMs = 12 * 3600_000;

/** Opens a session for a user who has just signed in; returns its id (carried in the JWT). */
export async function openSession(userId: string, now = Date.now()): Promise<string> {
  return withUser(userId, async (tx) => {
    // Old rows of this user go as new ones come, so the table stays small without a sweeper.
    await tx.userSession.deleteMany({ where: { userId, expiresAt: { lt: new Date(now - 24 * 3600_000) } } });
    const row = await tx.userSession.create({ data: { userId, createdAt: new Date(now), expiresAt: new Date(now + sessionLifetimeMs) } });
    return row.id;
  });
}

/** True while the session exists, belongs to the user, is not revoked and has not expired. */
export async function sessionIsLive(userId: string, sessionId: string, now = Date.now()): Promise<boolean> {
  const row = await withUser(userId, (tx) => tx.userSession.findUnique({ where: { id: sessionId } }));
  return row !== null && row.userId === userId && row.revokedAt === null && row.expiresAt.getTime() > now;
}

/** Ends one session (sign-out). */
export async function revokeSession(userId: string, sessionId: string): Promise<void> {
  await withUser(userId, (tx) =>
    tx.userSession.updateMany({ where: { id: sessionId, userId, revokedAt: null }, data: { revokedAt: new Date() } }),
  );
}

/**
 * Ends every session of the user except `keep` (the one making the change, if known), inside the
 * caller's transaction, which must act as that user. For TOTP and password changes.
 */
export async function revokeOtherSessions(tx: AppTx | TenantTx, userId: string, keep: string | null): Promise<number> {
  const res = await tx.userSession.updateMany({
    where: { userId, revokedAt: null, ...(keep ? { id: { not: keep } } : {}) },
    data: { revokedAt: new Date() },
  });
  return res.count;
}
