// Cluster resources and cluster configuration backup/restore against a REAL single-node Pacemaker +
// Corosync cluster in private namespaces (support/pacemaker/cluster.ts). The pair's target is the
// cluster node: its real agent runs inside the cluster's namespaces (reaching the test's gateway
// through the harness's loopback forwarder), the source's agent on the host; a real BIND 9 holds
// the records that move; the worker plans and runs everything through the gateway.
// - A failover brings a stopped resource online on the node through the runbook, after a CIB
//   snapshot (ClusterConfigVersion, reason before_failover) was kept; the failback takes it offline.
// - A resource parameter changed afterwards (crm_resource --set-parameter) is back after a
//   cluster_restore of that snapshot run by the worker (its dry run first changes nothing).
// - The scheduled snapshot keeps a version only when the configuration changed; a manual backup
//   runs through the worker, and one asked of a server outside the cluster is refused.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import type { PairSettings } from '@tandem/engine';
import { enqueueOperation, operationsQueue, redisConnection } from '@tandem/jobs';
import { openClusterConfig, sealClusterConfig, sealSecret } from '@tandem/security';
import { snapshotClusters } from '../../apps/worker/src/jobs/cluster-snapshots';
import { startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor } from './helpers';
import { agentBundle, agentCli, enrollmentToken, freePort, tempDir, waitFor } from './support/agents';
import { startBind, type Bind } from './support/bind';
import { finishedOperation, REVERSE_ZONE, reverseRecords, SOURCE_IP, TARGET_IP, ZONE, zoneRecords } from './support/failover';
import { startPacemakerCluster, type InClusterProcess, type PacemakerCluster } from './support/pacemaker/cluster';
import { ReplicationHarness, waitEqual, writeFiles, type Enrolled } from './support/replication/agents';
import { recordPassingValidation } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const CLUSTER = 'tandem-runbook';
const RESOURCE = 'app-db';

let cluster: PacemakerCluster;
let h: ReplicationHarness;
let bind: Bind;
let db: Db;
let worker: Worker | undefined;
let source: Enrolled;
let targetAgent: InClusterProcess;
let targetServerId: string;
let pairId: string;

const parameter = async (name: string) => (await cluster.run('crm_resource', ['--resource', RESOURCE, '--get-parameter', name])).stdout.trim();

async function enqueue(data: Parameters<ReturnType<typeof ownerDb>['operation']['create']>[0]['data']) {
  const op = await ownerDb().operation.create({ data });
  const queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  await enqueueOperation(queue, { operationId: op.id, organizationId: h.t.org.id, customerId: h.t.customerX.id });
  await queue.close();
  return op.id;
}

beforeAll(async () => {
  cluster = await startPacemakerCluster({
    clusterName: CLUSTER,
    // Stopped until the failover brings it online on the target.
    resources: [{ id: RESOURCE, targetRole: 'Stopped', params: { fake: 'original' } }],
  });
  h = new ReplicationHarness('pcmk-rb');
  await h.setup();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
  await worker.waitUntilReady();
  bind = await startBind([
    { name: ZONE, records: zoneRecords },
    { name: REVERSE_ZONE, records: reverseRecords },
  ]);

  source = await h.enrolAndRun('source');
  // The target: enrolled on the host, run inside the cluster's namespaces (its /tmp is the host's).
  await cluster.forward(h.gw.port);
  const dir = tempDir('pcmk-rb-target');
  h.cleanup.push(dir);
  const configPath = path.join(dir, 'agent.json');
  const res = await agentCli(['enroll', '--url', h.gw.url, `--token=${await enrollmentToken(h.t.customerX)}`, '--config', configPath, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', cluster.nodeName]);
  expect(res.output).toContain('Enrolled as agent');
  const cfg = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { agentId: string; serverId: string };
  targetServerId = cfg.serverId;
  targetAgent = cluster.spawn(process.execPath, [agentBundle, 'run', '--config', configPath], {
    env: { ...process.env, TANDEM_AGENT_BACKOFF_BASE_MS: '100', TANDEM_AGENT_BACKOFF_MAX_MS: '1000' },
  });
  await h.online(source.agentId);
  await waitFor('the target agent online (inside the cluster)', async () => (await h.bus.locate(cfg.agentId)) !== null, 30_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\n--- agent output\n${targetAgent.output()}`);
  });
  await waitFor('facts of the source', async () => (await ownerDb().server.findUniqueOrThrow({ where: { id: source.serverId } })).facts !== null, 30_000);
  // The target's facts report the cluster (the planner needs its resources and node).
  await waitFor(
    'the cluster in the target’s facts',
    async () => {
      const s = await ownerDb().server.findUniqueOrThrow({ where: { id: targetServerId } });
      return JSON.stringify(s.facts ?? {}).includes(CLUSTER);
    },
    60_000,
  );

  const credentialId = randomUUID();
  await ownerDb().credential.create({
    data: {
      id: credentialId,
      organizationId: h.t.org.id,
      customerId: h.t.customerX.id,
      kind: 'dns_tsig',
      name: `pcmk-rb key ${credentialId.slice(0, 6)}`,
      secretEnc: sealSecret(bind.key.secret, `credential:${credentialId}:secret`),
      publicInfo: { keyName: bind.key.name, algorithm: bind.key.algorithm },
    },
  });

  const share = tempDir('pcmk-rb-share');
  const targetRoot = tempDir('pcmk-rb-replica');
  h.cleanup.push(share, targetRoot);
  writeFiles(share, 'doc', 3);
  const caller = callerFor(h.t.operator.id);
  const wizard = await caller.pair.wizard({ customerId: h.t.customerX.id, sourceServerId: source.serverId, application: 'generic_service', targetServerId });
  const d = wizard.defaults!;
  const settings: PairSettings = {
    ...d,
    name: 'Clustered application',
    application: 'generic_service',
    replicationSet: { roots: [share], rules: [] },
    failover: {
      ...d.failover,
      type: 'dns',
      services: [],
      extraServices: [],
      clusterResources: [RESOURCE],
      serviceTimeoutSeconds: 60,
      monitor: { ...d.failover.monitor, addresses: ['127.0.0.1'], port: await freePort(), intervalSeconds: 1, missed: 3 },
    },
    // Relay: both agents dial the gateway they already reach (the target's loopback is the cluster's own).
    connection: { ...d.connection, routeMode: 'relay', route: '127.0.0.1', port: await freePort(), targetRoot },
    dns: {
      ...d.dns,
      provider: 'rfc2136',
      servers: [`127.0.0.1:${bind.port}`],
      zone: ZONE,
      addressMap: [{ source: SOURCE_IP, target: TARGET_IP }],
      ttlSeconds: 60,
      credentialId,
      // The source's agent (on the host) talks to BIND; the target's loopback is the cluster's.
      executorServerId: source.serverId,
      records: [{ zone: ZONE, name: `fs1.${ZONE}`, type: 'A' }],
    },
  };
  pairId = (await caller.pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId, settings })).id;
  // Validation is not this test's subject: a passing run lets the enable gate through.
  await recordPassingValidation(pairId);
  const { operationId } = await caller.pair.enable({ pairId });
  const enabled = await finishedOperation(operationId, 90_000);
  expect(enabled.error).toBeNull();
  await waitFor('pair protected', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status === 'protected', 60_000);
  expect(await waitEqual(share, path.join(targetRoot, share), 30_000)).toEqual([]);
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await targetAgent?.stop();
  await h?.teardown();
  await bind?.stop();
  await cluster?.stop();
  await db?.$disconnect();
}, 60_000);

describe('Pacemaker cluster resources and configuration in runbooks (real Pacemaker + Corosync in namespaces, real agents)', () => {
  let snapshotId: string;

  it('a failover keeps a CIB snapshot first, then brings the stopped resource online on the node through the runbook', async () => {
    expect((await cluster.resourceRoles())[RESOURCE]).toBe('Stopped');
    const opId = await enqueue({ organizationId: h.t.org.id, customerId: h.t.customerX.id, pairId, kind: 'failover', options: { mode: 'immediate' }, requestedById: h.t.operator.id });
    const op = await finishedOperation(opId, 120_000);
    const lines = op.steps.map((s) => `${s.kind} ${s.status}${s.error ? `: ${s.error}` : ''}`);
    expect(op.error, lines.join('\n')).toBeNull();
    expect(op.status).toBe('succeeded');

    const snapshotStep = op.steps.find((s) => s.kind === 'cluster.snapshot')!;
    const online = op.steps.find((s) => s.kind === 'cluster.resource')!;
    expect(snapshotStep.status).toBe('succeeded');
    expect(online.status).toBe('succeeded');
    expect(snapshotStep.position).toBeLessThan(online.position);
    expect(op.steps[1]!.kind).toBe('cluster.snapshot'); // before anything changes
    expect(online.params).toMatchObject({ side: 'target', stack: 'pacemaker', resource: RESOURCE, kind: 'resource', state: 'online', node: cluster.nodeName });
    expect(online.output).toMatchObject({ state: 'online', node: cluster.nodeName });
    expect((await cluster.resourceRoles())[RESOURCE]).toBe('Started');

    // The snapshot: the CIB as it was before the failover (the resource still Stopped), tied to the failover.
    const version = await ownerDb().clusterConfigVersion.findFirstOrThrow({ where: { customerId: h.t.customerX.id, clusterName: CLUSTER, reason: 'before_failover' } });
    const content = openClusterConfig(version);
    expect(version).toMatchObject({ stack: 'pacemaker', serverId: targetServerId, operationId: opId, sizeBytes: Buffer.byteLength(content) });
    expect(content).toContain(`id="${RESOURCE}"`);
    expect(content).toContain('value="original"');
    // Sealed at rest: the stored column holds no part of the configuration in clear.
    expect(version.content).not.toContain(RESOURCE);
    expect((snapshotStep.output as { versionId: string }).versionId).toBe(version.id);
    snapshotId = version.id;
  });

  it('a failback takes the resource offline on the target through the cluster, after keeping the configuration again', async () => {
    const opId = await enqueue({ organizationId: h.t.org.id, customerId: h.t.customerX.id, pairId, kind: 'failback', options: { restoreFirst: false, reprotect: false }, requestedById: h.t.operator.id });
    const op = await finishedOperation(opId, 120_000);
    expect(op.error, op.steps.map((s) => `${s.kind} ${s.status} ${s.error ?? ''}`).join('\n')).toBeNull();
    const offline = op.steps.find((s) => s.kind === 'cluster.resource')!;
    expect(offline.params).toMatchObject({ side: 'target', resource: RESOURCE, state: 'offline', node: null });
    expect(offline.output).toMatchObject({ state: 'offline', node: null, changed: true });
    expect(op.steps.find((s) => s.kind === 'cluster.snapshot')!.status).toBe('succeeded');
    expect((await cluster.resourceRoles())[RESOURCE]).toBe('Stopped');
    // The failover had started it: this configuration differs from the first snapshot, so it is a
    // new version, filed as taken before the failback.
    expect(await ownerDb().clusterConfigVersion.count({ where: { customerId: h.t.customerX.id, clusterName: CLUSTER, reason: 'before_failover' } })).toBe(1);
    expect(await ownerDb().clusterConfigVersion.count({ where: { customerId: h.t.customerX.id, clusterName: CLUSTER, reason: 'before_failback' } })).toBe(1);
  });

  it('a cluster_restore of that snapshot brings back a resource parameter changed since (a dry run first changes nothing)', async () => {
    await cluster.run('crm_resource', ['--resource', RESOURCE, '--set-parameter', 'fake', '--parameter-value', 'changed']);
    expect(await parameter('fake')).toBe('changed');
    const base = { organizationId: h.t.org.id, customerId: h.t.customerX.id, pairId: null, clusterStack: 'pacemaker', clusterName: CLUSTER, requestedById: h.t.operator.id };
    const options = { versionId: snapshotId, serverId: targetServerId };

    const dry = await finishedOperation(await enqueue({ ...base, kind: 'cluster_restore', dryRun: true, options }), 60_000);
    expect(dry.status).toBe('succeeded');
    // Single node: no stack stop/start; every step stored, none run.
    expect(dry.steps.map((s) => `${s.kind} ${s.status}`)).toEqual([
      'cluster.node-check pending',
      'cluster.config-snapshot pending',
      'cluster.config-replace pending',
      'cluster.config-verify pending',
    ]);
    expect(await parameter('fake')).toBe('changed');

    const run = await finishedOperation(await enqueue({ ...base, kind: 'cluster_restore', options }), 120_000);
    expect(run.error, run.steps.map((s) => `${s.kind} ${s.status} ${s.error ?? ''}`).join('\n')).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(await parameter('fake')).toBe('original');
    // The configuration it replaced was kept first (the changed parameter), for a way back.
    const before = await ownerDb().clusterConfigVersion.findFirstOrThrow({ where: { clusterName: CLUSTER, reason: 'before_restore', operationId: run.id } });
    expect(openClusterConfig(before)).toContain('value="changed"');
    expect(run.steps.find((s) => s.kind === 'cluster.config-verify')!.output).toMatchObject({ versionId: snapshotId });
  });

  it('a scheduled snapshot keeps a new version only when the configuration changed', async () => {
    const count = () => ownerDb().clusterConfigVersion.count({ where: { customerId: h.t.customerX.id, clusterName: CLUSTER } });
    const before = await count();
    // The newest version is the one kept before the restore; the cluster now holds the restored one.
    expect(await snapshotClusters(db, h.bus, () => new Date(), h.t.org.id)).toEqual({ clusters: 1, stored: 1, unchanged: 0, failed: 0 });
    const scheduled = await ownerDb().clusterConfigVersion.findFirstOrThrow({ where: { customerId: h.t.customerX.id, clusterName: CLUSTER, reason: 'scheduled' } });
    expect(scheduled.sha256).toBe((await ownerDb().clusterConfigVersion.findUniqueOrThrow({ where: { id: snapshotId } })).sha256);
    expect(await snapshotClusters(db, h.bus, () => new Date(), h.t.org.id)).toEqual({ clusters: 1, stored: 0, unchanged: 1, failed: 0 });
    expect(await count()).toBe(before + 1);
  });

  it('a manual backup reads the configuration on the node (unchanged: no new version); a server outside the cluster is refused before anything runs', async () => {
    const base = { organizationId: h.t.org.id, customerId: h.t.customerX.id, pairId: null, kind: 'cluster_backup' as const, clusterStack: 'pacemaker', clusterName: CLUSTER, requestedById: h.t.operator.id };
    const backup = await finishedOperation(await enqueue({ ...base, options: { serverId: null } }), 60_000);
    expect(backup.status).toBe('succeeded');
    expect(backup.steps.map((s) => `${s.kind} ${s.status}`)).toEqual(['cluster.node-check succeeded', 'cluster.config-snapshot succeeded']);
    expect(backup.steps[1]!.output).toMatchObject({ stored: false, stack: 'pacemaker', clusterName: CLUSTER });

    const refused = await finishedOperation(await enqueue({ ...base, options: { serverId: source.serverId } }), 60_000);
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(/not a node of this cluster/);
    expect(refused.steps).toEqual([]);
  });

  it('a restore the node refuses fails at the replace, skips the rest and leaves the configuration as it was', async () => {
    const good = await ownerDb().clusterConfigVersion.findUniqueOrThrow({ where: { id: snapshotId } });
    // A stored version whose content does not match its checksum (damaged at rest): the agent must not apply it.
    const damagedId = randomUUID();
    const damaged = await ownerDb().clusterConfigVersion.create({
      data: { ...good, id: damagedId, reason: 'manual', operationId: null, content: sealClusterConfig(damagedId, openClusterConfig(good).replace('value="original"', 'value="damaged"')) },
    });
    const op = await finishedOperation(
      await enqueue({ organizationId: h.t.org.id, customerId: h.t.customerX.id, pairId: null, kind: 'cluster_restore', clusterStack: 'pacemaker', clusterName: CLUSTER, options: { versionId: damaged.id, serverId: targetServerId }, requestedById: h.t.operator.id }),
      60_000,
    );
    expect(op.status).toBe('failed');
    expect(op.steps.map((s) => `${s.kind} ${s.status}`)).toEqual(['cluster.node-check succeeded', 'cluster.config-snapshot succeeded', 'cluster.config-replace failed', 'cluster.config-verify skipped']);
    expect(op.error).toMatch(/failed at "Replace the configuration/);
    expect(op.steps[2]!.error).toMatch(/SHA-256 .* refusing to restore it/);
    expect(await parameter('fake')).toBe('original');
    await ownerDb().clusterConfigVersion.delete({ where: { id: damaged.id } });
  });
});
