// A failover survives its worker being killed (-9) at every step in turn. The worker is a real
// child process running the operation; a test-only switch (TANDEM_TEST_CRASH_AT, see
// apps/worker/src/operations/test-crash.ts) kills it right after a step's agent commands were
// answered and before the step is recorded, the worst moment: the restarted worker sends the
// same commands again with the same ids, and the agents answer from their run-once memory.
// (The child is bundled once with esbuild so that a dozen restarts stay quick.)
// Afterwards BIND holds exactly the expected records (one update per zone), each hook ran once,
// and the protected service (a SysV init script) was stopped once and started once.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { tempDir } from './support/agents';
import { protectedPair, REVERSE_ZONE, soaSerial, SOURCE_IP, TARGET_IP, ZONE, zoneDump, type FailoverSetup } from './support/failover';
import { installTestService, type TestService } from './support/sysv-service';
import { operationWorkerChild } from './support/worker-life';

const work = tempDir('fo-crash-work');
const hookLog = path.join(work, 'hooks.log');
// The protected service: a SysV init script that counts each real start and stop.
let service: TestService;

const hook = `#!/bin/sh\necho "$1" >> '${hookLog}'\n`;

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let s: FailoverSetup;
let db: Db;
let worker: Worker | undefined;
const child = operationWorkerChild('operation-child');
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);



beforeAll(async () => {
  await child.bundle();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  service = installTestService('crash');
  execFileSync('service', [service.name, 'start']);
  s = await protectedPair(
    {
      label: 'fo-crash',
      settings: (x) => ({ ...x, failover: { ...x.failover, services: [service.name] }, hooks: { ...x.hooks, beforeFailover: hook, afterFailover: hook } }),
    },
    // This process's worker only enables protection: the failover is never queued, children run it.
    async (h) => {
      worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
      await worker.waitUntilReady();
    },
  );
}, 150_000);

afterAll(async () => {
  await worker?.close();
  service?.remove();
  fs.rmSync(work, { recursive: true, force: true });
  child.remove();
  await s?.teardown();
  await db?.$disconnect();
});

describe('worker killed during a failover', () => {
  it('at every step in turn: the run completes, BIND holds exactly the expected records, every side effect happened once', async () => {
    const zoneBefore = await zoneDump(s.bind, ZONE);
    const reverseBefore = await zoneDump(s.bind, REVERSE_ZONE);
    const serials = { zone: await soaSerial(s.bind, ZONE), reverse: await soaSerial(s.bind, REVERSE_ZONE) };
    expect(service.starts()).toBe(1);

    const op = await ownerDb().operation.create({
      data: { organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id, pairId: s.pairId, kind: 'failover', options: { mode: 'graceful' }, requestedById: s.h.t.operator.id },
    });
    // Each life dies right after the next step's commands were answered, before it is recorded.
    const deaths: number[] = [];
    for (let life = 0; life < 40; life++) {
      const steps = await ownerDb().operationStep.findMany({ where: { operationId: op.id }, orderBy: { position: 'asc' } });
      // The next life re-runs the step its predecessor died in, then dies in the following one.
      const next = steps.find((x) => !deaths.includes(x.position));
      const crashAt = steps.length === 0 ? 'done:run:0' : next ? `done:${next.phase}:${next.position}` : null;
      const result = await child.life({ operationId: op.id, organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id }, crashAt);
      if (crashAt) {
        if (result.signal !== 'SIGKILL') throw new Error(`the worker was to die at ${crashAt} but ended ${result.code ?? result.signal}:\n${result.output}`);
        deaths.push(Number(crashAt.split(':')[2]));
        continue;
      }
      expect(result.code, result.output).toBe(0);
      const row = await ownerDb().operation.findUniqueOrThrow({ where: { id: op.id } });
      if (row.status === 'succeeded' || row.status === 'failed') break;
    }

    const done = await ownerDb().operation.findUniqueOrThrow({ where: { id: op.id }, include: { steps: { orderBy: { position: 'asc' } } } });
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    // The worker died once at every step of the plan.
    expect(deaths.sort((a, b) => a - b)).toEqual(done.steps.map((x) => x.position));
    expect(done.steps.map((x) => x.kind)).toEqual(expect.arrayContaining(['hook.run', 'services.stop', 'replication.drain', 'dns.apply', 'services.start', 'pair.set-state']));
    // A re-sent command is the same command: no step needed a new attempt.
    expect(done.steps.every((x) => x.attempts === 0)).toBe(true);
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: s.pairId } })).status).toBe('failed_over');

    // BIND: exactly the planned change, one update per zone.
    const expectedZone = zoneBefore.map((l) => (l.startsWith(`fs1.${ZONE}.`) && l.endsWith(` A ${SOURCE_IP}`) ? l.replace(SOURCE_IP, TARGET_IP).replace(/ 300 /, ' 60 ') : l)).sort();
    expect(await zoneDump(s.bind, ZONE)).toEqual(expectedZone);
    const reverseAfter = await zoneDump(s.bind, REVERSE_ZONE);
    expect(reverseAfter.filter((l) => l.includes('PTR'))).toEqual(
      reverseBefore
        .filter((l) => l.includes('PTR'))
        .map((l) => (l.startsWith('5.0.1.10.in-addr.arpa.') ? l.replace('5.0.1.10', '6.0.1.10').replace(/ 300 /, ' 60 ') : l))
        .sort(),
    );
    expect(await soaSerial(s.bind, ZONE)).toBe(serials.zone + 1);
    expect(await soaSerial(s.bind, REVERSE_ZONE)).toBe(serials.reverse + 1);

    // Each hook ran once; the service stopped once (source) and started once (target).
    expect(lines(hookLog)).toEqual(['beforeFailover', 'afterFailover']);
    expect(service.stops()).toBe(1);
    expect(service.starts()).toBe(2);
  }, 180_000);
});
