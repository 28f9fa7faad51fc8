import { z } from 'zod';
import { replicationSetSchema } from './replication-set.ts';
import { nameTextSchema, textSchema } from '../text.ts';
import { dnsNameSchema, dnsRecordTypeSchema } from '../dns/records.ts';
import { probeKindsFor, probeLabels, testSettingsSchema } from './testing.ts';

// A protection pair's configuration: what the wizard edits and what enabling protection turns
// into agent commands. Stored as JSON on the pair and parsed with these schemas on every read
// and write, so a stored value that no longer fits is noticed, never half-used.

export const applications = ['file_server', 'generic_service', 'postgresql', 'mariadb', 'sql_server', 'exchange', 'sharepoint'] as const;
export const applicationSchema = z.enum(applications, { error: 'Choose an application' });
export type Application = z.infer<typeof applicationSchema>;

export const applicationLabels: Record<Application, string> = {
  file_server: 'File server',
  generic_service: 'Generic service',
  postgresql: 'PostgreSQL',
  mariadb: 'MariaDB / MySQL',
  sql_server: 'SQL Server',
  exchange: 'Exchange',
  sharepoint: 'SharePoint',
};

export const replicationMethods = ['file', 'postgresql_streaming', 'mariadb_replication', 'sql_log_shipping'] as const;
export type ReplicationMethod = (typeof replicationMethods)[number];

/** How each application's data travels: databases use their own replication, never raw files. */
export const replicationMethodFor: Record<Application, ReplicationMethod> = {
  file_server: 'file',
  generic_service: 'file',
  postgresql: 'postgresql_streaming',
  mariadb: 'mariadb_replication',
  sql_server: 'sql_log_shipping',
  exchange: 'file',
  sharepoint: 'file',
};

/** Methods the agents can run today; enabling a pair with another method is refused with this reason. */
export const methodSupport: Record<ReplicationMethod, string | null> = {
  file: null,
  postgresql_streaming: null,
  mariadb_replication: 'MariaDB replication is not built yet.',
  sql_log_shipping: 'SQL Server log shipping is not built yet.',
};

const host = z
  .string()
  .trim()
  .min(1, 'Enter an address')
  .max(255)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'Use an IP address or a host name (letters, digits, . : - _)');
const serviceName = z
  .string()
  .trim()
  .min(1, 'A service needs a name')
  .max(256)
  .regex(/^[A-Za-z0-9@._:+$\- ]+$/, 'Service names may use letters, digits, spaces and @ . _ : + - $');
const isIp = (s: string) => z.ipv4().safeParse(s).success || z.ipv6().safeParse(s).success;
const port = (what: string) => z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).min(1, `${what} must be 1–65535`).max(65_535, `${what} must be 1–65535`);

export const DEFAULT_DATA_PORT = 6320;
export const DEFAULT_MONITOR_PORT = 6321;

export const monitorSettingsSchema = z.object({
  /** agent: the target agent sends signed UDP probes that the source agent answers; icmp: plain ping. */
  method: z.enum(['agent', 'icmp']).default('agent'),
  /** Source addresses the target probes. */
  addresses: z.array(host).min(1, 'Monitor at least one source address').max(16),
  /** UDP port the source agent answers probes on (method agent). */
  port: port('The monitor port').default(DEFAULT_MONITOR_PORT),
  intervalSeconds: z.number().int('Whole seconds only').min(1, 'The interval is at least 1 second').max(3600, 'The interval is at most an hour').default(5),
  missed: z.number().int('A whole number of probes').min(1, 'Allow at least 1 missed probe').max(100, 'At most 100 missed probes').default(5),
  /** all: the source is lost when every address stops answering; any: when one does. */
  trigger: z.enum(['all', 'any']).default('all'),
  /** both: the target and the control plane must agree; target-only: for sites the control plane cannot see. */
  observers: z.enum(['both', 'target-only']).default('both'),
});
export type MonitorSettings = z.infer<typeof monitorSettingsSchema>;

/** One address the target takes over from the source at an identity failover. */
export const identityAddressSchema = z.object({
  address: z.string().trim().refine((a) => isIp(a), 'Enter an IP address'),
  prefix: z.number().int('A whole prefix length').min(0).max(128),
  /** The target interface to put it on; null: the one whose subnet holds it. */
  targetInterface: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._:@ -]+$/, 'Letters, digits and . _ : @ - only').nullable().default(null),
});
export const identitySettingsSchema = z.object({
  addresses: z.array(identityAddressSchema).max(16).default([]),
  /** Move an address even when the target has no interface in its subnet (it will not route). */
  force: z.boolean().default(false),
});

export const failoverSettingsSchema = z.object({
  enabled: z.boolean().default(true),
  /** dns: repoint DNS records at the target; identity: the target takes over the source's name and addresses. */
  type: z.enum(['dns', 'identity']).default('dns'),
  /** Started on the target in this order at failover. */
  services: z.array(serviceName).max(100).default([]),
  /** Further services to start after the application's own (anti-virus, add-ons). */
  extraServices: z.array(serviceName).max(100).default([]),
  /** Cluster resources to bring online (when the source is clustered). */
  clusterResources: z.array(nameTextSchema('A cluster resource name').trim().min(1).max(256)).max(100).default([]),
  monitor: monitorSettingsSchema,
  /** On by default: a detected failure waits for a person to approve the failover. */
  manualIntervention: z.boolean().default(true),
  /**
   * graceful: stop the source's services (if its agent answers) and let replication drain before
   * cutting over; immediate: cut over at once. The default for a failover request; each request may choose.
   */
  mode: z.enum(['graceful', 'immediate']).default('graceful'),
  /** Graceful only: how long to wait for the replication queue to drain. */
  drainTimeoutSeconds: z.number().int('Whole seconds only').min(0).max(86_400, 'At most a day').default(120),
  /** Graceful only: what happens when the queue has not drained in time. */
  onDrainTimeout: z.enum(['proceed', 'abort']).default('abort'),
  /** How long each service may take to reach running (target) or stopped (source). */
  serviceTimeoutSeconds: z.number().int('Whole seconds only').min(1).max(3600).default(120),
  /** Identity failover: the source addresses the target takes over. */
  identity: identitySettingsSchema.default({ addresses: [], force: false }),
});
export type FailoverSettings = z.infer<typeof failoverSettingsSchema>;

const posixPath = (what: string) =>
  textSchema({}, what)
    .trim()
    .min(2, `${what} must be an absolute path`)
    .max(4096)
    .refine((p) => p.startsWith('/'), `${what} must be an absolute path`);

/**
 * Database pairs (PostgreSQL streaming): which instance on each side, and how the standby reaches
 * the source. The target instance's data directory is moved aside (kept) and replaced by a copy.
 */
export const databaseLinkSchema = z.object({
  sourceDataDir: posixPath('The source data directory'),
  sourcePort: port('The source database port'),
  targetDataDir: posixPath('The target data directory'),
  targetPort: port('The target database port'),
  /** The source address the standby connects to. */
  sourceAddress: host,
  /** Restart the source database when a replication setting needs it (wal_level, max_wal_senders…). */
  allowSourceRestart: z.boolean().default(false),
});
export type DatabaseLink = z.infer<typeof databaseLinkSchema>;

/**
 * How the data channel travels: direct (the source connects to the target's route address and
 * data port) or relay (both agents dial the gateway, which splices the two connections; for
 * sites that cannot reach each other). The channel is TLS-PSK agent to agent either way.
 */
export const routeModes = ['direct', 'relay'] as const;
export type RouteMode = (typeof routeModes)[number];

/** What the form proposes when a user switches big files to in-place updates. */
export const DEFAULT_IN_PLACE_MIB = 64;

export const connectionSettingsSchema = z.object({
  /** The target address the source sends replication to. */
  route: host,
  routeMode: z.enum(routeModes, { error: 'Choose direct or relay' }).default('direct'),
  port: port('The data port').default(DEFAULT_DATA_PORT),
  mirror: z.enum(['checksum', 'full', 'differences']).default('checksum'),
  compression: z.enum(['off', 'fast', 'best']).default('off'),
  /** Kilobits per second on the wire; null: no limit. */
  bandwidthLimitKbps: z.number().int('Whole kbit/s only').min(64, 'A limit below 64 kbit/s would never finish a mirror').max(100_000_000).nullable().default(null),
  orphans: z.enum(['keep', 'delete', 'move-aside']).default('delete'),
  /**
   * Files at least this big (MiB) get their changed blocks written in place on the target instead
   * of a full copy renamed over the old one; null (default): every file is replaced atomically.
   */
  inPlaceFromMiB: z.number({ error: 'Enter a size in MiB' }).int('Whole MiB only').min(1, 'At least 1 MiB').max(1_048_576, 'At most 1 TiB (1048576 MiB)').nullable().default(null),
  /** Where the copy lives on the target: "/" keeps the source's own paths. */
  targetRoot: textSchema({}, 'The target directory')
    .trim()
    .min(1, 'Enter a directory on the target')
    .max(4096)
    .refine((p) => /^([/\\]|[A-Za-z]:[/\\])/.test(p), 'The target directory must be an absolute path'),
  /** Database pairs only. */
  database: databaseLinkSchema.nullable().default(null),
});
export type ConnectionSettings = z.infer<typeof connectionSettingsSchema>;

/** A record picked to move at failover (its current answers are read again when the failover is planned). */
export const dnsRecordRefSchema = z.object({
  /** The zone that holds it (a reverse zone for PTR records). */
  zone: dnsNameSchema,
  name: dnsNameSchema,
  type: dnsRecordTypeSchema,
});
export type DnsRecordRef = z.infer<typeof dnsRecordRefSchema>;

export const dnsSettingsSchema = z.object({
  servers: z.array(host).max(8).default([]),
  zone: z
    .string()
    .trim()
    .max(253)
    .regex(/^$|^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$/, 'Enter a zone name such as corp.example.com')
    .default(''),
  /** Each monitored source address and the target address that replaces it in DNS. */
  addressMap: z.array(z.object({ source: host, target: host })).max(16).default([]),
  ttlSeconds: z.number().int().min(0, 'The TTL cannot be negative').max(86_400, 'The TTL is at most a day (86400 s)').default(300),
  /** A stored credential (TSIG key or domain account) allowed to update the zone. */
  credentialId: z.uuid({ error: 'Choose a credential' }).nullable().default(null),
  /**
   * rfc2136: dynamic update (TSIG-signed when a credential is set), done by an agent; windows: an
   * Active Directory-integrated zone changed through the DNS server cmdlets on a Windows agent.
   */
  provider: z.enum(['rfc2136', 'windows']).default('rfc2136'),
  /** The server whose agent talks to the DNS servers; null: the target's agent. */
  executorServerId: z.uuid().nullable().default(null),
  /** The records that move at failover, as the operator picked them from what was discovered. */
  records: z.array(dnsRecordRefSchema).max(64).default([]),
  /** Lower these records' TTL to ttlSeconds when protection is enabled, so clients follow a failover quickly. */
  lowerTtlOnEnable: z.boolean().default(false),
});
export type DnsSettings = z.infer<typeof dnsSettingsSchema>;

const hookScript = textSchema({ multiline: true }, 'A hook script').max(64 * 1024, 'A hook script is at most 64 KiB').nullable().default(null);
export const hooksSchema = z.object({
  beforeFailover: hookScript,
  afterFailover: hookScript,
  beforeFailback: hookScript,
  afterFailback: hookScript,
  beforeRestore: hookScript,
  afterRestore: hookScript,
});
export type Hooks = z.infer<typeof hooksSchema>;
export const hookLabels: Record<keyof Hooks, string> = {
  beforeFailover: 'Before failover',
  afterFailover: 'After failover',
  beforeFailback: 'Before failback',
  afterFailback: 'After failback',
  beforeRestore: 'Before restore',
  afterRestore: 'After restore',
};

export const pairNameSchema = nameTextSchema('The pair name').trim().min(1, 'Give the pair a name').max(120, 'Keep the name under 120 characters');

/** Everything the wizard sets; cross-field rules live here so every caller gets them. */
export const pairSettingsSchema = z
  .object({
    name: pairNameSchema,
    application: applicationSchema,
    /** File pairs only; native methods replicate the database itself. */
    replicationSet: replicationSetSchema.nullable(),
    failover: failoverSettingsSchema,
    connection: connectionSettingsSchema,
    dns: dnsSettingsSchema,
    hooks: hooksSchema,
    /** Test failover probes and copy method. */
    testing: testSettingsSchema.default({ probes: [], copyMethod: 'auto' }),
  })
  .superRefine((s, ctx) => {
    if (s.failover.enabled && s.failover.type === 'identity' && s.failover.identity.addresses.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['failover', 'identity', 'addresses'], message: 'Identity failover needs at least one source address to move' });
    }
    if (s.failover.enabled && s.failover.type === 'dns') {
      if (s.dns.servers.length === 0) ctx.addIssue({ code: 'custom', path: ['dns', 'servers'], message: 'DNS failover needs at least one DNS server to update' });
      if (!s.dns.zone) ctx.addIssue({ code: 'custom', path: ['dns', 'zone'], message: 'DNS failover needs the zone that holds the source’s records' });
      if (s.dns.addressMap.length === 0) ctx.addIssue({ code: 'custom', path: ['dns', 'addressMap'], message: 'Map at least one source address to a target address' });
    }
    const targets = s.dns.addressMap.map((m) => m.target);
    if (new Set(targets).size !== targets.length) {
      ctx.addIssue({ code: 'custom', path: ['dns', 'addressMap'], message: 'Each source address needs its own target address' });
    }
    if (new Set(s.failover.monitor.addresses).size !== s.failover.monitor.addresses.length) {
      ctx.addIssue({ code: 'custom', path: ['failover', 'monitor', 'addresses'], message: 'Each monitored address may appear only once' });
    }
    // The data port is only opened on a direct route.
    if (s.connection.routeMode === 'direct' && s.connection.port === s.failover.monitor.port && s.failover.monitor.method === 'agent') {
      ctx.addIssue({ code: 'custom', path: ['failover', 'monitor', 'port'], message: 'The monitor port must differ from the data port' });
    }
    if (replicationMethodFor[s.application] === 'postgresql_streaming') {
      const db = s.connection.database;
      if (!db) {
        ctx.addIssue({ code: 'custom', path: ['connection', 'database'], message: 'Choose the PostgreSQL instance on each side' });
      } else {
        if (db.sourceDataDir === db.targetDataDir && db.sourcePort === db.targetPort) {
          ctx.addIssue({ code: 'custom', path: ['connection', 'database', 'targetDataDir'], message: 'The target instance must differ from the source instance' });
        }
        if (!isIp(db.sourceAddress)) ctx.addIssue({ code: 'custom', path: ['connection', 'database', 'sourceAddress'], message: 'Use the source’s IP address (PostgreSQL’s access rules need one)' });
      }
      if (!isIp(s.connection.route)) ctx.addIssue({ code: 'custom', path: ['connection', 'route'], message: 'Use the target’s IP address: the source allows replication from it' });
    }
    if (s.connection.routeMode === 'relay' && replicationMethodFor[s.application] !== 'file') {
      ctx.addIssue({ code: 'custom', path: ['connection', 'routeMode'], message: 'The relay carries file replication only: database replication needs a direct route to the source' });
    }
    const fits = probeKindsFor[replicationMethodFor[s.application]];
    s.testing.probes.forEach((p, i) => {
      if (!fits.includes(p.kind)) ctx.addIssue({ code: 'custom', path: ['testing', 'probes', i, 'kind'], message: `“${probeLabels[p.kind]}” does not apply to a ${applicationLabels[s.application]} pair` });
    });
    if (replicationMethodFor[s.application] === 'file' && !s.replicationSet) {
      ctx.addIssue({ code: 'custom', path: ['replicationSet', 'roots'], message: 'Choose at least one directory to protect' });
    }
  });
export type PairSettings = z.infer<typeof pairSettingsSchema>;
export type PairSettingsInput = z.input<typeof pairSettingsSchema>;

/** Help text for every field of the wizard, in one place so the words stay consistent. */
export const settingsHelp = {
  name: 'A short name your team will recognise, e.g. "Main file server".',
  failoverEnabled: 'When off, Tandem replicates and watches the source but never offers a failover.',
  failoverType: 'DNS repoints the source’s DNS records at the target; clients follow once their cache expires (keep the TTL low). Identity moves the source’s name and addresses to the target itself.',
  services: 'Started on the target, top to bottom, when it takes over. The application’s usual services are filled in; reorder or add your own.',
  extraServices: 'Anything else that must run on the target after a failover, such as anti-virus or an add-on service.',
  clusterResources: 'The source is a cluster member: these resources are brought online on the target side.',
  monitorMethod: 'Agent: the target’s agent sends signed UDP probes that the source’s agent answers (works where ICMP is blocked). ICMP: plain ping.',
  monitorAddresses: 'Source addresses the target checks. Use addresses clients actually reach the source on.',
  monitorPort: 'UDP port the source agent answers probes on.',
  interval: 'How often the target checks each address.',
  missed: 'How many checks in a row may fail before the address counts as lost. Interval × missed is how long a failure takes to notice (5 s × 5 = 25 s).',
  trigger: 'All: the source counts as lost only when every monitored address is down (safer). Any: one lost address is enough.',
  observers: 'Both (recommended): the control plane must also have lost the source’s agent, so a broken link between the two sites alone never triggers. Target only: for sites the control plane cannot see; a network split can then look like a failure.',
  manualIntervention: 'On: a detected failure waits for a person to approve the failover. Off: the failover starts by itself once both observers agree the source is lost.',
  route: 'The target address the source sends replication to. Pick the address on the network you want replication traffic on.',
  routeMode:
    'Direct (default): the source connects to the target’s route address and data port; the fastest path, but the target must be reachable from the source. Relay: both agents connect out to the Tandem gateway, which joins the two connections, for sites that cannot reach each other (NAT, firewalls). Data stays encrypted end to end with the pair’s key, which the gateway never holds; it costs gateway bandwidth and some speed. File replication only.',
  dataPort: 'TCP port the target agent listens on for the source (default 6320). Not used with the relay.',
  mirror: 'Checksum compares block hashes and sends only blocks that differ (best when the target already holds an old copy). Full sends everything. Differences skips files whose size and modification time match.',
  compression: 'Fast or best trade CPU for bandwidth; leave off on a LAN.',
  bandwidthLimit: 'Caps replication on the wire, in kbit/s. Empty: no limit.',
  orphans: 'Files on the target that no longer exist on the source: delete them, keep them, or move them aside into a folder.',
  inPlace:
    'Replace whole (default): a changed file is rebuilt beside the old one and swapped in, so anyone reading the target sees the old or the new version, never a mix; a big file costs a full copy on the target for every change. In place: for files from the size you give, only the changed blocks are written into the target’s file. Much less disk work for big files that change often (mailbox files, disk images, logs), but a reader on the target may see a change half applied, and an update cut short is finished by the next pass.',
  targetRoot: 'Where the copy lives on the target. "/" keeps the source’s own paths, so applications find their data after a failover.',
  replicationSet: 'Directories on the source to protect, plus optional rules. Rules are patterns relative to each directory; the last matching rule wins.',
  dnsServers: 'DNS servers Tandem updates at failover (RFC 2136 dynamic update).',
  zone: 'The zone that holds the source’s records.',
  addressMap: 'Each monitored source address and the target address that replaces it in DNS.',
  ttl: 'TTL Tandem sets on the source’s records so clients notice a failover quickly. 300 seconds or less is recommended.',
  credential: 'A stored credential allowed to update the zone (a TSIG key for BIND).',
  sourceInstance: 'The PostgreSQL instance to protect.',
  targetInstance: 'The instance that becomes a streaming standby of the source. Its data directory is moved aside (kept, never deleted) and replaced by a copy of the source.',
  sourceAddress: 'The source address the standby connects to for streaming replication.',
  allowSourceRestart: 'Streaming replication may need settings (wal_level, max_wal_senders) that take effect only after a restart. On: Tandem restarts PostgreSQL on the source when needed. Off: enabling stops and says what to restart.',
  hooks:
    'Optional scripts run at these points of a failover, failback or restore, on the server that is taking over (before/after failover: the target; before/after failback and restore: the source). A non-zero exit before the point of no return stops the operation and undoes what it did; after it, the operation finishes and reports a warning. Output is kept with the step.',
  failoverMode: 'Graceful (default): stop the source’s services if its agent answers and wait until everything queued has reached the target, then cut over; nothing is lost. Immediate: cut over at once; what was still queued is lost (the operation records how much).',
  drainTimeout: 'Graceful only: how long to wait for the replication queue to empty.',
  onDrainTimeout: 'Graceful only: when the queue has not emptied in time, abort the failover (nothing changed) or proceed and accept the lag as lost.',
  serviceTimeout: 'How long each service may take to start on the target (or stop on the source).',
  identityAddresses: 'Addresses the target takes over from the source at failover (with their prefix length). The target must have an interface in each address’s subnet.',
  identityForce: 'Move an address even when the target has no interface in its subnet. It will be added, but may not be reachable.',
  dnsProvider: 'Dynamic update (RFC 2136): BIND and most DNS servers, signed with a TSIG key. Windows DNS: Active Directory-integrated zones that accept only secure updates, changed by a Windows agent.',
  dnsExecutor: 'The agent that talks to the DNS servers. The target’s agent by default; any agent of this customer that can reach the DNS servers will do.',
  dnsRecords: 'The records that move at failover. Tandem lists what the zone holds for the source (its names, CNAMEs pointing at them, MX records naming it, and the PTR records of its addresses); tick the ones to move.',
  lowerTtlOnEnable: 'Lower the TTL of the records that move when protection is enabled, so clients’ caches expire quickly at a failover. Failback restores records exactly as they were before the failover.',
} as const;
