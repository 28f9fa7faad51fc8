// `npm start`: install what is missing, start PostgreSQL and Redis, migrate, seed the demo, build
// and start the web app and the worker. Ctrl-C stops everything this run started.
import fs from 'node:fs';
import path from 'node:path';
import { buildAgent, buildWeb } from './build.mjs';
import { startDemo } from './demo/start-demo.mjs';
import { ensureAptPackages, ensureNpmPackages, log, ports, root, serversUp, spawnService, assertPortFree, stopService, tandemEnv, waitForHttp } from './lib.mjs';

// PostgreSQL and Redis are installed by serversUp() where missing. BIND 9 (named, tsig-keygen,
// dig) serves the live demo's DNS zone.
if (process.env.TANDEM_DEMO !== '0') ensureAptPackages(['bind9', 'bind9-utils', 'bind9-dnsutils', 'iputils-arping']);
ensureNpmPackages();

// Imported after the npm install: nothing here needs npm packages, but keep the order obvious.
const { prepareDatabase, seedDemo } = await import('./database.mjs');

const servers = await serversUp({ database: 'tandem' });
const url = `http://127.0.0.1:${ports.web}`;
const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
const env = tandemEnv(servers, {
  NEXT_TELEMETRY_DISABLED: '1',
  TANDEM_PUBLIC_URL: process.env.TANDEM_PUBLIC_URL ?? url,
  TANDEM_GATEWAY_URL: process.env.TANDEM_GATEWAY_URL ?? gatewayUrl,
  GATEWAY_PORT: String(ports.gateway),
  NODE_ENV: 'production',
});
const children = [];

let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children.reverse()) await stopService(c);
  servers.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  await assertPortFree(ports.web, 'the web app');
  await assertPortFree(ports.gateway, 'the agent gateway');
  prepareDatabase(env);
  seedDemo(env);
  env.TANDEM_AGENT_BUNDLE = buildAgent();
  buildWeb(env, '.next');

  const web = spawnService('web', process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(ports.web), '-H', '127.0.0.1'], {
    env,
    cwd: path.join(root, 'apps/web'),
  });
  children.push(web);
  const gateway = spawnService('gateway', process.execPath, ['--import', 'tsx', path.join(root, 'apps/gateway/src/main.ts')], { env });
  children.push(gateway);
  const worker = spawnService('worker', process.execPath, ['--import', 'tsx', path.join(root, 'apps/worker/src/main.ts')], { env });
  children.push(worker);
  for (const c of children) {
    c.on('exit', (code, signal) => {
      if (stopping) return;
      log(`${c.serviceName} stopped (${signal ?? code}); stopping the rest`);
      void stopAll(1);
    });
  }
  await waitForHttp(`${url}/api/health`, 60_000, web);
  await waitForHttp(`${gatewayUrl}/health`, 30_000, gateway);

  // The live demo: a DNS server, two agents and a protected pair (TANDEM_DEMO=0 leaves it out).
  let demoNotes = [];
  if (process.env.TANDEM_DEMO !== '0') {
    const demo = await startDemo(env);
    for (const c of demo.children) {
      children.push(c);
      c.on('exit', (code, signal) => {
        if (!stopping) log(`${c.serviceName} stopped (${signal ?? code})${c.demo ? '' : '; the live demo no longer updates DNS'}`);
      });
    }
    demoNotes = demo.notes;
  }

  const demoLogin = JSON.parse(fs.readFileSync(path.join(root, 'packages/db/src/seed/demo-login.json'), 'utf8'));
  process.stdout.write(`
  Tandem is running: ${url}
  Sign in as ${demoLogin.email} / ${demoLogin.password}
  Agents connect to the gateway at ${gatewayUrl}
  (PostgreSQL 127.0.0.1:${ports.postgres}, Redis 127.0.0.1:${ports.redis}; data in .data/). Ctrl-C stops everything.
${demoNotes.map((l) => `  ${l}`).join('\n')}

`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await stopAll(1);
}
