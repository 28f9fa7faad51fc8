import { defaultPolicy } from './policy.ts';
import type { FactsSnapshot, NodeFacts, PairFacts, ReferenceFacts, ReplicationFacts } from './snapshot.ts';

// Facts fixtures for the table-driven check tests: a healthy, fully collected snapshot of a file
// server pair (every check that applies is good on it), and a deep merge to bend one fact.
// Pure data; tests and the catalogue benchmark use it.

export const NOW = Date.parse('2026-12-01T12:00:00Z');
const DAY = 86_400_000;

export function nodeFixture(side: 'source' | 'target'): NodeFacts {
  const ip = side === 'source' ? '10.0.0.10' : '10.0.0.20';
  return {
    serverId: side === 'source' ? '00000000-0000-4000-8000-00000000000a' : '00000000-0000-4000-8000-00000000000b',
    hostname: side === 'source' ? 'files-a' : 'files-b',
    failures: {},
    agent: { enrolled: true, online: true, lastHeartbeatAt: NOW - 2_000, answered: true, version: '1.4.0', protocolVersion: 1, capabilities: ['service.stop', 'service.set-startup-mode', 'validate.facts'], clockOffsetMs: 12, certNotAfter: null, dataPort: 6320 },
    os: { family: 'linux', name: 'Debian GNU/Linux 12 (bookworm)', version: '12', major: '12', kernel: '6.1.0-28-amd64', arch: 'x86_64', domainController: false, libc: '2.36' },
    hw: { cpuCount: 4, memoryBytes: 16 * 2 ** 30 },
    account: { kind: 'root', name: 'root', privileges: ['CAP_DAC_READ_SEARCH', 'CAP_CHOWN', 'CAP_FOWNER', 'CAP_NET_ADMIN'] },
    modules: [{ name: 'core', version: '1.4.0', state: 'loaded', error: null }, { name: 'dns', version: '1.4.0', state: 'loaded', error: null }],
    time: { service: 'chrony', synchronized: true, sources: ['ntp.example.net'] },
    firewall: { manager: 'nftables', agentManaged: true, ports: [{ port: 6320, protocol: 'tcp', open: true }, { port: 6321, protocol: 'udp', open: true }] },
    hooks: { dir: '/var/lib/tandem/hooks', exists: true, writable: true, noexec: false, interpreters: { bash: '5.2.15', sh: 'dash', python3: '3.11.2', pwsh: null }, bundleDigest: null, allowed: true },
    paths: [{ path: '/srv/files', exists: true, type: 'dir', owner: 'root', uid: 0, gid: 0, mode: 0o755, usedBytes: 40 * 2 ** 30, volume: '/srv' }],
    volumes: [
      { mountPoint: '/', fileSystem: 'ext4', sizeBytes: 50 * 2 ** 30, freeBytes: 30 * 2 ** 30, system: true, features: ['acl', 'user_xattr'] },
      { mountPoint: '/srv', fileSystem: 'ext4', sizeBytes: 500 * 2 ** 30, freeBytes: (side === 'source' ? 460 : 420) * 2 ** 30, system: false, features: ['acl', 'user_xattr', 'lvm-thin'] },
    ],
    services: [
      { name: 'smbd', state: side === 'source' ? 'running' : 'stopped', startMode: side === 'source' ? 'auto' : 'disabled', account: 'root', definitionDigest: 'd1', definition: { ExecStart: '/usr/sbin/smbd --foreground --no-process-group' }, dependencies: [] },
    ],
    interfaces: [{ name: 'eth0', addresses: [{ address: ip, prefix: 24, family: 'ipv4' }], registersInDns: false }],
    resolvers: ['10.0.0.2'],
    hostsFile: [{ address: '127.0.0.1', names: ['localhost'] }],
    listening: [],
    openFiles: [],
    cloud: null,
    apps: {},
  };
}

export function pairFixture(): PairFacts {
  return {
    id: '00000000-0000-4000-8000-0000000000aa',
    name: 'Main file server',
    app: 'fileserver',
    application: 'file_server',
    method: 'files',
    replicationMethod: 'file',
    state: 'unprotected',
    protected: false,
    failedOver: false,
    rules: { roots: ['/srv/files'], rules: [] },
    pathMap: [],
    selection: { databases: null },
    options: { createReplicationSet: true, createHooks: true, createConnection: true, createMonitor: true },
    failover: { enabled: true, mode: 'dns', approvalRequired: true },
    monitor: { method: 'agent-heartbeat', intervalSeconds: 5, missed: 5, trigger: 'all', addresses: ['10.0.0.10'], port: 6321 },
    ipMap: [{ source: '10.0.0.10', target: '10.0.0.20' }],
    route: { mode: 'direct', address: '10.0.0.20', port: 6320 },
    services: [{ name: 'smbd', mustStopOnTarget: true }],
    resources: [],
    identity: { addresses: [], takeName: false, hostSpn: false },
    dns: { provider: 'rfc2136', zone: 'corp.example.com', servers: ['10.0.0.2'], executorServerId: null, ttlTarget: 300, credentialId: '00000000-0000-4000-8000-0000000000c1', sourceName: 'files-a.corp.example.com', records: [{ type: 'A', name: 'files-a.corp.example.com' }] },
    database: null,
    fencing: ['dns'],
    rpoSeconds: 900,
    rtoSeconds: 3600,
    snapshots: null,
    drill: { mode: 'clone', maxHours: 4 },
    overlays: [],
    credentials: [{ purpose: 'dns', credentialId: '00000000-0000-4000-8000-0000000000c1' }],
    lastChangeAt: NOW - 10 * DAY,
    savedAddresses: ['10.0.0.10', '10.0.0.20'],
  };
}

export function replicationFixture(): ReplicationFacts {
  return {
    connections: [],
    monitors: [],
    mirror: { state: 'none', percent: null, error: null },
    lag: { nowSeconds: null, p95Seconds: null },
    changeRateBytesPerDay: 2 * 2 ** 30,
    checksumOption: 'block-checksum',
    restoreRequired: false,
    pendingFailover: false,
    recoveryPoints: null,
    drills: [{ at: NOW - 5 * DAY, ok: true, configDigest: 'cfg-1' }],
    runbookP95Seconds: 120,
    channelProbe: { ok: true, error: null },
    monitorProbe: { icmpOk: true, agentOk: true },
    configDigest: 'cfg-1',
  };
}

export function referenceFixture(): ReferenceFacts {
  return {
    agent: { minVersion: '1.2.0', channelVersion: '1.4.0', selfUpdateFloor: '1.0.0', protocolMajor: 1 },
    modulesRequired: { core: '1.4.0', dns: '1.4.0' },
    policy: defaultPolicy(),
  };
}

/** A healthy, fully collected file-server pair with DNS failover through BIND. */
export function snapshotFixture(): FactsSnapshot {
  return {
    now: NOW,
    pair: pairFixture(),
    source: nodeFixture('source'),
    target: nodeFixture('target'),
    replication: replicationFixture(),
    dns: {
      provider: { kind: 'rfc2136', endpoint: '10.0.0.2:53' },
      attempts: [{ server: '10.0.0.2', role: 'primary', answered: true, ms: 4, error: null }],
      timedOut: false,
      auth: { ok: true, error: null },
      zone: { name: 'corp.example.com', authoritative: true, primary: 'ns1.corp.example.com', dynamicUpdate: 'secure' },
      records: [{ type: 'A', name: 'files-a.corp.example.com', value: '10.0.0.10', ttl: 300 }],
      referrers: [],
      reverseZones: [
        { address: '10.0.0.10', zone: '0.0.10.in-addr.arpa', updatable: true },
        { address: '10.0.0.20', zone: '0.0.10.in-addr.arpa', updatable: true },
      ],
      fenceEntries: [],
      resolverView: [{ resolver: '10.0.0.2', answers: ['10.0.0.10'], matchesServer: true }],
      planOk: true,
      planReason: null,
    },
    directory: undefined,
    cluster: { source: null, target: null },
    vault: [{ id: '00000000-0000-4000-8000-0000000000c1', purpose: 'dns', kind: 'dns_tsig', expiresAt: null, lastTest: { at: NOW - 60_000, ok: true, error: null }, rights: ['update corp.example.com'] }],
    reference: referenceFixture(),
    gatherers: { source: { ok: true, error: null, ms: 120 }, target: { ok: true, error: null, ms: 130 }, dns: { ok: true, error: null, ms: 15 } },
  };
}

type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | null } : T;

/** Deep-merges `patch` into a copy of `base`: objects merge, arrays and scalars replace, `undefined` deletes. */
export function withFacts<T>(base: T, patch: DeepPartial<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    const cur = out[k];
    if (v === undefined) delete out[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)) out[k] = withFacts(cur, v as never);
    else out[k] = v;
  }
  return out as T;
}
