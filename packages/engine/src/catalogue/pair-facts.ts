import type { PairSettings, ReplicationMethod } from '../pair/settings.ts';
import type { PairStatus } from '../pair/status.ts';
import { enabledStatuses } from '../pair/lifecycle.ts';
import type { PairFacts } from './snapshot.ts';
import { catalogueAppOf, catalogueMethodOf, catalogueMonitorMethodOf } from './vocabulary.ts';

// P.*: a pair's stored configuration in the catalogue's terms. Pure and deterministic, so the
// worker (building a run's snapshot) and the web (recomputing the fingerprint at enable time)
// read the same configuration the same way.

export interface PairRowForFacts {
  id: string;
  name: string;
  status: PairStatus;
  replicationMethod: ReplicationMethod;
  configChangedAt: Date;
}

/** The copy of a source path on the target: the target root prefixed ("/" keeps the source's own paths). */
export function targetPathOf(targetRoot: string, sourcePath: string): string {
  if (targetRoot === '/' || targetRoot === '') return sourcePath;
  return `${targetRoot.replace(/[/\\]+$/, '')}${sourcePath.startsWith('/') ? '' : '/'}${sourcePath}`;
}

const failedOverStatuses: readonly PairStatus[] = ['failed_over', 'restoring', 'failing_back'];

export function pairFactsOf(row: PairRowForFacts, s: PairSettings): PairFacts {
  const app = catalogueAppOf[s.application];
  const f = s.failover;
  const c = s.connection;
  const roots = s.replicationSet?.roots ?? [];
  const dnsFailover = f.enabled && f.type === 'dns';
  const sourceName = s.dns.records.find((r) => r.type === 'A' || r.type === 'AAAA')?.name ?? null;
  const hookNames = Object.keys(s.hooks) as (keyof PairSettings['hooks'])[];
  const saved = new Set<string>([
    ...f.monitor.addresses,
    ...(c.routeMode === 'direct' ? [c.route] : []),
    ...s.dns.addressMap.flatMap((m) => [m.source, m.target]),
    ...f.identity.addresses.map((a) => a.address),
    ...(c.database ? [c.database.sourceAddress] : []),
  ]);
  return {
    id: row.id,
    name: row.name,
    app,
    application: s.application,
    method: catalogueMethodOf(s.application, row.replicationMethod),
    replicationMethod: row.replicationMethod,
    state: row.status,
    protected: enabledStatuses.includes(row.status),
    failedOver: failedOverStatuses.includes(row.status),
    rules: s.replicationSet ? { roots: [...s.replicationSet.roots], rules: [...s.replicationSet.rules] } : null,
    pathMap: c.targetRoot === '/' ? [] : roots.map((r) => ({ from: r, to: targetPathOf(c.targetRoot, r) })),
    selection: { databases: null },
    // The code has no switches for generated artefacts: everything is always generated.
    options: { createReplicationSet: true, createHooks: true, createConnection: true, createMonitor: true },
    failover: { enabled: f.enabled, mode: f.enabled ? f.type : 'none', approvalRequired: f.manualIntervention },
    monitor: {
      method: catalogueMonitorMethodOf(f.monitor.method),
      intervalSeconds: f.monitor.intervalSeconds,
      missed: f.monitor.missed,
      trigger: f.monitor.trigger,
      addresses: [...f.monitor.addresses],
      port: f.monitor.port,
    },
    ipMap: s.dns.addressMap.map((m) => ({ source: m.source, target: m.target })),
    route: { mode: c.routeMode, address: c.route, port: c.port },
    // Every service the failover starts on the target stays stopped there until then, except the
    // database's own under native replication: the standby it runs is the replica.
    services: [
      ...f.services.map((name) => ({ name, mustStopOnTarget: row.replicationMethod === 'file' })),
      ...f.extraServices.map((name) => ({ name, mustStopOnTarget: true })),
    ],
    resources: [...f.clusterResources],
    identity: { addresses: f.identity.addresses.map((a) => ({ address: a.address, prefix: a.prefix, targetInterface: a.targetInterface })), takeName: false, hostSpn: false },
    dns: {
      provider: s.dns.provider,
      zone: s.dns.zone,
      servers: [...s.dns.servers],
      executorServerId: s.dns.executorServerId,
      ttlTarget: s.dns.ttlSeconds,
      credentialId: s.dns.credentialId,
      sourceName,
      records: s.dns.records.map((r) => ({ type: r.type, name: r.name })),
    },
    database: c.database
      ? { sourceDataDir: c.database.sourceDataDir, sourcePort: c.database.sourcePort, targetDataDir: c.database.targetDataDir, targetPort: c.database.targetPort, sourceAddress: c.database.sourceAddress }
      : null,
    // DNS failover fences the old name by re-asserting the moved records while failed over.
    fencing: dnsFailover ? ['dns'] : [],
    rpoSeconds: null,
    rtoSeconds: null,
    snapshots: null,
    drill: { mode: 'clone', maxHours: 4 },
    overlays: hookNames.flatMap((k) => (s.hooks[k] ? [{ name: k, content: s.hooks[k] }] : [])),
    credentials: dnsFailover ? [{ purpose: 'dns', credentialId: s.dns.credentialId }] : [],
    lastChangeAt: row.configChangedAt.getTime(),
    savedAddresses: [...saved],
  };
}
