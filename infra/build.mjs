// Builds the web app when its sources changed since the last build.
import fs from 'node:fs';
import path from 'node:path';
import { log, root, run } from './lib.mjs';

const sourceRoots = ['apps/web/src', 'apps/web/next.config.ts', 'packages/db/src', 'packages/db/generated', 'packages/engine/src', 'packages/security/src', 'packages/protocol/src', 'packages/agent-bus/src', 'packages/jobs/src', 'package-lock.json'];

function fingerprint() {
  let newest = 0;
  let count = 0;
  const walk = (p) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    else {
      newest = Math.max(newest, st.mtimeMs);
      count++;
    }
  };
  for (const r of sourceRoots) walk(path.join(root, r));
  return `${newest}:${count}`;
}

/** Bundles the agent into apps/agent/dist/tandem-agent.mjs (what servers download). */
export function buildAgent() {
  run(process.execPath, [path.join(root, 'apps/agent/build.mjs')]);
  return path.join(root, 'apps/agent/dist/tandem-agent.mjs');
}

/** `distDir` lets `npm test` build next to a running `npm start` without disturbing it. */
export function buildWeb(env, distDir) {
  const stamp = path.join(root, 'apps/web', distDir, 'tandem-build-stamp');
  const want = fingerprint();
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  log(`building the web app (${distDir})`);
  run(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: path.join(root, 'apps/web'),
    env: { ...env, TANDEM_NEXT_DIST: distDir },
  });
  fs.writeFileSync(stamp, want);
}
