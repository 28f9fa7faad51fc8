// Pacemaker cluster facts from a REAL single-node Pacemaker + Corosync cluster in private
// namespaces (support/pacemaker/cluster.ts). The agent's collectFacts runs inside those namespaces
// (support/pacemaker/collect.ts), with the real crm_mon, cibadmin and corosync.conf.
// The recorded-output cases are in agent-facts-cluster.test.ts.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { child, children, descendants } from '../../apps/agent/src/facts/xml.ts';
import { startPacemakerCluster, type PacemakerCluster } from './support/pacemaker/cluster.ts';

const support = path.join(import.meta.dirname, 'support/pacemaker');
const CLUSTER_NAME = 'tandem-live';
const NODE_NAME = 'tandem-pcmk1';
const RESOURCES = ['tandem-dummy-a', 'tandem-dummy-b'];

let cluster: PacemakerCluster;

async function collectInCluster() {
  const { stdout } = await cluster.run(process.execPath, ['--import', 'tsx', path.join(support, 'collect.ts')], 30_000);
  const section: unknown = JSON.parse(stdout);
  return section;
}

beforeAll(async () => {
  cluster = await startPacemakerCluster({
    clusterName: CLUSTER_NAME,
    resources: [...RESOURCES.map((id) => ({ id })), { id: 'tandem-web-ip' }, { id: 'tandem-web-app' }],
    groups: [{ id: 'tandem-web', resources: ['tandem-web-ip', 'tandem-web-app'] }],
    constraintsXml: `<rsc_location id="loc-web" rsc="tandem-web" node="${NODE_NAME}" score="100"/>
      <rsc_colocation id="col-a-web" rsc="tandem-dummy-a" with-rsc="tandem-web" score="INFINITY"/>
      <rsc_order id="ord-web-a" first="tandem-web" then="tandem-dummy-a" kind="Optional"/>`,
  });
}, 45_000);

afterAll(async () => {
  await cluster?.stop();
}, 20_000);

const dummy = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'ocf:pacemaker:Dummy',
  role: 'Started',
  node: NODE_NAME,
  group: null,
  targetRole: null,
  ...extra,
});

describe('Pacemaker cluster facts (real Pacemaker + Corosync, single node in private namespaces)', () => {
  it('reports the stack, the corosync.conf cluster name, quorum, the node, resources, groups, constraints and fencing', async () => {
    const top = await cluster.crmMon();
    const dc = child(child(top, 'summary'), 'current_dc');
    const quorate = dc?.attrs.with_quorum === 'true'; // as crm_mon itself reports it
    expect(dc?.attrs.present).toBe('true');

    expect(await collectInCluster()).toEqual({
      status: 'ok',
      data: {
        stack: 'pacemaker',
        name: CLUSTER_NAME,
        quorate,
        nodes: [{ name: NODE_NAME, online: true }],
        resources: [
          ...RESOURCES.map((id) => dummy(id)),
          dummy('tandem-web-ip', { group: 'tandem-web' }),
          dummy('tandem-web-app', { group: 'tandem-web' }),
        ],
        groups: [{ id: 'tandem-web', resources: ['tandem-web-ip', 'tandem-web-app'], node: NODE_NAME }],
        constraints: [
          { id: 'loc-web', kind: 'location', resource: 'tandem-web', node: NODE_NAME, with: null, score: '100' },
          { id: 'col-a-web', kind: 'colocation', resource: 'tandem-dummy-a', node: null, with: 'tandem-web', score: 'INFINITY' },
          { id: 'ord-web-a', kind: 'order', resource: 'tandem-web', node: null, with: 'tandem-dummy-a', score: null },
        ],
        fencing: { enabled: false, devices: 0 },
      },
    });
    expect(quorate).toBe(true); // one node of one expected vote
  });

  it('reports a resource stopped by its target-role as Stopped on no node, with target-role Stopped', async () => {
    const [, stopped] = RESOURCES;
    await cluster.run('crm_resource', [
      '--resource',
      stopped!,
      '--meta',
      '--set-parameter',
      'target-role',
      '--parameter-value',
      'Stopped',
    ]);
    await cluster.waitFor('the resource to stop', async () => (await cluster.resourceRoles())[stopped!] === 'Stopped');

    const facts = (await collectInCluster()) as { status: string; data: { resources: unknown[]; nodes: unknown[] } };
    expect(facts.status).toBe('ok');
    expect(facts.data.nodes).toEqual([{ name: NODE_NAME, online: true }]);
    expect(facts.data.resources.slice(0, 2)).toEqual([
      dummy(RESOURCES[0]!),
      dummy(stopped!, { role: 'Stopped', node: null, targetRole: 'Stopped' }),
    ]);
    // crm_mon lists the node a resource runs on; a stopped one has none.
    const top = await cluster.crmMon();
    const entry = descendants(child(top, 'resources'), 'resource').find((r) => r.attrs.id === stopped);
    expect(children(entry, 'node')).toEqual([]);
  });
});
