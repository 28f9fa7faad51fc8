import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { snapshotFixture } from '../fixtures.ts';
import type { ClusterSideFacts } from '../snapshot.ts';
import { identityChecks } from './identity.ts';
import { outcome, run, snap, unknownOutcome, type Case, type Patch } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(identityChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

/** A healthy identity-takeover pair: the target takes 10.0.0.10/24 on eth0, power fencing. */
const identity = (patch: Patch = {}) =>
  snap({
    pair: { failover: { mode: 'identity' }, identity: { addresses: [{ address: '10.0.0.10', prefix: 24, targetInterface: 'eth0' }], takeName: true, hostSpn: false }, fencing: ['power'], ...(patch.pair ?? {}) },
    ...Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'pair')),
  });
const cluster: ClusterSideFacts = { kind: 'pacemaker', name: 'pg-cluster', nodes: [], roles: [], resources: [], fencing: { enabled: true, devices: 1 }, quorum: { quorate: true, votes: 3, witness: null }, failoverSeconds: 20, ownerAtFailover: null };

const cases: Case[] = [
  { id: 'identity.not-recommended', name: 'fires whenever identity takeover is selected', snap: identity(), expect: [{ subject: 'failover=identity', status: 'warning-manual', guidance: /DNS failover/ }] },
  { id: 'identity.no-monitored-ip', name: 'a monitored address', snap: identity(), expect: [] },
  { id: 'identity.no-monitored-ip', name: 'nothing monitored', snap: identity({ pair: { monitor: { addresses: [] } } }), expect: [{ subject: 'monitor=addresses', status: 'error-manual' }] },
  { id: 'identity.cross-subnet', name: 'address in the target interface’s subnet', snap: identity(), expect: [] },
  {
    id: 'identity.cross-subnet',
    name: 'address in another subnet',
    snap: identity({ pair: { identity: { addresses: [{ address: '10.0.5.10', prefix: 24, targetInterface: 'eth0' }] } } }),
    expect: [{ subject: 'address=10.0.5.10', status: 'warning-manual', also: (f) => expect(f.evidence.targetSubnets).toEqual(['10.0.0.20/24']) }],
  },
  { id: 'identity.cluster-unsupported', name: 'neither side clustered', snap: identity(), expect: [] },
  { id: 'identity.cluster-unsupported', name: 'clustered target', snap: identity({ cluster: { source: null, target: cluster } }), expect: [{ subject: 'cluster=pg-cluster', status: 'error-manual' }] },
  { id: 'identity.ip-takeover-unsupported-network', name: 'flat LAN', snap: identity(), expect: [] },
  { id: 'identity.ip-takeover-unsupported-network', name: 'cloud VPC with a network credential', snap: identity({ target: { cloud: { platform: 'aws', network: 'vpc' } }, vault: [...snapshotFixture().vault, { id: 'net-1', purpose: 'network', kind: 'aws_iam', expiresAt: null, lastTest: null, rights: ['ec2:AssignPrivateIpAddresses'] }] }), expect: [] },
  { id: 'identity.ip-takeover-unsupported-network', name: 'cloud VPC without a network credential', snap: identity({ target: { cloud: { platform: 'aws', network: 'vpc' } } }), expect: [{ subject: 'network=aws', status: 'error-manual' }] },
  { id: 'identity.fencing-missing', name: 'power fencing', snap: identity(), expect: [] },
  { id: 'identity.fencing-missing', name: 'only DNS fencing', snap: identity({ pair: { fencing: ['dns'] } }), expect: [{ subject: 'fencing=source', status: 'warning-manual' }] },
];

describe('identity checks', () => {
  it('covers every identity check with a good and a firing case', () => {
    for (const c of identityChecks) {
      if (c.id !== 'identity.not-recommended') expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(identityChecks).toHaveLength(6);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('is hidden for DNS failover (the healthy fixture), so identity.not-recommended is good there', () => {
    expect(evaluateChecks(identityChecks, snapshotFixture())).toEqual([]);
    for (const c of identityChecks) expect(run(identityChecks, c.id, snapshotFixture())).toEqual([]);
  });

  it('a missing fact makes the check unknown', () => {
    expect(unknownOutcome(identityChecks, 'identity.cross-subnet', identity({ target: { interfaces: undefined, failures: { interfaces: 'ip: command not found' } } }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
    expect(unknownOutcome(identityChecks, 'identity.cluster-unsupported', identity({ cluster: undefined }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
  });
});
