// Bundles the agent into one file, dist/tandem-agent.mjs, runnable by any Node >= 20.
import { build } from 'esbuild';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Exported so a test can check what the bundle embeds (src/service/windows.test.ts). */
export const agentBuildOptions = {
  entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
  outfile: fileURLToPath(new URL('./dist/tandem-agent.mjs', import.meta.url)),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __tandemRequire } from 'node:module'; const require = __tandemRequire(import.meta.url);",
  },
  // WinSW, the Windows service host, travels inside the bundle as bytes (src/service/).
  loader: { '.exe': 'binary' },
  // Optional native speed-ups of ws; the agent works without them.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
};

// Build when run as a script (not when a test imports the options). The bundle is written beside
// the old one and renamed over it: an agent starting meanwhile (tests rebuild it while other test
// files run it; a server downloading it) reads the old file or the new one, never half of one.
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url))) {
  const outfile = agentBuildOptions.outfile;
  const partial = `${outfile}.${process.pid}.partial`;
  try {
    await build({ ...agentBuildOptions, outfile: partial });
    fs.renameSync(partial, outfile);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}
