// Test failover of a protected PostgreSQL pair, all real parts: two PostgreSQL 15 clusters on
// loopback (one streaming from the other), two agents, a gateway, the pair protected through the
// API, the worker planning and running the test. The target makes a temporary copy of the standby
// (a base backup from the standby into its scratch area, started on a spare port and promoted);
// the probes query that copy (rows, a row count within the lag, its port), and it is removed.
// The standby keeps streaming throughout: its WAL receiver streams before, during and after the
// test, it is never restarted, and a row written on the primary while a script probe holds the
// test open arrives on it (the copy, taken before, does not have it).
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { testReportSchema, type PairSettings } from '@tandem/engine';
import { factsSchema } from '@tandem/protocol';
import { enqueueOperation, operationsQueue, redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor } from './helpers';
import { freePort, tempDir, waitFor } from './support/agents';
import { asPostgres, ClusterRoot, PG_BIN, type TempCluster } from './support/postgresql/cluster';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';
import { recordPassingValidation } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const h = new ReplicationHarness('tfpg');
const roots = new ClusterRoot();
const work = tempDir('tfpg-work');
const release = path.join(work, 'release');
// $1: the copy's port. Holds the test open until the test releases it.
const holdScript = `#!/bin/sh\n[ -n "$1" ] || exit 3\ni=0\nwhile [ ! -f '${release}' ]; do sleep 0.1; i=$((i+1)); [ $i -gt 1200 ] && exit 4; done\necho "copy on port $1"\n`;
let db: Db;
let worker: Worker | undefined;
let queue: ReturnType<typeof operationsQueue> | undefined;
let A: TempCluster;
let B: TempCluster;
let source: Enrolled;
let target: Enrolled;
let pairId: string;

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
type Finished = Awaited<ReturnType<typeof finished>>;
const describeSteps = (op: Finished) => op.steps.map((s) => `${s.position} ${s.kind} ${s.status}${s.error ? `: ${s.error}` : ''}`).join('\n');

const receiver = (c: TempCluster) => c.psql('SELECT status FROM pg_stat_wal_receiver');
const startTime = (c: TempCluster) => c.psql('SELECT pg_postmaster_start_time()');
/** psql on the test copy (its socket lives beside its data directory in the agent's scratch area). */
const onCopy = (copy: { dataDir: string; port: number }, sql: string) =>
  asPostgres(`${PG_BIN}/psql`, ['-X', '-A', '-t', '-q', '-h', path.join(path.dirname(copy.dataDir), 'run'), '-p', String(copy.port), '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql]).trim();

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
  queue = operationsQueue(connection, { prefix });
  worker = startOperationsWorker(connection, db, h.bus, { prefix });
  await worker.waitUntilReady();
  [A, B] = await Promise.all([roots.create('src', ['--data-checksums']), roots.create('dst', ['--data-checksums'])]);
  A.psql('CREATE TABLE orders (id int PRIMARY KEY, item text)');
  A.psql("INSERT INTO orders SELECT g, 'before protection ' || g FROM generate_series(1, 50) g");
  source = await h.enrolAndRun('pg-source');
  target = await h.enrolAndRun('pg-target');
  await Promise.all([h.online(source.agentId), h.online(target.agentId)]);
  // The agents collect facts when they connect; the clusters were already running.
  await waitFor('both instances in the facts', async () => (await reports(source.serverId, A.dataDir)) && (await reports(target.serverId, B.dataDir)), 30_000);

  const caller = callerFor(h.t.operator.id);
  const wizard = await caller.pair.wizard({ customerId: h.t.customerX.id, sourceServerId: source.serverId, application: 'postgresql', targetServerId: target.serverId });
  const d = wizard.defaults!;
  const settings: PairSettings = {
    ...d,
    name: 'Orders database',
    // Only tests here: no failover target in DNS needed.
    failover: { ...d.failover, enabled: false, services: [], monitor: { ...d.failover.monitor, addresses: ['127.0.0.1'], port: await freePort(), intervalSeconds: 1, missed: 3 } },
    connection: {
      ...d.connection,
      route: '127.0.0.1',
      database: { sourceDataDir: A.dataDir, sourcePort: A.port, targetDataDir: B.dataDir, targetPort: B.port, sourceAddress: '127.0.0.1', allowSourceRestart: true },
    },
    testing: {
      copyMethod: 'auto',
      probes: [
        { kind: 'sql-rows', database: 'postgres', query: "SELECT id, item FROM orders WHERE item LIKE 'before protection%' ORDER BY id LIMIT 3" },
        // The script holds the test open while a row is added; the row count then shows the lag window.
        { kind: 'hook', script: holdScript, timeoutSeconds: 150 },
        { kind: 'row-count', database: 'postgres', table: 'public.orders' },
        { kind: 'tcp', host: null, port: null },
      ],
    },
  };
  ({ id: pairId } = await caller.pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings }));
  // Validation is not this test's subject: a passing run lets the enable gate through.
  await recordPassingValidation(pairId);
  const { operationId } = await caller.pair.enable({ pairId });
  const enabled = await finished(operationId);
  expect(enabled.error, `${enabled.error}\n${target.handle.output().slice(-2000)}`).toBeNull();
  await waitFor('pair protected', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status === 'protected', 60_000);
  await waitFor('the standby has the rows', () => B.psql('SELECT count(*) FROM orders') === '50', 30_000);
}, 240_000);

afterAll(async () => {
  await worker?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  roots.stopAll();
  fs.rmSync(work, { recursive: true, force: true });
  await h.teardown();
  await db?.$disconnect();
});

describe('test failover of a PostgreSQL pair', () => {
  it('a temporary promoted copy answers the probes while the standby keeps streaming; the copy is removed', async () => {
    expect(receiver(B)).toBe('streaming');
    const standbyStarted = startTime(B);

    const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
    const op = await ownerDb().operation.create({ data: { organizationId: pair.organizationId, customerId: pair.customerId, pairId, kind: 'test_failover', requestedById: h.t.operator.id } });
    await enqueueOperation(queue!, { operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId });

    // The script probe holds the test open: the copy is up, promoted, and separate from the standby.
    const copy = await waitFor('the script probe running', async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: op.id }, include: { steps: true } });
      if (o.status === 'failed') throw new Error(`the test failed early: ${o.error}\n${describeSteps(o)}`);
      const hook = o.steps.find((s) => s.kind === 'test.probe' && (s.params as { probe: { kind: string } }).probe.kind === 'hook');
      return hook?.status === 'running' ? (o.steps.find((s) => s.kind === 'test.postgresql-copy')!.output as { dataDir: string; port: number }) : null;
    }, 150_000);
    expect(onCopy(copy, 'SELECT pg_is_in_recovery()')).toBe('f');
    expect(copy.port).not.toBe(B.port);
    expect(receiver(B)).toBe('streaming');

    // A row written on the primary during the test reaches the standby, not the copy.
    A.psql("INSERT INTO orders VALUES (1000, 'during the test')");
    await waitFor('the row on the standby', () => B.psql('SELECT count(*) FROM orders WHERE id = 1000') === '1', 30_000);
    expect(onCopy(copy, 'SELECT count(*) FROM orders WHERE id = 1000')).toBe('0');

    fs.writeFileSync(release, 'go');
    const done = await finished(op.id);
    expect(done.error, describeSteps(done)).toBeNull();
    expect(done.status).toBe('succeeded');
    const report = testReportSchema.parse(done.report);
    expect(report.result).toBe('passed');
    expect(report.probes.map((p) => [p.kind, p.passed])).toEqual([
      ['sql-rows', true],
      ['hook', true],
      ['row-count', true],
      ['tcp', true],
    ]);
    expect(report.probes[0]!.summary).toBe('The query returned 3 rows on the copy');
    expect(report.probes[0]!.detail).toContain('before protection 1');
    expect(report.probes[1]!.detail).toContain(`copy on port ${copy.port}`);
    // Counted on the standby before the copy (50), in the copy (50), on the standby now (51).
    expect(report.probes[2]!.summary).toBe("public.orders has 50 rows in the copy, within the standby's 50–51");
    expect(report.probes[3]!.summary).toContain(`127.0.0.1:${copy.port} answered`);
    expect(report.copy).toMatchObject({ kind: 'postgresql' });
    expect(report.cleanedUp).toBe(true);
    expect(report.lag.before).not.toBeUndefined();

    // The copy is gone, its port closed; the standby streams, was never restarted, still a standby.
    expect(fs.existsSync(copy.dataDir)).toBe(false);
    expect(fs.existsSync(path.dirname(copy.dataDir))).toBe(false);
    expect(receiver(B)).toBe('streaming');
    expect(startTime(B)).toBe(standbyStarted);
    expect(B.psql('SELECT pg_is_in_recovery()')).toBe('t');
    A.psql("INSERT INTO orders VALUES (1001, 'after the test')");
    await waitFor('the row after the test on the standby', () => B.psql('SELECT count(*) FROM orders WHERE id = 1001') === '1', 30_000);
    const after = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
    expect(after.status).toBe('protected');
    expect(after.lastTestSucceededAt).not.toBeNull();
  }, 240_000);
});
