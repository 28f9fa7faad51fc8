// Runs the Prisma CLI the way this project needs it:
// - the WebAssembly schema engine leaves long timers armed, so the CLI would linger for up to a
//   minute after finishing; a preload unrefs them;
// - `prisma generate` wants a schema-engine path even though it never runs it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './lib.mjs';

const env = {
  ...process.env,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://unset@127.0.0.1:1/unset',
};
const res = spawnSync(
  process.execPath,
  ['--require', path.join(root, 'infra/unref-timers.cjs'), path.join(root, 'node_modules/prisma/build/index.js'), ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root, env },
);
process.exit(res.status ?? 1);
