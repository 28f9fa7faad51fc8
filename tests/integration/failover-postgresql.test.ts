// Failover and failback of a protected PostgreSQL pair through the portal's API: two real agents,
// two real PostgreSQL 15 clusters on loopback (data checksums on, so the old primary can be
// rewound), a real BIND 9 holding the database's name, the worker planning and running the
// runbooks. The graceful failover waits for the standby, stops the old primary, promotes the
// standby (which then takes writes) and moves the name; the failback with restore first makes the
// old primary a standby of the new one (pg_rewind), waits until it has replayed everything, stops
// the new primary, promotes the old one, makes the other a standby again, moves the name back and
// protects the pair again: the rows written during the failover are on the source, and new rows
// flow to the target. Steps run again find their work done (promote twice, follow when following).
import { createHmac } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { pairKeyContext, stepToRow, type PlannedStep } from '@tandem/engine';
import { factsSchema } from '@tandem/protocol';
import { openSecret, sealSecret } from '@tandem/security';
import { enqueueOperation, operationsQueue, redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor } from './helpers';
import { freePort, waitFor } from './support/agents';
import { startBind, type Bind } from './support/bind';
import { asPostgres, ClusterRoot, PG_BIN, type TempCluster } from './support/postgresql/cluster';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';
import { recordPassingValidation } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const h = new ReplicationHarness('pgfail');
const roots = new ClusterRoot();
let db: Db;
let worker: Worker | undefined;
let queue: ReturnType<typeof operationsQueue> | undefined;
let A: TempCluster;
let B: TempCluster;
let source: Enrolled;
let target: Enrolled;
let pairId: string;
let bind: Bind | undefined;
const ZONE = 'corp.test';
const NAME = `db.${ZONE}`;
const SOURCE_IP = '10.1.0.5';
const TARGET_IP = '10.1.0.6';

type Step = Pick<PlannedStep, 'kind' | 'description' | 'params'> & { optional?: true };

/** Runs an operation of the given steps through the worker; returns it with its steps once finished. */
async function finished(operationId: string) {
  return waitFor(
    `operation ${operationId} finished`,
    async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
      return o.status === 'succeeded' || o.status === 'failed' ? o : null;
    },
    150_000,
  );
}

/**
 * Runs an operation of exactly these steps through the worker (no planning), once finished. Not
 * a failover (a failback is planned from the last failover that ran), so kind `validate`.
 */
async function runSteps(steps: Step[]) {
  const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
  const op = await ownerDb().operation.create({
    data: {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId,
      kind: 'verify', // a plain runbook of the given steps (validate has a runner of its own)
      steps: {
        create: steps.map((s, position) => ({ organizationId: pair.organizationId, customerId: pair.customerId, position, ...stepToRow(s as PlannedStep) })),
      },
    },
  });
  await enqueueOperation(queue!, { operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId });
  return finished(op.id);
}

type Finished = Awaited<ReturnType<typeof finished>>;
const describeSteps = (op: Finished) => op.steps.map((s) => `${s.position} ${s.phase} ${s.kind} ${s.status}${s.error ? `: ${s.error}` : ''}`).join('\n');

/** Whether a server's reported facts list a PostgreSQL instance in `dataDir`. */
async function reports(serverId: string, dataDir: string) {
  const s = await ownerDb().server.findUniqueOrThrow({ where: { id: serverId } });
  const facts = factsSchema.safeParse(s.facts);
  return facts.success && facts.data.applications.status === 'ok' && facts.data.applications.data.some((a) => a.kind === 'postgresql' && a.dataDirectory === dataDir);
}

const outputOf = <T>(op: Finished, kind: string, nth = 0) => op.steps.filter((s) => s.kind === kind && s.phase === 'run')[nth]!.output as T;
const inRecovery = (c: TempCluster) => c.psql('SELECT pg_is_in_recovery()');

beforeAll(async () => {
  await h.setup();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
  const connection = redisConnection(process.env.REDIS_URL!);
  queue = operationsQueue(connection, { prefix });
  worker = startOperationsWorker(connection, db, h.bus, { prefix });
  await worker.waitUntilReady();
  [A, B] = await Promise.all([roots.create('src', ['--data-checksums']), roots.create('dst', ['--data-checksums'])]);
  A.psql('CREATE TABLE orders (id int PRIMARY KEY, item text)');
  A.psql("INSERT INTO orders VALUES (1, 'before protection')");
  source = await h.enrolAndRun('pg-source');
  target = await h.enrolAndRun('pg-target');
  await Promise.all([h.online(source.agentId), h.online(target.agentId)]);
  // The agents collect facts when they connect; the clusters were already running.
  await waitFor('both instances in the facts', async () => (await reports(source.serverId, A.dataDir)) && (await reports(target.serverId, B.dataDir)), 30_000);

  // The database's name in a real DNS server, and the TSIG key for it stored as the portal does.
  bind = await startBind([{ name: ZONE, records: `db IN A ${SOURCE_IP}\nother IN A 10.1.0.99` }]);
  const credentialId = crypto.randomUUID();
  await ownerDb().credential.create({
    data: {
      id: credentialId,
      organizationId: h.t.org.id,
      customerId: h.t.customerX.id,
      kind: 'dns_tsig',
      name: `pgfail key ${credentialId.slice(0, 6)}`,
      secretEnc: sealSecret(bind.key.secret, `credential:${credentialId}:secret`),
      publicInfo: { keyName: bind.key.name, algorithm: bind.key.algorithm },
    },
  });

  // Protected through the portal's API, as an operator would.
  const caller = callerFor(h.t.operator.id);
  const wizard = await caller.pair.wizard({ customerId: h.t.customerX.id, sourceServerId: source.serverId, application: 'postgresql', targetServerId: target.serverId });
  const d = wizard.defaults!;
  const settings = {
    ...d,
    name: 'Orders database',
    failover: {
      ...d.failover,
      type: 'dns' as const,
      mode: 'graceful' as const,
      // The clusters are not system services here; the database steps do the work.
      services: [],
      drainTimeoutSeconds: 30,
      monitor: { ...d.failover.monitor, addresses: ['127.0.0.1'], port: await freePort(), intervalSeconds: 1, missed: 3 },
    },
    connection: {
      ...d.connection,
      route: '127.0.0.1',
      database: { sourceDataDir: A.dataDir, sourcePort: A.port, targetDataDir: B.dataDir, targetPort: B.port, sourceAddress: '127.0.0.1', allowSourceRestart: true },
    },
    dns: {
      ...d.dns,
      provider: 'rfc2136' as const,
      servers: [`127.0.0.1:${bind.port}`],
      zone: ZONE,
      addressMap: [{ source: SOURCE_IP, target: TARGET_IP }],
      ttlSeconds: 60,
      credentialId,
      executorServerId: null,
      records: [{ zone: ZONE, name: NAME, type: 'A' as const }],
    },
  };
  ({ id: pairId } = await caller.pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings }));
  // Validation is not this test's subject: a passing run lets the enable gate through.
  await recordPassingValidation(pairId);
  const { operationId } = await caller.pair.enable({ pairId });
  const enabled = await finished(operationId);
  expect(enabled.error, `${enabled.error}\n${target.handle.output().slice(-2000)}`).toBeNull();
  expect(inRecovery(B)).toBe('t');
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  roots.stopAll();
  await bind?.stop();
  await h.teardown();
  await db?.$disconnect();
});

describe('a PostgreSQL pair fails over and back', () => {
  it('fails over gracefully: the standby catches up, the old primary stops, the standby is promoted, takes writes and the name moves', async () => {
    A.psql("INSERT INTO orders VALUES (2, 'just before the failover')");
    const caller = callerFor(h.t.operator.id);
    const { operationId } = await caller.pair.failover.start({ pairId, mode: 'graceful', confirmName: 'Orders database' });
    const op = await finished(operationId);
    expect(op.error, `${op.error}\n${describeSteps(op)}`).toBeNull();
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status).toBe('failed_over');
    const kinds = op.steps.map((s) => s.kind);
    expect(kinds.indexOf('replication.drain')).toBeLessThan(kinds.indexOf('postgresql.stop'));
    expect(kinds.indexOf('postgresql.stop')).toBeLessThan(kinds.indexOf('postgresql.promote'));
    expect(kinds.indexOf('postgresql.promote')).toBeLessThan(kinds.indexOf('dns.apply'));

    // The standby had replayed everything, then got the old primary's last record before the promotion.
    expect(outputOf(op, 'replication.drain')).toMatchObject({ drained: true, lagAtCutoverSeconds: 0 });
    expect(outputOf(op, 'postgresql.stop')).toMatchObject({ stopped: true, clusterState: 'shut down', standby: { caughtUp: true } });
    expect(outputOf(op, 'postgresql.promote')).toMatchObject({ promoted: true, alreadyPrimary: false });
    expect(await bind!.dig(NAME, 'A')).toEqual([TARGET_IP]);

    // The new primary has everything the old one committed, and takes writes.
    expect(inRecovery(B)).toBe('f');
    expect(B.psql('SELECT count(*) FROM orders')).toBe('2');
    B.psql("INSERT INTO orders VALUES (10, 'during the failover'), (11, 'also during the failover')");

    // Promoting again changes nothing (desired state), and stopping a stopped instance neither.
    const again = await runSteps([
      { kind: 'postgresql.promote', description: 'Promote the standby again', params: { side: 'target' } },
      { kind: 'postgresql.stop', description: 'Stop the old primary again', params: { side: 'source' } },
    ]);
    expect(again.error).toBeNull();
    expect(outputOf(again, 'postgresql.promote')).toMatchObject({ promoted: false, alreadyPrimary: true });
    expect(outputOf(again, 'postgresql.stop')).toMatchObject({ stopped: false, alreadyStopped: true });
  }, 180_000);

  it('fences the old primary: when its agent reconnects while failed over, it is told to keep PostgreSQL stopped', async () => {
    // (Starting the old primary by hand here would make it diverge further and change what the
    // failback below finds; postgresql.stop on a running instance is covered by the step tests.)
    await source.handle.stop();
    source.handle = h.run(source.dir);
    const held = await waitFor('the old source held stopped', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).sourceHeldAt, 60_000);
    expect(held).toBeInstanceOf(Date);
    const event = await ownerDb().pairEvent.findFirstOrThrow({ where: { pairId, message: { contains: 'held stopped' } }, orderBy: { at: 'desc' } });
    expect(event.message).toContain(`PostgreSQL (${A.dataDir}) stopped`);
    expect(event.severity).toBe('info');
    expect(() => asPostgres(`${PG_BIN}/pg_ctl`, ['-D', A.dataDir, 'status'])).toThrow();
  }, 120_000);

  it('fails back with restore first (a controlled switchover) and re-protects: the source holds the rows written meanwhile and the target streams again', async () => {
    const caller = callerFor(h.t.operator.id);
    const { operationId } = await caller.pair.failback.start({ pairId, restoreFirst: true, reprotect: true, confirmName: 'Orders database' });
    const op = await finished(operationId);
    expect(op.error, `${op.error}\n${describeSteps(op)}\n${source.handle.output().slice(-1500)}\n${target.handle.output().slice(-1500)}`).toBeNull();
    expect(op.steps.map((s) => s.kind).filter((k) => k.startsWith('postgresql.'))).toEqual([
      'postgresql.follow',
      'postgresql.wait-caught-up',
      'postgresql.stop',
      'postgresql.promote',
      'postgresql.follow',
    ]);

    // The old primary was rewound (checksums on), not copied again.
    // Its slot from its time as primary is dropped (it would keep WAL there for good).
    expect(outputOf(op, 'postgresql.follow', 0)).toMatchObject({ alreadyFollowing: false, followed: { method: 'rewind', streaming: true } });
    expect(outputOf<{ followed: { droppedSlots: string[] } }>(op, 'postgresql.follow', 0).followed.droppedSlots).toEqual([expect.stringMatching(/^tandem_/)]);
    expect(outputOf(op, 'postgresql.wait-caught-up')).toMatchObject({ caughtUp: true });
    // Writes stopped on the target, and the source had its last record before it was promoted.
    expect(outputOf(op, 'postgresql.stop')).toMatchObject({ stopped: true, clusterState: 'shut down', standby: { caughtUp: true } });
    expect(outputOf(op, 'postgresql.promote')).toMatchObject({ promoted: true });
    expect(outputOf(op, 'postgresql.follow', 1)).toMatchObject({ alreadyFollowing: false, followed: { streaming: true } });
    expect(await bind!.dig(NAME, 'A')).toEqual([SOURCE_IP]);
    const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
    expect(pair.status).toBe('protected');
    // The replication password (derived from the pair key) is in no step and no agent log.
    const password = createHmac('sha256', Buffer.from(openSecret(pair.pairKeyEnc!, pairKeyContext(pairId)), 'base64')).update('postgresql-replication').digest('base64url');
    expect(B.psqlTcp('tandem_replication', password, 'SELECT 1')).toBe('1');
    expect(JSON.stringify(op.steps)).not.toContain(password);
    expect(source.handle.output() + target.handle.output()).not.toContain(password);

    // The source is the primary again with the rows written during the failover…
    expect(inRecovery(A)).toBe('f');
    expect(A.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM orders")).toBe('1,2,10,11');
    // …and the target is its streaming standby: a new row arrives.
    expect(inRecovery(B)).toBe('t');
    expect(B.psql('SELECT count(*) FROM pg_replication_slots')).toBe('0');
    A.psql("INSERT INTO orders VALUES (20, 'after the failback')");
    await waitFor('the new row on the target', () => B.psql('SELECT count(*) FROM orders WHERE id = 20') === '1', 30_000);

    // Following when already following, and promoting a primary, change nothing.
    const again = await runSteps([
      { kind: 'postgresql.follow', description: 'Make the target a standby again', params: { side: 'target' } },
      { kind: 'postgresql.promote', description: 'Promote the source again', params: { side: 'source' } },
      { kind: 'postgresql.wait-caught-up', description: 'The target has replayed everything', params: { side: 'target', timeoutSeconds: 30 } },
    ]);
    expect(again.error).toBeNull();
    expect(outputOf(again, 'postgresql.follow')).toMatchObject({ alreadyFollowing: true });
    expect(outputOf(again, 'postgresql.promote')).toMatchObject({ promoted: false, alreadyPrimary: true });
    expect(outputOf(again, 'postgresql.wait-caught-up')).toMatchObject({ caughtUp: true });

    // A primary already stopped (as a graceful failover's service stop leaves it) counts as drained
    // when the standby received its last record. "Serve as the primary" also starts a stopped
    // primary (as it last ran); its standby reconnects.
    const restarted = await runSteps([
      { kind: 'postgresql.stop', description: 'Stop the source', params: { side: 'source' } },
      { kind: 'replication.drain', description: 'The standby has everything', params: { timeoutSeconds: 10, onTimeout: 'abort' } },
      { kind: 'postgresql.promote', description: 'The source serves as the primary', params: { side: 'source' } },
    ]);
    expect(restarted.error).toBeNull();
    expect(outputOf(restarted, 'postgresql.stop')).toMatchObject({ stopped: true, standby: { caughtUp: true } });
    expect(outputOf(restarted, 'replication.drain')).toMatchObject({ drained: true, lagAtCutoverSeconds: 0 });
    expect(outputOf(restarted, 'postgresql.promote')).toMatchObject({ started: true, promoted: false, alreadyPrimary: true });
    A.psql("INSERT INTO orders VALUES (21, 'after a restart')");
    await waitFor('the row written after the restart on the target', () => B.psql('SELECT count(*) FROM orders WHERE id = 21') === '1', 30_000);
  }, 240_000);
});
