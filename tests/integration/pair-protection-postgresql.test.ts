// Protecting a PostgreSQL server through the portal's API: two real agents, two real PostgreSQL
// 15 clusters on loopback (as the agents discover them), the worker's operation runner. Enabling
// prepares the source (role, slot, access), turns the target instance into a streaming standby
// (its old data directory kept aside) and starts the monitor; the pair is protected at once, and
// rows written on the source appear on the standby.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import type { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { pairKeyContext } from '@tandem/engine';
import { factsSchema } from '@tandem/protocol';
import { openSecret } from '@tandem/security';
import { detectionQueue, redisConnection, scheduleDetection, startDetectionWorker, startOperationsWorker, type WatchJob } from '../../apps/worker/src/queues';
import { callerFor, expectCode } from './helpers';
import { freePort, waitFor } from './support/agents';
import { ClusterRoot, type TempCluster } from './support/postgresql/cluster';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';
import { recordPassingValidation } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const h = new ReplicationHarness('pgpair');
const roots = new ClusterRoot();
let db: Db;
let workers: Worker[] = [];
let watch: Queue<WatchJob> | undefined;
let A: TempCluster;
let B: TempCluster;
let source: Enrolled;
let target: Enrolled;

/** Whether a server's reported facts list a PostgreSQL instance in `dataDir`. */
async function reports(serverId: string, dataDir: string) {
  const s = await ownerDb().server.findUniqueOrThrow({ where: { id: serverId } });
  const facts = factsSchema.safeParse(s.facts);
  return facts.success && facts.data.applications.status === 'ok' && facts.data.applications.data.some((a) => a.kind === 'postgresql' && a.dataDirectory === dataDir);
}

beforeAll(async () => {
  await h.setup();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
  const connection = redisConnection(process.env.REDIS_URL!);
  watch = detectionQueue(connection, { prefix });
  await scheduleDetection(watch, 1_000, 1_000);
  workers = [startOperationsWorker(connection, db, h.bus, { prefix }), startDetectionWorker(connection, db, { prefix, bus: h.bus })];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  [A, B] = await Promise.all([roots.create('src'), roots.create('dst')]);
  A.psql('CREATE TABLE orders (id int PRIMARY KEY, item text)');
  A.psql("INSERT INTO orders VALUES (1, 'before protection')");
  B.psql('CREATE TABLE stale_on_target (x int)');
  source = await h.enrolAndRun('pg-source');
  target = await h.enrolAndRun('pg-target');
  await Promise.all([h.online(source.agentId), h.online(target.agentId)]);
  // The agents collect facts when they connect; the clusters were already running.
  await waitFor('both instances in the facts', async () => (await reports(source.serverId, A.dataDir)) && (await reports(target.serverId, B.dataDir)), 30_000);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await watch?.obliterate({ force: true });
  await watch?.close();
  roots.stopAll();
  await h.teardown();
  await db?.$disconnect();
});

describe('protecting a PostgreSQL server', () => {
  it('enables streaming replication as an operation; the pair is protected and rows flow', async () => {
    const caller = callerFor(h.t.operator.id);
    const wizard = await caller.pair.wizard({ customerId: h.t.customerX.id, sourceServerId: source.serverId, application: 'postgresql', targetServerId: target.serverId });
    expect(wizard.applications?.find((a) => a.application === 'postgresql')?.available).toBe(true);
    expect(wizard.postgres?.source.map((i) => i.dataDirectory)).toContain(A.dataDir);
    expect(wizard.postgres?.target.map((i) => i.dataDirectory)).toContain(B.dataDir);
    const d = wizard.defaults!;
    expect(d.replicationSet).toBeNull();
    expect(d.failover.services).toEqual(['postgresql']);

    const settings = {
      ...d,
      name: 'Orders database',
      failover: { ...d.failover, type: 'identity' as const, identity: { ...d.failover.identity, addresses: [{ address: '192.0.2.10', prefix: 24, targetInterface: null }] }, monitor: { ...d.failover.monitor, addresses: ['127.0.0.1'], port: await freePort(), intervalSeconds: 1, missed: 3 } },
      connection: {
        ...d.connection,
        route: '127.0.0.1',
        database: { sourceDataDir: A.dataDir, sourcePort: A.port, targetDataDir: B.dataDir, targetPort: B.port, sourceAddress: '127.0.0.1', allowSourceRestart: true },
      },
    };
    // An instance the target does not have is refused, naming the field.
    const wrong = await expectCode(
      caller.pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings: { ...settings, connection: { ...settings.connection, database: { ...settings.connection.database, targetDataDir: '/nowhere/pg' } } } }),
      'BAD_REQUEST',
    );
    expect(wrong.message).toMatch(/reports no PostgreSQL instance in \/nowhere\/pg/);

    const { id: pairId } = await caller.pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings });
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).replicationMethod).toBe('postgresql_streaming');
    // Validation is not this test's subject: a passing run lets the enable gate through.
    await recordPassingValidation(pairId);
    const { operationId } = await caller.pair.enable({ pairId });
    const op = await waitFor(
      'enable finished',
      async () => {
        const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
        return o.status === 'succeeded' || o.status === 'failed' ? o : null;
      },
      150_000,
    );
    expect(op.error, `${op.error}\n${target.handle.output().slice(-2000)}`).toBeNull();
    expect(op.steps.map((s) => [s.kind, s.status])).toEqual([
      ['agents.check', 'succeeded'],
      ['postgresql.prepare-source', 'succeeded'],
      ['postgresql.clone-standby', 'succeeded'],
      ['monitor.start', 'succeeded'],
      ['monitor.start', 'succeeded'],
      ['pair.set-state', 'succeeded'],
    ]);
    expect(await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).toMatchObject({ status: 'protected', monitoringStatus: 'watching' });
    // The replication password is derived from the pair key: it is in no step's parameters or
    // output, nor in either agent's log.
    const pairKey = openSecret((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).pairKeyEnc!, pairKeyContext(pairId));
    const password = createHmac('sha256', Buffer.from(pairKey, 'base64')).update('postgresql-replication').digest('base64url');
    expect(B.psqlTcp('tandem_replication', password, 'SELECT 1')).toBe('1'); // it is the real one
    expect(JSON.stringify(op.steps)).not.toContain(password);
    expect(source.handle.output() + target.handle.output()).not.toContain(password);

    // The target is now a standby of the source: its old content is gone (kept aside), new rows arrive.
    expect(B.psql('SELECT pg_is_in_recovery()')).toBe('t');
    expect(B.psql("SELECT to_regclass('stale_on_target') IS NULL")).toBe('t');
    A.psql("INSERT INTO orders VALUES (2, 'after protection')");
    await waitFor('the row on the standby', () => B.psql('SELECT count(*) FROM orders') === '2', 30_000);
    const clone = op.steps[2]!.output as { movedAsideTo: string | null };
    expect(clone.movedAsideTo && fs.existsSync(clone.movedAsideTo)).toBe(true);

    // The standby's lag becomes replication samples, as a file pair's statistics do.
    const sample = await waitFor('a lag sample from the standby', () => ownerDb().replicationSample.findFirst({ where: { pairId, lagSeconds: { not: null } } }), 20_000);
    expect(sample.lagSeconds).toBeGreaterThanOrEqual(0);
    expect((await caller.pair.get({ pairId })).latest?.lagSeconds).not.toBeNull();
  }, 240_000);
});
