// Starts the live demo beside the app (`npm start`): BIND with the demo zones, the two demo
// agents, and the protected pair between them (infra/demo/live.ts). The agents are children of
// `npm start` like the app, but one stopping (say, to watch the failure detection) stops nothing
// else.
import fs from 'node:fs';
import path from 'node:path';
import { log, root, run, spawnService } from '../lib.mjs';
import { DEMO_DNS_PORT, startDemoDns } from './dns.mjs';

const liveScript = path.join(root, 'infra/demo/live.ts');

/** Returns the processes it started (stop them on exit) and lines to print for the user. */
export async function startDemo(env) {
  const dns = await startDemoDns();
  const demoEnv = { ...env, DEMO_TSIG_SECRET: dns.key.secret, DEMO_TSIG_KEY_NAME: dns.key.name };
  const prepared = run(process.execPath, ['--import', 'tsx', liveScript, 'prepare'], { env: demoEnv, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const { agents } = JSON.parse(prepared.stdout.trim().split('\n').pop());
  const children = [dns.child];
  for (const a of agents) {
    const logFile = path.join(path.dirname(a.config), 'agent.log');
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const child = spawnService(`agent ${a.hostname}`, process.execPath, [env.TANDEM_AGENT_BUNDLE, 'run', '--config', a.config], {
      env: { ...env, TANDEM_AGENT_BACKOFF_MAX_MS: '5000' },
      logFile,
    });
    child.demo = true;
    children.push(child);
  }
  log('demo agents files-a (source) and files-b (target) started');
  run(process.execPath, ['--import', 'tsx', liveScript, 'protect'], { env: demoEnv });
  return {
    children,
    notes: [
      `Live demo: customer "Live demo", pair "Demo file share" (files-a → files-b, DNS failover).`,
      `  Watch the name move:  dig @127.0.0.1 -p ${DEMO_DNS_PORT} +short files.demo.tandem.test`,
      `  Demo files: .data/demo/files/source (replicated to .data/demo/files/target)`,
    ],
  };
}
