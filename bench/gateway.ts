// Gateway benchmark (`npm run bench -- gateway`): how many agents one gateway process holds, and
// what that costs it. One real gateway (apps/gateway, heartbeat every 5 s) on loopback; simulated
// agents in separate swarm processes (bench/gateway/swarm.ts) speaking the real protocol. The run
// ramps up to BENCH_AGENTS (default 10,000) at the pace the gateway takes, holds ~30 s while it
// samples the gateway's CPU and RSS from /proc and the agents' heartbeat round trips, then writes
// bench/results/gateway.json. Everything it starts, it stops; its database rows go with it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTenant, ownerDb } from '@tandem/db/testing';
import { randomToken, sha256Hex } from '@tandem/security';
import { freePort } from '../tests/integration/support/ports.ts';
import type { DriverMessage, Progress, Report, SwarmMessage } from './gateway/ipc.ts';

const root = path.resolve(import.meta.dirname, '..');
const AGENTS = Number(process.env.BENCH_AGENTS ?? 10_000);
const SWARMS = Number(process.env.BENCH_SWARMS ?? 4);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 30_000);
const HEARTBEAT_MS = 5_000;
const MAX_PENDING_PER_SWARM = Number(process.env.BENCH_MAX_PENDING ?? 50);
const RAMP_LIMIT_MS = 150_000;
const DEADLINE_MS = 290_000; // the whole run, set-up and clean-up included

const started = Date.now();
const say = (msg: string) => console.log(`[bench:gateway +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const k of ['DATABASE_URL', 'APP_DATABASE_URL', 'REDIS_URL']) {
  if (!process.env[k]) throw new Error(`${k} is not set: run this with "npm run bench -- gateway"`);
}
if (!Number.isInteger(AGENTS) || AGENTS < 1) throw new Error('BENCH_AGENTS must be a positive integer');

// ---------------------------------------------------------------------------------------------
// Processes

const children: ChildProcess[] = [];

function shell(cmd: string): string {
  return spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout.trim();
}

/** Runs node with our loader, trying to raise the open-file limit to `fds` first. */
function spawnNode(script: string, fds: number, opts: { env: NodeJS.ProcessEnv; ipc?: boolean }): ChildProcess {
  const child = spawn('bash', ['-c', `ulimit -n ${fds} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, '--import', 'tsx', script], {
    cwd: root,
    env: opts.env,
    stdio: opts.ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** A /proc/<pid>/status value in KiB (VmRSS, VmHWM). */
function statusKiB(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// Swarms

interface Swarm {
  child: ChildProcess;
  pid: number;
  progress: Progress;
  ramped: boolean;
  report?: Report;
  send(m: DriverMessage): void;
}

async function startSwarm(fds: number): Promise<Swarm> {
  const child = spawnNode(path.join(root, 'bench/gateway/swarm.ts'), fds, { env: process.env, ipc: true });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('a swarm process did not start')), 30_000);
    child.once('exit', (code) => reject(new Error(`a swarm process exited with ${code} before it was ready`)));
    const s: Swarm = {
      child,
      pid: 0,
      progress: { welcomed: 0, failed: 0, pending: 0, queued: 0 },
      ramped: false,
      send: (m) => void child.send(m),
    };
    child.on('message', (m: SwarmMessage) => {
      if (m.ev === 'ready') {
        clearTimeout(t);
        s.pid = m.pid;
        resolve(s);
      } else if (m.ev === 'progress') s.progress = m;
      else if (m.ev === 'ramped') {
        s.progress = m;
        s.ramped = true;
      } else s.report = m;
    });
  });
}

// ---------------------------------------------------------------------------------------------

let tenantOrgId: string | null = null;
let gateway: ChildProcess | null = null;
const swarms: Swarm[] = [];
let cleaning: Promise<void> | null = null;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const s of swarms) s.send({ cmd: 'stop' });
    await Promise.all(swarms.map((s) => stopChild(s.child, 'SIGTERM', 5_000)));
    if (gateway) await stopChild(gateway, 'SIGTERM', 10_000);
    await Promise.all(children.map((c) => stopChild(c, 'SIGKILL', 1_000)));
    if (tenantOrgId) {
      // Agents go with their servers. The tiny tenant itself stays (its audit event is append-only).
      const { count } = await ownerDb().server.deleteMany({ where: { organizationId: tenantOrgId } });
      say(`removed ${count} benchmark servers and their agents`);
    }
    await ownerDb().$disconnect();
  })();
  return cleaning;
}

const deadline = setTimeout(() => {
  console.error(`[bench:gateway] still running after ${DEADLINE_MS / 1000}s: stopping`);
  void cleanUp().finally(() => process.exit(1));
}, DEADLINE_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void cleanUp().finally(() => process.exit(130)));

async function main() {
  const cores = os.cpus().length;
  const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const machine = `${cpuModel}, ${cores} cores, ${round(os.totalmem() / 2 ** 30)} GiB RAM`;
  const clockTicks = Number(shell('getconf CLK_TCK')) || 100;
  const fdSoft = Number(shell('ulimit -n'));
  const fdHard = shell('ulimit -Hn');
  const wantFds = AGENTS + 1024;
  say(`${AGENTS} agents in ${SWARMS} swarm processes on ${machine}; open-file limit ${fdSoft} (hard ${fdHard})`);
  if ((fdHard === 'unlimited' ? Infinity : Number(fdHard)) < wantFds) {
    say(`warning: the hard open-file limit ${fdHard} is below the ${wantFds} the gateway needs; expect refused connections`);
  }

  // The database (migrated by infra/bench.mjs): the agents.
  const t0 = Date.now();
  const tenant = await createTenant(`bench-${randomUUID().slice(0, 8)}`);
  tenantOrgId = tenant.org.id;
  const credentials: string[] = [];
  const CHUNK = 2_000;
  for (let i = 0; i < AGENTS; i += CHUNK) {
    const n = Math.min(CHUNK, AGENTS - i);
    const servers = Array.from({ length: n }, (_, j) => ({
      id: randomUUID(),
      organizationId: tenant.org.id,
      customerId: tenant.customerX.id,
      hostname: `bench-${String(i + j).padStart(6, '0')}`,
      osFamily: 'linux' as const,
      addresses: [],
    }));
    await ownerDb().server.createMany({ data: servers });
    const creds = servers.map(() => randomToken());
    await ownerDb().agent.createMany({
      data: servers.map((s, j) => ({ organizationId: s.organizationId, customerId: s.customerId, serverId: s.id, credentialHash: sha256Hex(creds[j]!) })),
    });
    credentials.push(...creds);
  }
  const provisionMs = Date.now() - t0;
  say(`created ${AGENTS} servers and agents in ${provisionMs} ms`);

  // The gateway.
  const port = await freePort();
  gateway = spawnNode(path.join(root, 'apps/gateway/src/main.ts'), wantFds, {
    env: { ...process.env, GATEWAY_PORT: String(port), GATEWAY_ID: `gw-bench-${randomUUID().slice(0, 8)}`, HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) },
  });
  let logLines = 0;
  const logTail: string[] = [];
  const failures: Record<string, number> = {}; // "… failed" log lines, by their first words
  const failureSamples: string[] = [];
  const onLog = (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (!line) continue;
      logLines++;
      const failure = /^\[gateway\] ([^{]*failed)/.exec(line);
      if (failure) {
        failures[failure[1]!] = (failures[failure[1]!] ?? 0) + 1;
        if (failureSamples.length < 3) failureSamples.push(line.slice(0, 600));
      }
      logTail.push(line.slice(0, 300));
      if (logTail.length > 20) logTail.shift();
    }
  };
  gateway.stdout!.on('data', onLog);
  gateway.stderr!.on('data', onLog);
  const gw = gateway;
  // A function, not a property read: TypeScript would keep an earlier check's narrowing across awaits.
  const exitCode = () => gw.exitCode;
  const health = async () => (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.json()).catch(() => null)) as { agents: number } | null;
  for (let i = 0; ; i++) {
    if (exitCode() !== null) throw new Error(`the gateway exited with ${exitCode()}:\n${logTail.join('\n')}`);
    if (await health()) break;
    if (i > 300) throw new Error('the gateway did not answer /health within 30 s');
    await sleep(100);
  }
  const gwPid = gw.pid!;
  const rssIdleMiB = statusKiB(gwPid, 'VmRSS') / 1024;
  say(`gateway pid ${gwPid} on 127.0.0.1:${port}, ${round(rssIdleMiB)} MiB RSS idle`);

  // The swarms, and the ramp.
  swarms.push(...(await Promise.all(Array.from({ length: SWARMS }, () => startSwarm(Math.ceil(AGENTS / SWARMS) + 1024)))));
  const rampStart = Date.now();
  const rampTicks0 = cpuTicks(gwPid);
  swarms.forEach((s, i) =>
    s.send({
      cmd: 'start',
      url: `ws://127.0.0.1:${port}/agent`,
      credentials: credentials.filter((_, j) => j % SWARMS === i),
      maxPending: MAX_PENDING_PER_SWARM,
      heartbeatMs: HEARTBEAT_MS,
      helloTimeoutMs: 60_000,
    }),
  );
  const total = (k: keyof Progress) => swarms.reduce((a, s) => a + s.progress[k], 0);
  let lastSay = 0;
  while (!swarms.every((s) => s.ramped)) {
    if (exitCode() !== null) throw new Error(`the gateway exited with ${exitCode()} during the ramp:\n${logTail.join('\n')}`);
    if (Date.now() - rampStart > RAMP_LIMIT_MS) {
      say(`ramp limit of ${RAMP_LIMIT_MS / 1000}s reached: holding what is connected`);
      break;
    }
    if (Date.now() - lastSay > 5_000) {
      lastSay = Date.now();
      say(`ramp: ${total('welcomed')} welcomed, ${total('failed')} failed, ${total('pending')} in handshake, ${total('queued')} queued`);
    }
    await sleep(200);
  }
  const rampMs = Date.now() - rampStart;
  const rampCpuOneCore = ((cpuTicks(gwPid) - rampTicks0) / clockTicks / (rampMs / 1000)) * 100;
  say(`ramp done in ${round(rampMs / 1000)} s: ${total('welcomed')} welcomed (${round((total('welcomed') / rampMs) * 1000)}/s), ${total('failed')} failed`);

  // A few seconds for the heartbeats to spread over the interval, then hold and measure.
  await sleep(HEARTBEAT_MS);
  say(`holding for ${HOLD_MS / 1000} s`);
  for (const s of swarms) s.send({ cmd: 'measure' });
  const hold0 = { t: process.hrtime.bigint(), gw: cpuTicks(gwPid), swarms: swarms.map((s) => cpuTicks(s.pid)) };
  const rssSamples: number[] = [];
  const cpuTimeline: number[] = []; // % of one core, second by second
  const holdEnd = Date.now() + HOLD_MS;
  let last = { t: process.hrtime.bigint(), ticks: hold0.gw };
  while (Date.now() < holdEnd) {
    if (exitCode() !== null) throw new Error(`the gateway exited with ${exitCode()} during the hold:\n${logTail.join('\n')}`);
    rssSamples.push(statusKiB(gwPid, 'VmRSS') / 1024);
    await sleep(1_000);
    const now = { t: process.hrtime.bigint(), ticks: cpuTicks(gwPid) };
    cpuTimeline.push(Math.round(((now.ticks - last.ticks) / clockTicks / (Number(now.t - last.t) / 1e9)) * 100));
    last = now;
  }
  const holdSeconds = Number(process.hrtime.bigint() - hold0.t) / 1e9;
  const gwCpuSeconds = (cpuTicks(gwPid) - hold0.gw) / clockTicks;
  const swarmCpuSeconds = swarms.reduce((a, s, i) => a + (cpuTicks(s.pid) - hold0.swarms[i]!), 0) / clockTicks;
  const rssMiB = statusKiB(gwPid, 'VmRSS') / 1024;
  const rssPeakMiB = statusKiB(gwPid, 'VmHWM') / 1024;
  for (const s of swarms) s.send({ cmd: 'report' });
  for (let i = 0; !swarms.every((s) => s.report); i++) {
    if (i > 150) throw new Error('a swarm did not report');
    await sleep(100);
  }
  const gwHealth = await health();

  // The numbers.
  const reports = swarms.map((s) => s.report!);
  const sum = (f: (r: Report) => number) => reports.reduce((a, r) => a + f(r), 0);
  const rtts = reports.flatMap((r) => r.rtts).sort((a, b) => a - b);
  const helloMs = reports.flatMap((r) => r.helloMs).sort((a, b) => a - b);
  const merge = (f: (r: Report) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(f(r))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const cpuOneCore = (gwCpuSeconds / holdSeconds) * 100;
  const metrics = {
    agents_held: sum((r) => r.open),
    cpu_percent: round(cpuOneCore / cores),
    rss_mib: round(rssMiB),
    heartbeat_rtt_p50_ms: round(percentile(rtts, 50), 2),
    heartbeat_rtt_p99_ms: round(percentile(rtts, 99), 2),
  };
  const result = {
    area: 'gateway',
    date: new Date().toISOString(),
    machine,
    metrics,
    goals: { agents_held: '>= 10000', cpu_percent: '<= 50', rss_mib: '<= 1024' },
    notes: [
      `cpu_percent: the gateway process's utime+stime over the ${round(holdSeconds)} s hold, as a percentage of the whole ${cores}-core machine (100 = all ${cores} cores busy); of one core it is ${round(cpuOneCore)}%.`,
      'rss_mib: VmRSS of the gateway process at the end of the hold.',
      `heartbeat RTT: heartbeat sent → matching heartbeat.ack received, measured in the swarm processes over the hold (they share the machine with the gateway and PostgreSQL; their own event-loop delay is in details).`,
      `agents_held: connections that completed hello/welcome and were still open at the end of the hold; the target was ${AGENTS}.`,
      `ramp: agents dial with at most ${MAX_PENDING_PER_SWARM * SWARMS} handshakes (connect → welcome) in flight, so the pace is the gateway's; hello does a credential lookup and a markOnline write per agent.`,
    ],
    details: {
      target_agents: AGENTS,
      swarm_processes: SWARMS,
      heartbeat_interval_ms: HEARTBEAT_MS,
      hold_seconds: round(holdSeconds),
      gateway_health_agents: gwHealth?.agents ?? null,
      provision_ms: provisionMs,
      ramp_seconds: round(rampMs / 1000),
      ramp_welcomes_per_second: round((sum((r) => r.welcomed) / rampMs) * 1000),
      hello_to_welcome_ms: { p50: percentile(helloMs, 50), p99: percentile(helloMs, 99), max: helloMs.at(-1) ?? null },
      welcomed: sum((r) => r.welcomed),
      failed_before_welcome: sum((r) => r.failed),
      heartbeats_in_hold: sum((r) => r.heartbeatsSent),
      acks_in_hold: sum((r) => r.acksReceived),
      acks_missed: sum((r) => r.missed),
      acks_outstanding_at_end: sum((r) => r.unacked),
      rtt_samples: rtts.length,
      rtt_max_ms: rtts.at(-1) ?? null,
      rss_idle_mib: round(rssIdleMiB),
      rss_peak_mib: round(rssPeakMiB),
      rss_min_max_in_hold_mib: [round(Math.min(...rssSamples)), round(Math.max(...rssSamples))],
      gateway_cpu_percent_of_one_core: round(cpuOneCore),
      gateway_cpu_one_core_each_second_of_hold: cpuTimeline,
      gateway_cpu_percent_of_one_core_during_ramp: round(rampCpuOneCore),
      swarm_cpu_percent_of_machine: round((swarmCpuSeconds / holdSeconds / cores) * 100),
      swarm_loop_delay_p99_ms: Math.max(...reports.map((r) => r.loopDelayP99Ms)),
      swarm_loop_delay_max_ms: Math.max(...reports.map((r) => r.loopDelayMaxMs)),
      outcomes: merge((r) => r.outcomes),
      error_frames: merge((r) => r.errorFrames),
      gateway_log_lines: logLines,
      gateway_log_failures: failures,
      gateway_log_failure_samples: failureSamples,
      open_file_limit: { soft: fdSoft, hard: fdHard },
    },
  };
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/gateway.json'), JSON.stringify(result, null, 2) + '\n');

  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  console.log(
    [
      '',
      `gateway benchmark (${machine})`,
      `  ${mark(metrics.agents_held >= 10_000)} agents_held          ${metrics.agents_held} of ${AGENTS} (goal >= 10000)`,
      `  ${mark(metrics.cpu_percent <= 50)} cpu_percent          ${metrics.cpu_percent}% of ${cores} cores (${round(cpuOneCore)}% of one core; goal <= 50)`,
      `  ${mark(metrics.rss_mib <= 1024)} rss_mib              ${metrics.rss_mib} (goal <= 1024)`,
      `       heartbeat RTT        p50 ${metrics.heartbeat_rtt_p50_ms} ms, p99 ${metrics.heartbeat_rtt_p99_ms} ms (${rtts.length} samples)`,
      `       ramp                 ${round(rampMs / 1000)} s, ${result.details.ramp_welcomes_per_second} hellos/s; hello→welcome p50 ${result.details.hello_to_welcome_ms.p50} ms, p99 ${result.details.hello_to_welcome_ms.p99} ms`,
      `  written to bench/results/gateway.json`,
      '',
    ].join('\n'),
  );
}

try {
  await main();
} catch (err) {
  process.exitCode = 1;
  console.error('[bench:gateway] failed:', err);
} finally {
  await cleanUp().catch((err: unknown) => console.error('[bench:gateway] clean-up failed:', err));
  clearTimeout(deadline);
}
