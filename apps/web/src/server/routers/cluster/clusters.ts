// Clusters are not stored as such: they are what the customer's servers report in their facts
// (the cluster section), grouped by stack and cluster name. Every member reports the whole
// cluster; the freshest report is shown.
import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { clusterStacks, notFound } from '@tandem/engine';
import { clusterFactsSchema, type ClusterFacts } from '@tandem/protocol';

export const clusterStackSchema = z.enum(clusterStacks);
/** A cluster that reports no name is listed under this one. */
export const unnamedCluster = '(unnamed)';
export const clusterNameSchema = z.string().trim().min(1, 'Name the cluster').max(255);

export const clusterKeyInput = z.object({ stack: clusterStackSchema, name: clusterNameSchema });

export interface ClusterMember {
  serverId: string;
  hostname: string;
  agentStatus: string;
  factsAt: Date | null;
}

export interface FoundCluster {
  stack: ClusterFacts['stack'];
  name: string;
  facts: ClusterFacts;
  /** When the facts shown were collected, and by which member. */
  factsAt: Date | null;
  reportedBy: string;
  members: ClusterMember[];
}

/** The customer's clusters, from its servers' facts (tenant-scoped reads). */
export async function clustersOf(db: TenantTx, customerId: string): Promise<FoundCluster[]> {
  const servers = await db.server.findMany({
    where: { customerId },
    select: { id: true, hostname: true, facts: true, factsAt: true, agent: { select: { status: true } } },
    orderBy: { hostname: 'asc' },
  });
  const byKey = new Map<string, FoundCluster>();
  for (const s of servers) {
    const section = (s.facts as { cluster?: { status?: string; data?: unknown } } | null)?.cluster;
    if (section?.status !== 'ok' || !section.data) continue;
    const parsed = clusterFactsSchema.safeParse(section.data);
    if (!parsed.success) continue;
    const facts = parsed.data;
    const name = facts.name ?? unnamedCluster;
    const key = `${facts.stack}\u0000${name}`;
    const member: ClusterMember = {
      serverId: s.id,
      hostname: s.hostname,
      agentStatus: s.agent?.status ?? 'none',
      factsAt: s.factsAt,
    };
    const found = byKey.get(key);
    if (!found) {
      byKey.set(key, { stack: facts.stack, name, facts, factsAt: s.factsAt, reportedBy: s.hostname, members: [member] });
      continue;
    }
    found.members.push(member);
    if ((s.factsAt?.getTime() ?? 0) > (found.factsAt?.getTime() ?? 0))
      Object.assign(found, { facts, factsAt: s.factsAt, reportedBy: s.hostname });
  }
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name) || a.stack.localeCompare(b.stack));
}

export async function findCluster(db: TenantTx, customerId: string, stack: string, name: string): Promise<FoundCluster> {
  const cluster = (await clustersOf(db, customerId)).find((c) => c.stack === stack && c.name === name);
  if (!cluster) throw notFound('Cluster');
  return cluster;
}

export async function loadVersion(db: TenantTx, id: string) {
  const version = await db.clusterConfigVersion.findUnique({ where: { id } });
  if (!version) throw notFound('Configuration version');
  return version;
}

export const stackLabel: Record<ClusterFacts['stack'], string> = {
  pacemaker: 'Pacemaker',
  'windows-failover-cluster': 'Windows failover cluster',
};
