// `npm test`: the same set-up as `npm start` into a fresh test database, then every suite:
// unit and integration (vitest), browser (playwright with Debian's Chromium).
// Ends with one line "N passed, N failed" and a non-zero exit on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildAgent, buildWeb } from './build.mjs';
import { dataDir, ensureAptPackages, ensureNpmPackages, log, ports, root, serversUp, spawnService, assertPortFree, stopService, tandemEnv, waitForHttp } from './lib.mjs';

const only = process.argv[2]; // optional: "vitest" or "e2e"
// optional, after "vitest"/"e2e": only these test files (e.g. e2e/tests/pair.spec.ts)
const filters = process.argv.slice(3);
// PostgreSQL and Redis are installed by serversUp() where missing. chromium: browser tests;
// mariadb-server, pacemaker and corosync: the agent's facts are tested against a real MariaDB and a
// real single-node Pacemaker cluster; iputils-ping: the agent's ICMP failure monitor runs the
// system's ping; nftables: tests cut loopback traffic between two agents; bind9 (named,
// tsig-keygen, dig, nsupdate): the agent's DNS client is tested against a real BIND 9 on loopback;
// iputils-arping: address.ensure announces a moved address with a gratuitous ARP (netns test).
ensureAptPackages([
  'bind9',
  'bind9-utils',
  'bind9-dnsutils',
  'iputils-arping',
  'iputils-ping',
  'nftables',
  'chromium',
  'mariadb-server',
  'pacemaker',
  'pacemaker-cli-utils',
  'corosync',
]);
ensureNpmPackages();
const { prepareDatabase, seedDemo } = await import('./database.mjs');

process.env.TANDEM_FAST_PG ??= '1';
const database = 'tandem_test';
// A fresh test database every run: tests never depend on what an earlier run left.
const servers = await serversUp({ database, fresh: true });
const resultsDir = path.join(dataDir, 'test-results');
fs.rmSync(resultsDir, { recursive: true, force: true });
fs.mkdirSync(resultsDir, { recursive: true });
const webUrl = `http://127.0.0.1:${ports.webTest}`;
const env = tandemEnv(servers, {
  NEXT_TELEMETRY_DISABLED: '1',
  TANDEM_PUBLIC_URL: webUrl,
  TANDEM_BCRYPT_COST: '8',
  TANDEM_E2E_URL: webUrl,
  TANDEM_GATEWAY_URL: `http://127.0.0.1:${ports.gatewayTest}`,
  GATEWAY_PORT: String(ports.gatewayTest),
  NODE_ENV: 'production',
});

const totals = { passed: 0, failed: 0, skipped: 0 };
const children = [];

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function runVitest() {
  log('running unit and integration tests (vitest)');
  const out = path.join(resultsDir, 'vitest.json');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...filters],
    { cwd: root, env: { ...env, NODE_ENV: 'test' }, stdio: 'inherit' },
  );
  const report = readJson(out);
  if (!report) {
    totals.failed += 1; // the runner itself failed before reporting
    log(`vitest produced no report (exit ${r.status})`);
    return;
  }
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests + (r.status !== 0 && report.numFailedTests === 0 ? 1 : 0);
  totals.skipped += report.numPendingTests + report.numTodoTests;
}

async function runE2e() {
  seedDemo(env);
  buildWeb(env, '.next-test');
  await assertPortFree(ports.webTest, 'the web app');
  const web = spawnService('web', process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(ports.webTest), '-H', '127.0.0.1'], {
    env: { ...env, TANDEM_NEXT_DIST: '.next-test' },
    cwd: path.join(root, 'apps/web'),
    logFile: path.join(resultsDir, 'web.log'),
  });
  children.push(web);
  await assertPortFree(ports.gatewayTest, 'the agent gateway');
  const gateway = spawnService('gateway', process.execPath, ['--import', 'tsx', path.join(root, 'apps/gateway/src/main.ts')], {
    env,
    logFile: path.join(resultsDir, 'gateway.log'),
  });
  children.push(gateway);
  const worker = spawnService('worker', process.execPath, ['--import', 'tsx', path.join(root, 'apps/worker/src/main.ts')], {
    env,
    logFile: path.join(resultsDir, 'worker.log'),
  });
  children.push(worker);
  await waitForHttp(`${webUrl}/api/health`, 60_000, web);
  log('running browser tests (playwright, Chromium)');
  const out = path.join(resultsDir, 'playwright.json');
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/@playwright/test/cli.js'), 'test', '--config', 'e2e/playwright.config.ts', '--reporter=list,json', ...filters], {
    cwd: root,
    env: { ...env, PLAYWRIGHT_JSON_OUTPUT_NAME: out },
    stdio: 'inherit',
  });
  const report = readJson(out);
  if (!report) {
    totals.failed += 1;
    log(`playwright produced no report (exit ${r.status})`);
    return;
  }
  totals.passed += report.stats.expected + report.stats.flaky;
  totals.failed += report.stats.unexpected + (r.status !== 0 && report.stats.unexpected === 0 ? 1 : 0);
  totals.skipped += report.stats.skipped;
}

let crashed = false;
try {
  prepareDatabase(env);
  env.TANDEM_AGENT_BUNDLE = buildAgent(); // integration tests run the bundled agent, as servers do
  if (!only || only === 'vitest') runVitest();
  if (!only || only === 'e2e') await runE2e();
} catch (err) {
  crashed = true;
  totals.failed += 1;
  console.error(err instanceof Error ? err.stack : err);
} finally {
  for (const c of children.reverse()) await stopService(c);
  servers.stop();
}
if (crashed) log('the test set-up failed; see above');
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed${skipped}\n`);
process.exit(totals.failed > 0 ? 1 : 0);
