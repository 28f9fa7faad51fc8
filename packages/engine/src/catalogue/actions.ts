import { z } from 'zod';

// The fix vocabulary (catalogue §1.8): what a check's plan asks for, as data. Every action is an
// idempotent "ensure" with absolute target values; the worker turns each into an agent command
// (or a control-plane change) whose id derives from the operation and step, and verifies it by
// re-validating. `before`/`after` are what the plan shows per node.

const node = z.enum(['source', 'target']);
const text = z.string().min(1).max(4096);
const common = {
  /** One line for the plan: what changes, where. */
  description: z.string().min(1).max(1000),
  /** The value seen when the plan was made (shown, and compared before committing: stale-plan). */
  before: z.string().max(4096).nullable(),
  /** The desired value. */
  after: z.string().max(4096).nullable(),
};
const action = <K extends string, S extends z.ZodRawShape>(name: K, shape: S) => z.strictObject({ action: z.literal(name), ...common, ...shape });

export const fixActionSchema = z.discriminatedUnion('action', [
  /** Control plane: change the pair's configuration (key is a dotted path of the stored settings). */
  action('pair.set', { key: text, value: z.unknown() }),
  action('agent.upgrade', { node, version: text }),
  action('agent.module.install', { node, module: text, version: text }),
  action('agent.module.enable', { node, module: text }),
  action('agent.cert.rotate', { node }),
  action('time.resync', { node }),
  action('hooks.prepare-dir', { node }),
  action('hooks.deploy', { node, digest: text }),
  action('service.stop', { node, name: text }),
  action('service.set-startup', { node, name: text, mode: z.enum(['manual', 'disabled']) }),
  action('cluster.resource.offline', { node, resource: text }),
  action('cluster.resource.set-autostart', { node, resource: text, autoStart: z.literal(false) }),
  action('cluster.resource.set-property', { node, resource: text, key: text, value: text }),
  action('net.set-dns-registration', { node, nic: text, register: z.literal(false) }),
  action('firewall.allow', { node, port: z.number().int().min(1).max(65_535), protocol: z.enum(['tcp', 'udp']), fromCidr: text }),
  action('fs.ensure-dir', { node, path: text, owner: text, mode: z.number().int().min(0).max(0o7777) }),
  action('fs.ensure-owner', { node, path: text, owner: text, mode: z.number().int().min(0).max(0o7777) }),
  action('storage.resize-shadow', { node, volume: text, sizeBytes: z.number().int().positive() }),
  action('replication.set-option', { key: text, value: text }),
  action('replication.connection.remove', { connectionId: text }),
  action('replication.monitor.create', {}),
  action('replication.monitor.remove', { monitorId: text }),
  action('repset.regenerate', {}),
  action('repset.add-rule', { path: text, include: z.boolean(), recursive: z.boolean() }),
  action('dns.set-ttl', { records: z.array(z.strictObject({ type: z.string().max(16), name: z.string().max(253) })).min(1).max(64), ttl: z.number().int().min(0).max(86_400) }),
  action('dns.fence.remove', { record: text, principal: text }),
  action('directory.grant', { object: text, principal: text, rights: z.array(text).min(1).max(32) }),
  action('credential.test', { credentialId: text }),
  action('drill.schedule', {}),
  /** An application module operation (`postgres.set-target-settings`, `sqlserver.copy-login`…). */
  action('app', {
    node,
    app: z.enum(['postgres', 'mariadb', 'fileserver', 'sqlserver', 'exchange', 'sharepoint', 'generic-service']),
    op: z.string().regex(/^[a-z][a-z-]*$/).max(64),
    params: z.record(z.string().max(128), z.unknown()),
  }),
]);
export type FixAction = z.infer<typeof fixActionSchema>;
export type FixActionName = FixAction['action'];

/** Where an action runs: a node's agent, the DNS executor, the directory executor, or the control plane. */
export function actionRunsOn(a: FixAction): 'source' | 'target' | 'dns' | 'directory' | 'control' {
  if ('node' in a) return a.node;
  switch (a.action) {
    case 'dns.set-ttl':
    case 'dns.fence.remove':
      return 'dns';
    case 'directory.grant':
    case 'credential.test':
      return 'directory';
    case 'replication.set-option':
    case 'repset.regenerate':
    case 'repset.add-rule':
      return 'source';
    default:
      return 'control';
  }
}
