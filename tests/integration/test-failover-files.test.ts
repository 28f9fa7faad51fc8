// Test failover of a replicating file pair, all real parts: two agents, a gateway, the pair
// protected through the API, the worker planning and running the test. The target copies its
// replica into its scratch area, the probes run against that copy (sampled files hashed on both
// sides at the same version, required paths, a script), and the copy is removed.
// - The source is never written: every file and directory of the source tree keeps its mtime,
//   ctime (which any write, chmod, chown or utimes would move) and content.
// - Replication keeps running: a script probe holds the test open while a file changed on the
//   source arrives on the target's replica; the copy keeps the old version (a point-in-time copy).
// - Worker killed (-9) right after the copy was made: the copy is still there (the leftover sweep
//   leaves the copy of a running operation alone); a new worker resumes the operation, removes
//   the copy and ends the test failed, saying the worker stopped. A copy whose operation is
//   finished is removed by the leftover sweep (removeTestLeftovers, run at worker start).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { testReportSchema } from '@tandem/engine';
import { removeTestLeftovers } from '../../apps/worker/src/jobs/test-leftovers';
import { INTERRUPTED_MESSAGE } from '../../apps/worker/src/operations/run-test';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { tempDir, waitFor } from './support/agents';
import { enqueueOperation, operationsQueue } from '@tandem/jobs';
import { runOperation } from '../../apps/worker/src/operations/run-operation';
import { finishedOperation, protectedPair, type FailoverSetup } from './support/failover';
import { waitEqual } from './support/replication/agents';
import { operationWorkerChild } from './support/worker-life';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const work = tempDir('tf-files-work');
/** The script probe waits for this file: the test holds the run open with it. */
const release = path.join(work, 'release');
const holdScript = `#!/bin/sh\n# $1: the copy's scratch directory\n[ -d "$1" ] || exit 3\ni=0\nwhile [ ! -f '${release}' ]; do sleep 0.1; i=$((i+1)); [ $i -gt 1200 ] && exit 4; done\necho "copy at $1"\n`;

let s: FailoverSetup;
let db: Db;
let worker: Worker | undefined;
const child = operationWorkerChild('tf-operation-child');

/** Every entry under `dir`: type, mtime, ctime (ns) and, for files, the SHA-256 of the content. */
function snapshot(dir: string, skip: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p, { bigint: true });
      if (skip.has(p)) continue;
      const hash = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : '-';
      out.set(p, `${st.mode} ${st.mtimeNs} ${st.ctimeNs} ${st.size} ${hash}`);
      if (st.isDirectory()) walk(p);
    }
  };
  const st = fs.lstatSync(dir, { bigint: true });
  out.set(dir, `${st.mode} ${st.mtimeNs} ${st.ctimeNs}`);
  walk(dir);
  return out;
}

type Done = Awaited<ReturnType<typeof finishedOperation>>;
const describeSteps = (op: Done) => op.steps.map((x) => `${x.position} ${x.kind} ${x.status}${x.error ? `: ${x.error}` : ''}`).join('\n');
const copyPath = (op: { steps: { kind: string; output: unknown }[] }) => (op.steps.find((x) => x.kind === 'test.copy')?.output as { path?: string } | null)?.path;

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  s = await protectedPair(
    {
      label: 'tf-files',
      settings: (x) => ({
        ...x,
        testing: {
          copyMethod: 'auto',
          probes: [
            { kind: 'files-match', sample: 20 },
            // A paths-exist probe is added below, once the share's path is known.
            { kind: 'hook', script: holdScript, timeoutSeconds: 150 },
            // After the change made during the test: that file is not compared (another version).
            { kind: 'files-match', sample: 20 },
          ],
        },
      }),
    },
    async (h) => {
      worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
      await worker.waitUntilReady();
    },
  );
  // Required paths: the share's own files (a path the copy must hold).
  const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } });
  const testing = pair.testSettings as { probes: object[]; copyMethod: string };
  testing.probes.splice(1, 0, { kind: 'paths-exist', paths: [path.join(s.share, 'doc', 'file 1.txt'), path.join(s.share, 'doc', 'nested dir')] });
  await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { testSettings: testing } });
}, 180_000);

afterAll(async () => {
  await worker?.close();
  fs.rmSync(work, { recursive: true, force: true });
  child.remove();
  await s?.teardown();
  await db?.$disconnect();
});

describe('test failover of a replicating file pair', () => {
  it('the probes pass on a copy of the replica; the source is never written; replication keeps running; the copy is removed', async () => {
    const changed = path.join(s.share, 'doc', 'file 1.txt');
    const oldContent = fs.readFileSync(changed, 'utf8');
    const before = snapshot(s.share, new Set([changed]));
    const statusBefore = (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } })).status;

    const opId = await startTest();
    // The script probe is running: the copy exists and the test is open.
    const copy = await waitFor('the script probe running', async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: opId }, include: { steps: true } });
      if (o.status === 'failed') throw new Error(`the test failed early: ${o.error}`);
      const probe = o.steps.find((x) => x.kind === 'test.probe' && (x.params as { probe: { kind: string } }).probe.kind === 'hook');
      return probe?.status === 'running' ? copyPath(o) : null;
    }, 120_000);
    expect(fs.existsSync(copy)).toBe(true);

    // A change on the source during the test arrives on the replica; the copy keeps the old version.
    fs.writeFileSync(changed, 'changed during the test\n');
    const replica = path.join(s.targetRoot, s.share);
    await waitFor('the change on the replica', () => fs.readFileSync(path.join(replica, 'doc', 'file 1.txt'), 'utf8') === 'changed during the test\n', 30_000);
    const copies = (await ownerDb().operationStep.findFirstOrThrow({ where: { operationId: opId, kind: 'test.copy' } })).output as { copies: { root: string; copy: string }[] };
    expect(copies.copies).toHaveLength(1);
    expect(fs.readFileSync(path.join(copies.copies[0]!.copy, 'doc', 'file 1.txt'), 'utf8')).toBe(oldContent);

    fs.writeFileSync(release, 'go');
    const op = await finishedOperation(opId, 120_000);
    expect(op.error, describeSteps(op)).toBeNull();
    expect(op.status).toBe('succeeded');

    const report = testReportSchema.parse(op.report);
    expect(report.result).toBe('passed');
    expect(report.probes.map((p) => [p.kind, p.passed])).toEqual([
      ['files-match', true],
      ['paths-exist', true],
      ['hook', true],
      ['files-match', true],
    ]);
    expect(report.probes[0]!.summary).toBe('10 of 10 compared files have the same SHA-256 as on the source');
    expect(report.probes[3]!.summary).toBe('9 of 9 compared files have the same SHA-256 as on the source (1 changed on the source since the copy, not compared)');
    expect(report.probes[3]!.detail).toContain(`${path.join(s.share, 'doc', 'file 1.txt')} (changed on the source since the copy)`);
    expect(report.probes[2]!.detail).toContain(`copy at ${copy}`);
    expect(report.copy).toMatchObject({ kind: 'files', files: 10 });
    expect(report.cleanedUp).toBe(true);
    expect(report.startedBy).toMatchObject({ kind: 'user', email: expect.stringContaining('@') as string });
    expect(report.timeline.map((t) => t.kind)).toEqual(['agents.check', 'test.lag', 'test.copy', 'test.probe', 'test.probe', 'test.probe', 'test.probe', 'test.lag', 'test.teardown', 'test.lag']);
    expect(report.timeline.every((t) => t.durationMs !== null)).toBe(true);
    expect(report.settings).toMatchObject({ name: 'tf-files share' });
    expect(typeof report.lag.before).toBe('number');

    // No copy left; the replica caught up with the source; the source was never written.
    expect(fs.existsSync(copy)).toBe(false);
    expect(await waitEqual(s.share, replica, 30_000)).toEqual([]);
    expect(snapshot(s.share, new Set([changed]))).toEqual(before);

    const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } });
    expect(pair.status).toBe(statusBefore);
    expect(pair.lastTestSucceededAt?.toISOString()).toBe(report.finishedAt);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: s.pairId, message: { startsWith: 'Test failover passed' } } });
    expect(events).toHaveLength(1);
  }, 240_000);

  it('a failing probe fails the test, the other probes still run and report, the copy is removed (a drill started it)', async () => {
    const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } });
    const missing = path.join(s.share, 'doc', 'not there.txt');
    await ownerDb().protectionPair.update({
      where: { id: s.pairId },
      data: { testSettings: { copyMethod: 'copy', probes: [{ kind: 'paths-exist', paths: [missing, path.join(s.share, 'doc')] }, { kind: 'files-match', sample: 5 }] } },
    });
    try {
      const drill = await ownerDb().drillSchedule.create({
        data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, everyDays: 30, nextDueAt: new Date(Date.now() + 30 * 86_400_000) },
      });
      const op = await finishedOperation(await startTest(drill.id), 120_000);
      expect(op.status).toBe('failed');
      const report = testReportSchema.parse(op.report);
      expect(report.result).toBe('failed');
      expect(report.probes.map((p) => [p.kind, p.passed, p.summary])).toEqual([
        ['paths-exist', false, '1 of 2 paths are missing in the copy'],
        ['files-match', true, '5 of 5 compared files have the same SHA-256 as on the source'],
      ]);
      expect(report.probes[0]!.detail).toBe(`Missing in the copy:\n${missing}`);
      expect(op.error).toBe(`1 probe failed: ${op.steps.find((x) => x.kind === 'test.probe')!.description}: 1 of 2 paths are missing in the copy`);
      expect(report.copy).toMatchObject({ method: 'copy' });
      expect(report.startedBy).toEqual({ kind: 'drill', name: 'Scheduled drill (every 30 days)', email: null });
      expect(report.cleanedUp).toBe(true);
      expect(fs.existsSync(copyPath(op)!)).toBe(false);
      const after = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } });
      expect(after.lastTestSucceededAt).toEqual(pair.lastTestSucceededAt);
      expect(await ownerDb().pairEvent.count({ where: { pairId: s.pairId, message: { startsWith: 'Test failover failed: 1 probe failed' } } })).toBe(1);
    } finally {
      await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { testSettings: pair.testSettings as object } });
    }
  }, 120_000);

  it('a dry run only plans; a refused test (not protected, another operation under way) changes nothing', async () => {
    const dry = await ownerDb().operation.create({
      data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'test_failover', dryRun: true, requestedById: s.h.t.operator.id },
    });
    expect(await runOperation({ db, bus: s.h.bus }, { operationId: dry.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id })).toEqual({ status: 'succeeded' });
    const planned = await ownerDb().operation.findUniqueOrThrow({ where: { id: dry.id }, include: { steps: true } });
    expect(planned.steps.every((x) => x.status === 'pending')).toBe(true);
    expect(planned.changes).not.toBeNull();
    expect(planned.report).toBeNull();

    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { status: 'mirroring' } });
    try {
      const refused = await ownerDb().operation.create({
        data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'test_failover', requestedById: s.h.t.operator.id },
      });
      await runOperation({ db, bus: s.h.bus }, { operationId: refused.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id });
      const row = await ownerDb().operation.findUniqueOrThrow({ where: { id: refused.id }, include: { steps: true } });
      expect(row.status).toBe('failed');
      expect(row.error).toMatch(/needs a protected pair \(this one is mirroring\)/);
      expect(row.steps).toEqual([]);
      // Its evidence report says why no test ran: failed, the refusal, no probes, no copy.
      expect(row.report).toMatchObject({ result: 'failed', error: row.error, probes: [], copy: null, cleanedUp: true });
    } finally {
      await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { status: 'protected' } });
    }

    // Another operation under way on the pair: refused, nothing planned.
    const other = await ownerDb().operation.create({ data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'verify', status: 'running' } });
    try {
      const busy = await ownerDb().operation.create({
        data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'test_failover', requestedById: s.h.t.operator.id },
      });
      await runOperation({ db, bus: s.h.bus }, { operationId: busy.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id });
      const row = await ownerDb().operation.findUniqueOrThrow({ where: { id: busy.id }, include: { steps: true } });
      expect(row).toMatchObject({ status: 'failed', error: 'Another operation is under way on this pair; wait until it finishes', steps: [] });
    } finally {
      await ownerDb().operation.update({ where: { id: other.id }, data: { status: 'cancelled' } });
    }
  }, 60_000);

  it('worker killed (-9) after the copy was made: a new worker removes the copy and ends the test failed; finished tests’ leftovers are swept', async () => {
    await child.bundle();
    const scratch = path.join(s.target.dir, 'scratch');
    const op = await ownerDb().operation.create({
      data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'test_failover', requestedById: s.h.t.operator.id },
    });
    // Steps: 0 agents.check, 1 lag, 2 copy: the worker dies once the copy is made, before recording it.
    const first = await child.life({ operationId: op.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id }, 'done:run:2');
    expect(first.signal, first.output).toBe('SIGKILL');
    expect(fs.readdirSync(scratch)).toContain(op.id);
    const copyDir = path.join(scratch, op.id);

    // The sweep leaves a running operation's copy alone.
    await removeTestLeftovers(db, s.h.bus);
    expect(fs.existsSync(copyDir)).toBe(true);

    const second = await child.life({ operationId: op.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id }, null);
    expect(second.code, second.output).toBe(0);
    const done = await ownerDb().operation.findUniqueOrThrow({ where: { id: op.id }, include: { steps: { orderBy: { position: 'asc' } } } });
    expect(done.status).toBe('failed');
    expect(done.error).toBe(INTERRUPTED_MESSAGE);
    expect(done.steps.find((x) => x.kind === 'test.copy')).toMatchObject({ status: 'failed', error: expect.stringMatching(/Interrupted/) as string });
    expect(done.steps.filter((x) => x.kind === 'test.probe').every((x) => x.status === 'skipped')).toBe(true);
    expect(done.steps.find((x) => x.kind === 'test.teardown')).toMatchObject({ status: 'succeeded' });
    expect(fs.existsSync(copyDir)).toBe(false);
    const report = testReportSchema.parse(done.report);
    expect(report).toMatchObject({ result: 'failed', error: INTERRUPTED_MESSAGE, cleanedUp: true });

    // A copy whose operation is finished (a worker that died before the resumed run) is swept.
    const orphan = await ownerDb().operation.create({
      data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'test_failover', status: 'failed', error: 'gone' },
    });
    const made = await s.h.bus.send(s.targetAgentId, 'test.copy-create', { id: orphan.id, roots: [s.share], targetRoot: s.targetRoot, method: 'copy' }, { timeoutMs: 60_000 });
    expect(fs.existsSync(made.path)).toBe(true);
    const swept = await removeTestLeftovers(db, s.h.bus);
    expect(swept.removed).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(made.path)).toBe(false);
    expect(fs.readdirSync(scratch)).toEqual([]);
  }, 180_000);
});

/** A test failover as the portal starts it (no steps: the worker plans), queued. */
async function startTest(drillScheduleId?: string): Promise<string> {
  const op = await ownerDb().operation.create({
    data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'test_failover', ...(drillScheduleId ? { drillScheduleId } : { requestedById: s.h.t.operator.id }) },
  });
  const queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  await enqueueOperation(queue, { operationId: op.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id });
  await queue.close();
  return op.id;
}


