import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import type { RunbookCluster } from './common.ts';
import { describeChanges } from './describe.ts';
import { planFailback, type FailbackPlanInput } from './failback.ts';
import { planFailover, type FailoverPlanInput } from './failover.ts';
import { readBack, settings, source, target } from './test-fixtures.ts';
import { undoPlan } from './undo.ts';

// Cluster resources in failover and failback: the named resources move through the cluster
// (cluster.resource) instead of as services, and the cluster's configuration is kept first.

const cluster = (node: string, over: Partial<RunbookCluster> = {}): RunbookCluster => ({
  stack: 'pacemaker',
  name: 'web-cluster',
  node,
  resources: [
    { id: 'web-ip', group: 'web', node },
    { id: 'web-app', group: 'web', node },
    { id: 'db', group: null, node },
  ],
  groups: [{ id: 'web', resources: ['web-ip', 'web-app'], node }],
  ...over,
});

// Identity failover (no DNS answers needed); 'db' is also listed as a service: the cluster owns it.
const clustered = settings({
  failover: {
    type: 'identity',
    identity: { addresses: [{ address: '10.0.0.50', prefix: 24, targetInterface: null }], force: false },
    services: ['db', 'smbd'],
    extraServices: [],
    clusterResources: ['web', 'db'],
  },
});

const failover = (over: Partial<FailoverPlanInput> = {}): FailoverPlanInput => ({
  pairId: '00000000-0000-4000-8000-0000000000f0',
  pairName: 'Web',
  method: 'file',
  settings: clustered,
  source: source(),
  target: target({ cluster: cluster('node-b') }),
  mode: 'graceful',
  dnsAnswers: null,
  ...over,
});

const line = (s: ReturnType<typeof planFailover>['steps'][number]) => {
  const extra =
    s.kind === 'cluster.resource'
      ? ` ${s.params.resource} ${s.params.state}${s.params.node ? `@${s.params.node}` : ''}`
      : s.kind === 'services.start' || s.kind === 'services.stop'
        ? ` ${s.params.services.join(',')}`
        : '';
  return `${s.kind}${'side' in s.params ? ` ${s.params.side}` : ''}${extra}${s.optional ? '?' : ''}`;
};

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).message;
  }
  throw new Error('not refused');
};

describe('planFailover with cluster resources', () => {
  it('keeps the target cluster’s configuration first, then brings the named group and resource online on the target’s node instead of starting them as services', () => {
    const r = planFailover(failover());
    expect(r.steps.map(line)).toEqual([
      'agents.check',
      'cluster.snapshot target?',
      'pair.set-state',
      'services.stop source smbd',
      'replication.drain',
      'replication.stop target',
      'monitor.stop target?',
      'replication.stop source?',
      'monitor.stop source?',
      'address.ensure source',
      'address.ensure target',
      'cluster.resource target web online@node-b',
      'cluster.resource target db online@node-b',
      'services.start target smbd',
      'pair.set-state',
    ]);
    const online = r.steps.find((s) => s.kind === 'cluster.resource');
    expect(online?.params).toEqual({ side: 'target', stack: 'pacemaker', resource: 'web', kind: 'group', state: 'online', node: 'node-b', timeoutSeconds: 120 });
    expect(r.steps[1]!.params).toEqual({ side: 'target', reason: 'before_failover' });
    // Every step survives the round trip through its stored row.
    expect(readBack(r)).toEqual(r.steps);
  });

  it('takes them offline on a clustered source first (gracefully; best effort when its agent is offline)', () => {
    const both = { source: source({ cluster: cluster('node-a') }), target: target({ cluster: cluster('node-b') }) };
    const graceful = planFailover(failover(both)).steps.map(line);
    expect(graceful.slice(3, 7)).toEqual(['services.stop source smbd', 'cluster.resource source web offline', 'cluster.resource source db offline', 'replication.drain']);

    const gone = planFailover(failover({ ...both, source: source({ agentOnline: false, cluster: cluster('node-a') }) }));
    const lines = gone.steps.map(line);
    expect(lines).toContain('cluster.resource source web offline?');
    // Still before the cut-over: a failure later undoes them.
    const at = lines.indexOf('cluster.resource source db offline?');
    expect(at).toBeGreaterThan(-1);
    expect(at).toBeLessThan(gone.pointOfNoReturn!);
  });

  it('plans no cluster step for a target outside a cluster and a pair that names no resources', () => {
    const plain = settings({ failover: { type: 'identity', identity: { addresses: [{ address: '10.0.0.50', prefix: 24, targetInterface: null }], force: false } } });
    const r = planFailover(failover({ settings: plain, target: target() }));
    expect(r.steps.some((s) => s.kind.startsWith('cluster.'))).toBe(false);
    // A clustered target is still snapshotted, even when no resource moves.
    const c = planFailover(failover({ settings: plain }));
    expect(c.steps.map(line).filter((l) => l.startsWith('cluster.'))).toEqual(['cluster.snapshot target?']);
  });

  it('refuses names the target’s cluster does not know, a target that is not a member, and an unknown node', () => {
    const typo = settings({ failover: { ...clustered.failover, clusterResources: ['web', 'Db', 'mail'] } });
    expect(refusal(() => planFailover(failover({ settings: typo })))).toMatch(/cluster web-cluster on fs02 has no resource or group named Db and mail/);
    expect(refusal(() => planFailover(failover({ target: target() })))).toMatch(/names cluster resources \(web and db\) but fs02 is not a cluster member/);
    expect(refusal(() => planFailover(failover({ target: target({ cluster: cluster('x', { node: null }) }) })))).toMatch(/which node of cluster web-cluster fs02 is/);
  });

  it('describes the resources as cluster changes and undoes a source taken offline by bringing it online again', () => {
    const both = { source: source({ cluster: cluster('node-a') }), target: target({ cluster: cluster('node-b') }) };
    const r = planFailover(failover(both));
    const changes = describeChanges(r).filter((c) => c.kind === 'cluster');
    expect(changes.map((c) => [c.side, c.summary, c.after, c.pastPointOfNoReturn])).toEqual([
      ['target', r.steps[1]!.description, 'configuration kept as a version', false],
      ['source', 'Take offline: cluster group web', 'offline', false],
      ['source', 'Take offline: cluster resource db', 'offline', false],
      ['target', 'Bring online: cluster group web', 'online on node node-b', true],
      ['target', 'Bring online: cluster resource db', 'online on node node-b', true],
    ]);
    const offline = r.steps.findIndex((s) => s.kind === 'cluster.resource' && s.params.side === 'source');
    const plan = undoPlan(r.steps, [0, 1, 2, 3, offline, offline + 1], r.pointOfNoReturn);
    const back = plan.steps.filter((s) => s.kind === 'cluster.resource');
    expect(back.map((s) => s.params)).toEqual([
      { side: 'source', stack: 'pacemaker', resource: 'db', kind: 'resource', state: 'online', node: null, timeoutSeconds: 120 },
      { side: 'source', stack: 'pacemaker', resource: 'web', kind: 'group', state: 'online', node: null, timeoutSeconds: 120 },
    ]);
    expect(back.every((s) => s.optional)).toBe(true);
    // The snapshot changed nothing to put back.
    expect(plan.steps.some((s) => s.kind === 'cluster.snapshot')).toBe(false);
  });
});

describe('planFailback with cluster resources', () => {
  const input = (over: Partial<FailbackPlanInput> = {}): FailbackPlanInput => ({
    pairId: '00000000-0000-4000-8000-0000000000f0',
    pairName: 'Web',
    method: 'file',
    settings: clustered,
    source: source({ cluster: cluster('node-a') }),
    target: target({ cluster: cluster('node-b') }),
    restoreFirst: false,
    reprotect: false,
    failover: { dnsChanges: [], addresses: [{ address: '10.0.0.50', prefix: 24, interface: 'eth0', sourceInterface: 'eth0' }] },
    dnsAnswers: null,
    ...over,
  });

  it('reverses the failover: offline on the target, the addresses back, online on the source’s node', () => {
    const r = planFailback(input());
    expect(r.steps.map(line)).toEqual([
      'agents.check',
      'cluster.snapshot target?',
      'pair.set-state',
      'services.stop target smbd',
      'cluster.resource target web offline',
      'cluster.resource target db offline',
      'address.ensure target',
      'address.ensure source',
      'cluster.resource source web online@node-a',
      'cluster.resource source db online@node-a',
      'services.start source smbd',
      'pair.set-state',
    ]);
    expect(r.steps[1]!.params).toEqual({ side: 'target', reason: 'before_failback' });
    expect(readBack(r)).toEqual(r.steps);
  });

  it('only uses the clusters that know the resources, and refuses names neither side knows', () => {
    // The source is no cluster member: the resources just go offline on the target.
    const r = planFailback(input({ source: source() }));
    expect(r.steps.map(line).filter((l) => l.startsWith('cluster.'))).toEqual(['cluster.snapshot target?', 'cluster.resource target web offline', 'cluster.resource target db offline']);
    const typo = settings({ failover: { ...clustered.failover, clusterResources: ['web', 'mail'] } });
    expect(refusal(() => planFailback(input({ settings: typo })))).toMatch(/Neither fs01 nor fs02 reports a cluster resource or group named mail/);
  });
});
