// Verify on demand (verify.ts) over a real TLS data channel on loopback: after a mirror the copies
// verify equal; then the target is damaged behind the engine's back (a changed block, a chmod, a
// deleted file, extra files and directories, a re-pointed symlink, a touched directory, an
// excluded file) and verify reports exactly those, by kind; a subset verify looks only where it is
// told; re-send fixes exactly those paths, sending only the differing blocks, and the next verify
// is clean. The same against a running continuous pair, without disturbing its session.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../apps/agent/src/replication/blocks.ts';
import { startPair, waitFor } from './support/replication/continuous.ts';
import { runResend, runVerify } from './support/replication/sessions.ts';
import { diffManifests, hashManifest, runMirror } from './support/replication/tree.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-verify-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function seed(root: string): void {
  mkdirSync(path.join(root, 'docs/ünïcødé dir'), { recursive: true });
  mkdirSync(path.join(root, 'empty'), { recursive: true });
  writeFileSync(path.join(root, 'big.bin'), randomBytes(48 * BLOCK_SIZE)); // 6 MiB
  writeFileSync(path.join(root, 'docs/a.txt'), 'alpha\n');
  writeFileSync(path.join(root, 'docs/ünïcødé dir/日本語 file.txt'), 'unicode\n');
  writeFileSync(path.join(root, 'docs/b.txt'), 'beta\n');
  writeFileSync(path.join(root, 'gone.txt'), 'will be deleted on the target\n');
  symlinkSync('docs/a.txt', path.join(root, 'link'));
}

const kinds = (diff: { path: string; kind: string }[]) => diff.map((d) => `${d.kind} ${d.path}`);

describe('verify', () => {
  it('reports exactly what differs, by kind; re-send fixes exactly those with block deltas', async () => {
    const src = path.join(dir, 'src');
    const dst = path.join(dir, 'dst');
    seed(src);
    await runMirror(src, dst, { mode: 'full' });

    const clean = await runVerify(src, dst);
    expect(clean.differing).toEqual([]);
    expect(clean.checkedFiles).toBe(5);
    expect(clean.checkedBytes).toBe(48 * BLOCK_SIZE + 6 + 8 + 5 + 30);
    expect(clean.sourceEntries).toBe(clean.targetEntries);

    // Damage the target.
    const fd = openSync(path.join(dst, 'big.bin'), 'r+');
    writeSync(fd, randomBytes(10), 0, 10, 17 * BLOCK_SIZE + 3);
    closeSync(fd);
    chmodSync(path.join(dst, 'docs/a.txt'), 0o600);
    unlinkSync(path.join(dst, 'gone.txt'));
    writeFileSync(path.join(dst, 'docs/extra.txt'), 'not on the source');
    mkdirSync(path.join(dst, 'extra dir'));
    writeFileSync(path.join(dst, 'extra dir/inner.txt'), 'x');
    unlinkSync(path.join(dst, 'link'));
    symlinkSync('docs/b.txt', path.join(dst, 'link'));
    writeFileSync(path.join(dst, 'docs/ünïcødé dir/日本語 file.txt'), 'UNICODE\n'); // same size, other bytes
    utimesSync(path.join(dst, 'empty'), 1_234_567_890, 1_234_567_890);
    // An applier's temp file is never reported.
    writeFileSync(path.join(dst, 'docs/.tandem-7-1a.tmp'), 'half-written');
    // Re-stamp the parent mtimes we disturbed so only the intended differences remain.
    for (const d of ['', 'docs', 'docs/ünïcødé dir']) {
      const s = (await hashManifest(src)).find((e) => e.path === d);
      if (s) utimesSync(path.join(dst, d), s.mtimeMs / 1000, s.mtimeMs / 1000);
    }

    const res = await runVerify(src, dst);
    expect(kinds(res.differing)).toEqual([
      'content big.bin',
      'metadata docs/a.txt',
      'extra docs/extra.txt',
      'content docs/ünïcødé dir/日本語 file.txt',
      'metadata empty',
      'extra extra dir',
      'extra extra dir/inner.txt',
      'missing gone.txt',
      'content link',
    ]);
    expect(res.differing.find((d) => d.path === 'docs/a.txt')!.detail).toBe('mode 644 != 600');
    expect(res.differing.find((d) => d.path === 'link')!.detail).toBe('link target docs/a.txt != docs/b.txt');

    // A subset looks only where it is told.
    const sub = await runVerify(src, dst, ['big.bin', 'docs/ünïcødé dir', 'extra dir']);
    expect(kinds(sub.differing)).toEqual(['content big.bin', 'content docs/ünïcødé dir/日本語 file.txt', 'extra extra dir', 'extra extra dir/inner.txt']);
    expect(sub.checkedFiles).toBe(2);

    // Re-send fixes exactly those: one block of big.bin, the small files, no other content.
    const fix = await runResend(src, dst, res.differing);
    expect(fix.source.converged).toBe(true);
    expect(fix.source.errors).toEqual([]);
    expect(fix.source.contentBytesSent).toBeLessThanOrEqual(BLOCK_SIZE + 100);
    expect(fix.source.contentBytesSent).toBeGreaterThanOrEqual(BLOCK_SIZE);
    expect((await runVerify(src, dst)).differing).toEqual([]);
    expect(diffManifests(await hashManifest(src), await hashManifest(dst).then((m) => m.filter((e) => !e.path.endsWith('.tmp'))))).toEqual([]);
  });

  it('respects the set rules: excluded paths are neither hashed nor reported', async () => {
    const src = path.join(dir, 'rules-src');
    const dst = path.join(dir, 'rules-dst');
    seed(src);
    await runMirror(src, dst, { mode: 'full' });
    mkdirSync(path.join(dst, 'cache'));
    writeFileSync(path.join(dst, 'cache/x.tmp'), 'x');
    writeFileSync(path.join(dst, 'docs/b.txt'), 'changed but excluded');
    const { overChannel } = await import('./support/replication/sessions.ts');
    const { serveVerify, verify } = await import('../../apps/agent/src/replication/verify.ts');
    const rules = [
      { pattern: 'cache', include: false, recursive: true },
      { pattern: 'docs/b.txt', include: false, recursive: false },
    ];
    const [, res] = await overChannel(
      (channel) => serveVerify({ channel, root: dst }),
      (channel) => verify({ channel, root: src, rules }),
    );
    expect(res.differing).toEqual([]);
    expect(res.checkedFiles).toBe(4);
  });

  it('against a running continuous pair: verify beside the session, re-send through the queue', async () => {
    const src = path.join(dir, 'cont-src');
    const dst = path.join(dir, 'cont-dst');
    seed(src);
    const pair = await startPair(src, dst, path.join(dir, 'cont-state'));
    try {
      expect(await waitFor(() => pair.source.stats().phase === 'continuous' && pair.source.stats().lag === 0, 10_000)).toBe(true);
      expect((await pair.source.verify()).differing).toEqual([]);
      const reconnects = pair.source.stats().reconnects;
      const fd = openSync(path.join(dst, 'big.bin'), 'r+');
      writeSync(fd, randomBytes(10), 0, 10, 40 * BLOCK_SIZE);
      closeSync(fd);
      chmodSync(path.join(dst, 'docs/b.txt'), 0o600);
      rmSync(path.join(dst, 'docs/ünïcødé dir'), { recursive: true });
      writeFileSync(path.join(dst, 'extra.txt'), 'extra');
      const res = await pair.source.verify();
      const paths = res.differing.map((d) => d.path);
      expect(paths).toEqual(expect.arrayContaining(['big.bin', 'docs/b.txt', 'docs/ünïcødé dir', 'docs/ünïcødé dir/日本語 file.txt', 'extra.txt']));
      const before = pair.source.stats().contentBytesSent;
      expect(pair.source.resend(res.differing)).toBe(res.differing.length); // queued at once: no wait needed
      expect(await waitFor(() => pair.source.stats().lag === 0 && pair.source.stats().queueFiles === 0, 10_000)).toBe(true);
      expect((await pair.source.verify()).differing).toEqual([]);
      expect(pair.source.stats().contentBytesSent - before).toBeLessThanOrEqual(BLOCK_SIZE + 100);
      // The verify sessions ran beside the continuous session; none replaced it.
      expect(pair.source.stats().reconnects).toBe(reconnects);
    } finally {
      await pair.stop();
    }
  });
});
