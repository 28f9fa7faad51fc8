import { describe, expect, it } from 'vitest';
import { topologyChecks } from './topology.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot, ReplicationFacts } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;
const PAIR = base().pair.id;
const S = base().source!.serverId;
const T = base().target!.serverId;
const OTHER = '00000000-0000-4000-8000-0000000000ff';
const conn = (c: Partial<ReplicationFacts['connections'][number]>): ReplicationFacts['connections'][number] => ({ id: 'c-1', pairId: null, sourceServerId: S, targetServerId: T, paths: ['/srv/files'], method: 'files', active: true, ...c });
const mon = (m: Partial<ReplicationFacts['monitors'][number]>): ReplicationFacts['monitors'][number] => ({ id: 'm-1', pairId: PAIR, sourceServerId: S, targetServerId: T, active: true, ...m });
const withConns = (...connections: ReplicationFacts['connections']) => withFacts(base(), { replication: { connections } });
const withMons = (...monitors: ReplicationFacts['monitors']) => withFacts(base(), { replication: { monitors } });
const streamingPg = (source: number, target: number, method: 'logical' | 'streaming' = 'logical') =>
  withFacts(base(), { pair: { app: 'postgres', application: 'postgresql', method, replicationMethod: 'postgresql_streaming', rules: null }, source: { apps: { postgres: { versionNum: source } } }, target: { apps: { postgres: { versionNum: target } } } });

const cases: Case[] = [
  { name: 'reverse-connection: none', id: 'topology.reverse-connection', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'reverse-connection: finished restore leg of this pair → remove', id: 'topology.reverse-connection', snap: withConns(conn({ id: 'rev-1', pairId: PAIR, sourceServerId: T, targetServerId: S, active: false })), side: 'none', expected: { status: 'error-fixable', findings: [{ subject: 'connection=rev-1', plan: [{ action: 'replication.connection.remove', connectionId: 'rev-1' }] }] } },
  { name: 'reverse-connection: foreign connection → manual', id: 'topology.reverse-connection', snap: withConns(conn({ id: 'rev-2', sourceServerId: T, targetServerId: S, paths: ['/srv'] })), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'connection=rev-2', guidance: /never removes/ }] } },
  { name: 'reverse-connection: disjoint paths are no loop of data', id: 'topology.reverse-connection', snap: withConns(conn({ id: 'rev-3', sourceServerId: T, targetServerId: S, paths: ['/home'] })), side: 'none', expected: { status: 'good' } },

  { name: 'duplicate-monitor: one monitor', id: 'topology.duplicate-monitor', snap: withMons(mon({})), side: 'none', expected: { status: 'good' } },
  { name: 'duplicate-monitor: stale monitor of this pair → remove', id: 'topology.duplicate-monitor', snap: withMons(mon({ id: 'm-new' }), mon({ id: 'm-old', active: false })), side: 'none', expected: { status: 'error-fixable', findings: [{ subject: 'monitor=m-old', plan: [{ action: 'replication.monitor.remove', monitorId: 'm-old' }] }] } },
  { name: 'duplicate-monitor: another pair’s monitor → manual', id: 'topology.duplicate-monitor', snap: withMons(mon({ id: 'm-mine' }), mon({ id: 'm-theirs', pairId: OTHER })), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'monitor=m-theirs' }] } },

  { name: 'monitor-missing: not replicating yet', id: 'topology.monitor-missing', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'monitor-missing: protected with a monitor', id: 'topology.monitor-missing', snap: withFacts(base(), { pair: { state: 'protected', protected: true }, replication: { monitors: [mon({})] } }), side: 'none', expected: { status: 'good' } },
  { name: 'monitor-missing: protected without a monitor → create, allowed while protected', id: 'topology.monitor-missing', snap: withFacts(base(), { pair: { state: 'protected', protected: true } }), side: 'none', expected: { status: 'warning-fixable', findings: [{ subject: 'pair=Main file server', actions: ['replication.monitor.create'], blocked: false }] } },
  { name: 'monitor-missing: failover off on purpose → manual note', id: 'topology.monitor-missing', snap: withFacts(base(), { pair: { state: 'protected', protected: true, failover: { enabled: false } } }), side: 'none', expected: { status: 'warning-manual', findings: [{ guidance: /acknowledge/ }] } },

  { name: 'restore-required: nothing pending', id: 'topology.restore-required', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'restore-required: changes left on the target', id: 'topology.restore-required', snap: withFacts(base(), { replication: { restoreRequired: true } }), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'pair=Main file server', guidance: /restore/ }] } },

  { name: 'unsupported-chain: alone', id: 'topology.unsupported-chain', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'unsupported-chain: file cascade is allowed', id: 'topology.unsupported-chain', snap: withConns(conn({ id: 'up', sourceServerId: OTHER, targetServerId: S })), side: 'none', expected: { status: 'good' } },
  { name: 'unsupported-chain: loop back', id: 'topology.unsupported-chain', snap: withConns(conn({ id: 'loop', pairId: OTHER, sourceServerId: T, targetServerId: S, paths: ['/home'] })), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'connection=loop' }] } },
  { name: 'unsupported-chain: file pairs sharing a target with overlapping paths', id: 'topology.unsupported-chain', snap: withConns(conn({ id: 'shared', pairId: OTHER, sourceServerId: OTHER, paths: ['/srv/files/a'] })), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'connection=shared', guidance: /disjoint/ }] } },
  { name: 'unsupported-chain: file pairs sharing a target with disjoint paths', id: 'topology.unsupported-chain', snap: withConns(conn({ id: 'shared', pairId: OTHER, sourceServerId: OTHER, paths: ['/srv/other'] })), side: 'none', expected: { status: 'good' } },
  { name: 'unsupported-chain: logical cascade is not allowed', id: 'topology.unsupported-chain', snap: withFacts(streamingPg(160004, 160004), { replication: { connections: [conn({ id: 'up', sourceServerId: OTHER, targetServerId: S, paths: [] })] } }), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'connection=up' }] } },

  { name: 'stale-addresses: all on the nodes', id: 'topology.stale-addresses', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'stale-addresses: host names and loopback are not compared', id: 'topology.stale-addresses', snap: withFacts(base(), { pair: { savedAddresses: ['10.0.0.10', 'files-b.corp.example.com', '127.0.0.1'] } }), side: 'none', expected: { status: 'good' } },
  { name: 'stale-addresses: staging address', id: 'topology.stale-addresses', snap: withFacts(base(), { pair: { savedAddresses: ['10.0.0.10', '192.168.50.20'] } }), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'address=192.168.50.20', guidance: /address step/ }] } },

  { name: 'failback-impossible: hidden for file servers', id: 'topology.failback-impossible', snap: base(), side: 'none', expected: { status: 'hidden' } },
  { name: 'failback-impossible: hidden for streaming (same major required elsewhere)', id: 'topology.failback-impossible', snap: streamingPg(150008, 160004, 'streaming'), side: 'none', expected: { status: 'hidden' } },
  { name: 'failback-impossible: same release', id: 'topology.failback-impossible', snap: streamingPg(160004, 160004), side: 'none', expected: { status: 'good' } },
  { name: 'failback-impossible: logical 15 → 16', id: 'topology.failback-impossible', snap: streamingPg(150008, 160004), side: 'none', expected: { status: 'warning-manual', findings: [{ subject: 'app=postgres', guidance: /one-way migration/ }] } },
];

describe('topology checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(topologyChecks, snapshotFixture())).toEqual([]);
  });

  it.each(cases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(topologyChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('a missing fact gives unknown, not a crash', () => {
    const snap = withFacts(base(), { target: { interfaces: undefined, failures: { interfaces: 'ip addr failed' } } });
    expect(outcomeOf(topologyChecks, 'topology.stale-addresses', snap, 'none').status).toBe('unknown');
    const noApp = withFacts(streamingPg(150008, 160004), { target: { apps: { postgres: undefined } } });
    expect(outcomeOf(topologyChecks, 'topology.failback-impossible', noApp, 'none').status).toBe('unknown');
  });
});
