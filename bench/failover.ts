// Failover benchmark (`npm run bench -- failover`): how long a failover takes from the decision to
// the last step, with real agents, a real gateway, the worker's operation runner and a real BIND 9
// on loopback. A protected file pair with DNS failover (an A and a PTR record move) and one real
// service (a SysV init script) fails over BENCH_RUNS times (default 10) and back; then, with manual
// intervention off and the monitor at 1 s × 3, the source agent is killed BENCH_RUNS times and
// the time until `dig` answers the target is measured. The peer: the same DNS change made
// directly with `nsupdate` (what a person with the key would do), timed in the same run.
// Writes bench/results/failover.json. Everything it starts, it stops.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentBus } from '@tandem/agent-bus';
import { createPrismaClient } from '@tandem/db';
import { createTenant, ownerDb } from '@tandem/db/testing';
import { failoverSettingsSchema, pairKeyContext, pairSettingsSchema, planEnable, settingsToColumns, stepToRow, type PairSettingsInput } from '@tandem/engine';
import { enqueueOperation, operationsQueue, redisConnection } from '@tandem/jobs';
import { credentialSecretContext, sealSecret } from '@tandem/security';
import { detectionQueue, scheduleDetection, startDetectionWorker, startOperationsWorker } from '../apps/worker/src/queues.ts';
import { agentCli, enrollmentToken, freePort, startAgent, startGateway, tempDir, waitFor, type AgentHandle } from '../tests/integration/support/agents.ts';
import { startBind } from '../tests/integration/support/bind.ts';
import { installTestService } from '../tests/integration/support/sysv-service.ts';

const root = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const ZONE = 'bench.test';
const REVERSE = '9.10.in-addr.arpa';
const SOURCE_IP = '10.9.0.5';
const TARGET_IP = '10.9.0.6';
const started = Date.now();
const say = (msg: string) => console.log(`[bench:failover +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => percentile(xs, 50);
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

for (const k of ['DATABASE_URL', 'APP_DATABASE_URL', 'REDIS_URL']) {
  if (!process.env[k]) throw new Error(`${k} is not set: run this with "npm run bench -- failover"`);
}
if (process.getuid?.() !== 0) throw new Error('the failover benchmark installs a SysV init script: run it as root');

const cleanups: (() => Promise<void> | void)[] = [];
const prefix = `tandem-bench-${process.pid}`;

async function main() {
  execFileSync(process.execPath, [path.join(root, 'apps/agent/build.mjs')], { cwd: root, stdio: 'inherit' });
  const work = tempDir('bench-failover');
  cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  const t = await createTenant(`bench-failover-${randomUUID().slice(0, 6)}`);
  const customer = t.customerX;
  const scope = { organizationId: t.org.id, customerId: customer.id };
  const bus = new AgentBus(process.env.REDIS_URL!, process.env.TANDEM_BUS_KEY);
  cleanups.push(() => bus.close());
  const gw = await startGateway({ heartbeatMs: 5000 });
  cleanups.push(() => gw.stop());
  const bind = await startBind([
    { name: ZONE, records: `fs1 IN A ${SOURCE_IP}\nwww IN CNAME fs1` },
    { name: REVERSE, records: `5.0 IN PTR fs1.${ZONE}.` },
  ]);
  cleanups.push(() => bind.stop());

  // Two enrolled agents on this machine.
  const agents: Record<'source' | 'target', { dir: string; agentId: string; serverId: string; handle: AgentHandle }> = {} as never;
  for (const role of ['source', 'target'] as const) {
    const dir = path.join(work, role);
    fs.mkdirSync(dir);
    const token = await enrollmentToken(customer);
    const res = await agentCli(['enroll', '--url', gw.url, `--token=${token}`, '--config', path.join(dir, 'agent.json'), '--hooks-dir', path.join(dir, 'hooks'), '--hostname', `bench-${role}-${randomUUID().slice(0, 4)}`]);
    if (res.code !== 0) throw new Error(`enrol ${role}: ${res.output}`);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'agent.json'), 'utf8')) as { agentId: string; serverId: string };
    agents[role] = { dir, ...config, handle: startAgent(dir) };
  }
  cleanups.push(async () => {
    for (const a of Object.values(agents)) await a.handle.stop('SIGKILL');
  });
  const online = (role: 'source' | 'target') => waitFor(`${role} agent online`, async () => (await bus.locate(agents[role].agentId)) !== null, 30_000);
  await online('source');
  await online('target');
  await waitFor('facts', async () => (await ownerDb().server.count({ where: { id: { in: [agents.source.serverId, agents.target.serverId] }, factsAt: { not: null } } })) === 2, 30_000);

  const share = path.join(work, 'share');
  const replica = path.join(work, 'replica');
  fs.mkdirSync(share);
  fs.mkdirSync(replica);
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(share, `file-${i}.txt`), `content ${i}\n`.repeat(200));
  // A real service for the services step.
  const testService = installTestService('bench');
  cleanups.push(() => testService.remove());
  const service = testService.name;
  spawnSync(testService.scriptPath, ['start']);

  const credentialId = randomUUID();
  await ownerDb().credential.create({
    data: { id: credentialId, ...scope, kind: 'dns_tsig', name: `bench-${credentialId.slice(0, 6)}`, secretEnc: sealSecret(bind.key.secret, credentialSecretContext(credentialId)), publicInfo: { keyName: bind.key.name, algorithm: 'hmac-sha256' } },
  });
  const dataPort = await freePort();
  const monitorPort = await freePort();
  const input: PairSettingsInput = {
    name: 'Benchmark share',
    application: 'file_server',
    replicationSet: { roots: [share], rules: [] },
    failover: { type: 'dns', services: [service], monitor: { method: 'agent', addresses: ['127.0.0.1'], port: monitorPort, intervalSeconds: 1, missed: 3 }, manualIntervention: true, mode: 'graceful', drainTimeoutSeconds: 30 },
    connection: { route: '127.0.0.1', port: dataPort, targetRoot: replica },
    dns: {
      servers: [`127.0.0.1:${bind.port}`],
      zone: ZONE,
      addressMap: [{ source: SOURCE_IP, target: TARGET_IP }],
      ttlSeconds: 60,
      credentialId,
      records: [
        { zone: ZONE, name: `fs1.${ZONE}`, type: 'A' },
        { zone: REVERSE, name: `5.0.9.10.in-addr.arpa`, type: 'PTR' },
      ],
    },
    hooks: {},
  };
  const settings = pairSettingsSchema.parse(input);
  const pairId = randomUUID();
  await ownerDb().protectionPair.create({
    data: { id: pairId, ...scope, sourceServerId: agents.source.serverId, targetServerId: agents.target.serverId, replicationMethod: 'file', ...settingsToColumns(settings), pairKeyEnc: sealSecret(randomBytes(32).toString('base64'), pairKeyContext(pairId)) },
  });

  // The worker, in this process: operations and detection (auto failover, fencing re-checks).
  const connection = redisConnection(process.env.REDIS_URL!);
  const db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 4 });
  cleanups.push(() => db.$disconnect());
  const operations = operationsQueue(connection, { prefix });
  const detection = detectionQueue(connection, { prefix });
  await scheduleDetection(detection);
  const workers = [startOperationsWorker(connection, db, bus, { prefix }), startDetectionWorker(connection, db, { prefix, bus, operations })];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  cleanups.push(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await detection.obliterate({ force: true });
    await operations.obliterate({ force: true });
    await detection.close();
    await operations.close();
  });

  const pairRow = () => ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
  async function runOperation(kind: 'enable' | 'failover' | 'failback', options: object = {}) {
    const steps =
      kind === 'enable'
        ? planEnable({ method: 'file', sourceHostname: 'source', targetHostname: 'target', route: '127.0.0.1', port: dataPort, routeMode: 'direct', monitoring: true }).map((s, i) => ({ ...scope, position: i, ...stepToRow(s) }))
        : [];
    const op = await ownerDb().operation.create({ data: { ...scope, pairId, kind, options: options as never, steps: { create: steps } } });
    await enqueueOperation(operations, { operationId: op.id, ...scope });
    return finished(op.id);
  }
  async function finished(operationId: string) {
    return waitFor(
      `operation ${operationId}`,
      async () => {
        const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
        if (o.status === 'failed') throw new Error(`operation failed: ${o.error}`);
        return o.status === 'succeeded' ? o : null;
      },
      180_000,
    );
  }
  const protectedAgain = () => waitFor('pair protected', async () => (await pairRow()).status === 'protected', 120_000);
  const digA = async () => (await bind.dig(`fs1.${ZONE}`, 'A'))[0] ?? '';

  say('enabling protection');
  await runOperation('enable');
  await protectedAgain();

  // 1. Failover by decision: the operation is created (the decision) → its last step finished.
  const rto: number[] = [];
  const stepTimes: Record<string, number[]> = {};
  for (let i = 0; i < RUNS; i++) {
    const decided = Date.now();
    const op = await runOperation('failover', { mode: 'graceful' });
    const last = Math.max(...op.steps.map((s) => s.finishedAt?.getTime() ?? 0));
    rto.push(last - decided);
    for (const s of op.steps) {
      if (s.phase !== 'run' || !s.startedAt || !s.finishedAt) continue;
      (stepTimes[s.kind] ??= []).push(s.finishedAt.getTime() - s.startedAt.getTime());
    }
    if ((await digA()) !== TARGET_IP) throw new Error(`after failover ${i + 1} dig answers ${await digA()}`);
    say(`failover ${i + 1}/${RUNS}: ${rto.at(-1)} ms`);
    await runOperation('failback', { restoreFirst: false, reprotect: true });
    await protectedAgain();
  }

  // The peer: the same A and PTR change made directly with nsupdate, and back.
  const keyArg = `hmac-sha256:${bind.key.name}:${bind.key.secret}`;
  const nsupdate = (from: string, to: string) => {
    const script = [
      `server 127.0.0.1 ${bind.port}`,
      `zone ${ZONE}`,
      `update delete fs1.${ZONE} A`,
      `update add fs1.${ZONE} 60 A ${to}`,
      'send',
      `zone ${REVERSE}`,
      `update delete ${from.split('.').reverse().join('.')}.in-addr.arpa PTR`,
      `update add ${to.split('.').reverse().join('.')}.in-addr.arpa 60 PTR fs1.${ZONE}.`,
      'send',
      '',
    ].join('\n');
    const t0 = Date.now();
    const r = spawnSync('nsupdate', ['-y', keyArg], { input: script, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nsupdate: ${r.stderr}`);
    return Date.now() - t0;
  };
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    peer.push(nsupdate(SOURCE_IP, TARGET_IP));
    nsupdate(TARGET_IP, SOURCE_IP);
  }

  // 2. Automatic failover: kill the source agent, time until dig answers the target.
  const failover = failoverSettingsSchema.parse({ ...settings.failover, manualIntervention: false });
  await ownerDb().protectionPair.update({ where: { id: pairId }, data: { failoverSettings: failover } });
  const auto: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const killed = Date.now();
    await agents.source.handle.stop('SIGKILL');
    while ((await digA()) !== TARGET_IP) {
      if (Date.now() - killed > 120_000) throw new Error('the automatic failover did not move the record within 120 s');
      await sleep(50);
    }
    auto.push(Date.now() - killed);
    say(`automatic failover ${i + 1}/${RUNS}: ${auto.at(-1)} ms`);
    const op = await waitFor('automatic failover finished', async () => ownerDb().operation.findFirst({ where: { pairId, kind: 'failover', status: { in: ['succeeded', 'failed'] }, createdAt: { gte: new Date(killed) } } }), 60_000);
    if (op.status !== 'succeeded') throw new Error(`automatic failover failed: ${op.error}`);
    agents.source.handle = startAgent(agents.source.dir);
    await online('source');
    await runOperation('failback', { restoreFirst: false, reprotect: true });
    await protectedAgain();
  }

  const metrics: Record<string, number> = {
    rto_overhead_median_ms: median(rto),
    rto_overhead_p90_ms: percentile(rto, 90),
    auto_rto_median_ms: median(auto),
    nsupdate_peer_median_ms: median(peer),
    rto_vs_nsupdate_ratio: Number((median(rto) / Math.max(1, median(peer))).toFixed(2)),
  };
  for (const [kind, xs] of Object.entries(stepTimes)) metrics[`step_${kind.replace(/[^a-z0-9]+/gi, '_')}_median_ms`] = median(xs);
  const result = {
    area: 'failover',
    date: new Date().toISOString(),
    machine: `${os.hostname()} (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB)`,
    metrics,
    goals: { rto_overhead_median_ms: '<= 3000', auto_rto_median_ms: '<= 6000' },
  };
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/failover.json'), `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote bench/results/failover.json: ${JSON.stringify(metrics)}`);
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e: unknown) => console.error('[bench:failover] clean-up:', e));
}
process.exit(0);
