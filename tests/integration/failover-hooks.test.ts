// Hooks in a failover, with real agents and a real BIND 9: a beforeFailover hook that exits
// non-zero stops the failover before the cut-over and undoes what ran (replication keeps running,
// the zone is untouched, the pair is back where the lifecycle puts it); its output is kept with
// the step. An afterFailover hook that fails is past the point of no return: the failover
// finishes, and the operation carries the failure as a warning.
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { finishedOperation, protectedPair, SOURCE_IP, startOperation, TARGET_IP, ZONE, zoneDump, type FailoverSetup } from './support/failover';
import { waitEqual } from './support/replication/agents';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let s: FailoverSetup;
let db: Db;
let worker: Worker | undefined;

const failing = (what: string) => `#!/bin/sh\necho "checking $1 for ${what}"\necho "${what}: the application is not ready" >&2\nexit 3\n`;

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  s = await protectedPair({ label: 'fo-hooks', settings: (x) => ({ ...x, hooks: { ...x.hooks, beforeFailover: failing('before') } }) }, async (h) => {
    worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
    await worker.waitUntilReady();
  });
}, 150_000);

afterAll(async () => {
  await worker?.close();
  await s?.teardown();
  await db?.$disconnect();
});

const pair = () => ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } });

describe('failover hooks', () => {
  it('a failing beforeFailover hook stops the failover and undoes it; its output is kept', async () => {
    const zoneBefore = await zoneDump(s.bind, ZONE);
    const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'graceful' }, prefix));
    expect(op.status).toBe('failed');
    const hook = op.steps.find((x) => x.kind === 'hook.run')!;
    expect(hook.status).toBe('failed');
    expect(hook.error).toMatch(/beforeFailover hook .* exited with code 3: before: the application is not ready/);
    expect(hook.output).toMatchObject({ exitCode: 3, stdout: expect.stringContaining('checking beforeFailover for before') as unknown, stderr: expect.stringContaining('not ready') as unknown });
    expect(op.error).toContain('exited with code 3');
    // Nothing after the hook ran; the pair is back where the lifecycle puts a failed failover.
    const after = op.steps.filter((x) => x.phase === 'run' && x.position > hook.position);
    expect(after.every((x) => x.status === 'skipped')).toBe(true);
    expect(['failover_pending', 'protected']).toContain((await pair()).status);
    expect(op.outcome).toMatchObject({ nextSteps: expect.arrayContaining([expect.stringMatching(/start the failover again/)]) as unknown });
    // The zone is untouched and replication still runs: a new file reaches the target.
    expect(await zoneDump(s.bind, ZONE)).toEqual(zoneBefore);
    expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([SOURCE_IP]);
    fs.writeFileSync(path.join(s.share, 'after-failed-failover.txt'), 'still replicated');
    expect(await waitEqual(s.share, path.join(s.targetRoot, s.share), 30_000)).toEqual([]);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: s.pairId, kind: 'operation', severity: 'error' } });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/Failover failed at .*hook/)]));
  }, 120_000);

  it('a failing afterFailover hook is a warning: the failover finishes', async () => {
    // The hooks are read when the operation runs; the pair's configuration is edited in place.
    const row = await pair();
    const hooks = { ...(row.hooks as object), beforeFailover: '#!/bin/sh\nexit 0\n', afterFailover: failing('after') };
    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks } });
    const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'immediate' }, prefix));
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    const hook = op.steps.find((x) => x.kind === 'hook.run' && (x.params as { hook: string }).hook === 'afterFailover')!;
    expect(hook.status).toBe('succeeded');
    expect(hook.output).toMatchObject({ exitCode: 3 });
    const outcome = op.outcome as { warnings: string[] };
    expect(outcome.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/afterFailover hook .* exited with code 3/)]));
    expect((await pair()).status).toBe('failed_over');
    expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([TARGET_IP]);
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: s.pairId, kind: 'operation', severity: 'warning' } });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/Failover finished with warnings/)]));
  }, 120_000);
});
