import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { snapshotFixture } from '../fixtures.ts';
import { dnsChecks } from './dns.ts';
import { outcome, run, snap, unknownOutcome, type Case } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(dnsChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

const fixture = snapshotFixture();
const dry = fixture.dns!;
const rec = (over: Partial<(typeof dry.records)[number]> = {}) => ({ ...dry.records[0]!, ...over });
const primaryDown = { server: '10.0.0.2', role: 'primary' as const, answered: false, ms: 10_000, error: 'timeout' };
const secondaryUp = { server: '10.0.0.3', role: 'secondary' as const, answered: true, ms: 6, error: null };

const cases: Case[] = [
  // dns.provider-unavailable
  { id: 'dns.provider-unavailable', name: 'zone found with secure updates', snap: snap(), expect: [] },
  { id: 'dns.provider-unavailable', name: 'no zone for the source name', snap: snap({ dns: { zone: null } }), expect: [{ subject: 'zone=corp.example.com', status: 'error-manual', guidance: /TSIG/ }] },
  { id: 'dns.provider-unavailable', name: 'zone refuses dynamic updates', snap: snap({ dns: { zone: { dynamicUpdate: 'none' } } }), expect: [{ subject: 'zone=corp.example.com', status: 'error-manual' }] },
  // dns.provider-unreachable (gate)
  { id: 'dns.provider-unreachable', name: 'the primary answered', snap: snap(), expect: [] },
  {
    id: 'dns.provider-unreachable',
    name: 'no server answered',
    snap: snap({ dns: { attempts: [{ ...primaryDown, error: 'connection refused' }] } }),
    expect: [{ subject: 'provider=10.0.0.2:53', status: 'warning-manual', guidance: /port|TCP\/UDP 53/, also: (f) => expect(f.message).toContain('connection refused') }],
  },
  // dns.primary-unavailable
  { id: 'dns.primary-unavailable', name: 'primary answered', snap: snap(), expect: [] },
  { id: 'dns.primary-unavailable', name: 'secondary answered for a silent primary', snap: snap({ dns: { attempts: [primaryDown, secondaryUp] } }), expect: [{ subject: 'server=10.0.0.2', status: 'warning-manual', also: (f) => expect(f.evidence.answeredBy).toBe('10.0.0.3') }] },
  // dns.provider-not-authorized
  { id: 'dns.provider-not-authorized', name: 'probe update accepted', snap: snap(), expect: [] },
  { id: 'dns.provider-not-authorized', name: 'TSIG key refused', snap: snap({ dns: { auth: { ok: false, error: 'NOTAUTH (BADKEY)' } } }), expect: [{ subject: 'zone=corp.example.com', status: 'warning-manual', also: (f) => expect(f.evidence).toMatchObject({ error: 'NOTAUTH (BADKEY)', credential: { kind: 'dns_tsig' } }) }] },
  // dns.validation-timeout (gate)
  { id: 'dns.validation-timeout', name: 'finished in time', snap: snap(), expect: [] },
  { id: 'dns.validation-timeout', name: 'budget ran out', snap: snap({ dns: { timedOut: true, attempts: [primaryDown, { ...secondaryUp, answered: false, error: 'timeout' }] } }), expect: [{ subject: 'provider=10.0.0.2:53', status: 'warning-manual' }] },
  { id: 'dns.validation-timeout', name: 'the executor gave up at its deadline', snap: snap({ dns: null, gatherers: { dns: { ok: false, error: 'dns.dry-run timed out after 30 s', ms: 30_000 } } }), expect: [{ subject: 'provider=10.0.0.2', status: 'warning-manual' }] },
  // dns.validation-failed
  { id: 'dns.validation-failed', name: 'authoritative, right zone, plan ok', snap: snap(), expect: [] },
  { id: 'dns.validation-failed', name: 'answer from a forwarder', snap: snap({ dns: { zone: { authoritative: false } } }), expect: [{ subject: 'zone=corp.example.com', status: 'warning-manual' }] },
  { id: 'dns.validation-failed', name: 'relative server name and a failed plan', snap: snap({ pair: { dns: { servers: ['ns1'] } }, dns: { planOk: false, planReason: 'records changed during the test' } }), expect: [{ subject: 'server=ns1', status: 'warning-manual' }, { subject: 'zone=corp.example.com', status: 'warning-manual', also: (f) => expect(f.message).toContain('records changed') }] },
  { id: 'dns.validation-failed', name: 'wrong zone configured', snap: snap({ pair: { dns: { zone: 'example.com' } } }), expect: [{ subject: 'zone=example.com', status: 'warning-manual' }] },
  // dns.source-record-missing
  { id: 'dns.source-record-missing', name: 'A record present', snap: snap(), expect: [] },
  { id: 'dns.source-record-missing', name: 'no A/AAAA for the source name', snap: snap({ dns: { records: [rec({ type: 'MX', value: '10 files-a.corp.example.com' })] } }), expect: [{ subject: 'record=A files-a.corp.example.com', status: 'error-manual' }] },
  // dns.failover-ip-not-in-dns
  { id: 'dns.failover-ip-not-in-dns', name: 'monitored address registered', snap: snap(), expect: [] },
  { id: 'dns.failover-ip-not-in-dns', name: 'second monitored address not registered', snap: snap({ pair: { monitor: { addresses: ['10.0.0.10', '10.0.1.10'] } } }), expect: [{ subject: 'address=10.0.1.10', status: 'warning-manual' }] },
  // dns.ip-map-invalid
  { id: 'dns.ip-map-invalid', name: 'complete map', snap: snap(), expect: [] },
  { id: 'dns.ip-map-invalid', name: 'nothing mapped', snap: snap({ pair: { ipMap: [{ source: '10.0.0.10', target: null }] } }), expect: [{ subject: 'ipmap=empty', status: 'error-manual' }] },
  {
    id: 'dns.ip-map-invalid',
    name: 'target address absent, duplicate target, unmapped record value',
    snap: snap({
      pair: { ipMap: [{ source: '10.0.0.10', target: '10.0.0.20' }, { source: '10.0.0.11', target: '10.0.0.20' }, { source: '10.0.0.12', target: '10.0.0.99' }] },
      dns: { records: [rec(), rec({ value: '10.0.0.13' })] },
    }),
    expect: [
      { subject: 'address=10.0.0.11', status: 'error-manual', also: (f) => expect(f.evidence.cause).toBe('duplicate-target') },
      { subject: 'address=10.0.0.12', status: 'error-manual', also: (f) => expect(f.evidence.cause).toBe('target-not-configured') },
      { subject: 'address=10.0.0.13', status: 'error-manual', also: (f) => expect(f.evidence.cause).toBe('unmapped-record') },
    ],
  },
  // dns.reverse-zone-missing
  { id: 'dns.reverse-zone-missing', name: 'both reverse zones updatable', snap: snap(), expect: [] },
  {
    id: 'dns.reverse-zone-missing',
    name: 'an address mapped to itself is reported once',
    snap: snap({ pair: { ipMap: [{ source: '10.0.0.30', target: '10.0.0.30' }] }, dns: { reverseZones: [{ address: '10.0.0.30', zone: '0.0.10.in-addr.arpa', updatable: false }] } }),
    expect: [{ subject: 'address=10.0.0.30', status: 'warning-manual' }],
  },
  { id: 'dns.reverse-zone-missing', name: 'no reverse zone for the target', snap: snap({ dns: { reverseZones: [dry.reverseZones[0]!, { address: '10.0.0.20', zone: null, updatable: false }] } }), expect: [{ subject: 'address=10.0.0.20', status: 'warning-manual', also: (f) => expect(f.evidence).toMatchObject({ side: 'target', subnet: '10.0.0.20/24' }) }] },
  // dns.resolver-mismatch
  { id: 'dns.resolver-mismatch', name: 'resolver served by the zone', snap: snap(), expect: [] },
  { id: 'dns.resolver-mismatch', name: 'resolver in another view', snap: snap({ dns: { resolverView: [{ resolver: '10.0.0.2', answers: ['192.0.2.10'], matchesServer: false }] } }), expect: [{ subject: 'resolver=10.0.0.2', status: 'warning-manual' }] },
  // dns.ttl-above-recommended
  { id: 'dns.ttl-above-recommended', name: 'TTL at 300 s', snap: snap(), expect: [] },
  {
    id: 'dns.ttl-above-recommended',
    name: 'TTL of one hour',
    snap: snap({ dns: { records: [rec({ ttl: 3600 })] }, pair: { dns: { ttlTarget: 120 } } }),
    expect: [{ subject: 'record=A files-a.corp.example.com', status: 'warning-fixable', plan: ['dns.set-ttl'], also: (f) => expect(f.plan![0]).toMatchObject({ ttl: 120, records: [{ type: 'A', name: 'files-a.corp.example.com' }], before: '3600 s', after: '120 s' }) }],
  },
  // dns.fencing-unavailable
  { id: 'dns.fencing-unavailable', name: 'secure-only zone', snap: snap(), expect: [] },
  { id: 'dns.fencing-unavailable', name: 'zone accepts unsigned updates', snap: snap({ dns: { zone: { dynamicUpdate: 'open' } } }), expect: [{ subject: 'zone=corp.example.com', status: 'warning-manual', guidance: /secure/ }] },
  // dns.fencing-residual
  { id: 'dns.fencing-residual', name: 'no fence entries', snap: snap(), expect: [] },
  { id: 'dns.fencing-residual', name: 'fenced while failed over is expected', snap: snap({ pair: { state: 'failed_over', failedOver: true }, dns: { fenceEntries: [{ record: 'files-a.corp.example.com', principal: 'FILES-A$' }] } }), expect: [] },
  {
    id: 'dns.fencing-residual',
    name: 'leftover deny entry',
    snap: snap({ dns: { fenceEntries: [{ record: 'files-a.corp.example.com', principal: 'FILES-A$' }] } }),
    expect: [{ subject: 'record=files-a.corp.example.com', status: 'warning-fixable', plan: ['dns.fence.remove'], also: (f) => expect(f.plan![0]).toMatchObject({ record: 'files-a.corp.example.com', principal: 'FILES-A$' }) }],
  },
  // dns.private-nic-registers
  { id: 'dns.private-nic-registers', name: 'single interface', snap: snap(), expect: [] },
  {
    id: 'dns.private-nic-registers',
    name: 'Windows target replication NIC registers',
    snap: snap({
      pair: { route: { address: '192.168.50.20' } },
      target: { os: { family: 'windows' }, interfaces: [{ name: 'LAN', addresses: [{ address: '10.0.0.20', prefix: 24, family: 'ipv4' }], registersInDns: true }, { name: 'REPL', addresses: [{ address: '192.168.50.20', prefix: 24, family: 'ipv4' }], registersInDns: true }] },
    }),
    expect: [{ subject: 'interface=REPL', side: 'target', status: 'warning-fixable', plan: ['net.set-dns-registration'], also: (f) => expect(f.plan![0]).toMatchObject({ node: 'target', nic: 'REPL', register: false }) }],
  },
  {
    id: 'dns.private-nic-registers',
    name: 'Linux source replication NIC registers (manual)',
    snap: snap({
      pair: { route: { address: '192.168.50.20' } },
      source: { interfaces: [{ name: 'eth0', addresses: [{ address: '10.0.0.10', prefix: 24, family: 'ipv4' }], registersInDns: false }, { name: 'eth1', addresses: [{ address: '192.168.50.10', prefix: 24, family: 'ipv4' }], registersInDns: true }] },
    }),
    expect: [{ subject: 'interface=eth1', side: 'source', status: 'warning-manual', guidance: /NetworkManager/ }],
  },
  // dns.hosts-file-override
  { id: 'dns.hosts-file-override', name: 'only localhost entries', snap: snap(), expect: [] },
  { id: 'dns.hosts-file-override', name: 'source names itself on loopback', snap: snap({ source: { hostsFile: [{ address: '127.0.1.1', names: ['files-a.corp.example.com', 'files-a'] }] } }), expect: [] },
  { id: 'dns.hosts-file-override', name: 'target pins the source name', snap: snap({ target: { hostsFile: [{ address: '10.0.0.10', names: ['files-a'] }] } }), expect: [{ subject: 'hosts-entry=10.0.0.10 files-a', side: 'target', status: 'warning-manual', guidance: /never edits/ }] },
  // dns.ttl-exceeds-rto
  { id: 'dns.ttl-exceeds-rto', name: 'well inside the RTO', snap: snap(), expect: [] },
  {
    id: 'dns.ttl-exceeds-rto',
    name: 'TTL too long for a 5-minute RTO',
    snap: snap({ pair: { rtoSeconds: 300 }, replication: { runbookP95Seconds: 90 } }),
    // 300 − 25 − 90 = 185 → 180 s
    expect: [{ subject: 'rto=300s', status: 'warning-fixable', plan: ['dns.set-ttl'], also: (f) => expect(f.plan![0]).toMatchObject({ ttl: 180, records: [{ type: 'A', name: 'files-a.corp.example.com' }] }) }],
  },
  { id: 'dns.ttl-exceeds-rto', name: 'RTO out of reach', snap: snap({ pair: { rtoSeconds: 120 } }), expect: [{ subject: 'rto=120s', status: 'warning-manual', guidance: /cannot be met/ }] },
  // dns.alias-outside-provider
  { id: 'dns.alias-outside-provider', name: 'no foreign referrers', snap: snap(), expect: [] },
  {
    id: 'dns.alias-outside-provider',
    name: 'CNAME in an external zone',
    snap: snap({ dns: { referrers: [{ type: 'CNAME', name: 'share.example.org', zone: 'example.org', managed: false }, { type: 'CNAME', name: 'files.corp.example.com', zone: 'corp.example.com', managed: true }] } }),
    expect: [{ subject: 'record=CNAME share.example.org', status: 'warning-manual' }],
  },
];

describe('dns checks', () => {
  it('covers every dns check with a good and a firing case', () => {
    for (const c of dnsChecks) {
      expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(dnsChecks).toHaveLength(18);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('the healthy fixture is all good', () => {
    const results = evaluateChecks(dnsChecks, snapshotFixture());
    expect(results.filter((r) => r.status !== 'good')).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(18);
  });

  it('applies only to DNS failover', () => {
    for (const c of dnsChecks) expect(run(dnsChecks, c.id, snap({ pair: { failover: { mode: 'identity' } } }))).toEqual([]);
  });

  it('a missing fact makes the check unknown', () => {
    const unknown = [{ status: 'unknown', gate: null, reason: true }];
    expect(unknownOutcome(dnsChecks, 'dns.source-record-missing', snap({ dns: undefined }))).toEqual(unknown);
    expect(unknownOutcome(dnsChecks, 'dns.hosts-file-override', snap({ target: { hostsFile: undefined, failures: { hostsFile: 'permission denied' } } }), 'target')).toEqual(unknown);
    expect(unknownOutcome(dnsChecks, 'dns.ttl-exceeds-rto', snap({ replication: { runbookP95Seconds: null } }))).toEqual(unknown);
  });

  it('an unreachable provider makes the dependants unknown, linked to the gate', () => {
    const s = snap({ dns: { attempts: [primaryDown], records: [] } });
    const results = evaluateChecks(dnsChecks, s);
    expect(results.find((r) => r.checkId === 'dns.provider-unreachable')?.status).toBe('warning-manual');
    const dependant = results.find((r) => r.checkId === 'dns.source-record-missing');
    expect(dependant).toMatchObject({ status: 'unknown', unknown: { gate: 'dns.provider-unreachable' } });
    expect(dependant?.unknown?.reason).toMatch(/no DNS server answered/);
    // Rows that do not read the dry run still run.
    expect(results.find((r) => r.checkId === 'dns.hosts-file-override')?.status).toBe('good');
  });

  it('a timed-out dry run makes the dependants unknown, linked to the timeout gate', () => {
    const s = snap({ dns: { timedOut: true } });
    const results = evaluateChecks(dnsChecks, s);
    expect(results.find((r) => r.checkId === 'dns.validation-timeout')?.status).toBe('warning-manual');
    expect(results.find((r) => r.checkId === 'dns.provider-unreachable')?.status).toBe('good');
    expect(results.find((r) => r.checkId === 'dns.ip-map-invalid')).toMatchObject({ status: 'unknown', unknown: { gate: 'dns.validation-timeout' } });
  });

  it('the source-side NIC fix may run while protected; the target-side one may not', () => {
    const nics = (side: 'source' | 'target') => ({
      os: { family: 'windows' as const },
      interfaces: [
        { name: 'LAN', addresses: [{ address: side === 'source' ? '10.0.0.10' : '10.0.0.20', prefix: 24, family: 'ipv4' as const }], registersInDns: true },
        { name: 'REPL', addresses: [{ address: side === 'source' ? '192.168.50.10' : '192.168.50.20', prefix: 24, family: 'ipv4' as const }], registersInDns: true },
      ],
    });
    const s = snap({ pair: { state: 'protected', protected: true, route: { address: '192.168.50.20' } }, source: nics('source'), target: nics('target') });
    const findings = evaluateChecks(dnsChecks.filter((c) => c.id === 'dns.private-nic-registers'), s).flatMap((r) => r.findings);
    expect(findings.map((f) => [f.side, f.blockedReason === null])).toEqual([
      ['source', true],
      ['target', false],
    ]);
  });
});
