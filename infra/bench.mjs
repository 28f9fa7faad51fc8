// `npm run bench [-- <area>]`: runs bench/<area>.ts (each writes bench/results/<area>.json) against
// the local servers. Benchmarks arrive with the issues that set their goals.
import fs from 'node:fs';
import path from 'node:path';
import { ensureAptPackages, ensureNpmPackages, log, root, serversUp, tandemEnv, tsx } from './lib.mjs';

const wanted = process.argv[2];
const benchDir = path.join(root, 'bench');
const areas = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const selected = wanted ? areas.filter((a) => a === wanted) : areas;
if (wanted && selected.length === 0) {
  console.error(`no benchmark named "${wanted}" (have: ${areas.join(', ') || 'none'})`);
  process.exit(2);
}
if (selected.length === 0) {
  log('no benchmarks yet');
  process.exit(0);
}
// rsync (over ssh to a private sshd, and to its own daemon): the peer the replication benchmark is
// compared against.
ensureAptPackages(['rsync', 'openssh-client', 'openssh-server']);
ensureNpmPackages();
const servers = await serversUp({ database: 'tandem_bench' });
const { prepareDatabase } = await import('./database.mjs');
prepareDatabase(tandemEnv(servers));
try {
  fs.mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  for (const area of selected) {
    log(`benchmark: ${area}`);
    tsx(path.join(benchDir, `${area}.ts`), [], { env: tandemEnv(servers) });
  }
} finally {
  servers.stop();
}
