// The data channel under bad input and options: a peer with the wrong pair key is refused at the
// TLS handshake; frames corrupted after their CRC was computed are detected, never applied, and
// their files re-sent; compression round-trips; the bandwidth limit holds.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, listen } from '../../apps/agent/src/replication/channel.ts';
import { applyMirror } from '../../apps/agent/src/replication/mirror.ts';
import { MSG } from '../../apps/agent/src/replication/protocol.ts';
import { diffManifests, hashManifest, runMirror } from './support/replication/tree.ts';

let dir: string;
let src: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tandem-channel-'));
  src = path.join(dir, 'source');
  mkdirSync(path.join(src, 'docs'), { recursive: true });
  writeFileSync(path.join(src, 'docs/random.bin'), randomBytes(2 * 1024 * 1024 + 3));
  writeFileSync(path.join(src, 'docs/text.txt'), 'compressible line of text\n'.repeat(50_000));
  writeFileSync(path.join(src, 'small.txt'), 'small');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('data channel', () => {
  it('refuses a peer with the wrong key: the handshake fails and nothing is applied', async () => {
    const good = randomBytes(32);
    const server = await listen({ host: '127.0.0.1', port: 0, keyFor: (id) => (id === 'pair-x' ? good : undefined) });
    const dst = path.join(dir, 'target-refused');
    let accepted = false;
    void server.accept().then((channel) => {
      accepted = true;
      return applyMirror({ root: dst, channel }).catch(() => undefined);
    });
    try {
      await expect(connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-x', key: randomBytes(32) })).rejects.toThrow(/handshake failed/);
      await expect(connect({ host: '127.0.0.1', port: server.port, pairId: 'other-pair', key: good })).rejects.toThrow(/handshake failed/);
      await new Promise((r) => setTimeout(r, 100));
      expect(accepted).toBe(false);
      expect(server.refused.length).toBeGreaterThanOrEqual(1);
      expect(existsSync(dst)).toBe(false);
      // The right key still works.
      const ok = await connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-x', key: good });
      ok.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(accepted).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('detects corrupted frames, never applies them, and re-sends the files', async () => {
    const dst = path.join(dir, 'target-corrupt');
    const hit = new Set<string>();
    const once = (kind: string) => {
      if (hit.has(kind)) return false;
      hit.add(kind);
      return true;
    };
    const run = await runMirror(src, dst, {
      mode: 'full',
      sourceChannel: {
        corruptOutgoing: ({ type, seq }) =>
          (type === MSG.DATA && seq > 5 && once('data')) || (type === MSG.FILE_END && once('end')) || (type === MSG.ROUND_END && once('round-end')),
      },
    });
    expect([...hit].sort()).toEqual(['data', 'end', 'round-end']);
    expect(run.target.crcErrors).toBe(3);
    expect(run.source.filesRejected).toBeGreaterThanOrEqual(1);
    expect(run.source.converged).toBe(true);
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
    expect(readdirSync(path.join(dst, 'docs')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a corrupted control frame aborts the session safely; a new session completes', async () => {
    const dst = path.join(dir, 'target-control');
    await expect(
      runMirror(src, dst, { mode: 'full', sourceChannel: { corruptOutgoing: ({ type }) => type === MSG.MANIFEST } }),
    ).rejects.toThrow(/CRC|closed/);
    expect(existsSync(path.join(dst, 'docs/random.bin'))).toBe(false);
    const run = await runMirror(src, dst, { mode: 'differences' });
    expect(run.source.converged).toBe(true);
    expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
  });

  for (const compression of ['fast', 'best'] as const) {
    it(`compression ${compression} round-trips and shrinks compressible data`, async () => {
      const dst = path.join(dir, `target-${compression}`);
      const plain = await runMirror(src, path.join(dir, `target-${compression}-plain`), { mode: 'full' });
      const run = await runMirror(src, dst, { mode: 'full', sourceChannel: { compression } });
      expect(diffManifests(await hashManifest(src), await hashManifest(dst))).toEqual([]);
      expect(run.source.contentBytesSent).toBe(plain.source.contentBytesSent);
      expect(run.source.wireBytesSent).toBeLessThan(plain.source.wireBytesSent - 1_000_000);
    });
  }

  it('honours the bandwidth limit', async () => {
    const s = path.join(dir, 'bw-src');
    mkdirSync(s);
    writeFileSync(path.join(s, 'one.bin'), randomBytes(1024 * 1024));
    const limit = 2 * 1024 * 1024; // 2 MiB/s → ≥ 0.5 s for 1 MiB
    const run = await runMirror(s, path.join(dir, 'bw-dst'), { mode: 'full', sourceChannel: { bandwidthLimit: limit } });
    // A lower bound only: the limit makes it take at least this long; how much longer depends on the machine.
    expect(run.ms).toBeGreaterThanOrEqual((run.source.wireBytesSent / limit) * 1000 * 0.8);
  });

  it('keepalive frames travel on a quiet channel and are never delivered to the protocol', async () => {
    const key = randomBytes(32);
    const server = await listen({ host: '127.0.0.1', port: 0, keyFor: () => key, keepaliveMs: 40 });
    const accepted = server.accept();
    const source = await connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-k', key, keepaliveMs: 40 });
    const target = await accepted;
    try {
      let delivered: unknown;
      void target.receive().then((m) => (delivered = m));
      await new Promise((r) => setTimeout(r, 400));
      // Both sides kept the connection busy, and nothing reached the layer above.
      expect(target.stats.framesReceived).toBeGreaterThanOrEqual(3);
      expect(source.stats.framesReceived).toBeGreaterThanOrEqual(3);
      expect(delivered).toBeUndefined();
      // A real message still arrives, intact, after the keepalives.
      await source.send(MSG.ERROR, { message: 'hello after keepalives' });
      await new Promise((r) => setTimeout(r, 50));
      expect(delivered).toMatchObject({ corrupt: false, type: MSG.ERROR, header: { message: 'hello after keepalives' } });
    } finally {
      source.destroy();
      target.destroy();
      await server.close();
    }
  });
});
