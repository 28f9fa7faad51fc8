import { describe, expect, it } from 'vitest';
import { applicationChoices, defaultPairSettings, outermostRoots, targetCompatibility, usableAddresses, type ServerView } from './defaults.ts';
import { evaluateDetection, type DetectionInput } from './detection.ts';
import { planDisable, planEnable } from './plans.ts';
import { pairSettingsSchema, settingsHelp, type PairSettings } from './settings.ts';
import { settingsFromColumns, settingsToColumns } from './stored.ts';

const linux = (over: Partial<ServerView> = {}): ServerView => ({
  id: 'src',
  hostname: 'fs01',
  osFamily: 'linux',
  addresses: ['127.0.0.1', '10.0.0.5', 'fe80::1', 'fd00::5'],
  agentStatus: 'online',
  applications: [{ kind: 'file_server', shares: [{ protocol: 'smb', name: 'data', path: '/srv/data' }, { protocol: 'smb', name: 'sub', path: '/srv/data/sub' }] }],
  clusterResources: null,
  ...over,
});

describe('wizard defaults', () => {
  it('offers detected applications and explains the others', () => {
    const choices = applicationChoices(linux());
    expect(choices.find((c) => c.application === 'file_server')).toMatchObject({ available: true, detail: '2 shares: data, sub' });
    expect(choices.find((c) => c.application === 'generic_service')?.available).toBe(true);
    expect(choices.find((c) => c.application === 'postgresql')).toMatchObject({ available: false, detail: 'PostgreSQL not found' });
    expect(applicationChoices(linux({ applications: null })).find((c) => c.application === 'file_server')?.detail).toMatch(/not reported/);
  });

  it('greys out incompatible targets with the reason', () => {
    const src = linux();
    expect(targetCompatibility(src, src, 'file_server')).toEqual({ ok: false, reason: 'This is the source server' });
    expect(targetCompatibility(src, linux({ id: 't', agentStatus: null }), 'file_server')).toEqual({ ok: false, reason: 'No agent enrolled' });
    expect(targetCompatibility(src, linux({ id: 't', osFamily: 'windows' }), 'file_server')).toEqual({ ok: false, reason: 'Runs Windows; the source runs Linux' });
    const pg = (version: string) => linux({ id: `pg${version}`, applications: [{ kind: 'postgresql', version, dataDirectory: '/var/lib/postgresql' }] });
    expect(targetCompatibility(pg('15.4'), pg('16.1'), 'postgresql')).toEqual({ ok: false, reason: 'PostgreSQL 16 here, 15 on the source: a standby needs the same major version' });
    expect(targetCompatibility(pg('16.4'), pg('16.1'), 'postgresql')).toEqual({ ok: true });
    expect(targetCompatibility(pg('16.4'), linux({ id: 't' }), 'postgresql')).toEqual({ ok: false, reason: 'PostgreSQL is not installed' });
    expect(targetCompatibility(src, linux({ id: 't', applications: [] }), 'file_server')).toEqual({ ok: true });
  });

  it('pre-fills sensible, valid settings', () => {
    const s = defaultPairSettings('file_server', linux(), linux({ id: 't', hostname: 'fs02', addresses: ['127.0.0.1', '10.0.0.6'] }));
    expect(s.replicationSet).toEqual({ roots: ['/srv/data'], rules: [] });
    expect(s.failover).toMatchObject({ enabled: true, type: 'dns', services: ['smbd'], manualIntervention: true });
    expect(s.failover.monitor).toMatchObject({ method: 'agent', addresses: ['10.0.0.5'], intervalSeconds: 5, missed: 5, trigger: 'all', observers: 'both' });
    expect(s.connection).toMatchObject({ route: '10.0.0.6', port: 6320, mirror: 'checksum', compression: 'off', bandwidthLimitKbps: null, targetRoot: '/' });
    expect(s.dns).toMatchObject({ addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }], ttlSeconds: 300 });
    // Without resolvers or a domain, only the DNS zone and server are left for the operator.
    const issues = pairSettingsSchema.safeParse(s).error?.issues.map((i) => i.path.join('.'));
    expect(issues).toEqual(['dns.servers', 'dns.zone']);
    // With them, the source's own resolvers (not loopback ones) and its domain are proposed.
    const known = defaultPairSettings('file_server', linux({ fqdn: 'fs01.corp.example.', dnsResolvers: ['127.0.0.53', '10.0.0.2'] }), linux({ id: 't', addresses: ['10.0.0.6'] }));
    expect(known.dns).toMatchObject({ servers: ['10.0.0.2'], zone: 'corp.example' });
    expect(pairSettingsSchema.safeParse(known).success).toBe(true);
  });

  it('keeps routable addresses first and drops nested roots', () => {
    expect(usableAddresses(['127.0.0.1', 'fd00::5', '10.0.0.5', 'fe80::1'])).toEqual(['10.0.0.5', 'fd00::5']);
    expect(usableAddresses(['127.0.0.1', '::1'])).toEqual(['127.0.0.1', '::1']);
    expect(outermostRoots(['/srv/data/sub', '/srv/data', '/srv/database', '/srv/data/'])).toEqual(['/srv/data', '/srv/database']);
  });
});

describe('settings validation', () => {
  const base = (): PairSettings =>
    ({ ...defaultPairSettings('file_server', linux(), linux({ id: 't', addresses: ['10.0.0.6'] })), dns: { servers: ['10.0.0.1'], zone: 'corp.example', addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }], ttlSeconds: 300, credentialId: null, provider: 'rfc2136', executorServerId: null, records: [], lowerTtlOnEnable: false } });

  it('accepts the defaults once DNS is filled in', () => {
    expect(pairSettingsSchema.safeParse(base()).success).toBe(true);
  });

  it('names the field and says what is wrong', () => {
    const messages = (s: unknown) => pairSettingsSchema.safeParse(s).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    const b = base();
    expect(messages({ ...b, failover: { ...b.failover, monitor: { ...b.failover.monitor, intervalSeconds: 0 } } })).toEqual(['failover.monitor.intervalSeconds: The interval is at least 1 second']);
    expect(messages({ ...b, failover: { ...b.failover, monitor: { ...b.failover.monitor, addresses: [] } } })).toEqual(['failover.monitor.addresses: Monitor at least one source address']);
    expect(messages({ ...b, connection: { ...b.connection, port: 6321 } })).toEqual(['failover.monitor.port: The monitor port must differ from the data port']);
    expect(messages({ ...b, replicationSet: null })).toEqual(['replicationSet.roots: Choose at least one directory to protect']);
    expect(messages({ ...b, replicationSet: { roots: ['relative/path'], rules: [] } })).toEqual(['replicationSet.roots.0: each root must be an absolute path']);
    expect(messages({ ...b, dns: { ...b.dns, addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }, { source: '10.0.0.7', target: '10.0.0.6' }] } })).toEqual([
      'dns.addressMap: Each source address needs its own target address',
    ]);
    // Failover off: DNS details are not required.
    expect(messages({ ...b, failover: { ...b.failover, enabled: false }, dns: { ...b.dns, zone: '', servers: [], addressMap: [] } })).toBeUndefined();
  });
});

describe('in-place updates of big files', () => {
  const file = (): PairSettings => ({ ...defaultPairSettings('file_server', linux(), linux({ id: 't', addresses: ['10.0.0.6'] })), failover: { ...defaultPairSettings('file_server', linux(), linux()).failover, enabled: false } });
  const messages = (s: unknown) => pairSettingsSchema.safeParse(s).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const withInPlace = (v: unknown) => ({ ...file(), connection: { ...file().connection, inPlaceFromMiB: v } });

  it('are off by default, also for settings stored before the choice existed', () => {
    expect(file().connection.inPlaceFromMiB).toBeNull();
    const columns = settingsToColumns(file());
    const { inPlaceFromMiB: _dropped, ...older } = columns.connectionSettings as PairSettings['connection'];
    expect(settingsFromColumns({ ...columns, connectionSettings: older }).connection.inPlaceFromMiB).toBeNull();
  });

  it('store a threshold in MiB and read it back', () => {
    expect(messages(withInPlace(64))).toBeUndefined();
    expect(settingsFromColumns(settingsToColumns(withInPlace(64) as PairSettings)).connection.inPlaceFromMiB).toBe(64);
  });

  it('refuse a threshold that is not a whole number of MiB in range, on the field', () => {
    expect(messages(withInPlace(0))).toEqual(['connection.inPlaceFromMiB: At least 1 MiB']);
    expect(messages(withInPlace(1.5))).toEqual(['connection.inPlaceFromMiB: Whole MiB only']);
    expect(messages(withInPlace(2_000_000))).toEqual(['connection.inPlaceFromMiB: At most 1 TiB (1048576 MiB)']);
    expect(messages(withInPlace(Number.NaN))).toEqual(['connection.inPlaceFromMiB: Enter a size in MiB']);
    expect(messages(withInPlace('64'))).toEqual(['connection.inPlaceFromMiB: Enter a size in MiB']);
  });
});

describe('route mode (direct or relay through the gateway)', () => {
  const file = (): PairSettings => ({ ...defaultPairSettings('file_server', linux(), linux({ id: 't', addresses: ['10.0.0.6'] })), failover: { ...defaultPairSettings('file_server', linux(), linux()).failover, enabled: false } });
  const messages = (s: unknown) => pairSettingsSchema.safeParse(s).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  it('defaults to direct, in the wizard and for settings stored before the mode existed', () => {
    expect(file().connection.routeMode).toBe('direct');
    const columns = settingsToColumns(file());
    const { routeMode: _dropped, ...older } = columns.connectionSettings as PairSettings['connection'];
    const read = settingsFromColumns({ ...columns, connectionSettings: older });
    expect(read.connection.routeMode).toBe('direct');
    expect(pairSettingsSchema.parse({ ...file(), connection: older }).connection.routeMode).toBe('direct');
  });

  it('a file pair may use the relay; the choice is stored and read back', () => {
    const relay = { ...file(), connection: { ...file().connection, routeMode: 'relay' as const } };
    expect(messages(relay)).toBeUndefined();
    expect(settingsFromColumns(settingsToColumns(relay)).connection.routeMode).toBe('relay');
  });

  it('refuses anything but direct or relay, with a message on the field', () => {
    expect(messages({ ...file(), connection: { ...file().connection, routeMode: 'tunnel' } })).toEqual(['connection.routeMode: Choose direct or relay']);
    expect(messages({ ...file(), connection: { ...file().connection, routeMode: null } })).toEqual(['connection.routeMode: Choose direct or relay']);
  });

  it('the relay carries file replication only', () => {
    const pg = defaultPairSettings(
      'postgresql',
      linux({ applications: [{ kind: 'postgresql', version: '16.2', dataDirectory: '/var/lib/postgresql/16/main', port: 5432 }] }),
      linux({ id: 't', addresses: ['10.0.0.6'], applications: [{ kind: 'postgresql', version: '16.1', dataDirectory: '/srv/pg', port: 5433 }] }),
    );
    const direct = { ...pg, failover: { ...pg.failover, enabled: false } };
    expect(messages(direct)).toBeUndefined();
    expect(messages({ ...direct, connection: { ...direct.connection, routeMode: 'relay' } })).toEqual([
      'connection.routeMode: The relay carries file replication only: database replication needs a direct route to the source',
    ]);
  });

  it('through the relay the data port is not opened, so it may equal the monitor port', () => {
    const same = (routeMode: 'direct' | 'relay') => ({ ...file(), connection: { ...file().connection, routeMode, port: 6321 } });
    expect(messages(same('direct'))).toEqual(['failover.monitor.port: The monitor port must differ from the data port']);
    expect(messages(same('relay'))).toBeUndefined();
  });

  it('explains the choice next to the field', () => {
    expect(settingsHelp.routeMode).toMatch(/Direct \(default\)/);
    expect(settingsHelp.routeMode).toMatch(/gateway never holds/);
    expect(settingsHelp.dataPort).toMatch(/Not used with the relay/);
  });

  it('says where and when hooks run and what a failing hook does', () => {
    expect(settingsHelp.hooks).toMatch(/failover, failback or restore/);
    expect(settingsHelp.hooks).toMatch(/point of no return/);
    expect(settingsHelp.hooks).not.toMatch(/not run yet/i);
  });

  it('the enable plan says the data channel goes through the relay', () => {
    const steps = planEnable({ method: 'file', sourceHostname: 'a', targetHostname: 'b', route: '10.0.0.6', port: 6320, routeMode: 'relay', monitoring: false });
    const starts = steps.filter((st) => st.kind === 'replication.start');
    expect(starts.map((st) => st.description)).toEqual(['Open the data channel on b (through the gateway relay)', 'Connect from a through the gateway relay and start the initial mirror']);
    expect(planEnable({ method: 'file', sourceHostname: 'a', targetHostname: 'b', route: '10.0.0.6', port: 6320, monitoring: false }).find((st) => st.kind === 'replication.start')?.description).toMatch(/10\.0\.0\.6:6320/);
  });
});

describe('plans', () => {
  it('enable: checks, data channel target first, mirror, monitor, then mirroring', () => {
    const steps = planEnable({ method: 'file', sourceHostname: 'a', targetHostname: 'b', route: '10.0.0.6', port: 6320, monitoring: true });
    expect(steps.map((s) => `${s.kind}${'side' in s.params ? `:${s.params.side}` : ''}`)).toEqual([
      'agents.check',
      'replication.check-set',
      'replication.start:target',
      'replication.start:source',
      'monitor.start:source',
      'monitor.start:target',
      'pair.set-state',
    ]);
    expect(steps.at(-1)?.params).toEqual({ event: 'replication.started', monitoringStatus: 'watching' });
    expect(planEnable({ method: 'file', sourceHostname: 'a', targetHostname: 'b', route: 'r', port: 1, monitoring: false }).some((s) => s.kind === 'monitor.start')).toBe(false);
  });

  it('enable a PostgreSQL pair: prepare the source, clone the standby, monitor, then protected', () => {
    const steps = planEnable({ method: 'postgresql_streaming', sourceHostname: 'a', targetHostname: 'b', route: '10.0.0.6', port: 6320, monitoring: true });
    expect(steps.map((s) => s.kind)).toEqual(['agents.check', 'postgresql.prepare-source', 'postgresql.clone-standby', 'monitor.start', 'monitor.start', 'pair.set-state']);
    expect(steps.at(-1)?.params).toEqual({ event: 'standby.streaming', monitoringStatus: 'watching' });
  });

  it('disable: every agent step is optional, the state change is not', () => {
    const steps = planDisable({ sourceHostname: 'a', targetHostname: 'b' });
    expect(steps.filter((s) => s.kind !== 'pair.set-state').every((s) => 'optional' in s && s.optional)).toBe(true);
    expect(steps.at(-1)).toMatchObject({ kind: 'pair.set-state', params: { event: 'replication.stopped', monitoringStatus: 'off' } });
  });
});

describe('two-observer detection', () => {
  const now = 1_000_000_000_000;
  const input = (over: Partial<DetectionInput> = {}): DetectionInput => ({
    now,
    status: 'protected',
    monitoringStatus: 'watching',
    monitor: { method: 'agent', addresses: ['10.0.0.5'], port: 6321, intervalSeconds: 5, missed: 5, trigger: 'all', observers: 'both' },
    failoverEnabled: true,
    manualIntervention: true,
    sourceAgent: { status: 'online', lastSeenAt: now - 1000 },
    targetAgentStatus: 'online',
    target: { state: 'ok', reportAt: now - 1000, lostSince: null, evidence: [{ address: '10.0.0.5', reachable: true, missed: 0, lastOkAt: now - 1000 }] },
    previousVerdict: 'none',
    ...over,
  });
  const lostTarget = { state: 'lost' as const, reportAt: now - 1000, lostSince: now - 2000, evidence: [{ address: '10.0.0.5', reachable: false, missed: 5, lastOkAt: now - 27_000 }] };

  it('does nothing while both observers see the source', () => {
    expect(evaluateDetection(input())).toEqual({ verdict: 'none', pair: {}, events: [] });
  });

  it('the target alone is not enough: a warning, no status change', () => {
    const out = evaluateDetection(input({ target: lostTarget }));
    expect(out.verdict).toBe('target');
    expect(out.pair).toEqual({});
    expect(out.events).toHaveLength(1);
    expect(out.events[0]).toMatchObject({ kind: 'monitor', severity: 'warning' });
    expect(out.events[0]!.message).toMatch(/control plane still sees the source agent/);
    // Reported once, not on every sweep.
    expect(evaluateDetection(input({ target: lostTarget, previousVerdict: 'target' })).events).toEqual([]);
  });

  it('the control plane alone is not enough either', () => {
    const out = evaluateDetection(input({ sourceAgent: { status: 'offline', lastSeenAt: now - 60_000 } }));
    expect(out.verdict).toBe('control');
    expect(out.pair).toEqual({});
  });

  it('both observers: failover pending, with evidence; automatic when manual intervention is off', () => {
    const out = evaluateDetection(input({ target: lostTarget, sourceAgent: { status: 'offline', lastSeenAt: now - 30_000 } }));
    expect(out.verdict).toBe('both');
    expect(out.pair).toEqual({ monitoringStatus: 'source_lost', status: 'failover_pending', autoFailoverMarked: false });
    expect(out.events[0]).toMatchObject({ kind: 'detection', severity: 'error' });
    expect(out.events[0]!.message).toMatch(/no answer from 10\.0\.0\.5.*waiting for a decision/);
    expect(out.events[0]!.evidence).toMatchObject({ target: { state: 'lost' }, control: { sourceAgentStatus: 'offline', silentSeconds: 30 } });
    const auto = evaluateDetection(input({ target: lostTarget, sourceAgent: { status: 'offline', lastSeenAt: now - 30_000 }, manualIntervention: false }));
    expect(auto.pair.autoFailoverMarked).toBe(true);
    expect(auto.events[0]!.message).toMatch(/failover to the target starts automatically/);
  });

  it('a silent but still "online" source agent counts as lost once silent long enough', () => {
    const silent = input({ target: lostTarget, sourceAgent: { status: 'online', lastSeenAt: now - 31_000 } });
    expect(evaluateDetection(silent).verdict).toBe('both');
    expect(evaluateDetection({ ...silent, sourceAgent: { status: 'online', lastSeenAt: now - 10_000 } }).verdict).toBe('target');
  });

  it('a stale target report is not believed', () => {
    const out = evaluateDetection(input({ target: { ...lostTarget, reportAt: now - 60_000 }, sourceAgent: { status: 'offline', lastSeenAt: null } }));
    expect(out.verdict).toBe('control');
    expect(out.pair).toEqual({});
  });

  it('"target only" pairs trust the target alone', () => {
    const out = evaluateDetection(input({ target: lostTarget, monitor: { ...input().monitor, observers: 'target-only' } }));
    expect(out.pair.status).toBe('failover_pending');
    expect(out.events[0]!.message).toMatch(/the target \(this pair trusts the target alone\)/);
  });

  it('no failover offered while the first mirror runs, or when failover is disabled', () => {
    const lost = { target: lostTarget, sourceAgent: { status: 'offline', lastSeenAt: null } };
    const mirroring = evaluateDetection(input({ ...lost, status: 'mirroring' }));
    expect(mirroring.pair).toEqual({ monitoringStatus: 'source_lost' });
    expect(mirroring.events[0]!.message).toMatch(/not complete, so no failover/);
    const disabled = evaluateDetection(input({ ...lost, failoverEnabled: false }));
    expect(disabled.pair).toEqual({ monitoringStatus: 'source_lost' });
  });

  it('a lost source after a failover is not blamed on an incomplete copy', () => {
    const lost = { target: lostTarget, sourceAgent: { status: 'offline', lastSeenAt: null } };
    const cases: [DetectionInput['status'], RegExp][] = [
      ['failed_over', /while the pair was failed over: the target already serves in place of the source\.$/],
      ['failing_over', /while the pair was failing over: a failover is already under way\.$/],
      ['restoring', /while the pair was restoring: a failback is under way\.$/],
      ['failing_back', /while the pair was failing back: a failback is under way\.$/],
    ];
    for (const [status, message] of cases) {
      const out = evaluateDetection(input({ ...lost, status }));
      expect(out.pair).toEqual({ monitoringStatus: 'source_lost' });
      expect(out.events[0]!.message).toMatch(message);
      expect(out.events[0]!.message).not.toMatch(/not complete/);
    }
  });

  it('a returning source calls off only a pending failover', () => {
    const back = { monitoringStatus: 'source_lost' as const };
    expect(evaluateDetection(input({ ...back, status: 'failover_pending' })).pair).toEqual({ monitoringStatus: 'watching', status: 'protected', autoFailoverMarked: false });
    expect(evaluateDetection(input({ ...back, status: 'failed_over' })).pair).toEqual({ monitoringStatus: 'watching' });
  });

  it('the source coming back before a failover returns the pair to protected', () => {
    const out = evaluateDetection(input({ status: 'failover_pending', monitoringStatus: 'source_lost', previousVerdict: 'both' }));
    expect(out.pair).toEqual({ monitoringStatus: 'watching', status: 'protected', autoFailoverMarked: false });
    expect(out.events[0]!.message).toMatch(/reachable again/);
  });
});
