// Scheduled cluster configuration backups: every few hours, each cluster a customer's servers
// report (the tenants come from the SECURITY DEFINER cluster_tenants(); everything after is
// tenant-scoped) has its configuration read on one node whose agent is online, and kept as a
// version only when it changed since the newest one. Agent calls run outside any transaction.
import type { AgentBus } from '@tandem/agent-bus';
import { withTenant, type Db, type TenantTx } from '@tandem/db';
import type { ClusterStack } from '@tandem/engine';
import { clusterFactsOf, clusterNameOf, storeClusterConfig } from '../operations/steps/cluster.ts';

/** Hours between scheduled snapshots of each cluster. */
export const CLUSTER_SNAPSHOT_INTERVAL_HOURS = 24;

export interface ClusterSnapshotRound {
  clusters: number;
  stored: number;
  unchanged: number;
  /** No node online, or the read failed (tried again next round). */
  failed: number;
}

/** `onlyOrganizationId`: one organization's clusters only (tests sharing a database). */
export async function snapshotClusters(db: Db, bus: AgentBus, now: () => Date = () => new Date(), onlyOrganizationId?: string): Promise<ClusterSnapshotRound> {
  const all = await db.$queryRaw<{ organizationId: string; customerId: string }[]>`SELECT "organizationId", "customerId" FROM cluster_tenants()`;
  const tenants = onlyOrganizationId ? all.filter((t) => t.organizationId === onlyOrganizationId) : all;
  const round: ClusterSnapshotRound = { clusters: 0, stored: 0, unchanged: 0, failed: 0 };
  for (const t of tenants) {
    const tx = <T>(fn: (x: TenantTx) => Promise<T>) => withTenant({ organizationId: t.organizationId, customerId: t.customerId, userId: null }, fn, db);
    const servers = await tx((x) => x.server.findMany({ select: { id: true, hostname: true, facts: true, agent: { select: { id: true, status: true } } }, orderBy: { hostname: 'asc' } }));
    // One entry per cluster: its first node whose agent is online.
    const clusters = new Map<string, { stack: ClusterStack; name: string; node: { serverId: string; agentId: string } | null }>();
    for (const s of servers) {
      const c = clusterFactsOf(s.facts);
      if (!c) continue;
      const key = `${c.stack}\u0000${clusterNameOf(c)}`;
      const entry = clusters.get(key) ?? { stack: c.stack, name: clusterNameOf(c), node: null };
      if (!entry.node && s.agent?.status === 'online') entry.node = { serverId: s.id, agentId: s.agent.id };
      clusters.set(key, entry);
    }
    for (const c of clusters.values()) {
      round.clusters++;
      if (!c.node) {
        round.failed++;
        continue;
      }
      try {
        const read = await bus.send(c.node.agentId, 'cluster.config-read', { stack: c.stack }, { timeoutMs: 120_000 });
        const stored = await storeClusterConfig(tx, {
          organizationId: t.organizationId,
          customerId: t.customerId,
          stack: c.stack,
          clusterName: c.name,
          serverId: c.node.serverId,
          reason: 'scheduled',
          operationId: null,
          read,
          now: now(),
        });
        if (stored.stored) round.stored++;
        else round.unchanged++;
      } catch (err) {
        // One cluster that does not answer must not stop the others; the next round tries again.
        round.failed++;
        console.error(`[worker] scheduled snapshot of cluster ${c.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return round;
}
