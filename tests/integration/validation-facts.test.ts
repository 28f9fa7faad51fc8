// Validation runs reading real facts from real agents (gateway, agents and the worker's runner):
// an agent below the supported release (the reference minimum raised above it through the
// worker's TANDEM_AGENT_MIN_VERSION) gives agent.version-unsupported on both sides with what to
// do; a target volume too small for the replicated data (a 1 MiB tmpfs holding the target root,
// 4 MiB on the source) gives platform.target-space-insufficient.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor } from './helpers';
import { freePort, tempDir, waitFor } from './support/agents';
import { validPairSettings } from './support/pair-settings';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';
import { validate } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const h = new ReplicationHarness('valfacts');
let db: Db;
let worker: Worker | undefined;
let source: Enrolled;
let target: Enrolled;
let pairId: string;
let small: string;

const tenant = () => ({ organizationId: h.t.org.id, customerId: h.t.customerX.id });

beforeAll(async () => {
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  await h.setup();
  worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, h.bus, { prefix });
  await worker.waitUntilReady();
  source = await h.enrolAndRun('source');
  target = await h.enrolAndRun('target');
  await h.online(source.agentId);
  await h.online(target.agentId);
  await waitFor('facts of both servers', async () => (await ownerDb().server.findMany({ where: { id: { in: [source.serverId, target.serverId] } } })).filter((s) => s.facts !== null).length === 2, 60_000);

  const data = tempDir('valfacts-data');
  h.cleanup.push(data);
  const share = path.join(data, 'share');
  fs.mkdirSync(share, { recursive: true });
  // 4 MiB of data that does not compress away.
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(share, `blob-${i}.bin`), randomBytes(1024 * 1024));
  // The target root lives on a 1 MiB volume of its own.
  small = path.join(data, 'small');
  fs.mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
  const base = validPairSettings();
  const settings = {
    ...base,
    name: 'Space and versions',
    application: 'generic_service' as const,
    replicationSet: { roots: [share], rules: [] },
    failover: { ...base.failover, services: [], monitor: { ...base.failover.monitor, addresses: ['127.0.0.1'], port: await freePort() } },
    connection: { ...base.connection, route: '127.0.0.1', port: await freePort(), targetRoot: small },
  };
  pairId = (await callerFor(h.t.operator.id).pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings })).id;
}, 180_000);

afterAll(async () => {
  await worker?.close();
  if (small) execFileSync('umount', [small], { stdio: 'ignore' });
  await h.teardown();
  await db?.$disconnect();
});

describe('validation on real facts', () => {
  it('an agent below the supported release: agent.version-unsupported on each side, with what to do', async () => {
    process.env.TANDEM_AGENT_MIN_VERSION = '0.2.0';
    try {
      const { run } = await validate(tenant(), pairId, prefix);
      const found = run.findings.filter((f) => f.checkId === 'agent.version-unsupported');
      expect(found.map((f) => f.side).sort()).toEqual(['source', 'target']);
      for (const f of found) {
        expect(f.status).toBe('error-manual');
        expect(f.message).toMatch(/0\.1\.0/);
        expect(f.message).toMatch(/0\.2\.0/);
        expect(f.guidance).toMatch(/install/i);
      }
      expect(run.status).toBe('failed');
    } finally {
      delete process.env.TANDEM_AGENT_MIN_VERSION;
    }
    // At the shipped minimum the agents are supported.
    const { run } = await validate(tenant(), pairId, prefix);
    expect(run.findings.filter((f) => f.checkId === 'agent.version-unsupported')).toEqual([]);
  }, 180_000);

  it('a target volume smaller than the data: platform.target-space-insufficient', async () => {
    const { run } = await validate(tenant(), pairId, prefix);
    const found = run.findings.filter((f) => f.checkId === 'platform.target-space-insufficient');
    expect(found).toEqual([expect.objectContaining({ side: 'target', subject: `volume=${small}`, severity: 'error' })]);
    expect(found[0]!.status).toMatch(/^error-/);
  }, 180_000);
});
