import { describe, expect, it } from 'vitest';
import { agentChecks } from './agent.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { NOW, snapshotFixture, withFacts } from '../fixtures.ts';
import { evaluateChecks } from '../evaluate.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
/** Identity: keeps the tables readable. */
const o = <T,>(x: T): T => x;
const base = snapshotFixture;
const postgresPair = (patch: Parameters<typeof withFacts<FactsSnapshot>>[1] = {}) => withFacts(withFacts(base(), { pair: { app: 'postgres', application: 'postgresql', method: 'streaming', replicationMethod: 'postgresql_streaming' } }), patch);

const cases: Case[] = [
  { name: 'unreachable: fresh heartbeat is good', id: 'agent.unreachable', snap: base(), side: 'target', expected: { status: 'good', findings: [] } },
  { name: 'unreachable: answered, last-seen time not yet flushed', id: 'agent.unreachable', snap: withFacts(base(), { target: { agent: { lastHeartbeatAt: NOW - 20_000 } } }), side: 'target', expected: { status: 'good' } },
  { name: 'unreachable: offline after missed heartbeats', id: 'agent.unreachable', snap: withFacts(base(), { target: { agent: { online: false, answered: false, lastHeartbeatAt: NOW - 60_000 } } }), side: 'target', expected: { status: 'error-manual', findings: [o({ subject: 'node=files-b', guidance: /agent service/ })] } },
  { name: 'unreachable: no answer at all', id: 'agent.unreachable', snap: withFacts(base(), { target: null, gatherers: { target: { ok: false, error: 'timed out after 60 s', ms: 60_000 } } }), side: 'target', expected: { status: 'error-manual', findings: [o({ subject: 'node=target' })] } },
  { name: 'unreachable: not enrolled', id: 'agent.unreachable', snap: withFacts(base(), { source: { agent: { enrolled: false } } }), side: 'source', expected: { status: 'error-manual', findings: [o({ subject: 'node=files-a' })] } },

  { name: 'insufficient-privilege: root with the capability set', id: 'agent.insufficient-privilege', snap: base(), side: 'source', expected: { status: 'good' } },
  { name: 'insufficient-privilege: capabilities missing', id: 'agent.insufficient-privilege', snap: withFacts(base(), { source: { account: { privileges: ['CAP_CHOWN'] } } }), side: 'source', expected: { status: 'error-manual', findings: [o({ subject: 'account=root', guidance: /LocalSystem/ })] } },
  { name: 'insufficient-privilege: CAP_DAC_OVERRIDE covers read-search', id: 'agent.insufficient-privilege', snap: withFacts(base(), { source: { account: { privileges: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'] } } }), side: 'source', expected: { status: 'good' } },
  {
    name: 'insufficient-privilege: local Windows user on the Windows DNS executor',
    id: 'agent.insufficient-privilege',
    snap: withFacts(base(), { pair: { dns: { provider: 'windows' } }, target: { os: { family: 'windows', name: 'Windows Server 2022 Datacenter' }, account: { kind: 'local', name: 'svc-tandem', privileges: ['SeBackupPrivilege', 'SeRestorePrivilege'] } } }),
    side: 'target',
    expected: { status: 'error-manual', findings: [o({ subject: 'account=svc-tandem' })] },
  },

  { name: 'version-unsupported: current release', id: 'agent.version-unsupported', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'version-unsupported: 1.10 is newer than 1.2 (numeric order)', id: 'agent.version-unsupported', snap: withFacts(base(), { target: { agent: { version: '1.10.0' } } }), side: 'target', expected: { status: 'good' } },
  { name: 'version-unsupported: old but self-updating', id: 'agent.version-unsupported', snap: withFacts(base(), { target: { agent: { version: '1.1.9' } } }), side: 'target', expected: { status: 'error-fixable', findings: [o({ subject: 'node=files-b', actions: ['agent.upgrade'], plan: [o({ node: 'target', version: '1.4.0', before: '1.1.9', after: '1.4.0' })], blocked: false })] } },
  { name: 'version-unsupported: below the self-update floor', id: 'agent.version-unsupported', snap: withFacts(base(), { target: { agent: { version: '0.9.0' } } }), side: 'target', expected: { status: 'error-manual', findings: [o({ guidance: /Reinstall/ })] } },
  { name: 'version-unsupported: no version reported', id: 'agent.version-unsupported', snap: withFacts(base(), { source: { agent: { version: null } } }), side: 'source', expected: { status: 'error-manual' } },
  { name: 'version-unsupported: not blocked while protected (agent maintenance)', id: 'agent.version-unsupported', snap: withFacts(base(), { pair: { protected: true, state: 'protected' }, target: { agent: { version: '1.1.0' } } }), side: 'target', expected: { status: 'error-fixable', findings: [o({ blocked: false })] } },

  { name: 'version-incompatible: same protocol', id: 'agent.version-incompatible', snap: base(), side: 'none', expected: { status: 'good' } },
  {
    name: 'version-incompatible: older target upgraded to the source release',
    id: 'agent.version-incompatible',
    snap: withFacts(base(), { source: { agent: { protocolVersion: 2, version: '2.0.1' } } }),
    side: 'none',
    expected: { status: 'error-fixable', findings: [o({ subject: 'node=files-b', plan: [o({ action: 'agent.upgrade', node: 'target', version: '2.0.1' })] })] },
  },
  { name: 'version-incompatible: below the floor is manual', id: 'agent.version-incompatible', snap: withFacts(base(), { source: { agent: { protocolVersion: 2, version: '2.0.1' } }, target: { agent: { version: '0.8.0' } } }), side: 'none', expected: { status: 'error-manual' } },

  { name: 'module-missing: core and dns loaded', id: 'agent.module-missing', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'module-missing: dns absent → install', id: 'agent.module-missing', snap: withFacts(base(), { target: { modules: [{ name: 'core', version: '1.4.0', state: 'loaded', error: null }] } }), side: 'target', expected: { status: 'error-fixable', findings: [o({ subject: 'module=dns', plan: [o({ action: 'agent.module.install', module: 'dns', version: '1.4.0' })] })] } },
  { name: 'module-missing: dns disabled → enable', id: 'agent.module-missing', snap: withFacts(base(), { target: { modules: [{ name: 'core', version: '1.4.0', state: 'loaded', error: null }, { name: 'dns', version: '1.4.0', state: 'disabled', error: null }] } }), side: 'target', expected: { status: 'error-fixable', findings: [o({ actions: ['agent.module.enable'] })] } },
  {
    name: 'module-missing: failed for a missing library → manual naming it',
    id: 'agent.module-missing',
    snap: withFacts(base(), { target: { modules: [{ name: 'core', version: '1.4.0', state: 'loaded', error: null }, { name: 'dns', version: '1.4.0', state: 'failed', error: 'libgssapi_krb5.so.2: cannot open shared object file' }] } }),
    side: 'target',
    expected: { status: 'error-manual', findings: [o({ guidance: /libgssapi_krb5\.so\.2/ })] },
  },
  { name: 'module-missing: agent predates the module → upgrade', id: 'agent.module-missing', snap: withFacts(base(), { target: { agent: { version: '1.3.0' }, modules: [{ name: 'core', version: '1.3.0', state: 'loaded', error: null }] } }), side: 'target', expected: { status: 'error-fixable', findings: [o({ actions: ['agent.upgrade'] })] } },
  { name: 'module-missing: dns not needed without DNS failover', id: 'agent.module-missing', snap: withFacts(base(), { pair: { failover: { enabled: false } }, target: { modules: [{ name: 'core', version: '1.4.0', state: 'loaded', error: null }] } }), side: 'target', expected: { status: 'good' } },

  { name: 'module-outdated: current modules', id: 'agent.module-outdated', snap: base(), side: 'source', expected: { status: 'good' } },
  { name: 'module-outdated: dns 1.3.9', id: 'agent.module-outdated', snap: withFacts(base(), { source: { modules: [{ name: 'core', version: '1.4.0', state: 'loaded', error: null }, { name: 'dns', version: '1.3.9', state: 'loaded', error: null }] } }), side: 'source', expected: { status: 'error-fixable', findings: [o({ subject: 'module=dns', plan: [o({ action: 'agent.module.install', node: 'source', before: '1.3.9', after: '1.4.0' })] })] } },

  { name: 'runs-as-custom-account: root', id: 'agent.runs-as-custom-account', snap: base(), side: 'source', expected: { status: 'good' } },
  { name: 'runs-as-custom-account: domain account', id: 'agent.runs-as-custom-account', snap: withFacts(base(), { source: { account: { kind: 'domain', name: 'CORP\\svc-tandem' } } }), side: 'source', expected: { status: 'warning-manual', findings: [o({ subject: 'account=CORP\\svc-tandem' })] } },

  { name: 'app-access-denied: hidden for file servers', id: 'agent.app-access-denied', snap: base(), side: 'source', expected: { status: 'hidden' } },
  { name: 'app-access-denied: signs in with its roles', id: 'agent.app-access-denied', snap: postgresPair({ source: { appAccess: { app: 'postgres', ok: true, error: null, missingRoles: [] } } }), side: 'source', expected: { status: 'good' } },
  { name: 'app-access-denied: missing roles', id: 'agent.app-access-denied', snap: postgresPair({ source: { appAccess: { app: 'postgres', ok: true, error: null, missingRoles: ['REPLICATION'] } } }), side: 'source', expected: { status: 'error-manual', findings: [o({ subject: 'app=postgres', guidance: /role/ })] } },

  { name: 'data-channel: probe ok', id: 'agent.data-channel-unreachable', snap: base(), side: 'none', expected: { status: 'good' } },
  {
    name: 'data-channel: closed port in an agent-managed firewall → privileged firewall.allow',
    id: 'agent.data-channel-unreachable',
    snap: withFacts(base(), { replication: { channelProbe: { ok: false, error: 'connection timed out' } }, target: { firewall: { ports: [{ port: 6320, protocol: 'tcp', open: false }] } } }),
    side: 'none',
    expected: { status: 'error-fixable', findings: [o({ subject: 'route=10.0.0.20:6320', privileged: true, plan: [o({ action: 'firewall.allow', node: 'target', port: 6320, protocol: 'tcp', fromCidr: '10.0.0.10/32' })] })] },
  },
  { name: 'data-channel: not probed yet (before the first enable) → the ports are compared', id: 'agent.data-channel-unreachable', snap: withFacts(base(), { replication: { channelProbe: null } }), side: 'none', expected: { status: 'good' } },
  { name: 'data-channel: unmanaged firewall → manual', id: 'agent.data-channel-unreachable', snap: withFacts(base(), { replication: { channelProbe: { ok: false, error: 'refused' } }, target: { firewall: { agentManaged: false } } }), side: 'none', expected: { status: 'error-manual' } },
  { name: 'data-channel: different data ports', id: 'agent.data-channel-unreachable', snap: withFacts(base(), { target: { agent: { dataPort: 7000 } } }), side: 'none', expected: { status: 'error-manual', findings: [o({ subject: 'setting=dataPort' })] } },

  { name: 'clock-skew: 12 ms', id: 'agent.clock-skew', snap: base(), side: 'source', expected: { status: 'good' } },
  { name: 'clock-skew: 5 s with chrony → resync', id: 'agent.clock-skew', snap: withFacts(base(), { source: { agent: { clockOffsetMs: -5_000 } } }), side: 'source', expected: { status: 'warning-fixable', findings: [o({ subject: 'node=files-a', actions: ['time.resync'] })] } },
  { name: 'clock-skew: policy threshold raised to 10 s', id: 'agent.clock-skew', snap: withFacts(base(), { source: { agent: { clockOffsetMs: -5_000 } }, reference: { policy: { clockSkewWarnMs: 10_000 } } }), side: 'source', expected: { status: 'good' } },
  { name: 'clock-skew: no time service → manual', id: 'agent.clock-skew', snap: withFacts(base(), { source: { agent: { clockOffsetMs: 45_000 }, time: { service: null, synchronized: null, sources: [] } } }), side: 'source', expected: { status: 'warning-manual', findings: [o({ guidance: /chrony/ })] } },

  { name: 'certificate-expiring: no certificate', id: 'agent.certificate-expiring', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'certificate-expiring: 60 days left', id: 'agent.certificate-expiring', snap: withFacts(base(), { target: { agent: { certNotAfter: NOW + 60 * 86_400_000 } } }), side: 'target', expected: { status: 'good' } },
  { name: 'certificate-expiring: 10 days left', id: 'agent.certificate-expiring', snap: withFacts(base(), { target: { agent: { certNotAfter: NOW + 10 * 86_400_000 } } }), side: 'target', expected: { status: 'warning-fixable', findings: [o({ actions: ['agent.cert.rotate'] })] } },
];

describe('agent checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(agentChecks, snapshotFixture())).toEqual([]);
  });

  it.each(cases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(agentChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('a missing fact gives unknown, not a crash', () => {
    const snap = withFacts(base(), { source: { modules: undefined, failures: { modules: 'module registry unreadable' } } });
    const out = outcomeOf(agentChecks, 'agent.module-missing', snap, 'source');
    expect(out.status).toBe('unknown');
  });

  it('an unreachable agent makes its node’s checks unknown, linked to the gate', () => {
    const snap = withFacts(base(), { target: null, gatherers: { target: { ok: false, error: 'timed out after 60 s', ms: 60_000 } } });
    const results = evaluateChecks(agentChecks, snap);
    const gate = results.find((r) => r.checkId === 'agent.unreachable' && r.side === 'target');
    expect(gate?.status).toBe('error-manual');
    const dependants = results.filter((r) => r.checkId !== 'agent.unreachable' && (r.side === 'target' || r.side === 'none'));
    expect(dependants.length).toBeGreaterThan(5);
    for (const r of dependants) expect(r, r.checkId).toMatchObject({ status: 'unknown', unknown: { gate: 'agent.unreachable' } });
    // The source side is unaffected.
    expect(results.filter((r) => r.side === 'source' && r.status !== 'good')).toEqual([]);
  });
});
