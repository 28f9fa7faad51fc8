// Hooks in a failover, with real agents and a real BIND 9: a beforeFailover hook that exits
// non-zero stops the failover before the cut-over and undoes what ran (replication keeps running,
// the zone is untouched, the pair is back where the lifecycle puts it); its output is kept with
// the step. An afterFailover hook that fails is past the point of no return: the failover
// finishes, and the operation carries the failure as a warning. A failure after the source's
// services were stopped (the queue cannot drain: the data channel is cut) starts them again.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { settingsFromColumns, type PairSettings } from '@tandem/engine';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { waitFor } from './support/agents';
import { dropOnLoopback } from './support/firewall';
import { finishedOperation, protectedPair, SOURCE_IP, startOperation, TARGET_IP, ZONE, zoneDump, type FailoverSetup } from './support/failover';
import { waitEqual } from './support/replication/agents';
import { installTestService, type TestService } from './support/sysv-service';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let s: FailoverSetup;
let db: Db;
let worker: Worker | undefined;

// The protected service: a SysV init script (both agents run on this machine, so it stands for
// the source's service and the target's alike) that counts each real start and stop.
let service: TestService;

const failing = (what: string) => `#!/bin/sh\necho "checking $1 for ${what}"\necho "${what}: the application is not ready" >&2\nexit 3\n`;

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  service = installTestService('hooks');
  execFileSync('service', [service.name, 'start']);
  const settings = (x: PairSettings): PairSettings => ({
    ...x,
    // No time to drain: a queue that is not empty at once aborts the failover.
    failover: { ...x.failover, services: [service.name], drainTimeoutSeconds: 0, onDrainTimeout: 'abort', serviceTimeoutSeconds: 3 },
    hooks: { ...x.hooks, beforeFailover: failing('before') },
  });
  s = await protectedPair({ label: 'fo-hooks', settings }, async (h) => {
    worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
    await worker.waitUntilReady();
  });
}, 150_000);

afterAll(async () => {
  await worker?.close();
  service?.remove();
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

  it('a failure after the source’s services stopped starts them again; replication goes on', async () => {
    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks: {} } });
    const dataPort = settingsFromColumns(await pair()).connection.port;
    expect(service.running()).toBe(true);
    const before = { starts: service.starts(), stops: service.stops() };
    // The data channel is cut and a change is queued on the source: the queue cannot drain.
    const cut = dropOnLoopback('fo-hooks', [`tcp dport ${dataPort} drop`]);
    try {
      fs.writeFileSync(path.join(s.share, 'queued-behind-the-cut.txt'), 'waits for the link');
      const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'graceful' }, prefix));
      expect(op.status).toBe('failed');
      const stop = op.steps.find((x) => x.kind === 'services.stop')!;
      expect(stop.status).toBe('succeeded');
      const drain = op.steps.find((x) => x.kind === 'replication.drain')!;
      expect(drain.status).toBe('failed');
      expect(drain.error).toMatch(/did not drain within 0 s/);
      // Undone: the services started again on the source (set back to automatic), nothing moved.
      const undo = op.steps.filter((x) => x.phase === 'undo');
      expect(undo.map((x) => [x.kind, x.status])).toEqual(expect.arrayContaining([['services.start', 'succeeded']]));
      expect(service.running()).toBe(true);
      expect(service.stops()).toBe(before.stops + 1);
      expect(service.starts()).toBe(before.starts + 1);
      expect(['failover_pending', 'protected']).toContain((await pair()).status);
      expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([SOURCE_IP]);
    } finally {
      cut.restore();
    }
    // Replication was never stopped: once the link is back, the queued change arrives.
    expect(await waitEqual(s.share, path.join(s.targetRoot, s.share), 30_000)).toEqual([]);
  }, 120_000);

  it('a step that fails past the point of no return stops there: failed over, with what to do by hand', async () => {
    // The target's service will not start: its step comes after DNS moved (the point of no return).
    service.setMode('broken');
    execFileSync('service', [service.name, 'stop']);
    try {
      const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'immediate' }, prefix));
      expect(op.status).toBe('failed');
      const start = op.steps.find((x) => x.kind === 'services.start' && x.phase === 'run')!;
      expect(start.status).toBe('failed');
      expect(start.position).toBeGreaterThan(op.pointOfNoReturn!);
      expect(op.error).toContain(start.description);
      // Nothing undone; the rest skipped; DNS stays at the target; the pair is failed over.
      expect(op.steps.some((x) => x.phase === 'undo')).toBe(false);
      expect(op.steps.filter((x) => x.position > start.position).every((x) => x.status === 'skipped')).toBe(true);
      expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([TARGET_IP]);
      expect((await pair()).status).toBe('failed_over');
      const outcome = op.outcome as { warnings: string[]; nextSteps: string[] };
      expect(outcome.warnings).toEqual([expect.stringContaining(`${start.description} failed after the point of no return`)]);
      expect(outcome.nextSteps[0]).toContain(`Do by hand: ${start.description}`);
      expect(outcome.nextSteps.some((n) => /Mark/.test(n))).toBe(false);
    } finally {
      service.setMode('normal');
    }
    // Back to protected for the next case: fail back and protect again.
    const back = await finishedOperation(await startOperation(s, 'failback', { restoreFirst: false, reprotect: true }, prefix));
    expect(back.error).toBeNull();
    await waitFor('pair protected again', async () => (await pair()).status === 'protected', 60_000);
    expect(await s.bind.dig(`fs1.${ZONE}`, 'A')).toEqual([SOURCE_IP]);
  }, 150_000);

  it('a failing afterFailover hook is a warning: the failover finishes', async () => {
    // The hooks are read when the operation runs; the pair's configuration is edited in place.
    const row = await pair();
    const hooks = { ...(row.hooks as object), beforeFailover: '#!/bin/sh\nexit 0\n', afterFailover: failing('after') };
    await ownerDb().protectionPair.update({ where: { id: s.pairId }, data: { hooks } });
    const op = await finishedOperation(await startOperation(s, 'failover', { mode: 'immediate' }, prefix));
    expect(op.error).toBeNull();
    expect(op.status).toBe('succeeded');
    // Immediate: no drain; the lag at cut-over is what the latest replication sample said.
    expect(op.steps.some((x) => x.kind === 'replication.drain')).toBe(false);
    const sample = await ownerDb().replicationSample.findFirst({ where: { pairId: s.pairId }, orderBy: { at: 'desc' } });
    expect(op.outcome).toHaveProperty('lagAtCutoverSeconds', sample ? sample.lagSeconds : null);
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
