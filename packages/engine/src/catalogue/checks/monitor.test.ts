import { describe, expect, it } from 'vitest';
import { monitorChecks } from './monitor.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { ClusterSideFacts, FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;
const cluster = (failoverSeconds: number | null): ClusterSideFacts => ({ kind: 'pacemaker', name: 'files', nodes: [], roles: [], resources: [], fencing: { enabled: true, devices: 1 }, quorum: { quorate: true, votes: 3, witness: true }, failoverSeconds, ownerAtFailover: null });
const clustered = (failoverSeconds: number | null, patch: Parameters<typeof withFacts<FactsSnapshot>>[1] = {}) => withFacts(withFacts(base(), { cluster: { source: cluster(failoverSeconds), target: null } }), patch);
const automatic = (fencing: string[]) => withFacts(base(), { pair: { failover: { approvalRequired: false }, fencing } });

const cases: Case[] = [
  { name: 'icmp-blocked: heartbeat monitor', id: 'monitor.icmp-blocked', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'icmp-blocked: ICMP answers', id: 'monitor.icmp-blocked', snap: withFacts(base(), { pair: { monitor: { method: 'icmp' } } }), side: 'none', expected: { status: 'good' } },
  {
    name: 'icmp-blocked: echoes lost, heartbeat fine → switch to the heartbeat',
    id: 'monitor.icmp-blocked',
    snap: withFacts(base(), { pair: { monitor: { method: 'icmp' } }, replication: { monitorProbe: { icmpOk: false, agentOk: true } } }),
    side: 'none',
    expected: { status: 'error-fixable', findings: [{ subject: 'setting=monitor.method', plan: [{ action: 'pair.set', key: 'failover.monitor.method', value: 'agent', after: 'agent-heartbeat' }] }] },
  },
  { name: 'icmp-blocked: hidden without failover', id: 'monitor.icmp-blocked', snap: withFacts(base(), { pair: { failover: { enabled: false }, monitor: { method: 'icmp' } }, replication: { monitorProbe: { icmpOk: false, agentOk: true } } }), side: 'none', expected: { status: 'hidden' } },
  { name: 'icmp-blocked: both fail (the source may be down)', id: 'monitor.icmp-blocked', snap: withFacts(base(), { pair: { monitor: { method: 'icmp' } }, replication: { monitorProbe: { icmpOk: false, agentOk: false } } }), side: 'none', expected: { status: 'good' } },

  { name: 'window-short-for-cluster: source not clustered', id: 'monitor.window-short-for-cluster', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'window-short-for-cluster: 25 s window, 20 s cluster move', id: 'monitor.window-short-for-cluster', snap: clustered(20), side: 'none', expected: { status: 'good' } },
  {
    name: 'window-short-for-cluster: 25 s window, 42 s cluster move → 10 beats (absolute)',
    id: 'monitor.window-short-for-cluster',
    snap: clustered(42),
    side: 'none',
    expected: { status: 'warning-fixable', findings: [{ subject: 'setting=monitor.missed', plan: [{ action: 'pair.set', key: 'failover.monitor.missed', value: 10, before: '5', after: '10' }] }] },
  },
  { name: 'window-short-for-cluster: beyond the settings’ limit → manual', id: 'monitor.window-short-for-cluster', snap: clustered(900, { pair: { monitor: { intervalSeconds: 1, missed: 5 } } }), side: 'none', expected: { status: 'warning-manual' } },

  { name: 'failover-pending-approval: nothing pending', id: 'monitor.failover-pending-approval', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'failover-pending-approval: waiting', id: 'monitor.failover-pending-approval', snap: withFacts(base(), { replication: { pendingFailover: true } }), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'pair=Main file server', guidance: /incident view/ }] } },

  { name: 'automatic-without-fencing: approval required', id: 'monitor.automatic-without-fencing', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'automatic-without-fencing: automatic with DNS fencing', id: 'monitor.automatic-without-fencing', snap: automatic(['dns']), side: 'none', expected: { status: 'good' } },
  { name: 'automatic-without-fencing: automatic, no fencing', id: 'monitor.automatic-without-fencing', snap: automatic([]), side: 'none', expected: { status: 'error-manual', findings: [{ subject: 'pair=Main file server', guidance: /fencing method/ }] } },
  { name: 'automatic-without-fencing: DNS fencing on a zone without dynamic updates', id: 'monitor.automatic-without-fencing', snap: withFacts(automatic(['dns']), { dns: { zone: { dynamicUpdate: 'none' } } }), side: 'none', expected: { status: 'error-manual' } },
];

describe('monitor checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(monitorChecks, snapshotFixture())).toEqual([]);
  });

  it.each(cases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(monitorChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('a missing fact gives unknown, not a crash', () => {
    expect(outcomeOf(monitorChecks, 'monitor.window-short-for-cluster', withFacts(base(), { cluster: undefined }), 'none').status).toBe('unknown');
    expect(outcomeOf(monitorChecks, 'monitor.icmp-blocked', withFacts(base(), { replication: { monitorProbe: null } }), 'none').status).toBe('unknown');
  });
});
