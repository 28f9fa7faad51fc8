// Failback with "restore first", real agents and a real BIND 9: files written (and one deleted)
// on the target while the pair is failed over are on the source after the failback; DNS points
// at the source again; with "re-protect" the pair replicates source → target again.
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { waitFor } from './support/agents';
import { finishedOperation, protectedPair, SOURCE_IP, startOperation, TARGET_IP, ZONE, type FailoverSetup } from './support/failover';
import { waitEqual } from './support/replication/agents';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let s: FailoverSetup;
let db: Db;
let worker: Worker | undefined;

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  s = await protectedPair({ label: 'fb-restore' }, async (h) => {
    worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
    await worker.waitUntilReady();
  });
}, 150_000);

afterAll(async () => {
  await worker?.close();
  await s?.teardown();
  await db?.$disconnect();
});

const pairStatus = async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } })).status;

describe('failback with restore', () => {
  it('brings back to the source what was written on the target while failed over', async () => {
    const failover = await finishedOperation(await startOperation(s, 'failover', { mode: 'graceful' }, prefix));
    expect(failover.error).toBeNull();
    expect(await pairStatus()).toBe('failed_over');
    expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([TARGET_IP]);

    // The target serves: its copy changes (new files, an edit, a deletion).
    const replica = path.join(s.targetRoot, s.share);
    fs.writeFileSync(path.join(replica, 'written-while-failed-over.txt'), 'new on the target');
    fs.mkdirSync(path.join(replica, 'new dir'));
    fs.writeFileSync(path.join(replica, 'new dir', 'report.bin'), Buffer.alloc(300_000, 9));
    const edited = fs.readdirSync(path.join(replica, 'doc')).find((f) => fs.statSync(path.join(replica, 'doc', f)).isFile())!;
    fs.writeFileSync(path.join(replica, 'doc', edited), 'edited on the target');
    const removed = fs.readdirSync(path.join(replica, 'doc')).find((f) => f !== edited && fs.statSync(path.join(replica, 'doc', f)).isFile())!;
    fs.rmSync(path.join(replica, 'doc', removed));

    const failback = await finishedOperation(await startOperation(s, 'failback', { restoreFirst: true, reprotect: true }, prefix), 120_000);
    expect(failback.error).toBeNull();
    expect(failback.status).toBe('succeeded');
    const restores = failback.steps.filter((x) => x.kind === 'replication.restore');
    expect(restores.length).toBeGreaterThan(0);
    expect(restores.every((x) => x.status === 'succeeded')).toBe(true);
    expect(restores[0]!.output).toMatchObject({ filesSent: expect.any(Number) as unknown });

    // The source holds exactly what the target held.
    expect(fs.readFileSync(path.join(s.share, 'written-while-failed-over.txt'), 'utf8')).toBe('new on the target');
    expect(fs.readFileSync(path.join(s.share, 'new dir', 'report.bin')).equals(Buffer.alloc(300_000, 9))).toBe(true);
    expect(fs.readFileSync(path.join(s.share, 'doc', edited), 'utf8')).toBe('edited on the target');
    expect(fs.existsSync(path.join(s.share, 'doc', removed))).toBe(false);
    expect(await waitEqual(s.share, replica, 30_000)).toEqual([]);
    expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([SOURCE_IP]);

    // Re-protected: source → target again, and a new file on the source reaches the target.
    await waitFor('pair protected again', async () => (await pairStatus()) === 'protected', 60_000);
    fs.writeFileSync(path.join(s.share, 'after-failback.txt'), 'replicated to the target');
    expect(await waitEqual(s.share, replica, 30_000)).toEqual([]);
  }, 180_000);
});
