// From what the control plane holds and what the agents answered to the catalogue's facts
// snapshot (catalogue §1.7). Pure apart from the clock passed in: the runner does the I/O.
import {
  stableDigest,
  targetPathOf,
  type ClusterSideFacts,
  type DnsDryRun,
  type FactsSnapshot,
  type NodeFacts,
  type PairFacts,
  type PairSettings,
  type ReferenceFacts,
  type ReplicationFacts,
  type ValidationFacts,
  type ValidationFactsArgs,
  type VaultEntry,
} from '@tandem/engine';
import { factsSchema, type Facts } from '@tandem/protocol';

/** The catalogue app names whose collectors `validate.facts` runs (postgres has its own field). */
const appCollector: Partial<Record<PairSettings['application'], ValidationFactsArgs['apps'][number]>> = {
  file_server: 'fileserver',
  generic_service: 'generic',
  mariadb: 'mariadb',
  sql_server: 'sqlserver',
  exchange: 'exchange',
  sharepoint: 'sharepoint',
};

/** What one side's agent is asked to look at (`validate.facts`). */
export function validateArgsFor(s: PairSettings, side: 'source' | 'target'): ValidationFactsArgs {
  const roots = s.replicationSet?.roots ?? [];
  const db = s.connection.database;
  const mapped = roots.map((r) => targetPathOf(s.connection.targetRoot, r));
  const paths = side === 'source' ? [...roots, ...(db ? [db.sourceDataDir] : [])] : [...mapped, ...(s.connection.targetRoot !== '/' && roots.length ? [s.connection.targetRoot] : []), ...(db ? [db.targetDataDir] : [])];
  const app = appCollector[s.application];
  return {
    paths: [...new Set(paths)],
    ports: [
      { port: s.connection.port, protocol: 'tcp' },
      { port: s.failover.monitor.port, protocol: 'udp' },
    ],
    services: [...new Set([...s.failover.services, ...s.failover.extraServices])],
    openFilesUnder: side === 'target' ? [...new Set(mapped)] : [],
    postgres: s.application === 'postgresql' && db ? (side === 'source' ? { port: db.sourcePort, dataDir: db.sourceDataDir } : { port: db.targetPort, dataDir: db.targetDataDir }) : null,
    apps: app ? [app] : [],
  };
}

export interface AgentSeen {
  id: string;
  status: string;
  version: string | null;
  protocolVersion: number | null;
  capabilities: string[];
  lastSeenAt: Date | null;
}

/** One side as the runner found it: the server row, and what its agent answered (or why not). */
export interface NodeInput {
  serverId: string;
  hostname: string;
  agent: AgentSeen | null;
  /** Server.facts after the run's facts.collect (or as stored when that failed). */
  storedFacts: unknown;
  /** The `validate.facts` answer, or why there is none. */
  validation: { ok: true; facts: ValidationFacts } | { ok: false; error: string };
  /** The agent answered this run's requests within the deadline. */
  answered: boolean;
}

function parsedFacts(raw: unknown): Facts | null {
  const parsed = factsSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

const majorOf = (version: string) => /^(\d+)/.exec(version)?.[1] ?? null;

/** S./T. facts of one node; null when its agent could not be asked at all. */
export function nodeFacts(input: NodeInput, s: PairSettings): NodeFacts | null {
  if (!input.agent || !input.answered) return null;
  const stored = parsedFacts(input.storedFacts);
  const failures: Record<string, string> = {};
  const v = input.validation.ok ? input.validation.facts : null;
  const validationError = input.validation.ok ? null : input.validation.error;

  /** A validate.facts collector's data, or undefined with the reason recorded. */
  const pick = <T>(collector: string, c: { status: 'ok'; data: T } | { status: 'unknown'; reason: string } | undefined): T | undefined => {
    if (!c) {
      failures[collector] = validationError ?? 'not collected';
      return undefined;
    }
    if (c.status === 'ok') return c.data;
    failures[collector] = c.reason;
    return undefined;
  };

  const host = stored?.host.status === 'ok' ? stored.host.data : null;
  if (!host) failures.host = stored ? (stored.host.status === 'unknown' ? stored.host.reason : 'not reported') : 'the agent has reported no facts';
  const network = stored?.network.status === 'ok' ? stored.network.data : null;

  const node: NodeFacts = {
    serverId: input.serverId,
    hostname: input.hostname,
    failures,
    agent: {
      enrolled: true,
      online: input.agent.status === 'online',
      lastHeartbeatAt: input.agent.lastSeenAt ? input.agent.lastSeenAt.getTime() : null,
      answered: input.answered,
      version: input.agent.version ?? stored?.agent.version ?? null,
      protocolVersion: input.agent.protocolVersion ?? stored?.agent.protocolVersion ?? null,
      capabilities: input.agent.capabilities,
      clockOffsetMs: host?.clockOffsetMs ?? null,
      certNotAfter: null,
      // Both agents use the pair's data port (the target listens on it).
      dataPort: s.connection.port,
    },
    apps: {},
  };
  if (host) {
    node.os = {
      family: host.osFamily,
      name: host.osName,
      version: host.osVersion,
      major: majorOf(host.osVersion),
      kernel: host.kernel,
      arch: null,
      domainController: host.osFamily === 'linux' ? false : null,
      libc: null,
    };
    node.hw = { cpuCount: host.cpuCount, memoryBytes: host.memoryBytes };
  }

  node.account = pick('account', v?.account);
  node.modules = pick('modules', v?.modules);
  node.time = pick('time', v?.time);
  node.firewall = pick('firewall', v?.firewall);
  node.hooks = pick('hooks', v?.hooks);
  node.paths = pick('paths', v?.paths);
  node.hostsFile = pick('hostsFile', v?.hostsFile);
  node.listening = pick('listening', v?.listening);
  node.openFiles = pick('openFiles', v?.openFiles);
  node.cloud = pick('cloud', v?.cloud);

  // Volumes, services and interfaces fall back on the standing facts when validate.facts lacks them.
  const volumes = pick('volumes', v?.volumes);
  if (volumes) node.volumes = volumes;
  else if (stored?.volumes.status === 'ok') {
    delete failures.volumes;
    node.volumes = stored.volumes.data.map((x) => ({ mountPoint: x.mountPoint, fileSystem: x.fileSystem, sizeBytes: x.sizeBytes, freeBytes: x.freeBytes, system: x.mountPoint === '/' || /^[A-Za-z]:$/.test(x.mountPoint), features: [] }));
  }
  const services = pick('services', v?.services);
  if (services) node.services = services;
  else if (stored?.services.status === 'ok') {
    delete failures.services;
    node.services = stored.services.data.services.map((x) => ({ name: x.name, state: x.state, startMode: x.startMode, account: null, definitionDigest: null, definition: null, dependencies: [] }));
  } else if (stored?.services.status === 'unknown') failures.services = stored.services.reason;
  const interfaces = pick('interfaces', v?.interfaces);
  if (interfaces) node.interfaces = interfaces;
  else if (network) {
    delete failures.interfaces;
    node.interfaces = network.interfaces.map((i) => ({ name: i.name, addresses: i.addresses, registersInDns: null }));
  }
  if (network) node.resolvers = network.dnsResolvers;

  if (s.application === 'postgresql') {
    const pg = pick('postgres', v?.postgres);
    if (pg !== undefined) node.apps.postgres = pg;
    // The collector read pg_settings, roles and slots as the module's identity: it signed in with the rights it needs.
    if (pg) node.appAccess = { app: 'postgres', ok: true, error: null, missingRoles: [] };
  }
  const app = appCollector[s.application];
  if (app) {
    // The agent answers each app as a section ({status:'ok', data} or {status:'unknown', reason}); the checks read the data.
    const section = v?.apps[app] as { status?: unknown; data?: unknown; reason?: unknown } | undefined;
    if (section?.status === 'ok') node.apps[app] = section.data;
    else if (section?.status === 'unknown') failures[app] = typeof section.reason === 'string' ? section.reason : 'unknown';
    else failures[app] = validationError ?? `the agent did not report ${app} facts`;
  }
  return node;
}

/** C.*: one side's cluster from its standing facts (undefined: not known; null: not clustered). */
export function clusterSide(raw: unknown): ClusterSideFacts | null | undefined {
  const facts = parsedFacts(raw);
  if (!facts || facts.cluster.status !== 'ok') return undefined;
  const c = facts.cluster.data;
  if (!c) return null;
  return {
    kind: c.stack === 'pacemaker' ? 'pacemaker' : 'wsfc',
    name: c.name,
    nodes: c.nodes.map((n) => ({ name: n.name, online: n.online, agentVersion: null, hooksDir: null, enrolled: false, authorized: false, os: null, domainController: null })),
    roles: c.groups.map((g) => ({ name: g.id, owner: g.node, address: null, resources: g.resources })),
    resources: c.resources.map((r) => ({ id: r.id, type: r.type, state: r.role, node: r.node, autoStart: r.targetRole === null ? null : r.targetRole !== 'Stopped', properties: {} })),
    fencing: c.fencing ? { enabled: c.fencing.enabled, devices: c.fencing.devices } : { enabled: null, devices: 0 },
    quorum: { quorate: c.quorate, votes: null, witness: null },
    failoverSeconds: null,
    ownerAtFailover: null,
  };
}

/** What the runner read about the pair's replication and history. */
export interface ReplicationInput {
  status: PairFacts['state'];
  restoreRequired: boolean;
  monitoringStatus: string;
  /** Other pairs touching either server (and this one), as connections. */
  pairs: { id: string; sourceServerId: string; targetServerId: string; status: string; monitoringStatus: string; roots: string[]; method: ReplicationFacts['connections'][number]['method'] }[];
  /** Lag samples of the last hour, newest first. */
  lagSamples: { at: Date; lagSeconds: number | null; mirrorBytesLeft: bigint }[];
  tests: { finishedAt: Date; ok: boolean }[];
  awaitingFailover: boolean;
  monitor: { targetState: string } | null;
}

const replicating = new Set(['mirroring', 'protected', 'failover_pending']);

export function replicationFacts(r: ReplicationInput, s: PairSettings): ReplicationFacts {
  const enabled = replicating.has(r.status);
  const lags = r.lagSamples.map((x) => x.lagSeconds).filter((x): x is number => x !== null);
  const sorted = [...lags].sort((a, b) => a - b);
  const p95 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]! : null;
  const { testing: _testing, ...config } = s;
  return {
    connections: r.pairs.filter((p) => replicating.has(p.status) || p.status === 'failing_over').map((p) => ({ id: p.id, pairId: p.id, sourceServerId: p.sourceServerId, targetServerId: p.targetServerId, paths: p.roots, method: p.method, active: true })),
    monitors: r.pairs.filter((p) => p.monitoringStatus !== 'off').map((p) => ({ id: p.id, pairId: p.id, sourceServerId: p.sourceServerId, targetServerId: p.targetServerId, active: true })),
    mirror: !enabled ? { state: 'none', percent: null, error: null } : r.status === 'mirroring' ? { state: 'running', percent: null, error: null } : { state: 'complete', percent: 100, error: null },
    lag: enabled ? { nowSeconds: r.lagSamples[0]?.lagSeconds ?? null, p95Seconds: p95 } : { nowSeconds: null, p95Seconds: null },
    changeRateBytesPerDay: null,
    checksumOption: s.connection.mirror === 'checksum' ? 'block-checksum' : 'size-time',
    restoreRequired: r.restoreRequired,
    pendingFailover: r.status === 'failover_pending' || r.awaitingFailover,
    recoveryPoints: null,
    drills: r.tests.map((t) => ({ at: t.finishedAt.getTime(), ok: t.ok, configDigest: null })),
    runbookP95Seconds: null,
    channelProbe: null,
    // ICMP is not probed (null); without a monitor yet (before the first enable) the heartbeat is not known either.
    monitorProbe: r.monitor ? { icmpOk: null, agentOk: r.monitor.targetState === 'ok' ? true : r.monitor.targetState === 'lost' ? false : null } : { icmpOk: null, agentOk: null },
    configDigest: stableDigest(config),
  };
}

export interface CredentialRow {
  id: string;
  kind: string;
  lastVerifiedAt: Date | null;
}

/** V.entries: metadata of the credentials the pair uses (never their secrets). */
export function vaultOf(pair: PairFacts, credentials: CredentialRow[], dns: DnsDryRun | null | undefined, now: number): VaultEntry[] {
  return pair.credentials.flatMap((c) => {
    const row = credentials.find((x) => x.id === c.credentialId);
    if (!row) return [];
    // The DNS dry run's signed probe is this run's test of the DNS credential.
    const tested = c.purpose === 'dns' && dns && dns.auth.ok !== null ? { at: now, ok: dns.auth.ok, error: dns.auth.error } : null;
    const lastTest = tested ?? (row.lastVerifiedAt ? { at: row.lastVerifiedAt.getTime(), ok: true, error: null } : null);
    return [{ id: row.id, purpose: c.purpose, kind: row.kind, expiresAt: null, lastTest, rights: [] }];
  });
}

export interface SnapshotInput {
  now: number;
  pair: PairFacts;
  settings: PairSettings;
  source: NodeInput;
  target: NodeInput;
  replication: ReplicationInput;
  /** undefined: no DNS failover; null: the executor could not run it. */
  dns: DnsDryRun | null | undefined;
  credentials: CredentialRow[];
  reference: ReferenceFacts;
  gatherers: FactsSnapshot['gatherers'];
}

export function buildSnapshot(i: SnapshotInput): FactsSnapshot {
  const srcCluster = clusterSide(i.source.storedFacts);
  const tgtCluster = clusterSide(i.target.storedFacts);
  return {
    now: i.now,
    pair: i.pair,
    source: nodeFacts(i.source, i.settings),
    target: nodeFacts(i.target, i.settings),
    replication: replicationFacts(i.replication, i.settings),
    ...(i.dns !== undefined ? { dns: i.dns } : {}),
    ...(srcCluster !== undefined && tgtCluster !== undefined ? { cluster: { source: srcCluster, target: tgtCluster } } : {}),
    vault: vaultOf(i.pair, i.credentials, i.dns, i.now),
    reference: i.reference,
    gatherers: i.gatherers,
  };
}
