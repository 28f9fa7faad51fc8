import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { JsonValue } from '../pair/plans.ts';

// Cluster configuration operations (backup and restore), as lists of steps (data) the worker
// runs through the agents of the cluster's nodes. They belong to a customer's cluster, not to a
// pair, so their steps name servers instead of sides.

export const clusterStacks = ['pacemaker', 'windows-failover-cluster'] as const;
export type ClusterStack = (typeof clusterStacks)[number];

const step = <K extends string, P extends z.ZodType>(kind: K, params: P) =>
  z.strictObject({ kind: z.literal(kind), description: z.string().min(1).max(1000), params, optional: z.literal(true).optional() });
const node = { serverId: z.uuid(), hostname: z.string().min(1).max(255) };

export const clusterStepSchema = z.discriminatedUnion('kind', [
  /** The node's agent answers and the node is in the cluster (from its facts). */
  step('cluster.node-check', z.strictObject({ ...node })),
  /** The cluster stack (Pacemaker + Corosync, or the Windows cluster service) running or stopped on this node, waited for. */
  step('cluster.node-stack', z.strictObject({ ...node, state: z.enum(['running', 'stopped']), timeoutSeconds: z.number().int().min(1).max(3600) })),
  /** The configuration read on this node and kept as a version (a backup, or the state before a restore). */
  step('cluster.config-snapshot', z.strictObject({ ...node, reason: z.enum(['scheduled', 'manual', 'before_restore']) })),
  /**
   * The node's configuration replaced by a stored version (Pacemaker: cibadmin --replace with the
   * epoch raised above the running one so every node takes it; Windows: an authoritative restore
   * of the cluster database). Idempotent: a node already holding it is left alone.
   */
  step('cluster.config-replace', z.strictObject({ ...node, versionId: z.uuid(), sha256: z.string().regex(/^[0-9a-f]{64}$/), authoritative: z.boolean() })),
  /** Waits until this node's configuration equals the version (the others took it from the restored node). */
  step('cluster.config-verify', z.strictObject({ ...node, versionId: z.uuid(), sha256: z.string().regex(/^[0-9a-f]{64}$/), timeoutSeconds: z.number().int().min(1).max(3600) })),
]);
export type ClusterStep = z.infer<typeof clusterStepSchema>;
export type ClusterStepKind = ClusterStep['kind'];
export type ClusterStepParams = { [K in ClusterStepKind]: Extract<ClusterStep, { kind: K }>['params'] };

/** Reads a stored cluster step back through the schema (`optional` is kept inside params, as for pair steps). */
export function clusterStepFromRow(row: { kind: string; description: string; params: unknown }): { ok: true; step: ClusterStep } | { ok: false; error: string } {
  if (typeof row.params !== 'object' || row.params === null || Array.isArray(row.params)) return { ok: false, error: 'its parameters are not an object' };
  const { optional, ...params } = row.params as Record<string, unknown>;
  const parsed = clusterStepSchema.safeParse({ kind: row.kind, description: row.description, params, ...(optional === true ? { optional } : {}) });
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error).replace(/\s*\n\s*/g, ' ') };
  return { ok: true, step: parsed.data };
}

export function clusterStepToRow(s: ClusterStep): { kind: ClusterStepKind; description: string; params: Record<string, JsonValue> } {
  return { kind: s.kind, description: s.description, params: { ...(s.params as unknown as Record<string, JsonValue>), optional: s.optional ?? false } };
}

// ---- planning backups and restores ----

/** A node of the cluster as the planner sees it (a server whose agent reports this cluster). */
export interface ClusterNode {
  serverId: string;
  hostname: string;
  /** Its agent is online. */
  online: boolean;
}

/** What a cluster_backup operation was asked for (Operation.options). */
export const clusterBackupOptionsSchema = z.strictObject({
  /** The node to read the configuration on; null: the first node whose agent is online. */
  serverId: z.uuid().nullable().default(null),
});
/** What a cluster_restore operation was asked for (Operation.options). */
export const clusterRestoreOptionsSchema = z.strictObject({
  /** The stored version (ClusterConfigVersion) to restore. */
  versionId: z.uuid(),
  /** The node the configuration is replaced on (the others take it from there). */
  serverId: z.uuid(),
});
export type ClusterRestoreOptions = z.infer<typeof clusterRestoreOptionsSchema>;

const refuseCluster = (message: string) => new AppError('CONFLICT', message);
const stackLabel = (stack: ClusterStack) => (stack === 'pacemaker' ? 'Pacemaker and Corosync' : 'the cluster service');

/** How long a node's cluster stack may take to stop or start, and the others to take a restored configuration. */
export const CLUSTER_STACK_TIMEOUT_SECONDS = 300;
export const CLUSTER_VERIFY_TIMEOUT_SECONDS = 300;

/** A backup: read the configuration on one node whose agent is online (the chosen one, else the first). */
export function planClusterBackup(nodes: readonly ClusterNode[], serverId: string | null = null): ClusterStep[] {
  const node = serverId ? nodes.find((n) => n.serverId === serverId) : nodes.find((n) => n.online);
  if (serverId && !node) throw refuseCluster('That server is not a node of this cluster');
  if (!node) throw refuseCluster('No node of this cluster has an online agent: the configuration cannot be read');
  if (!node.online) throw refuseCluster(`The agent on ${node.hostname} is not online: choose another node`);
  return [
    { kind: 'cluster.node-check', description: `Check that the agent on ${node.hostname} is online and the node is in the cluster`, params: { serverId: node.serverId, hostname: node.hostname } },
    { kind: 'cluster.config-snapshot', description: `Read the cluster configuration on ${node.hostname} and keep it as a version (unless it is unchanged)`, params: { serverId: node.serverId, hostname: node.hostname, reason: 'manual' } },
  ];
}

export interface ClusterRestoreInput {
  stack: ClusterStack;
  clusterName: string;
  nodes: readonly ClusterNode[];
  /** The node the version is written on. */
  restoreOn: string;
  version: { id: string; sha256: string };
}

/**
 * An authoritative restore: every node checked; the current configuration kept first (to go back
 * to); the cluster stack stopped on every other node, so none of them can hand its own copy back;
 * the version written on the chosen node; the others started again, taking it from that node;
 * then every node checked to hold it. A cluster of one node needs no stop or start.
 */
export function planClusterRestore(i: ClusterRestoreInput): ClusterStep[] {
  const on = i.nodes.find((n) => n.serverId === i.restoreOn);
  if (!on) throw refuseCluster(`The chosen server is not a node of cluster ${i.clusterName}`);
  const offline = i.nodes.filter((n) => !n.online);
  if (offline.length > 0) {
    throw refuseCluster(
      `The agents on ${offline.map((n) => n.hostname).join(', ')} are not online: a restore must stop and start the cluster on every node in order, so every node's agent must answer`,
    );
  }
  const others = i.nodes.filter((n) => n.serverId !== on.serverId);
  const authoritative = i.stack === 'windows-failover-cluster';
  const node = (n: ClusterNode) => ({ serverId: n.serverId, hostname: n.hostname });
  const short = i.version.sha256.slice(0, 12);
  const steps: ClusterStep[] = [
    ...i.nodes.map((n) => ({
      kind: 'cluster.node-check' as const,
      description: `Check that the agent on ${n.hostname} is online and the node is in cluster ${i.clusterName}`,
      params: node(n),
    })),
    {
      kind: 'cluster.config-snapshot',
      description: `Keep the configuration ${on.hostname} holds now as a version, to go back to`,
      params: { ...node(on), reason: 'before_restore' },
    },
    ...others.map((n) => ({
      kind: 'cluster.node-stack' as const,
      description: `Stop ${stackLabel(i.stack)} on ${n.hostname}, so it cannot hand its own configuration back (up to ${CLUSTER_STACK_TIMEOUT_SECONDS} s)`,
      params: { ...node(n), state: 'stopped' as const, timeoutSeconds: CLUSTER_STACK_TIMEOUT_SECONDS },
    })),
    {
      kind: 'cluster.config-replace',
      description: `Replace the configuration on ${on.hostname} with version ${short}${authoritative ? ' (authoritative restore of the cluster database)' : ' (its epoch raised so every node takes it)'}`,
      params: { ...node(on), versionId: i.version.id, sha256: i.version.sha256, authoritative },
    },
    ...others.map((n) => ({
      kind: 'cluster.node-stack' as const,
      description: `Start ${stackLabel(i.stack)} on ${n.hostname} again: it joins and takes the restored configuration (up to ${CLUSTER_STACK_TIMEOUT_SECONDS} s)`,
      params: { ...node(n), state: 'running' as const, timeoutSeconds: CLUSTER_STACK_TIMEOUT_SECONDS },
    })),
    ...[on, ...others].map((n) => ({
      kind: 'cluster.config-verify' as const,
      description: `Wait until ${n.hostname} holds version ${short} (up to ${CLUSTER_VERIFY_TIMEOUT_SECONDS} s)`,
      params: { ...node(n), versionId: i.version.id, sha256: i.version.sha256, timeoutSeconds: CLUSTER_VERIFY_TIMEOUT_SECONDS },
    })),
  ];
  return steps;
}
