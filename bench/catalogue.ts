// Validation catalogue benchmark (`npm run bench -- catalogue`):
//   1. eval_cpu_s_1000_pairs: CPU seconds to evaluate the whole catalogue over 1,000 pairs' facts
//      (bench/catalogue/evaluate.ts), and checks_in_registry.
//   2. validate_run_median_ms: the median of BENCH_RUNS (default 5) validation runs of one real
//      PostgreSQL streaming pair end to end (tests/integration/support/validation-pair.ts: two
//      PostgreSQL instances, two agents, a gateway, BIND 9, the worker), each timed from the
//      Operation's creation (what the portal does) until the worker marks it finished. A run that
//      did not get its facts from both agents and the DNS dry run fails the benchmark.
//   The peer, on the same machines in the same run: what a person would do by hand to read the
//   same kind of facts, `pg_dumpall --globals-only` of both instances and a `dig` of the record;
//   validate_vs_peer_ratio is the validation median over the peer median. Peer and validation
//   runs alternate.
// Writes bench/results/catalogue.json. Everything it starts it stops.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_BIN } from '../tests/integration/support/postgresql/cluster.ts';
import { SOURCE_NAME, ValidationPair } from '../tests/integration/support/validation-pair.ts';
import { validate } from '../tests/integration/support/validation.ts';
import { measureEvaluation } from './catalogue/evaluate.ts';

const root = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const started = Date.now();
const say = (msg: string) => console.log(`[bench:catalogue +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

for (const k of ['DATABASE_URL', 'APP_DATABASE_URL', 'REDIS_URL']) {
  if (!process.env[k]) throw new Error(`${k} is not set: run this with "npm run bench -- catalogue"`);
}
if (process.getuid?.() !== 0) throw new Error('the catalogue benchmark runs PostgreSQL as the postgres user and installs a SysV service: run it as root');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('BENCH_RUNS must be a positive whole number');
process.env.TANDEM_QUEUE_PREFIX = `tandem-bench-catalogue-${process.pid}`;

/** The peer: both instances' global objects and the record, as a person would read them. */
function peer(vp: ValidationPair): number {
  const t0 = performance.now();
  for (const c of [vp.A, vp.B]) {
    execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_dumpall`, '--globals-only', '-h', c.socketDir, '-p', String(c.port)], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
  }
  const answer = execFileSync('dig', ['+short', '-p', String(vp.bind.port), '@127.0.0.1', SOURCE_NAME, 'A'], { encoding: 'utf8' }).trim();
  const ms = performance.now() - t0;
  if (answer !== vp.address) throw new Error(`the peer's dig answered "${answer}", not ${vp.address}`);
  return ms;
}

async function main() {
  say('evaluating the catalogue over 1,000 pairs');
  const evaluation = measureEvaluation(1000);
  say(`${evaluation.checks} checks, ${evaluation.cpuSeconds.toFixed(2)} CPU s, ${evaluation.findings} findings, ${evaluation.unknown} unknown`);

  const vp = new ValidationPair('benchcat');
  try {
    say('setting up the pair (two PostgreSQL instances, two agents, gateway, BIND, worker)');
    await vp.setup();
    const tenant = vp.tenant();
    // One run to warm up (first connections, JIT); not counted.
    await validate(tenant, vp.pairId, vp.prefix);
    const runs: number[] = [];
    const peers: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      peers.push(peer(vp));
      const { op, run } = await validate(tenant, vp.pairId, vp.prefix);
      const gatherers = run.gatherers as Record<string, { ok: boolean; error: string | null }>;
      const failed = ['source', 'target', 'dns'].filter((g) => !gatherers[g]?.ok);
      if (op.status !== 'succeeded' || !op.finishedAt || failed.length) {
        throw new Error(`validation run ${i + 1} did not gather its facts (${op.status}${failed.map((g) => `; ${g}: ${gatherers[g]?.error ?? 'missing'}`).join('')})`);
      }
      runs.push(op.finishedAt.getTime() - op.createdAt.getTime());
      say(`run ${i + 1}: validate ${runs.at(-1)} ms, peer ${peers.at(-1)!.toFixed(0)} ms`);
    }
    const validateMs = median(runs);
    const peerMs = median(peers);
    const metrics = {
      eval_cpu_s_1000_pairs: round(evaluation.cpuSeconds),
      checks_in_registry: evaluation.checks,
      eval_findings_1000_pairs: evaluation.findings,
      validate_run_median_ms: Math.round(validateMs),
      validate_run_max_ms: Math.max(...runs),
      peer_median_ms: Math.round(peerMs),
      validate_vs_peer_ratio: round(validateMs / peerMs),
      runs: RUNS,
    };
    const result = {
      area: 'catalogue',
      date: new Date().toISOString(),
      machine: `${os.hostname()} (${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB)`,
      metrics,
      goals: { eval_cpu_s_1000_pairs: '<= 10', checks_in_registry: '== 186', validate_run_median_ms: '<= 5000' },
    };
    fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench/results/catalogue.json'), `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote bench/results/catalogue.json: ${JSON.stringify(metrics)}`);
  } finally {
    await vp.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
