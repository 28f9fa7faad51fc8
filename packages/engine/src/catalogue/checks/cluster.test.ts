import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { snapshotFixture } from '../fixtures.ts';
import type { ClusterSideFacts } from '../snapshot.ts';
import { clusterChecks } from './cluster.ts';
import { outcome, snap, unknownOutcome, type Case, type Patch } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(clusterChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

type Node = ClusterSideFacts['nodes'][number];
type Resource = ClusterSideFacts['resources'][number];
const node = (name: string, over: Partial<Node> = {}): Node => ({ name, online: true, agentVersion: '1.4.0', hooksDir: '/var/lib/tandem/hooks', enrolled: true, authorized: true, os: 'Debian 12', domainController: false, ...over });
const resource = (id: string, over: Partial<Resource> = {}): Resource => ({ id, type: 'ocf:heartbeat:Filesystem', state: 'Stopped', node: null, autoStart: false, properties: {}, ...over });

/** Healthy Pacemaker clusters on both sides (the pair's servers are nodes of them), fencing on, resources stopped on the target. */
function pcs(side: 'source' | 'target', over: Partial<ClusterSideFacts> = {}): ClusterSideFacts {
  const me = side === 'source' ? 'files-a' : 'files-b';
  const peer = side === 'source' ? 'files-a2' : 'files-b2';
  return {
    kind: 'pacemaker',
    name: `${side}-cluster`,
    nodes: [node(me), node(peer)],
    roles: [{ name: 'files', owner: me, address: side === 'source' ? '10.0.0.10' : '10.0.0.20', resources: ['fs-srv', 'smb'] }],
    resources: side === 'target' ? [resource('fs-srv'), resource('smb', { type: 'systemd:smbd' })] : [resource('fs-srv', { state: 'Started', node: me, autoStart: true })],
    fencing: { enabled: true, devices: 2 },
    quorum: { quorate: true, votes: 2, witness: null },
    failoverSeconds: 20,
    ownerAtFailover: null,
    ...over,
  };
}
const clusteredSnap = (patch: Patch = {}, src: Partial<ClusterSideFacts> | null = {}, tgt: Partial<ClusterSideFacts> | null = {}) =>
  snap({ pair: { resources: ['fs-srv', 'smb'], ...(patch.pair ?? {}) }, cluster: { source: src && pcs('source', src), target: tgt && pcs('target', tgt) }, ...Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'pair')) });
const netName = (id: string, requireDns: string | undefined): Resource => resource(id, { type: 'Network Name', state: 'Online', properties: requireDns === undefined ? {} : { RequireDNS: requireDns } });
const wsfc = (over: Partial<ClusterSideFacts> = {}): Partial<ClusterSideFacts> => ({ kind: 'wsfc', quorum: { quorate: true, votes: 3, witness: false }, resources: [resource('fs-srv'), resource('smb'), netName('FILES-VNN', '1')], ...over });

const cases: Case[] = [
  { id: 'cluster.node-not-authorized', name: 'every node enrolled and authorised', snap: clusteredSnap(), expect: [] },
  { id: 'cluster.node-not-authorized', name: 'a target node without an agent', snap: clusteredSnap({}, {}, { nodes: [node('files-b'), node('files-b2', { enrolled: false, agentVersion: null })] }), expect: [{ subject: 'node=files-b2', status: 'error-manual', guidance: /Enrol/ }] },
  { id: 'cluster.node-agents-inconsistent', name: 'same release and paths', snap: clusteredSnap(), expect: [] },
  {
    id: 'cluster.node-agents-inconsistent',
    name: 'the pair’s target node lags: self-update',
    snap: clusteredSnap({}, {}, { nodes: [node('files-b', { agentVersion: '1.3.2' }), node('files-b2')] }),
    expect: [{ subject: 'node=files-b', status: 'error-fixable', plan: ['agent.upgrade'], also: (f) => expect(f.plan![0]).toMatchObject({ node: 'target', version: '1.4.0', before: '1.3.2', after: '1.4.0' }) }],
  },
  {
    id: 'cluster.node-agents-inconsistent',
    name: 'another node lags, and one keeps hooks elsewhere',
    snap: clusteredSnap({}, { nodes: [node('files-a'), node('files-a2', { agentVersion: '1.3.0', hooksDir: '/opt/tandem/hooks' })] }),
    expect: [
      { subject: 'node=files-a2', status: 'error-manual', guidance: /from that node/ },
      { subject: 'hooks=files-a2', status: 'error-manual', guidance: /default install path/ },
    ],
  },
  { id: 'cluster.resource-missing', name: 'listed resources exist', snap: clusteredSnap(), expect: [] },
  { id: 'cluster.resource-missing', name: 'a listed resource is absent', snap: clusteredSnap({ pair: { resources: ['fs-srv', 'smb', 'vip'] } }), expect: [{ subject: 'resource=vip', status: 'error-manual' }] },
  { id: 'cluster.resource-online-on-target', name: 'stopped on the target', snap: clusteredSnap(), expect: [] },
  {
    id: 'cluster.resource-online-on-target',
    name: 'started on the target',
    snap: clusteredSnap({}, {}, { resources: [resource('fs-srv', { state: 'Started', node: 'files-b' }), resource('smb')] }),
    expect: [{ subject: 'resource=fs-srv', status: 'error-fixable', plan: ['cluster.resource.offline'], also: (f) => expect(f.plan![0]).toMatchObject({ node: 'target', resource: 'fs-srv', before: 'Started', after: 'offline' }) }],
  },
  { id: 'cluster.resource-auto-online', name: 'no automatic start on the target', snap: clusteredSnap(), expect: [] },
  {
    id: 'cluster.resource-auto-online',
    name: 'starts by itself on the target',
    snap: clusteredSnap({}, {}, { resources: [resource('fs-srv'), resource('smb', { autoStart: true })] }),
    expect: [{ subject: 'resource=smb', status: 'warning-fixable', plan: ['cluster.resource.set-autostart'], also: (f) => expect(f.plan![0]).toMatchObject({ resource: 'smb', autoStart: false, after: 'target-role=Stopped' }) }],
  },
  { id: 'cluster.network-name-dns-optional', name: 'RequireDNS set', snap: clusteredSnap({}, wsfc(), wsfc()), expect: [] },
  {
    id: 'cluster.network-name-dns-optional',
    name: 'source network name without RequireDNS',
    snap: clusteredSnap({}, wsfc({ resources: [netName('FILES-VNN', '0')] }), wsfc()),
    expect: [{ subject: 'resource=FILES-VNN', status: 'warning-fixable', plan: ['cluster.resource.set-property'], also: (f) => expect(f.plan![0]).toMatchObject({ node: 'source', key: 'RequireDNS', value: '1', before: '0' }) }],
  },
  { id: 'cluster.topology-unsupported', name: 'cluster to cluster', snap: clusteredSnap(), expect: [] },
  { id: 'cluster.topology-unsupported', name: 'cluster to standalone', snap: clusteredSnap({}, {}, null), expect: [] },
  { id: 'cluster.topology-unsupported', name: 'standalone to cluster', snap: clusteredSnap({}, null, {}), expect: [{ subject: 'topology=standalone to pacemaker cluster', status: 'error-manual' }] },
  { id: 'cluster.topology-unsupported', name: 'clusters of different kinds', snap: clusteredSnap({}, wsfc(), {}), expect: [{ subject: 'topology=wsfc cluster to pacemaker cluster', status: 'error-manual' }] },
  { id: 'cluster.route-not-role-address', name: 'route to the role address', snap: clusteredSnap(), expect: [] },
  {
    id: 'cluster.route-not-role-address',
    name: 'route to a node address',
    snap: clusteredSnap({ pair: { route: { address: '10.0.0.21' } } }),
    expect: [{ subject: 'route=10.0.0.21', status: 'warning-fixable', plan: ['pair.set'], also: (f) => expect(f.plan![0]).toMatchObject({ key: 'connection.route', value: '10.0.0.20', before: '10.0.0.21' }) }],
  },
  { id: 'cluster.owner-changed-during-failover', name: 'failed over, same owner', snap: clusteredSnap({ pair: { state: 'failed_over', failedOver: true } }, {}, { ownerAtFailover: 'files-b' }), expect: [] },
  {
    id: 'cluster.owner-changed-during-failover',
    name: 'the role moved after the failover',
    snap: clusteredSnap({ pair: { state: 'failed_over', failedOver: true } }, {}, { ownerAtFailover: 'files-b', roles: [{ name: 'files', owner: 'files-b2', address: '10.0.0.20', resources: ['fs-srv', 'smb'] }] }),
    expect: [{ subject: 'role=files', status: 'warning-fixable', plan: ['pair.set'], also: (f) => expect(f.plan![0]).toMatchObject({ key: 'failback.executor', value: 'files-b2', before: 'files-b' }) }],
  },
  { id: 'cluster.fencing-disabled', name: 'fencing on', snap: clusteredSnap(), expect: [] },
  { id: 'cluster.fencing-disabled', name: 'Pacemaker fencing off', snap: clusteredSnap({}, { fencing: { enabled: false, devices: 0 } }), expect: [{ subject: 'cluster=source-cluster', status: 'error-manual' }] },
  { id: 'cluster.fencing-disabled', name: 'Windows cluster, even votes, no witness', snap: clusteredSnap({}, {}, wsfc({ quorum: { quorate: true, votes: 2, witness: false } })), expect: [{ subject: 'cluster=target-cluster', status: 'error-manual' }] },
];

describe('cluster checks', () => {
  it('covers every cluster check with a good and a firing case', () => {
    for (const c of clusterChecks) {
      expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(clusterChecks).toHaveLength(10);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('is hidden when neither side is clustered (the healthy fixture)', () => {
    expect(evaluateChecks(clusterChecks, snapshotFixture())).toEqual([]);
  });

  it('target-side fixes are refused while protected; the source cluster’s RequireDNS fix is not', () => {
    const s = clusteredSnap({ pair: { state: 'protected', protected: true } }, wsfc({ resources: [netName('A-VNN', '0')] }), wsfc({ resources: [resource('fs-srv', { state: 'Online' }), resource('smb'), netName('B-VNN', '0')] }));
    const findings = evaluateChecks(clusterChecks, s).flatMap((r) => r.findings);
    const blocked = Object.fromEntries(findings.map((f) => [`${f.checkId} ${f.subject}`, f.blockedReason !== null]));
    expect(blocked).toEqual({ 'cluster.resource-online-on-target resource=fs-srv': true, 'cluster.network-name-dns-optional resource=A-VNN': false, 'cluster.network-name-dns-optional resource=B-VNN': true });
  });

  it('a missing fact makes the check unknown', () => {
    const s = snap({ cluster: { source: pcs('source'), target: undefined } });
    expect(unknownOutcome(clusterChecks, 'cluster.resource-missing', s)).toEqual([{ status: 'unknown', gate: null, reason: true }]);
  });
});
