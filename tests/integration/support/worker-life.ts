// A worker that runs one operation as a child process the test can kill (-9 mid-step, via the
// test-only TANDEM_TEST_CRASH_AT switch, or by signal). The child (support/operation-child.ts) is
// bundled once with esbuild — our workspace packages inside, npm packages left to node_modules —
// so a dozen restarts load in a fraction of tsx's time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '../../..');

export interface WorkerLifeEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

export function operationWorkerChild(name: string) {
  const file = path.join(root, 'node_modules/.cache/tandem-test', `${name}-${process.pid}.mjs`);
  return {
    /** Builds the child once (in beforeAll). */
    bundle: () =>
      build({
        entryPoints: [path.join(root, 'tests/integration/support/operation-child.ts')],
        outfile: file,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        banner: {
          js: "import { createRequire as __tandemRequire } from 'node:module'; const require = __tandemRequire(import.meta.url);",
        },
        plugins: [
          {
            name: 'npm-packages-external',
            setup(b) {
              b.onResolve({ filter: /^[^./]/ }, (a) =>
                a.kind === 'entry-point' || a.path.startsWith('@tandem/') ? undefined : { path: a.path, external: true },
              );
            },
          },
        ],
        logLevel: 'warning',
      }),
    /** One life: runs the operation until it finishes, or dies where told (crashAt). */
    life(
      job: { operationId: string; organizationId: string; customerId: string },
      crashAt: string | null,
    ): Promise<WorkerLifeEnd> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [file], {
          cwd: root,
          env: {
            ...process.env,
            NODE_ENV: 'test',
            TANDEM_TEST_JOB: JSON.stringify(job),
            ...(crashAt ? { TANDEM_TEST_CRASH_AT: crashAt } : {}),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        // 'close', not 'exit': exit can come before the last of the output has been read.
        child.on('close', (code, signal) => resolve({ code, signal, output }));
      });
    },
    remove: () => fs.rmSync(file, { force: true }),
  };
}
