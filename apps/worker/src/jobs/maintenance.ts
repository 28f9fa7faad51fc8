import { publishServerChange } from '@tandem/agent-bus/live';
import type { Db } from '@tandem/db';

/** Sign-in attempts older than this are no longer needed for rate limiting. */
export const loginAttemptRetentionMs = 24 * 3600 * 1000;

/** An online agent not heard from for this long is marked offline (its gateway died). */
export const staleAgentAfterSeconds = 120;

export async function markStaleAgentsOffline(db: Db): Promise<number> {
  // A SECURITY DEFINER function: the sweep spans every tenant, which the app role cannot see.
  const marked = await db.$queryRaw<{ organizationId: string; customerId: string; serverId: string }[]>`
    SELECT * FROM mark_stale_agents_offline(make_interval(secs => ${staleAgentAfterSeconds}))`;
  for (const agent of marked) void publishServerChange(agent, agent.serverId, 'agent');
  return marked.length;
}

/**
 * Raw replication samples are kept for a day, then rolled up per minute; nothing past 35 days
 * (a month and a few days: last month's report, sent on the 1st or a few days late, has all of it).
 */
export const replicationSampleRetention = { rawHours: 24, keepDays: 35 };

export async function rollUpReplicationSamples(db: Db): Promise<number> {
  const { rawHours, keepDays } = replicationSampleRetention;
  const rows = await db.$queryRaw<{ n: number }[]>`
    SELECT rollup_replication_samples(make_interval(hours => ${rawHours}), make_interval(days => ${keepDays})) AS n`;
  return rows[0]?.n ?? 0;
}

export async function pruneLoginAttempts(db: Db, now: Date): Promise<number> {
  const { count } = await db.loginAttempt.deleteMany({
    where: { createdAt: { lt: new Date(now.getTime() - loginAttemptRetentionMs) } },
  });
  return count;
}
