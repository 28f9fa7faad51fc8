import type { Db } from '@tandem/db';

/** Sign-in attempts older than this are no longer needed for rate limiting. */
export const loginAttemptRetentionMs = 24 * 3600 * 1000;

export async function pruneLoginAttempts(db: Db, now: Date): Promise<number> {
  const { count } = await db.loginAttempt.deleteMany({
    where: { createdAt: { lt: new Date(now.getTime() - loginAttemptRetentionMs) } },
  });
  return count;
}
