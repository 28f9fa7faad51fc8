// Test failover benchmark (`npm run bench -- drill`): how long a whole test failover takes —
// copy of the replica (or of the standby), probes, teardown — through the real worker and real
// agents, against what a person would run by hand to get the same copy, on the same data in the
// same run:
//   1. A protected file pair with a ~2 GiB mixed tree (the replication benchmark's: many small
//      files, medium ones, a few large) is tested BENCH_RUNS times (default 3); the peer is
//      `cp -a` of the replica on the same filesystem.
//   2. A protected PostgreSQL pair (two PostgreSQL 15 clusters on loopback, a ~1 GiB pgbench
//      database, the target a streaming standby) is tested BENCH_RUNS times; the peer is
//      `pg_basebackup` alone from the standby.
// A test failover is timed from the Operation's creation (what the portal does) until the worker
// marks it finished, so queueing, planning and the teardown are all in. Each run must pass (every
// probe passed, the copy removed, nothing left in the agent's scratch area); a run that does not
// fails the benchmark: numbers of a test that did not work are not written.
// Peer and test runs alternate, each after a `sync`, with the page cache warm for both.
// Writes bench/results/drill.json. Everything it starts it stops; each phase's data is removed
// before the next phase.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentBus } from '@tandem/agent-bus';
import { createPrismaClient } from '@tandem/db';
import { createTenant, ownerDb } from '@tandem/db/testing';
import { pairKeyContext, pairSettingsSchema, planDisable, planEnable, settingsToColumns, stepToRow, type PairSettingsInput } from '@tandem/engine';
import { enqueueOperation, operationsQueue, redisConnection } from '@tandem/jobs';
import { sealSecret } from '@tandem/security';
import { startOperationsWorker } from '../apps/worker/src/queues.ts';
import { agentCli, enrollmentToken, freePort, startAgent, startGateway, tempDir, waitFor, type AgentHandle } from '../tests/integration/support/agents.ts';
import { ClusterRoot } from '../tests/integration/support/postgresql/cluster.ts';
import { basebackupPeer, cpPeer, freeBytes, GiB, pgbenchInit, remove, run, sync, treeSize } from './drill/peers.ts';
import { buildMixedTree } from './replication/tree.ts';

const root = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TREE_MIB = Number(process.env.BENCH_TREE_MIB ?? 2048);
/** pgbench scale: 68 makes a database of about 1 GiB. */
const PG_SCALE = Number(process.env.BENCH_PG_SCALE ?? 68);
/** Which phases to run (comma-separated: file, postgresql); default both. For development only. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'file,postgresql').split(','));
const started = Date.now();
const say = (msg: string) => console.log(`[bench:drill +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

for (const k of ['DATABASE_URL', 'APP_DATABASE_URL', 'REDIS_URL']) {
  if (!process.env[k]) throw new Error(`${k} is not set: run this with "npm run bench -- drill"`);
}
if (process.getuid?.() !== 0) throw new Error('the drill benchmark runs PostgreSQL clusters as the postgres user: run it as root');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('BENCH_RUNS must be a positive whole number');

const cleanups: (() => Promise<void> | void)[] = [];
const prefix = `tandem-bench-drill-${process.pid}`;

interface Agent {
  dir: string;
  agentId: string;
  serverId: string;
  handle: AgentHandle;
}

async function main() {
  // Files: source tree + replica + one copy at a time; PostgreSQL: primary + standby + one copy.
  const need = Math.max((3 * TREE_MIB) / 1024, 4 * (PG_SCALE / 68)) * GiB * 1.25;
  if (freeBytes(os.tmpdir()) < need) throw new Error(`the drill benchmark needs ${round(need / GiB, 1)} GiB free in ${os.tmpdir()} (has ${round(freeBytes(os.tmpdir()) / GiB, 1)} GiB)`);

  execFileSync(process.execPath, [path.join(root, 'apps/agent/build.mjs')], { cwd: root, stdio: 'inherit' });
  const work = tempDir('bench-drill');
  // The agent starts its PostgreSQL copy as the postgres user, under its own directory: that
  // user must be able to reach it (as under /var/lib or /etc on a real server).
  fs.chmodSync(work, 0o755);
  cleanups.push(() => {
    stopCopies(path.join(work, 'target', 'scratch'));
    fs.rmSync(work, { recursive: true, force: true });
  });
  const t = await createTenant(`bench-drill-${randomUUID().slice(0, 6)}`);
  const scope = { organizationId: t.org.id, customerId: t.customerX.id };
  const bus = new AgentBus(process.env.REDIS_URL!, process.env.TANDEM_BUS_KEY);
  cleanups.push(() => bus.close());
  const gw = await startGateway({ heartbeatMs: 5000 });
  cleanups.push(() => gw.stop());

  const agents: Record<'source' | 'target', Agent> = {} as never;
  for (const role of ['source', 'target'] as const) {
    const dir = path.join(work, role);
    fs.mkdirSync(dir, { mode: 0o755 });
    const token = await enrollmentToken(t.customerX);
    const res = await agentCli(['enroll', '--url', gw.url, `--token=${token}`, '--config', path.join(dir, 'agent.json'), '--hooks-dir', path.join(dir, 'hooks'), '--hostname', `drill-${role}-${randomUUID().slice(0, 4)}`]);
    if (res.code !== 0) throw new Error(`enrol ${role}: ${res.output}`);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'agent.json'), 'utf8')) as { agentId: string; serverId: string };
    agents[role] = { dir, ...config, handle: startAgent(dir) };
  }
  cleanups.push(async () => {
    for (const a of Object.values(agents)) await a.handle.stop('SIGKILL');
  });
  /** (Re)starts both agents: they report facts (the PostgreSQL instances running now) when they connect. */
  const startAgents = async (restart: boolean) => {
    for (const a of Object.values(agents)) {
      if (restart) {
        await a.handle.stop('SIGTERM');
        a.handle = startAgent(a.dir);
      }
      await waitFor(`agent ${a.agentId} online`, async () => (await bus.locate(a.agentId)) !== null, 60_000);
    }
  };
  await startAgents(false);

  const connection = redisConnection(process.env.REDIS_URL!);
  const db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 4 });
  cleanups.push(() => db.$disconnect());
  const operations = operationsQueue(connection, { prefix });
  const worker = startOperationsWorker(connection, db, bus, { prefix });
  await worker.waitUntilReady();
  cleanups.push(async () => {
    await worker.close();
    await operations.obliterate({ force: true });
    await operations.close();
  });

  const finished = (operationId: string, timeoutMs: number) =>
    waitFor(
      `operation ${operationId}`,
      async () => {
        const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
        return o.status === 'succeeded' || o.status === 'failed' ? o : null;
      },
      timeoutMs,
    );
  type Finished = Awaited<ReturnType<typeof finished>>;
  const stepsText = (op: Finished) => op.steps.map((s) => `  ${s.position} ${s.phase} ${s.kind} ${s.status}${s.error ? `: ${s.error}` : ''}`).join('\n');

  async function createPair(input: PairSettingsInput, method: 'file' | 'postgresql_streaming') {
    const settings = pairSettingsSchema.parse(input);
    const pairId = randomUUID();
    await ownerDb().protectionPair.create({
      data: { id: pairId, ...scope, sourceServerId: agents.source.serverId, targetServerId: agents.target.serverId, replicationMethod: method, ...settingsToColumns(settings), pairKeyEnc: sealSecret(randomBytes(32).toString('base64'), pairKeyContext(pairId)) },
    });
    return { pairId, settings };
  }
  /** Runs an operation: with steps (enable, disable: the portal plans those) or planned by the worker (test_failover). */
  async function runOperation(pairId: string, kind: 'enable' | 'disable' | 'test_failover', steps: ReturnType<typeof planEnable>, timeoutMs: number) {
    const op = await ownerDb().operation.create({
      data: { ...scope, pairId, kind, requestedById: t.operator.id, steps: { create: steps.map((s, i) => ({ ...scope, position: i, ...stepToRow(s) })) } },
    });
    await enqueueOperation(operations, { operationId: op.id, ...scope });
    return finished(op.id, timeoutMs);
  }
  async function enable(pairId: string, method: 'file' | 'postgresql_streaming', port: number, timeoutMs: number) {
    const op = await runOperation(pairId, 'enable', planEnable({ method, sourceHostname: 'source', targetHostname: 'target', route: '127.0.0.1', port, routeMode: 'direct', monitoring: false }), timeoutMs);
    if (op.status !== 'succeeded') throw new Error(`enabling protection failed: ${op.error}\n${stepsText(op)}`);
    await waitFor('pair protected', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status === 'protected', timeoutMs);
  }
  const scratch = path.join(agents.target.dir, 'scratch');
  const leftovers = () => (fs.existsSync(scratch) ? fs.readdirSync(scratch) : []);

  /** One test failover, as the portal starts it; seconds from the request until the worker finished it. */
  async function testFailover(pairId: string, label: string) {
    const op = await runOperation(pairId, 'test_failover', [], 600_000);
    const report = op.report as { result?: string; cleanedUp?: boolean; error?: string | null } | null;
    if (op.status !== 'succeeded' || report?.result !== 'passed' || report.cleanedUp !== true) {
      const unbuilt = /not built/i.test(`${op.error ?? ''} ${op.steps.map((s) => s.error ?? '').join(' ')}`);
      throw new Error(
        `the ${label} test failover did not pass end to end (status ${op.status}, report ${report ? `${report.result}, cleaned up ${report.cleanedUp}` : 'missing'}): ${op.error ?? report?.error ?? ''}\n${stepsText(op)}` +
          (unbuilt ? '\n→ a part of the test failover is not built yet (worker test.* executors or the agent actions); no numbers are written' : ''),
      );
    }
    const left = leftovers();
    if (left.length > 0) throw new Error(`the ${label} test failover left ${left.join(', ')} in the target agent's scratch area`);
    const steps: Record<string, number> = {};
    for (const s of op.steps) {
      if (!s.startedAt || !s.finishedAt) continue;
      const key = s.kind.replace(/[^a-z0-9]+/gi, '_');
      steps[key] = (steps[key] ?? 0) + (s.finishedAt.getTime() - s.startedAt.getTime()) / 1000;
    }
    const copy = op.steps.find((s) => s.kind === 'test.copy' || s.kind === 'test.postgresql-copy')?.output as { method?: string; durationMs?: number } | undefined;
    // The agent's own time for the copy (cp, or base backup + start + promote), without the step's round trips.
    return { seconds: (op.finishedAt!.getTime() - op.createdAt.getTime()) / 1000, steps, copyMethod: copy?.method ?? null, agentCopySeconds: (copy?.durationMs ?? NaN) / 1000 };
  }

  const metrics: Record<string, number> = {};
  const stepMedians = (phase: string, runs: Record<string, number>[]) => {
    for (const kind of new Set(runs.flatMap((r) => Object.keys(r)))) metrics[`${phase}_step_${kind}_median_s`] = round(median(runs.map((r) => r[kind] ?? 0)), 3);
  };

  // ---- 1. Files ----
  if (ONLY.has('file')) {
    const share = path.join(work, 'share');
    const replicaRoot = path.join(work, 'replica');
    fs.mkdirSync(replicaRoot);
    say(`building a ${TREE_MIB} MiB mixed tree`);
    const tree = buildMixedTree(share, TREE_MIB);
    say(`tree: ${tree.files} files (${tree.small.files} small, ${tree.medium.files} medium, ${tree.large.files} large), ${round(tree.bytes / GiB)} GiB`);
    // The replica is seeded with cp -a and the pair mirrors in `differences` mode (size and mtime),
    // as one seeds a large target before enabling: the initial mirror then only walks both trees.
    // What a test copies is the same either way; this keeps the benchmark within its time.
    const replica = path.join(replicaRoot, share);
    fs.mkdirSync(path.dirname(replica), { recursive: true });
    await run('cp', ['-a', share, replica]);
    say('replica seeded');
    const dataPort = await freePort();
    const { pairId } = await createPair(
      {
        name: 'Drill benchmark share',
        application: 'file_server',
        replicationSet: { roots: [share], rules: [] },
        // The test needs no failover settings: it never fails over.
        failover: { enabled: false, services: [], monitor: { method: 'agent', addresses: ['127.0.0.1'], port: await freePort() } },
        connection: { route: '127.0.0.1', port: dataPort, targetRoot: replicaRoot, mirror: 'differences' },
        dns: {},
        hooks: {},
        testing: { probes: [], copyMethod: 'auto' },
      },
      'file',
    );
    say('enabling protection (initial mirror)');
    await enable(pairId, 'file', dataPort, 600_000);
    const size = treeSize(replica);
    if (size.files !== tree.files || size.bytes !== tree.bytes) throw new Error(`the replica holds ${size.files} files / ${size.bytes} bytes, the source ${tree.files} / ${tree.bytes}`);
    say('protected: the replica is complete');

    const cp: number[] = [];
    const tests: number[] = [];
    const steps: Record<string, number>[] = [];
    const agentCopy: number[] = [];
    let reflink: boolean | null = null;
    for (let i = 0; i < RUNS; i++) {
      cp.push(await cpPeer(replica, path.join(work, 'cp-peer')));
      await sync();
      const r = await testFailover(pairId, 'file');
      tests.push(r.seconds);
      steps.push(r.steps);
      agentCopy.push(r.agentCopySeconds);
      reflink = r.copyMethod === 'reflink';
      say(`file run ${i + 1}/${RUNS}: cp -a ${round(cp.at(-1)!)} s, test failover ${round(r.seconds)} s (copy method ${r.copyMethod})`);
    }
    metrics.file_replica_gib = round(tree.bytes / GiB, 3);
    metrics.file_replica_files = tree.files;
    metrics.test_failover_file_median_s = round(median(tests));
    metrics.file_cp_median_s = round(median(cp));
    metrics.file_ratio_vs_cp = round(median(tests) / median(cp));
    // 1: the agent made copy-on-write clones (the filesystem has reflinks: the ratio is then far
    // below 1); 0: it copied the bytes (ext4 and the like), where the goal of ≤ 1.2 applies.
    metrics.file_copy_reflink = reflink ? 1 : 0;
    metrics.file_agent_copy_median_s = round(median(agentCopy));
    stepMedians('file', steps);

    say('disabling protection and removing the file data');
    const off = await runOperation(pairId, 'disable', planDisable({ sourceHostname: 'source', targetHostname: 'target' }), 120_000);
    if (off.status !== 'succeeded') throw new Error(`disabling the file pair failed: ${off.error}\n${stepsText(off)}`);
    say('protection disabled');
    await remove(share);
    await remove(replicaRoot);
    say('file data removed');
  }

  // ---- 2. PostgreSQL ----
  if (ONLY.has('postgresql')) {
    const clusters = new ClusterRoot();
    cleanups.push(() => clusters.stopAll());
    const [A, B] = [await clusters.create('src', ['--data-checksums']), await clusters.create('dst', ['--data-checksums'])];
    say('two PostgreSQL clusters started');
    say(`pgbench -i -s ${PG_SCALE} on the source`);
    const { bytes } = await pgbenchInit(A, PG_SCALE);
    say(`database: ${round(bytes / GiB, 2)} GiB`);
    await startAgents(true);
    await waitFor('both instances in the facts', async () => {
      const servers = await ownerDb().server.findMany({ where: { id: { in: [agents.source.serverId, agents.target.serverId] } } });
      return servers.every((s) => JSON.stringify(s.facts ?? null).includes(s.id === agents.source.serverId ? A.dataDir : B.dataDir));
    }, 60_000);
    const { pairId } = await createPair(
      {
        name: 'Drill benchmark database',
        application: 'postgresql',
        replicationSet: null,
        failover: { enabled: false, services: [], monitor: { method: 'agent', addresses: ['127.0.0.1'], port: await freePort() } },
        connection: {
          route: '127.0.0.1',
          targetRoot: '/',
          database: { sourceDataDir: A.dataDir, sourcePort: A.port, targetDataDir: B.dataDir, targetPort: B.port, sourceAddress: '127.0.0.1', allowSourceRestart: true },
        },
        dns: {},
        hooks: {},
        testing: { probes: [], copyMethod: 'auto' },
      },
      'postgresql_streaming',
    );
    say('enabling protection (the target becomes a streaming standby)');
    await enable(pairId, 'postgresql_streaming', await freePort(), 600_000);
    if (B.psql('SELECT pg_is_in_recovery()') !== 't') throw new Error('the target is not a standby after enabling protection');
    say('protected: the standby streams');

    const peer: number[] = [];
    const tests: number[] = [];
    const steps: Record<string, number>[] = [];
    const agentCopy: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      peer.push(await basebackupPeer(B, path.join(clusters.root, 'peer')));
      await sync();
      const r = await testFailover(pairId, 'PostgreSQL');
      tests.push(r.seconds);
      steps.push(r.steps);
      agentCopy.push(r.agentCopySeconds);
      say(`PostgreSQL run ${i + 1}/${RUNS}: pg_basebackup ${round(peer.at(-1)!)} s, test failover ${round(r.seconds)} s`);
    }
    metrics.postgresql_database_gib = round(bytes / GiB, 3);
    metrics.test_failover_postgresql_median_s = round(median(tests));
    metrics.postgresql_basebackup_median_s = round(median(peer));
    metrics.postgresql_ratio_vs_basebackup = round(median(tests) / median(peer));
    metrics.postgresql_agent_copy_median_s = round(median(agentCopy));
    stepMedians('postgresql', steps);
    const off = await runOperation(pairId, 'disable', planDisable({ sourceHostname: 'source', targetHostname: 'target' }), 120_000);
    if (off.status !== 'succeeded') say(`disabling the PostgreSQL pair failed (the clusters are removed anyway): ${off.error}`);
  }

  // Plain copy: at most 1.2 × cp -a (with reflinks the test is far below 1); at most 1.3 × pg_basebackup.
  const goals = { file_ratio_vs_cp: '<= 1.2', postgresql_ratio_vs_basebackup: '<= 1.3' };
  const result = {
    area: 'drill',
    date: new Date().toISOString(),
    machine: `${os.hostname()} (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB)`,
    metrics,
    goals: Object.fromEntries(Object.entries(goals).filter(([k]) => k in metrics)),
  };
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/drill.json'), `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote bench/results/drill.json: ${JSON.stringify(metrics)}`);
}

/** A test that failed before its teardown may leave its PostgreSQL copy running in the scratch area: stop it before removing the files. */
function stopCopies(scratch: string) {
  if (!fs.existsSync(scratch)) return;
  for (const id of fs.readdirSync(scratch)) {
    const pidFile = path.join(scratch, id, 'pgdata', 'postmaster.pid');
    if (!fs.existsSync(pidFile)) continue;
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    try {
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // Already gone.
    }
  }
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e: unknown) => console.error('[bench:drill] clean-up:', e));
}
process.exit(0);
