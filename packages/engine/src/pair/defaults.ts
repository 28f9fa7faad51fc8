import { DEFAULT_DATA_PORT, DEFAULT_MONITOR_PORT, applicationLabels, type Application, type PairSettings } from './settings.ts';

// What the wizard knows about a server, reduced from its agent's facts by the caller (the engine
// sees plain data, never the database or the protocol package).

export type DiscoveredApplication =
  | { kind: 'file_server'; shares: { protocol: 'smb' | 'nfs'; name: string; path: string }[] }
  | { kind: 'postgresql'; version: string | null; dataDirectory: string; port?: number | null; running?: boolean }
  | { kind: 'mariadb'; flavor: 'mariadb' | 'mysql'; version: string | null; dataDirectory: string }
  | { kind: 'sql_server'; instance: string; version: string | null }
  | { kind: 'exchange'; version: string | null; databases: { name: string; edbPath: string | null; logPath: string | null }[] };

export interface ServerView {
  id: string;
  hostname: string;
  osFamily: 'linux' | 'windows';
  addresses: string[];
  agentStatus: 'pending' | 'online' | 'offline' | 'revoked' | null;
  /** null: the agent has not reported applications (no facts, or the collector failed). */
  applications: DiscoveredApplication[] | null;
  /** Cluster resources when the server is a cluster member, else null. */
  clusterResources: string[] | null;
  /** The fully qualified name the server reports (its domain is the likely DNS zone). */
  fqdn?: string | null;
  /** The DNS servers the server itself uses (likely the ones to update at failover). */
  dnsResolvers?: string[];
}

export interface ApplicationChoice {
  application: Application;
  label: string;
  available: boolean;
  /** Why it is not available, or what was found. */
  detail: string;
}

/** The applications a source offers, each with why it can or cannot be chosen. */
export function applicationChoices(source: ServerView): ApplicationChoice[] {
  const apps = source.applications ?? [];
  const found = <K extends DiscoveredApplication['kind']>(kind: K) => apps.filter((a): a is Extract<DiscoveredApplication, { kind: K }> => a.kind === kind);
  const unknown = source.applications === null ? 'The agent has not reported applications yet' : null;
  const choice = (application: Application, available: boolean, detail: string): ApplicationChoice => ({ application, label: applicationLabels[application], available, detail });

  const shares = found('file_server').flatMap((f) => f.shares);
  const pg = found('postgresql')[0];
  const maria = found('mariadb')[0];
  const sql = found('sql_server')[0];
  const exchange = found('exchange')[0];
  return [
    choice('file_server', shares.length > 0, shares.length ? `${shares.length} share${shares.length === 1 ? '' : 's'}: ${shares.map((s) => s.name).join(', ')}` : (unknown ?? 'No SMB or NFS shares found')),
    choice('generic_service', true, 'Any service plus the directories you name'),
    choice('postgresql', !!pg, pg ? `PostgreSQL ${pg.version ?? '(version unknown)'} in ${pg.dataDirectory}` : (unknown ?? 'PostgreSQL not found')),
    choice('mariadb', !!maria, maria ? `${maria.flavor === 'mysql' ? 'MySQL' : 'MariaDB'} ${maria.version ?? ''} in ${maria.dataDirectory}`.trim() : (unknown ?? 'MariaDB / MySQL not found')),
    choice('sql_server', !!sql, sql ? `Instance ${sql.instance}` : (unknown ?? 'SQL Server not found')),
    choice('exchange', !!exchange, exchange ? `Exchange ${exchange.version ?? ''}, ${exchange.databases.length} database(s)`.trim() : (unknown ?? 'Exchange not found')),
    choice('sharepoint', false, 'SharePoint is not detected by the agent yet'),
  ];
}

const majorOf = (v: string | null | undefined) => (v ? (/^(\d+)/.exec(v)?.[1] ?? null) : null);

/** Whether `candidate` can be the target of `source` for `application`; the reason when not. */
export function targetCompatibility(source: ServerView, candidate: ServerView, application: Application): { ok: true } | { ok: false; reason: string } {
  if (candidate.id === source.id) return { ok: false, reason: 'This is the source server' };
  if (candidate.agentStatus === null || candidate.agentStatus === 'pending') return { ok: false, reason: 'No agent enrolled' };
  if (candidate.agentStatus === 'revoked') return { ok: false, reason: 'Its agent was revoked' };
  if (candidate.osFamily !== source.osFamily) {
    return { ok: false, reason: `Runs ${candidate.osFamily === 'linux' ? 'Linux' : 'Windows'}; the source runs ${source.osFamily === 'linux' ? 'Linux' : 'Windows'}` };
  }
  const apps = candidate.applications;
  const needs = (kind: DiscoveredApplication['kind'], label: string) => {
    if (apps === null) return { ok: false as const, reason: 'Its agent has not reported applications yet' };
    if (!apps.some((a) => a.kind === kind)) return { ok: false as const, reason: `${label} is not installed` };
    return null;
  };
  if (application === 'postgresql') {
    const missing = needs('postgresql', 'PostgreSQL');
    if (missing) return missing;
    const s = majorOf(source.applications?.find((a) => a.kind === 'postgresql')?.version);
    const t = majorOf(apps?.find((a) => a.kind === 'postgresql')?.version);
    if (s && t && s !== t) return { ok: false, reason: `PostgreSQL ${t} here, ${s} on the source: a standby needs the same major version` };
  }
  if (application === 'mariadb') {
    const missing = needs('mariadb', 'MariaDB / MySQL');
    if (missing) return missing;
  }
  if (application === 'sql_server') {
    const missing = needs('sql_server', 'SQL Server');
    if (missing) return missing;
  }
  if (application === 'exchange') {
    const missing = needs('exchange', 'Exchange');
    if (missing) return missing;
  }
  return { ok: true };
}

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';
const isLinkLocal = (a: string) => a.toLowerCase().startsWith('fe80:') || a.startsWith('169.254.');

/** Addresses worth offering: routable ones first (IPv4 before IPv6); loopback only when nothing else exists. */
export function usableAddresses(addresses: string[]): string[] {
  const routable = addresses.filter((a) => !isLoopback(a) && !isLinkLocal(a));
  const ordered = [...routable.filter((a) => !a.includes(':')), ...routable.filter((a) => a.includes(':'))];
  return ordered.length ? ordered : addresses.filter(isLoopback);
}

/** The application's usual services, in start order. */
export function standardServices(application: Application, source: ServerView): string[] {
  const windows = source.osFamily === 'windows';
  const apps = source.applications ?? [];
  switch (application) {
    case 'file_server': {
      if (windows) return ['LanmanServer'];
      const protocols = new Set(apps.flatMap((a) => (a.kind === 'file_server' ? a.shares.map((s) => s.protocol) : [])));
      return [...(protocols.has('smb') || protocols.size === 0 ? ['smbd'] : []), ...(protocols.has('nfs') ? ['nfs-server'] : [])];
    }
    case 'postgresql': {
      const pg = apps.find((a) => a.kind === 'postgresql');
      return windows ? [`postgresql-x64-${majorOf(pg?.kind === 'postgresql' ? pg.version : null) ?? '16'}`] : ['postgresql'];
    }
    case 'mariadb': {
      const m = apps.find((a) => a.kind === 'mariadb');
      return [m?.kind === 'mariadb' && m.flavor === 'mysql' ? 'mysql' : 'mariadb'];
    }
    case 'sql_server': {
      const s = apps.find((a) => a.kind === 'sql_server');
      const instance = s?.kind === 'sql_server' ? s.instance : 'MSSQLSERVER';
      return instance === 'MSSQLSERVER' ? ['MSSQLSERVER', 'SQLSERVERAGENT'] : [`MSSQL$${instance}`, `SQLAgent$${instance}`];
    }
    case 'exchange':
      return ['MSExchangeADTopology', 'MSExchangeIS', 'MSExchangeTransport', 'MSExchangeFrontEndTransport'];
    case 'sharepoint':
      return ['SPAdminV4', 'SPTimerV4', 'W3SVC'];
    case 'generic_service':
      return [];
  }
}

/** Parent directory of a Windows or POSIX path. */
function parentDir(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i <= 0 ? p.slice(0, 1) : p.slice(0, i);
}

/** Drops roots that lie inside another root (they would be replicated twice). */
export function outermostRoots(roots: string[]): string[] {
  const norm = (p: string) => p.replace(/[\\/]+$/, '') || p;
  const unique = [...new Set(roots.map(norm))].sort((a, b) => a.length - b.length);
  return unique.filter((r, i) => !unique.slice(0, i).some((o) => r.startsWith(o.endsWith('/') || o.endsWith('\\') ? o : `${o}/`) || r.startsWith(`${o}\\`)));
}

/** The directories a file pair protects by default, or null for native methods / nothing known. */
export function defaultReplicationSet(application: Application, source: ServerView): PairSettings['replicationSet'] {
  const apps = source.applications ?? [];
  if (application === 'file_server') {
    const roots = outermostRoots(apps.flatMap((a) => (a.kind === 'file_server' ? a.shares.map((s) => s.path) : [])));
    return roots.length ? { roots, rules: [] } : null;
  }
  if (application === 'exchange') {
    const roots = outermostRoots(apps.flatMap((a) => (a.kind === 'exchange' ? a.databases.flatMap((d) => [d.edbPath && parentDir(d.edbPath), d.logPath]).filter((p): p is string => !!p) : [])));
    return roots.length ? { roots, rules: [] } : null;
  }
  return null;
}

/** "fs01.corp.example.com" → "corp.example.com"; nothing for a bare name. */
export function zoneOf(fqdn: string | null): string {
  if (!fqdn) return '';
  const dot = fqdn.replace(/\.$/, '').indexOf('.');
  return dot > 0 ? fqdn.replace(/\.$/, '').slice(dot + 1) : '';
}

/** The PostgreSQL instances a server reports (running ones first). */
export function postgresInstances(server: ServerView) {
  return (server.applications ?? [])
    .filter((a): a is Extract<DiscoveredApplication, { kind: 'postgresql' }> => a.kind === 'postgresql')
    .sort((a, b) => Number(b.running ?? true) - Number(a.running ?? true));
}

/**
 * Source and target instances for a PostgreSQL pair: the source's first running instance, and a
 * target instance of the same major version that is not that very instance (two servers can be
 * one machine in a lab).
 */
export function defaultDatabaseLink(source: ServerView, target: ServerView): PairSettings['connection']['database'] {
  const src = postgresInstances(source)[0];
  if (!src) return null;
  const candidates = postgresInstances(target).filter((t) => majorOf(t.version) === majorOf(src.version) || !t.version || !src.version);
  const dst = candidates.find((t) => t.dataDirectory !== src.dataDirectory) ?? candidates[0];
  if (!dst) return null;
  return {
    sourceDataDir: src.dataDirectory,
    sourcePort: src.port ?? 5432,
    targetDataDir: dst.dataDirectory,
    targetPort: dst.port ?? 5432,
    sourceAddress: usableAddresses(source.addresses)[0] ?? source.hostname,
    allowSourceRestart: false,
  };
}

/** The wizard's starting point for a source/target/application: every field filled sensibly. */
export function defaultPairSettings(application: Application, source: ServerView, target: ServerView): PairSettings {
  const sourceAddresses = usableAddresses(source.addresses);
  const targetAddresses = usableAddresses(target.addresses);
  const monitored = sourceAddresses.slice(0, 1);
  return {
    name: `${applicationLabels[application]} on ${source.hostname}`,
    application,
    replicationSet: defaultReplicationSet(application, source),
    failover: {
      enabled: true,
      type: 'dns',
      services: standardServices(application, source),
      extraServices: [],
      clusterResources: source.clusterResources ?? [],
      monitor: { method: 'agent', addresses: monitored, port: DEFAULT_MONITOR_PORT, intervalSeconds: 5, missed: 5, trigger: 'all', observers: 'both' },
      manualIntervention: true,
      mode: 'graceful',
      drainTimeoutSeconds: 120,
      onDrainTimeout: 'abort',
      serviceTimeoutSeconds: 120,
      identity: { addresses: [], force: false },
    },
    connection: {
      route: targetAddresses[0] ?? target.hostname,
      routeMode: 'direct',
      port: DEFAULT_DATA_PORT,
      mirror: 'checksum',
      compression: 'off',
      bandwidthLimitKbps: null,
      orphans: 'delete',
      inPlaceFromMiB: null,
      targetRoot: target.osFamily === 'windows' ? 'C:\\Tandem' : '/',
      database: application === 'postgresql' ? defaultDatabaseLink(source, target) : null,
    },
    dns: {
      // The source's own resolvers and domain are the usual place its records live.
      servers: (source.dnsResolvers ?? []).filter((a) => !isLoopback(a)).slice(0, 8),
      zone: zoneOf(source.fqdn ?? null),
      addressMap: monitored.map((s, i) => ({ source: s, target: targetAddresses[i] ?? targetAddresses[0] ?? '' })).filter((m) => m.target),
      ttlSeconds: 300,
      credentialId: null,
      provider: 'rfc2136',
      executorServerId: null,
      records: [],
      lowerTtlOnEnable: false,
    },
    hooks: { beforeFailover: null, afterFailover: null, beforeFailback: null, afterFailback: null, beforeRestore: null, afterRestore: null },
    testing: { probes: [], copyMethod: 'auto' },
  };
}
