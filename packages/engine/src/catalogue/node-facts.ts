import { z } from 'zod';

// What the catalogue knows about one node (catalogue §1.7, prefixes S. / T. / N.), in the
// catalogue's own terms. The worker builds it from the agent's stored facts plus a fresh
// `validate.facts` answer (whose result schema is `validationFactsSchema` below, shared with the
// agent through @tandem/protocol). Every field is optional: absent means "not collected", which
// makes the checks that read it unknown; null means "collected, and there is none".

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

/** A collector's answer: its data, or why it could not be collected (never both). */
export const collected = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('status', [z.strictObject({ status: z.literal('ok'), data }), z.strictObject({ status: z.literal('unknown'), reason: z.string().max(2000) })]);

export const agentAccountSchema = z.strictObject({
  /** system (Windows LocalSystem), root, service-user (the packaged user), domain, local (a named local user). */
  kind: z.enum(['system', 'root', 'service-user', 'domain', 'local']),
  name: str,
  /** Rights it actually holds: Linux capabilities (CAP_CHOWN…), or Windows privileges (SeBackupPrivilege…). */
  privileges: list(str, 200),
});

export const agentModuleSchema = z.strictObject({
  name: str,
  version: str.nullable(),
  state: z.enum(['loaded', 'disabled', 'failed']),
  error: str.nullable(),
});

export const timeFactsSchema = z.strictObject({
  /** The configured time service; null: none. */
  service: z.enum(['chrony', 'timesyncd', 'ntpd', 'w32time']).nullable(),
  /** The service says the clock is synchronised (null: cannot tell). */
  synchronized: z.boolean().nullable(),
  sources: list(str, 64),
});

export const firewallFactsSchema = z.strictObject({
  /** The host firewall in charge; null: none active. */
  manager: z.enum(['nftables', 'iptables', 'firewalld', 'ufw', 'windows']).nullable(),
  /** Tandem may add rules to it (firewall.allow is possible). */
  agentManaged: z.boolean(),
  /** For each port asked about: whether inbound traffic from anywhere is accepted (null: cannot tell). */
  ports: list(z.strictObject({ port: z.number().int().min(1).max(65_535), protocol: z.enum(['tcp', 'udp']), open: z.boolean().nullable() }), 64),
});

export const hooksFactsSchema = z.strictObject({
  dir: str,
  exists: z.boolean(),
  writable: z.boolean(),
  noexec: z.boolean(),
  /** Interpreter → version, null when absent. */
  interpreters: z.record(z.enum(['bash', 'sh', 'python3', 'pwsh']), str.nullable()),
  /** Digest of the deployed hook files (null: none deployed). */
  bundleDigest: str.nullable(),
  /** Local agent policy allows running hooks. */
  allowed: z.boolean(),
});

export const pathFactSchema = z.strictObject({
  path: str,
  exists: z.boolean(),
  type: z.enum(['dir', 'file', 'other']).nullable(),
  owner: str.nullable(),
  uid: z.number().int().nullable(),
  gid: z.number().int().nullable(),
  /** Permission bits, e.g. 0o700 (null on Windows). */
  mode: z.number().int().nullable(),
  /** Bytes used under the path (files counted once; null when not measured). */
  usedBytes: z.number().nonnegative().nullable(),
  /** The volume holding the path (its mount point), or the nearest existing parent's when absent. */
  volume: str.nullable(),
});

export const volumeFactSchema = z.strictObject({
  mountPoint: str,
  fileSystem: str.nullable(),
  sizeBytes: z.number().nonnegative(),
  freeBytes: z.number().nonnegative(),
  system: z.boolean(),
  /** Mount options/features: acl, user_xattr, noexec, snapshots (lvm-thin, zfs, btrfs, vss)… */
  features: list(str, 64),
  /** Snapshot reserve in bytes (Windows VSS shadow storage maximum); null or absent: none. */
  snapshotReserveBytes: z.number().nonnegative().nullable().optional(),
});

export const serviceFactSchema = z.strictObject({
  name: str,
  state: z.enum(['running', 'stopped', 'starting', 'stopping', 'failed', 'unknown', 'not-found']),
  startMode: z.enum(['auto', 'manual', 'disabled', 'unknown']),
  /** Run-as account, when known. */
  account: str.nullable(),
  /** Digest of the unit file plus drop-ins (or the Windows service definition); null when not read. */
  definitionDigest: str.nullable(),
  /** Parsed definition: ExecStart, User, Environment, WorkingDirectory…; null when not read. */
  definition: z.record(z.string().max(128), str).nullable(),
  dependencies: list(str, 200),
});

export const interfaceFactSchema = z.strictObject({
  name: str,
  addresses: list(z.strictObject({ address: str, prefix: z.number().int().min(0).max(128), family: z.enum(['ipv4', 'ipv6']) }), 256),
  /** Registers its addresses in DNS (Windows, or a dynamic-DNS client); null: cannot tell. */
  registersInDns: z.boolean().nullable(),
});

export const listeningSocketSchema = z.strictObject({ protocol: z.enum(['tcp', 'udp']), address: str, port: z.number().int(), process: str.nullable() });
export const openFileSchema = z.strictObject({ path: str, pid: z.number().int(), process: str });

/** PostgreSQL instance facts (app.postgres): what the parity checks compare. */
export const postgresFactsSchema = z.strictObject({
  port: z.number().int(),
  running: z.boolean(),
  /** server_version_num, e.g. 160004; null when the server is down. */
  versionNum: z.number().int().nullable(),
  version: str.nullable(),
  dataDir: str,
  walDir: str.nullable(),
  tablespaces: list(z.strictObject({ name: str, location: str }), 1000),
  /** pg_controldata fields (name → value). */
  controlData: z.record(z.string().max(128), str),
  systemId: str.nullable(),
  timeline: z.number().int().nullable(),
  inRecovery: z.boolean().nullable(),
  primaryConninfo: str.nullable(),
  osUser: z.strictObject({ name: str, uid: z.number().int(), gid: z.number().int() }).nullable(),
  /** pg_settings. */
  settings: list(z.strictObject({ name: str, setting: str, unit: str.nullable(), source: str, context: str, sourcefile: str.nullable() }), 2000),
  hba: list(z.strictObject({ type: str, database: list(str, 100), user: list(str, 100), address: str.nullable(), method: str }), 2000),
  roles: list(z.strictObject({ name: str, superuser: z.boolean(), replication: z.boolean(), canLogin: z.boolean(), createRole: z.boolean(), memberOf: list(str, 200) })),
  /** Installed per database. */
  extensions: list(z.strictObject({ database: str, name: str, version: str })),
  /** Available on disk (control files). */
  availableExtensions: list(z.strictObject({ name: str, defaultVersion: str.nullable() })),
  slots: list(z.strictObject({ name: str, type: z.enum(['physical', 'logical']), active: z.boolean(), walStatus: str.nullable() }), 1000),
  replication: list(z.strictObject({ applicationName: str, clientAddress: str.nullable(), state: str }), 1000),
  /** An HA manager running it (patroni, repmgr, pg_auto_failover, pacemaker); null: none found. */
  managedBy: str.nullable(),
  icuVersion: str.nullable(),
  libcVersion: str.nullable(),
});
export type PostgresFacts = z.infer<typeof postgresFactsSchema>;

/** What the agent's `validate.facts` action collects beyond its standing facts. */
export const validationFactsSchema = z.strictObject({
  collectedAt: z.iso.datetime(),
  account: collected(agentAccountSchema),
  modules: collected(list(agentModuleSchema, 100)),
  time: collected(timeFactsSchema),
  firewall: collected(firewallFactsSchema),
  hooks: collected(hooksFactsSchema),
  paths: collected(list(pathFactSchema, 1000)),
  volumes: collected(list(volumeFactSchema, 1024)),
  services: collected(list(serviceFactSchema, 5000)),
  interfaces: collected(list(interfaceFactSchema, 512)),
  hostsFile: collected(list(z.strictObject({ address: str, names: list(str, 64) }), 1000)),
  listening: collected(list(listeningSocketSchema, 5000)),
  openFiles: collected(list(openFileSchema, 5000)),
  /** Cloud or hypervisor platform from instance metadata; null: none detected. */
  cloud: collected(z.strictObject({ platform: str, network: z.enum(['vpc', 'overlay', 'flat']).nullable() }).nullable()),
  /** The PostgreSQL instance asked about; null when none was asked for. */
  postgres: collected(postgresFactsSchema.nullable()),
  /** Other application facts by catalogue app name (mariadb, fileserver, sqlserver, exchange, sharepoint, generic); their schemas live with their checks. */
  apps: z.record(z.string().max(64), z.unknown()),
});
export type ValidationFacts = z.infer<typeof validationFactsSchema>;

/** What the worker asks the agent to look at. */
export const validationFactsArgsSchema = z.strictObject({
  paths: list(str, 1000),
  /** Ports whose firewall openness matters (data port tcp, monitor port udp). */
  ports: list(z.strictObject({ port: z.number().int().min(1).max(65_535), protocol: z.enum(['tcp', 'udp']) }), 64),
  /** Services to describe in depth (account, definition); the inventory covers the rest. */
  services: list(str, 200),
  /** Paths under which to look for processes holding files open for writing. */
  openFilesUnder: list(str, 64),
  postgres: z.strictObject({ port: z.number().int(), dataDir: str }).nullable(),
  /** Application collectors to run (catalogue app names). */
  apps: list(z.enum(['mariadb', 'fileserver', 'sqlserver', 'exchange', 'sharepoint', 'generic']), 8),
});
export type ValidationFactsArgs = z.infer<typeof validationFactsArgsSchema>;
