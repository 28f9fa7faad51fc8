// Replication statistics for pairs the database replicates itself (PostgreSQL streaming): the
// standby's agent is asked for its lag, which becomes a ReplicationSample like a file pair's.
import type { AgentBus } from '@tandem/agent-bus';
import { publishPairChange } from '@tandem/agent-bus/live';
import { withTenant, type Db } from '@tandem/db';
import { connectionSettingsSchema } from '@tandem/engine';

interface NativePair {
  pairId: string;
  organizationId: string;
  customerId: string;
  replicationMethod: string;
  connectionSettings: unknown;
  targetAgentId: string | null;
  targetAgentStatus: string | null;
}

export async function sampleNativeReplication(db: Db, bus: AgentBus, now: () => Date = () => new Date()): Promise<{ sampled: number; failed: number }> {
  const pairs = await db.$queryRaw<NativePair[]>`SELECT * FROM native_pairs_to_sample()`;
  let sampled = 0;
  let failed = 0;
  await Promise.all(
    pairs.map(async (p) => {
      const connection = connectionSettingsSchema.safeParse(p.connectionSettings);
      const link = connection.success ? connection.data.database : null;
      // An offline standby agent cannot answer; the pair's last sample stays the latest.
      if (!link || !p.targetAgentId || p.targetAgentStatus !== 'online') return;
      try {
        const status = await bus.send(p.targetAgentId, 'postgresql.status', { instance: { dataDir: link.targetDataDir } }, { timeoutMs: 10_000, attempts: 1 });
        const standby = status.standby;
        await withTenant(
          { organizationId: p.organizationId, customerId: p.customerId, userId: null },
          (tx) =>
            tx.replicationSample.create({
              data: {
                organizationId: p.organizationId,
                customerId: p.customerId,
                pairId: p.pairId,
                at: now(),
                // Not a standby any more (promoted by hand?): the lag is unknown.
                lagSeconds: status.role === 'standby' ? (standby?.lagSeconds ?? null) : null,
                queueBytes: BigInt(Math.max(0, Math.round(standby?.lagBytes ?? 0))),
              },
            }),
          db,
        );
        void publishPairChange(p, p.pairId, 'lag');
        sampled++;
      } catch {
        failed++;
      }
    }),
  );
  return { sampled, failed };
}
