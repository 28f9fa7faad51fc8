import { z } from 'zod';
import { serviceStateSchema } from './actions.ts';

// What an agent reports about its server. Every collector's section is either its data or
// "unknown" with the reason: one failing collector never hides the others.

export function section<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('status', [
    z.strictObject({ status: z.literal('ok'), data }),
    z.strictObject({ status: z.literal('unknown'), reason: z.string().max(2000) }),
  ]);
}

const str = z.string().max(4096);

export const hostFactsSchema = z.strictObject({
  hostname: str,
  fqdn: str.nullable(),
  osFamily: z.enum(['linux', 'windows']),
  osName: str, // e.g. "Debian GNU/Linux 12 (bookworm)" or "Windows Server 2022 Standard"
  osVersion: str,
  kernel: str,
  cpuCount: z.number().int().nonnegative(),
  memoryBytes: z.number().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
  /** Agent clock minus control-plane clock, from the last heartbeat (null until measured). */
  clockOffsetMs: z.number().nullable(),
});

export const networkFactsSchema = z.strictObject({
  interfaces: z
    .array(
      z.strictObject({
        name: str,
        mac: str.nullable(),
        addresses: z.array(z.strictObject({ address: str, prefix: z.number().int().min(0).max(128), family: z.enum(['ipv4', 'ipv6']) })).max(256),
      }),
    )
    .max(512),
  defaultGateway: str.nullable(),
  dnsResolvers: z.array(str).max(32),
});

export const volumeFactsSchema = z
  .array(
    z.strictObject({
      mountPoint: str, // "/" or "C:"
      device: str.nullable(),
      fileSystem: str.nullable(),
      sizeBytes: z.number().nonnegative(),
      freeBytes: z.number().nonnegative(),
    }),
  )
  .max(1024);

export const serviceFactsSchema = z.strictObject({
  manager: z.enum(['systemd', 'sysv', 'windows-scm']),
  services: z.array(serviceStateSchema).max(5000),
});

const postgresqlSchema = z.strictObject({
  kind: z.literal('postgresql'),
  version: str.nullable(),
  dataDirectory: str,
  port: z.number().int().nullable(),
  running: z.boolean(),
  settings: z.record(z.string().max(128), str).optional(),
  roles: z.array(z.strictObject({ name: str, superuser: z.boolean(), replication: z.boolean(), canLogin: z.boolean() })).max(10_000).optional(),
  databases: z.array(z.strictObject({ name: str, sizeBytes: z.number().nullable() })).max(10_000).optional(),
});

const mariadbSchema = z.strictObject({
  kind: z.literal('mariadb'),
  flavor: z.enum(['mariadb', 'mysql']),
  version: str.nullable(),
  dataDirectory: str,
  port: z.number().int().nullable(),
  running: z.boolean(),
  serverId: z.number().int().nullable().optional(),
  binlog: z.strictObject({ enabled: z.boolean(), format: str.nullable() }).optional(),
  users: z.array(z.strictObject({ user: str, host: str })).max(10_000).optional(),
  databases: z.array(str).max(10_000).optional(),
});

const fileShareSchema = z.strictObject({
  kind: z.literal('file_server'),
  shares: z.array(z.strictObject({ protocol: z.enum(['smb', 'nfs']), name: str, path: str })).max(10_000),
});

const sqlServerSchema = z.strictObject({
  kind: z.literal('sql_server'),
  instance: str,
  version: str.nullable(),
  edition: str.nullable(),
  running: z.boolean(),
  databases: z.array(z.strictObject({ name: str, recoveryModel: str.nullable(), dataFiles: z.array(str).max(1000) })).max(10_000),
});

const exchangeSchema = z.strictObject({
  kind: z.literal('exchange'),
  version: str.nullable(),
  roles: z.array(str).max(32),
  databases: z.array(z.strictObject({ name: str, edbPath: str.nullable(), logPath: str.nullable(), mounted: z.boolean().nullable() })).max(10_000),
});

export const applicationSchema = z.discriminatedUnion('kind', [postgresqlSchema, mariadbSchema, fileShareSchema, sqlServerSchema, exchangeSchema]);
export type ApplicationFacts = z.infer<typeof applicationSchema>;

export const clusterFactsSchema = z.strictObject({
  stack: z.enum(['pacemaker', 'windows-failover-cluster']),
  name: str.nullable(),
  quorate: z.boolean().nullable(),
  nodes: z.array(z.strictObject({ name: str, online: z.boolean() })).max(64),
  resources: z
    .array(
      z.strictObject({
        id: str,
        type: str,
        role: str.nullable(),
        node: str.nullable(),
        /** The group it belongs to (Pacemaker group, Windows cluster group), null when none. */
        group: str.nullable().default(null),
        /** Pacemaker's target-role meta attribute (Started, Stopped, Promoted…), null when unset. */
        targetRole: str.nullable().default(null),
      }),
    )
    .max(10_000),
  /** Groups and their member resources, in order. */
  groups: z.array(z.strictObject({ id: str, resources: z.array(str).max(1000), node: str.nullable() })).max(1000).default([]),
  /** Placement rules: location (resource ↔ node), colocation (resource with resource), order. */
  constraints: z
    .array(
      z.strictObject({
        id: str,
        kind: z.enum(['location', 'colocation', 'order', 'ticket']),
        resource: str,
        /** location: the node; colocation/order: null. */
        node: str.nullable(),
        /** colocation: with this resource; order: then this resource; else null. */
        with: str.nullable(),
        /** Score as written (INFINITY, -INFINITY, 100…), null when none. */
        score: str.nullable(),
      }),
    )
    .max(10_000)
    .default([]),
  /** Fencing: whether it is enabled (stonith-enabled), and how many fence devices are configured. null: not known. */
  fencing: z.strictObject({ enabled: z.boolean().nullable(), devices: z.number().int().min(0) }).nullable().default(null),
});

export const factsSchema = z.strictObject({
  collectedAt: z.iso.datetime(),
  agent: z.strictObject({ version: str, protocolVersion: z.number().int(), capabilities: z.array(str).max(100) }),
  host: section(hostFactsSchema),
  network: section(networkFactsSchema),
  volumes: section(volumeFactsSchema),
  services: section(serviceFactsSchema),
  applications: section(z.array(applicationSchema).max(1000)),
  /** null: the server is not a cluster member. */
  cluster: section(clusterFactsSchema.nullable()),
});
export type Facts = z.infer<typeof factsSchema>;
export type HostFacts = z.infer<typeof hostFactsSchema>;
export type NetworkFacts = z.infer<typeof networkFactsSchema>;
export type VolumeFacts = z.infer<typeof volumeFactsSchema>;
export type ServiceFacts = z.infer<typeof serviceFactsSchema>;
export type ClusterFacts = z.infer<typeof clusterFactsSchema>;
