import { z } from 'zod';

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

export function clusterStepToRow(s: ClusterStep): { kind: ClusterStepKind; description: string; params: Record<string, unknown> } {
  return { kind: s.kind, description: s.description, params: { ...(s.params as Record<string, unknown>), optional: s.optional ?? false } };
}
