// Bundles the agent into one file, dist/tandem-agent.mjs, runnable by any Node >= 20.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('./dist/tandem-agent.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __tandemRequire } from 'node:module'; const require = __tandemRequire(import.meta.url);",
  },
  // Optional native speed-ups of ws; the agent works without them.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
});
