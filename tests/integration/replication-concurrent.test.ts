// Files that change during the mirror end up correct: a writer appends to and rewrites files while
// the mirror runs. The rule (mirror.ts): a file whose size/mtime/ctime moved while it was read is
// discarded on the target and re-sent; each round re-walks the source; once the writer stops, a
// final differences pass leaves the trees equal.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffManifests, hashManifest, runMirror } from './support/replication/tree.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-concurrent-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('concurrent writes during the mirror', () => {
  it('a file rewritten while being read is discarded and re-sent', async () => {
    const src = path.join(dir, 'hook-src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'busy.bin'), randomBytes(1024 * 1024));
    let first = true;
    const run = await runMirror(src, path.join(dir, 'hook-dst'), {
      mode: 'full',
      afterRead: (rel) => {
        if (rel === 'busy.bin' && first) {
          first = false;
          writeFileSync(path.join(src, 'busy.bin'), randomBytes(1024 * 1024 + 10));
        }
      },
    });
    expect(run.source.filesAborted).toBe(1);
    expect(run.source.converged).toBe(true);
    expect(diffManifests(await hashManifest(src), await hashManifest(path.join(dir, 'hook-dst')))).toEqual([]);
  });

  it('a writer appending and rewriting during the mirror: equal trees after the final pass', async () => {
    const src = path.join(dir, 'src');
    const dst = path.join(dir, 'dst');
    mkdirSync(path.join(src, 'logs'), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(path.join(src, `f${i}.bin`), randomBytes(256 * 1024));
    for (let i = 0; i < 5; i++) writeFileSync(path.join(src, `logs/app${i}.log`), 'start\n');
    let stop = false;
    let writes = 0;
    const writer = (async () => {
      while (!stop) {
        const i = writes++ % 40;
        if (writes % 2) appendFileSync(path.join(src, `logs/app${i % 5}.log`), `line ${writes}\n`.repeat(100));
        else writeFileSync(path.join(src, `f${i}.bin`), randomBytes(200 * 1024 + (writes % 7) * 1000));
        if (writes % 10 === 0) writeFileSync(path.join(src, `new-${writes}.txt`), String(writes));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const during = await runMirror(src, dst, { mode: 'full', maxRounds: 3, sourceChannel: { bandwidthLimit: 40 * 1024 * 1024 } });
    stop = true;
    await writer;
    expect(writes).toBeGreaterThan(10);
    expect(during.source.rounds).toBeGreaterThanOrEqual(2);
    const final = await runMirror(src, dst, { mode: 'differences' });
    expect(final.source.converged).toBe(true);
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
  });
});
