// The cluster pages' API: clusters derived from the members' facts (resources, where they run,
// constraints, fencing), saved configuration versions and the diff between two, and the
// requests for a backup and a restore (operations handed to the worker's queue; no worker runs
// here). Roles, validation and tenant isolation.
import { createHash, randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { operationsQueue, redisConnection, type OperationJob } from '@tandem/jobs';
import { auditEventsOf, callerFor, expectCode } from './helpers';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let t: Tenant;
let other: Tenant;
let queue: Queue<OperationJob>;
const clusterName = `web-${randomUUID().slice(0, 6)}`;
const nodes: { id: string; hostname: string }[] = [];
let v1: string;
let v2: string;
let otherClusterVersion: string;

/** The cluster section of a member's facts, as an agent on a Pacemaker node reports it. */
function clusterFacts(name: string, node2Online = true) {
  return {
    stack: 'pacemaker',
    name,
    quorate: true,
    nodes: [
      { name: 'node1', online: true },
      { name: 'node2', online: node2Online },
    ],
    resources: [
      { id: 'vip', type: 'ocf:heartbeat:IPaddr2', role: 'Started', node: 'node1', group: 'web-group', targetRole: null },
      { id: 'httpd', type: 'ocf:heartbeat:apache', role: 'Started', node: 'node1', group: 'web-group', targetRole: 'Started' },
      { id: 'backup-job', type: 'systemd:backup', role: 'Stopped', node: null, group: null, targetRole: 'Stopped' },
    ],
    groups: [{ id: 'web-group', resources: ['vip', 'httpd'], node: 'node1' }],
    constraints: [
      { id: 'loc-web', kind: 'location', resource: 'web-group', node: 'node1', with: null, score: '100' },
      { id: 'col-backup', kind: 'colocation', resource: 'backup-job', node: null, with: 'web-group', score: 'INFINITY' },
    ],
    fencing: { enabled: false, devices: 0 },
  };
}

const cib = (ip: string, epoch: number) =>
  `<cib epoch="${epoch}" num_updates="0" admin_epoch="0"><configuration><resources><group id="web-group"><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="${ip}"/></instance_attributes></primitive></group></resources></configuration></cib>`;

async function version(
  tenant: Tenant,
  customerId: string,
  serverId: string,
  name: string,
  content: string,
  takenAt: Date,
  reason = 'scheduled',
) {
  const v = await ownerDb().clusterConfigVersion.create({
    data: {
      organizationId: tenant.org.id,
      customerId,
      stack: 'pacemaker',
      clusterName: name,
      serverId,
      reason,
      epoch: `0.${takenAt.getTime() % 1000}.0`,
      sha256: createHash('sha256').update(content).digest('hex'),
      sizeBytes: Buffer.byteLength(content),
      content,
      takenAt,
    },
  });
  return v.id;
}

beforeAll(async () => {
  [t, other] = await Promise.all([createTenant(), createTenant()]);
  queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  for (const hostname of ['node1.corp.test', 'node2.corp.test']) {
    const s = await createServer(t.customerX, hostname);
    await ownerDb().server.update({
      where: { id: s.id },
      data: { facts: { cluster: { status: 'ok', data: clusterFacts(clusterName, true) } }, factsAt: new Date() },
    });
    await ownerDb().agent.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        serverId: s.id,
        status: hostname.startsWith('node1') ? 'online' : 'offline',
        credentialHash: randomUUID(),
      },
    });
    nodes.push({ id: s.id, hostname });
  }
  // A server with no cluster, and one whose cluster section could not be read.
  await ownerDb().server.update({ where: { id: t.serverX.id }, data: { facts: { cluster: { status: 'ok', data: null } } } });
  const unknown = await createServer(t.customerX, 'odd.corp.test');
  await ownerDb().server.update({
    where: { id: unknown.id },
    data: { facts: { cluster: { status: 'unknown', reason: 'crm_mon not found' } } },
  });
  // Another customer of the same organization has a cluster of the same name.
  const y = await createServer(t.customerY, 'y-node.corp.test');
  await ownerDb().server.update({
    where: { id: y.id },
    data: { facts: { cluster: { status: 'ok', data: clusterFacts(clusterName) } } },
  });
  otherClusterVersion = await version(t, t.customerY.id, y.id, clusterName, cib('10.9.9.9', 1), new Date());

  v1 = await version(t, t.customerX.id, nodes[0]!.id, clusterName, cib('10.0.0.10', 5), new Date(Date.now() - 3600_000));
  v2 = await version(t, t.customerX.id, nodes[0]!.id, clusterName, cib('10.0.0.20', 6), new Date(), 'before_failover');
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
});

describe('cluster.list and cluster.get', () => {
  it('lists the customer’s cluster once, from its members’ facts, with its versions counted', async () => {
    const list = await callerFor(t.viewer.id).cluster.list({ customerId: t.customerX.id });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      stack: 'pacemaker',
      name: clusterName,
      quorate: true,
      resources: 3,
      running: 2,
      versions: 2,
      fencing: { enabled: false, devices: 0 },
    });
    expect(list[0]!.members.map((m) => [m.hostname, m.agentStatus])).toEqual([
      ['node1.corp.test', 'online'],
      ['node2.corp.test', 'offline'],
    ]);
  });

  it('shows resources and where they run, groups, constraints, fencing, and the nodes matched to servers', async () => {
    const c = await callerFor(t.viewer.id).cluster.get({ customerId: t.customerX.id, stack: 'pacemaker', name: clusterName });
    expect(c.resources.map((r) => [r.id, r.node, r.group, r.running])).toEqual([
      ['vip', 'node1', 'web-group', true],
      ['httpd', 'node1', 'web-group', true],
      ['backup-job', null, null, false],
    ]);
    expect(c.constraints.map((x) => x.id)).toEqual(['loc-web', 'col-backup']);
    expect(c.fencing).toEqual({ enabled: false, devices: 0 });
    expect(c.nodes).toEqual([
      { name: 'node1', online: true, serverId: nodes[0]!.id, agentStatus: 'online' },
      { name: 'node2', online: true, serverId: nodes[1]!.id, agentStatus: 'offline' },
    ]);
    await expectCode(
      callerFor(t.viewer.id).cluster.get({ customerId: t.customerX.id, stack: 'pacemaker', name: 'no-such-cluster' }),
      'NOT_FOUND',
    );
    await expectCode(
      callerFor(t.viewer.id).cluster.get({ customerId: t.customerX.id, stack: 'windows-failover-cluster', name: clusterName }),
      'NOT_FOUND',
    );
  });

  it('customer users and other organizations see no clusters', async () => {
    await expectCode(callerFor(t.customerUser.id).cluster.list({ customerId: t.customerX.id }), 'FORBIDDEN');
    await expectCode(callerFor(other.owner.id).cluster.list({ customerId: t.customerX.id }), 'NOT_FOUND');
    await expectCode(
      callerFor(other.owner.id).cluster.get({ customerId: t.customerX.id, stack: 'pacemaker', name: clusterName }),
      'NOT_FOUND',
    );
  });
});

describe('versions and diff', () => {
  it('lists the versions newest first, without their content', async () => {
    const versions = await callerFor(t.viewer.id).cluster.versions({
      customerId: t.customerX.id,
      stack: 'pacemaker',
      name: clusterName,
    });
    expect(versions.map((v) => [v.id, v.reason, v.hostname])).toEqual([
      [v2, 'before_failover', 'node1.corp.test'],
      [v1, 'scheduled', 'node1.corp.test'],
    ]);
    expect(versions[0]).not.toHaveProperty('content');
  });

  it('shows what changed between two versions as hunks of removed and added lines', async () => {
    const d = await callerFor(t.viewer.id).cluster.diff({ fromId: v1, toId: v2 });
    expect(d).toMatchObject({ name: clusterName, format: 'xml', identical: false, from: { id: v1 }, to: { id: v2 } });
    const changed = d.hunks.flatMap((h) => h.lines.filter((l) => l.op !== ' ').map((l) => `${l.op}${l.text.trim()}`));
    expect(changed).toEqual(expect.arrayContaining(['-epoch="5"', '+epoch="6"', '-value="10.0.0.10"', '+value="10.0.0.20"']));
    const same = await callerFor(t.viewer.id).cluster.diff({ fromId: v1, toId: v1 });
    expect(same).toMatchObject({ identical: true, hunks: [] });
  });

  it('refuses two versions of different clusters, and another organization’s versions are not found', async () => {
    const err = await expectCode(callerFor(t.viewer.id).cluster.diff({ fromId: v1, toId: otherClusterVersion }), 'BAD_REQUEST');
    expect(err.message).toMatch(/same cluster/);
    await expectCode(callerFor(other.owner.id).cluster.diff({ fromId: v1, toId: v2 }), 'NOT_FOUND');
    expect(
      await callerFor(other.owner.id).cluster.versions({ customerId: other.customerX.id, stack: 'pacemaker', name: clusterName }),
    ).toEqual([]);
  });
});

describe('backup and restore requests', () => {
  const settle = () =>
    ownerDb().operation.updateMany({
      where: { customerId: t.customerX.id, clusterName, status: { in: ['pending', 'running'] } },
      data: { status: 'succeeded', finishedAt: new Date() },
    });

  it('"Take snapshot now" creates a cluster_backup operation for the cluster, queued and audited; a second waits for it', async () => {
    const { operationId } = await callerFor(t.operator.id).cluster.snapshot({
      customerId: t.customerX.id,
      stack: 'pacemaker',
      name: clusterName,
    });
    const op = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } });
    expect(op).toMatchObject({
      kind: 'cluster_backup',
      pairId: null,
      clusterStack: 'pacemaker',
      clusterName,
      dryRun: false,
      status: 'pending',
      requestedById: t.operator.id,
      options: { serverId: null },
    });
    expect((await queue.getJob(operationId))?.data).toEqual({
      operationId,
      organizationId: t.org.id,
      customerId: t.customerX.id,
    });
    const err = await expectCode(
      callerFor(t.operator.id).cluster.snapshot({ customerId: t.customerX.id, stack: 'pacemaker', name: clusterName }),
      'CONFLICT',
    );
    expect(err.message).toMatch(/cluster backup.*still running/);
    expect((await auditEventsOf(t.org.id)).filter((e) => e.action === 'cluster.snapshot').map((e) => e.targetId)).toEqual([
      operationId,
    ]);
    // The operation's timeline is read like a pair's.
    expect(await callerFor(t.viewer.id).pair.operation({ operationId })).toMatchObject({
      id: operationId,
      pairId: null,
      kind: 'cluster_backup',
    });
    await settle();
  });

  it('restore: a dry run first, then the real run only with the cluster’s name typed', async () => {
    const op = callerFor(t.operator.id);
    const preview = await op.cluster.restore.preview({ versionId: v1 });
    expect(await ownerDb().operation.findUniqueOrThrow({ where: { id: preview.operationId } })).toMatchObject({
      kind: 'cluster_restore',
      dryRun: true,
      clusterName,
      pairId: null,
      options: { versionId: v1, serverId: nodes[0]!.id }, // the node it was read from, online
    });
    await settle();
    const wrong = await expectCode(op.cluster.restore.start({ versionId: v1, confirmName: 'web' }), 'BAD_REQUEST');
    expect(wrong.message).toMatch(/Type the cluster's name/);
    await expectCode(op.cluster.restore.start({ versionId: v1, confirmName: clusterName, restoreOn: randomUUID() }), 'NOT_FOUND');
    const started = await op.cluster.restore.start({ versionId: v1, confirmName: ` ${clusterName} `, restoreOn: nodes[0]!.id });
    expect(await ownerDb().operation.findUniqueOrThrow({ where: { id: started.operationId } })).toMatchObject({
      kind: 'cluster_restore',
      dryRun: false,
      options: { versionId: v1, serverId: nodes[0]!.id },
    });
    expect(await queue.getJob(started.operationId)).toBeTruthy();
    const actions = (await auditEventsOf(t.org.id)).filter((e) => e.action.startsWith('cluster.restore')).map((e) => e.action);
    expect(actions).toEqual(['cluster.restore.preview', 'cluster.restore.start']);
    await settle();
  });

  it('viewers cannot back up or restore; nothing is created', async () => {
    const before = await ownerDb().operation.count({ where: { organizationId: t.org.id } });
    const viewer = callerFor(t.viewer.id);
    await expectCode(viewer.cluster.snapshot({ customerId: t.customerX.id, stack: 'pacemaker', name: clusterName }), 'FORBIDDEN');
    await expectCode(viewer.cluster.restore.preview({ versionId: v1 }), 'FORBIDDEN');
    await expectCode(viewer.cluster.restore.start({ versionId: v1, confirmName: clusterName }), 'FORBIDDEN');
    await expectCode(callerFor(other.owner.id).cluster.restore.preview({ versionId: v1 }), 'NOT_FOUND');
    expect(await ownerDb().operation.count({ where: { organizationId: t.org.id } })).toBe(before);
  });

  it('a snapshot needs an online agent on a node', async () => {
    await ownerDb().agent.updateMany({ where: { serverId: nodes[0]!.id }, data: { status: 'offline' } });
    const err = await expectCode(
      callerFor(t.operator.id).cluster.snapshot({ customerId: t.customerX.id, stack: 'pacemaker', name: clusterName }),
      'CONFLICT',
    );
    expect(err.message).toMatch(/No agent/);
    await ownerDb().agent.updateMany({ where: { serverId: nodes[0]!.id }, data: { status: 'online' } });
  });
});
