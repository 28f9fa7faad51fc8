import { z } from 'zod';
import type { PairStatus } from '../pair/status.ts';
import type { Application, ReplicationMethod } from '../pair/settings.ts';
import type { ReplicationRule } from '../pair/replication-set.ts';
import type { AppliesTo, CatalogueMethod } from './model.ts';
import type {
  agentAccountSchema,
  agentModuleSchema,
  firewallFactsSchema,
  hooksFactsSchema,
  interfaceFactSchema,
  listeningSocketSchema,
  openFileSchema,
  pathFactSchema,
  PostgresFacts,
  serviceFactSchema,
  timeFactsSchema,
  volumeFactSchema,
} from './node-facts.ts';

// One validation run's immutable facts snapshot (catalogue §1.7). The worker builds it (stored
// facts, fresh agent answers, the DNS dry run, the pair's configuration and history); checks read
// it and nothing else. Convention everywhere: `undefined` = not collected (→ unknown), `null` =
// collected and absent.

type Z<T extends z.ZodType> = z.infer<T>;

/** S. / T. / N.: one node. */
export interface NodeFacts {
  serverId: string;
  hostname: string;
  /** Collector → why it failed (e.g. services: "systemd D-Bus unavailable"); shown for unknown checks. */
  failures: Record<string, string>;
  agent?: {
    enrolled: boolean;
    online: boolean;
    /** ms since epoch; null: never. */
    lastHeartbeatAt: number | null;
    /** Answered the facts request of this run within its deadline. */
    answered: boolean;
    version: string | null;
    protocolVersion: number | null;
    capabilities: string[];
    /** Agent clock minus control-plane clock (null: not measured). */
    clockOffsetMs: number | null;
    /** Client certificate expiry (ms since epoch); null: the agent uses no certificate. */
    certNotAfter: number | null;
    dataPort: number | null;
  };
  os?: { family: 'linux' | 'windows'; name: string; version: string; major: string | null; kernel: string; arch: string | null; domainController: boolean | null; libc: string | null };
  hw?: { cpuCount: number; memoryBytes: number };
  account?: Z<typeof agentAccountSchema>;
  modules?: Z<typeof agentModuleSchema>[];
  time?: Z<typeof timeFactsSchema>;
  firewall?: Z<typeof firewallFactsSchema>;
  hooks?: Z<typeof hooksFactsSchema>;
  paths?: Z<typeof pathFactSchema>[];
  volumes?: Z<typeof volumeFactSchema>[];
  services?: Z<typeof serviceFactSchema>[];
  interfaces?: Z<typeof interfaceFactSchema>[];
  resolvers?: string[];
  hostsFile?: { address: string; names: string[] }[];
  listening?: Z<typeof listeningSocketSchema>[];
  openFiles?: Z<typeof openFileSchema>[];
  cloud?: { platform: string; network: 'vpc' | 'overlay' | 'flat' | null } | null;
  /** N.agent.appAccess: the app module's sign-in as the agent's identity (null: no app module on this node). */
  appAccess?: { app: string; ok: boolean; error: string | null; missingRoles: string[] } | null;
  /** Application facts by catalogue name; each app's schema lives beside its checks. */
  apps: {
    postgres?: PostgresFacts | null;
    mariadb?: unknown;
    fileserver?: unknown;
    sqlserver?: unknown;
    exchange?: unknown;
    sharepoint?: unknown;
    generic?: unknown;
  };
}

/** P.*: the pair's configuration in catalogue terms (built from the stored settings). */
export interface PairFacts {
  id: string;
  name: string;
  app: Exclude<AppliesTo, 'any'>;
  /** The code's own names, for messages and plans. */
  application: Application;
  method: CatalogueMethod;
  replicationMethod: ReplicationMethod;
  state: PairStatus;
  /** Protection is on (mirroring, protected, failover pending): target-side fixes are refused. */
  protected: boolean;
  failedOver: boolean;
  /** File pairs: roots and rules; null for database methods. */
  rules: { roots: string[]; rules: ReplicationRule[] } | null;
  /** Source path prefix → target path prefix (the target root); empty: same paths. */
  pathMap: { from: string; to: string }[];
  selection: { databases: string[] | null };
  options: { createReplicationSet: boolean; createHooks: boolean; createConnection: boolean; createMonitor: boolean };
  failover: { enabled: boolean; mode: 'dns' | 'identity' | 'none'; approvalRequired: boolean };
  monitor: { method: 'icmp' | 'agent-heartbeat'; intervalSeconds: number; missed: number; trigger: 'all' | 'any'; addresses: string[]; port: number };
  ipMap: { source: string; target: string | null }[];
  route: { mode: 'direct' | 'relay'; address: string; port: number };
  /** Services in start order; mustStopOnTarget: kept stopped on the target while protected. */
  services: { name: string; mustStopOnTarget: boolean }[];
  resources: string[];
  identity: { addresses: { address: string; prefix: number; targetInterface: string | null }[]; takeName: boolean; hostSpn: boolean };
  dns: { provider: 'rfc2136' | 'windows'; zone: string; servers: string[]; executorServerId: string | null; ttlTarget: number; credentialId: string | null; sourceName: string | null; records: { type: string; name: string }[] };
  /** PostgreSQL streaming pairs: the instance on each side. */
  database: { sourceDataDir: string; sourcePort: number; targetDataDir: string; targetPort: number; sourceAddress: string } | null;
  /** Fencing methods configured: dns (record fencing), power, network, cluster. */
  fencing: string[];
  rpoSeconds: number | null;
  rtoSeconds: number | null;
  snapshots: { intervalMinutes: number } | null;
  drill: { mode: 'in-place' | 'clone'; maxHours: number };
  overlays: { name: string; content: string }[];
  /** Digest of the hook bundle the control plane generates for this pair (hooks.drift); undefined: not computed. */
  hookBundleDigest?: string | null;
  /** Credentials the runbooks need (purpose → stored credential id or null when missing). */
  credentials: { purpose: 'dns' | 'directory' | 'cluster' | 'network' | 'app' | 'farm'; credentialId: string | null }[];
  lastChangeAt: number;
  savedAddresses: string[];
}

/** R.*: replication and operations state. */
export interface ReplicationFacts {
  /** Every connection touching either node, Tandem's own and foreign ones. */
  connections: { id: string; pairId: string | null; sourceServerId: string; targetServerId: string; paths: string[]; method: CatalogueMethod | null; active: boolean }[];
  monitors: { id: string; pairId: string | null; sourceServerId: string; targetServerId: string; active: boolean }[];
  mirror: { state: 'none' | 'running' | 'complete' | 'error'; percent: number | null; error: string | null } | null;
  lag: { nowSeconds: number | null; p95Seconds: number | null } | null;
  /** Bytes changed per day on the source (null: not measured). */
  changeRateBytesPerDay: number | null;
  checksumOption: 'block-checksum' | 'size-time' | null;
  restoreRequired: boolean;
  pendingFailover: boolean;
  recoveryPoints: { at: number }[] | null;
  drills: { at: number; ok: boolean; configDigest: string | null }[];
  runbookP95Seconds: number | null;
  channelProbe: { ok: boolean; error: string | null } | null;
  monitorProbe: { icmpOk: boolean | null; agentOk: boolean | null } | null;
  /** Digest of the configuration at the last successful drill vs now (readiness.changed-since-test). */
  configDigest: string;
}

/** D.*: the DNS executor's dry run (agent action `dns.dry-run`). */
export const dnsDryRunSchema = z.strictObject({
  provider: z.strictObject({ kind: z.enum(['rfc2136', 'windows', 'cloud']), endpoint: z.string().max(512) }),
  attempts: z.array(z.strictObject({ server: z.string().max(512), role: z.enum(['primary', 'secondary']), answered: z.boolean(), ms: z.number().nonnegative(), error: z.string().max(2000).nullable() })).max(32),
  timedOut: z.boolean(),
  /** The signed probe update: accepted, refused (with the server's answer), or not tried. */
  auth: z.strictObject({ ok: z.boolean().nullable(), error: z.string().max(2000).nullable() }),
  zone: z
    .strictObject({
      name: z.string().max(253),
      authoritative: z.boolean(),
      primary: z.string().max(253).nullable(),
      /** secure: signed updates only; open: unsigned updates accepted; none: no dynamic updates. */
      dynamicUpdate: z.enum(['secure', 'open', 'none']).nullable(),
    })
    .nullable(),
  /** The records of the source name (A/AAAA) and the others the failover changes. */
  records: z.array(z.strictObject({ type: z.string().max(16), name: z.string().max(253), value: z.string().max(1024), ttl: z.number().int().nonnegative() })).max(1000),
  /** Records elsewhere that point at the source (CNAME, MX, SRV). */
  referrers: z.array(z.strictObject({ type: z.string().max(16), name: z.string().max(253), zone: z.string().max(253), managed: z.boolean() })).max(1000),
  /** Reverse zones covering the source and target addresses (updatable: the provider can change them). */
  reverseZones: z.array(z.strictObject({ address: z.string().max(64), zone: z.string().max(253).nullable(), updatable: z.boolean() })).max(64),
  fenceEntries: z.array(z.strictObject({ record: z.string().max(253), principal: z.string().max(512) })).max(64),
  resolverView: z.array(z.strictObject({ resolver: z.string().max(64), answers: z.array(z.string().max(1024)).max(64), matchesServer: z.boolean() })).max(32),
  planOk: z.boolean(),
  planReason: z.string().max(2000).nullable(),
});
export type DnsDryRun = z.infer<typeof dnsDryRunSchema>;

/** A.*: the directory probe (Windows executor; recorded outputs in tests). */
export interface DirectoryFacts {
  reachable: boolean;
  error: string | null;
  domain: string | null;
  singleLabel: boolean;
  forestRoot: string | null;
  gcByDomain: Record<string, boolean>;
  /** principal × object × right → allowed. */
  rights: { principal: string; object: string; right: string; allowed: boolean }[];
  exchangeOrg: { organization: string; adminGroup: string; servers: { name: string; adminGroup: string; domain: string }[] } | null;
  keytabs: { host: string; principals: string[] }[];
  passwordPolicy: { maxAgeDays: number | null } | null;
}

/** C.*: one side's cluster. */
export interface ClusterSideFacts {
  kind: 'wsfc' | 'pacemaker';
  name: string | null;
  nodes: { name: string; online: boolean; agentVersion: string | null; hooksDir: string | null; enrolled: boolean; authorized: boolean; os: string | null; domainController: boolean | null }[];
  roles: { name: string; owner: string | null; address: string | null; resources: string[] }[];
  resources: { id: string; type: string; state: string | null; node: string | null; autoStart: boolean | null; properties: Record<string, string> }[];
  fencing: { enabled: boolean | null; devices: number };
  quorum: { quorate: boolean | null; votes: number | null; witness: boolean | null };
  /** Seconds the cluster takes to move a role (null: not measured). */
  failoverSeconds: number | null;
  /** While failed over: the role's owner when the failover ran. */
  ownerAtFailover: string | null;
}

/** V.entries: credential vault metadata, never secret values. */
export interface VaultEntry {
  id: string;
  purpose: 'dns' | 'directory' | 'cluster' | 'network' | 'app' | 'farm';
  kind: string;
  expiresAt: number | null;
  lastTest: { at: number; ok: boolean; error: string | null } | null;
  rights: string[];
}

/** X.*: control-plane reference data and tenant policy. */
export interface ReferenceFacts {
  agent: { minVersion: string; channelVersion: string; selfUpdateFloor: string; protocolMajor: number };
  modulesRequired: Record<string, string>;
  policy: {
    ttlMaxSeconds: number;
    clockSkewWarnMs: number;
    clockSkewUnknownMs: number;
    credentialExpiryDays: number;
    spaceErrorRatio: number;
    spaceHeadroomRatio: number;
    spaceFullDays: number;
    capacityMemoryRatio: number;
    testMaxAgeDays: number;
    binlogRetentionDays: number;
    privilegedFixesInFixAll: boolean;
    autoScheduleDrills: boolean;
    siteResolvers: string[];
  };
}

export interface FactsSnapshot {
  /** X.now, ms since epoch. */
  now: number;
  pair: PairFacts;
  /** null: the node could not be asked at all (no agent enrolled or the agent did not answer). */
  source: NodeFacts | null;
  target: NodeFacts | null;
  replication: ReplicationFacts;
  /** undefined: not run (no DNS failover); null: the executor could not run it (see gatherers.dns). */
  dns?: DnsDryRun | null;
  directory?: DirectoryFacts | null;
  /** undefined: not collected; null on a side: that side is not clustered. */
  cluster?: { source: ClusterSideFacts | null; target: ClusterSideFacts | null };
  vault: VaultEntry[];
  reference: ReferenceFacts;
  /** Gatherer → its outcome in this run (source, target, dns, directory, cluster). */
  gatherers: Record<string, { ok: boolean; error: string | null; ms: number }>;
}
