import { z } from 'zod';

// Cluster actions: resources and groups online/offline, the cluster stack on a node, and the
// cluster configuration (Pacemaker CIB; Windows cluster database) read and replaced. Each states
// a desired state, so sent twice it changes nothing the second time.

export const clusterStackSchema = z.enum(['pacemaker', 'windows-failover-cluster']);
const resourceName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:@ ()-]+$/, 'a cluster resource name: letters, digits, spaces and . _ : @ ( ) -');

/** `cluster.resource-ensure`: a resource or group online (on `node`, or where the cluster puts it) or offline, waited for. */
export const clusterResourceEnsureArgsSchema = z.strictObject({
  stack: clusterStackSchema,
  resource: resourceName,
  kind: z.enum(['resource', 'group']),
  state: z.enum(['online', 'offline']),
  node: resourceName.nullable().default(null),
  timeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
});
export const clusterResourceEnsureResultSchema = z.strictObject({
  state: z.enum(['online', 'offline']),
  /** Where it runs now (null when offline). */
  node: z.string().nullable(),
  changed: z.boolean(),
});

/** `cluster.stack-ensure`: the cluster stack on this node running or stopped, waited for. */
export const clusterStackEnsureArgsSchema = z.strictObject({
  stack: clusterStackSchema,
  state: z.enum(['running', 'stopped']),
  timeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
});
export const clusterStackEnsureResultSchema = z.strictObject({ state: z.enum(['running', 'stopped']), changed: z.boolean() });

export const MAX_CLUSTER_CONFIG_BYTES = 8 * 1024 * 1024;

/** `cluster.config-read`: the configuration as this node holds it. */
export const clusterConfigReadArgsSchema = z.strictObject({ stack: clusterStackSchema });
export const clusterConfigReadResultSchema = z.strictObject({
  /** pacemaker-cib: the CIB's configuration as XML; windows-cluster-backup: the backup's manifest (JSON). */
  format: z.enum(['pacemaker-cib', 'windows-cluster-backup']),
  content: z.string().max(MAX_CLUSTER_CONFIG_BYTES),
  /** Pacemaker: "admin_epoch.epoch.num_updates"; Windows: the backup's version identifier. */
  epoch: z.string().nullable(),
  /** SHA-256 (hex) of the content that matters for restore (Pacemaker: the <configuration> section, canonical). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** `cluster.config-replace`: the node's configuration made equal to `content` (already equal: nothing done). */
export const clusterConfigReplaceArgsSchema = z.strictObject({
  stack: clusterStackSchema,
  content: z.string().min(1).max(MAX_CLUSTER_CONFIG_BYTES),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Windows: restore the cluster database authoritatively (the other nodes take this copy). */
  authoritative: z.boolean().default(true),
});
export const clusterConfigReplaceResultSchema = z.strictObject({ replaced: z.boolean(), epoch: z.string().nullable(), sha256: z.string() });
