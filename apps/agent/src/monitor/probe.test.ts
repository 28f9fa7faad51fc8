import { randomBytes, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { monitorStartArgsSchema } from '@tandem/protocol';
import { DATAGRAM_BYTES, decodeDatagram, encodeDatagram, NONCE_BYTES, RefusalLog, type MonitorDatagram } from './probe.ts';
import { TargetMonitor, type MonitorReport } from './prober.ts';
import { ProbeResponder } from './responder.ts';

const key = randomBytes(32);
const pairId = randomUUID();
const probe: MonitorDatagram = { kind: 'probe', pairId, nonce: randomBytes(NONCE_BYTES), at: 1_700_000_000_123 };
const keyFor = (k: Buffer) => (id: string) => (id === pairId ? k : undefined);

describe('monitor datagram codec', () => {
  it('round-trips a probe and an answer with the pair key', () => {
    const wire = encodeDatagram(probe, key);
    expect(wire.length).toBe(DATAGRAM_BYTES);
    expect(wire.subarray(0, 4).toString()).toBe('TDMP');
    expect(decodeDatagram(wire, keyFor(key))).toEqual({ ok: true, datagram: probe });
    const answer = { ...probe, kind: 'answer' as const, at: 5 };
    expect(decodeDatagram(encodeDatagram(answer, key), keyFor(key))).toEqual({ ok: true, datagram: answer });
  });

  it('normalises the pair id to lower case', () => {
    const upper = { ...probe, pairId: pairId.toUpperCase() };
    const r = decodeDatagram(encodeDatagram(upper, key), keyFor(key));
    expect(r.ok && r.datagram.pairId).toBe(pairId);
  });

  it('refuses a datagram signed with another key', () => {
    const wire = encodeDatagram(probe, randomBytes(32));
    expect(decodeDatagram(wire, keyFor(key))).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it('refuses a probe passed off as an answer (the labels differ)', () => {
    const wire = encodeDatagram(probe, key);
    wire.writeUInt8(2, 5); // kind: answer, MAC untouched
    expect(decodeDatagram(wire, keyFor(key))).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it('refuses any change to a signed field', () => {
    const wire = encodeDatagram(probe, key);
    for (const offset of [6, 21, 22, 37, 38, 45, 46, 77]) {
      const bent = Buffer.from(wire);
      bent[offset]! ^= 0x01;
      const r = decodeDatagram(bent, (id) => (id.length === 36 ? key : undefined));
      expect(r.ok, `byte ${offset}`).toBe(false);
    }
  });

  it('refuses an unknown pair', () => {
    const wire = encodeDatagram({ ...probe, pairId: randomUUID() }, key);
    expect(decodeDatagram(wire, keyFor(key))).toEqual({ ok: false, reason: 'unknown-pair' });
  });

  it('refuses malformed datagrams without throwing', () => {
    const wire = encodeDatagram(probe, key);
    const cases: [Buffer, string][] = [
      [Buffer.alloc(0), 'size'],
      [wire.subarray(0, DATAGRAM_BYTES - 1), 'size'],
      [Buffer.concat([wire, Buffer.from([0])]), 'size'],
      [Buffer.alloc(DATAGRAM_BYTES), 'magic'],
      [Buffer.concat([Buffer.from('XDMP'), wire.subarray(4)]), 'magic'],
      [Buffer.concat([wire.subarray(0, 4), Buffer.from([2]), wire.subarray(5)]), 'version'],
      [Buffer.concat([wire.subarray(0, 5), Buffer.from([7]), wire.subarray(6)]), 'kind'],
    ];
    for (const [buf, reason] of cases) expect(decodeDatagram(buf, keyFor(key))).toEqual({ ok: false, reason });
    for (let i = 0; i < 2000; i++) {
      const junk = randomBytes(i % 3 === 0 ? DATAGRAM_BYTES : i % 200);
      if (i % 2) PROBE_HEADER.copy(junk, 0, 0, Math.min(6, junk.length));
      expect(decodeDatagram(junk, keyFor(key)).ok).toBe(false);
    }
  });

  it('refuses to encode a bad nonce, timestamp or pair id', () => {
    expect(() => encodeDatagram({ ...probe, nonce: randomBytes(8) }, key)).toThrow(/nonce/);
    expect(() => encodeDatagram({ ...probe, at: -1 }, key)).toThrow(/timestamp/);
    expect(() => encodeDatagram({ ...probe, pairId: 'not-a-uuid' }, key)).toThrow(/UUID/);
  });

  it('logs refusals at most once per period, counting the rest', () => {
    const lines: Record<string, unknown>[] = [];
    const log = new RefusalLog((_m, extra) => lines.push(extra ?? {}), 'bad', 60_000);
    for (let i = 0; i < 500; i++) log.note({ i });
    expect(lines).toEqual([{ i: 0 }]);
  });
});

const PROBE_HEADER = Buffer.from([0x54, 0x44, 0x4d, 0x50, 1, 1]);

describe('responder and prober on loopback', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function run(proberKey: Buffer) {
    const responder = await ProbeResponder.open(0, () => undefined, () => undefined);
    responder.add(pairId, key);
    cleanup.push(() => responder.remove(pairId));
    const reports: MonitorReport[] = [];
    const args = monitorStartArgsSchema.parse({
      pairId,
      role: 'target',
      key: proberKey.toString('base64'),
      port: responder.port,
      addresses: ['127.0.0.1'],
      intervalMs: 100,
      missed: 2,
    });
    const target = new TargetMonitor(args, { log: () => undefined, onReport: (r) => reports.push(r) });
    target.start();
    cleanup.push(() => target.stop());
    return { responder, target, reports };
  }

  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  };

  it('the right key gets answers: state ok with a last success', async () => {
    const { reports } = await run(key);
    await until('a report with a success', () => reports.some((r) => r.addresses[0]!.lastOkAt !== null));
    const last = reports.at(-1)!;
    expect(last).toMatchObject({ pairId, state: 'ok', lostSince: null });
    expect(last.addresses[0]).toMatchObject({ address: '127.0.0.1', reachable: true });
  });

  it('a wrong key gets no valid answers: lost', async () => {
    const { reports, target } = await run(randomBytes(32));
    await until('lost', () => reports.some((r) => r.state === 'lost'));
    const lost = reports.find((r) => r.state === 'lost')!;
    expect(lost.lostSince).toEqual(expect.any(Number));
    expect(lost.addresses[0]).toMatchObject({ reachable: false, lastOkAt: null });
    expect(lost.addresses[0]!.missed).toBeGreaterThanOrEqual(2);
    expect(target.state).toBe('lost');
  });

  it('the responder ignores junk and keeps answering', async () => {
    const { responder, reports } = await run(key);
    const junk = dgram.createSocket('udp4');
    cleanup.push(() => new Promise((r) => junk.close(() => r())));
    for (let i = 0; i < 50; i++) junk.send(randomBytes(i), responder.port, '127.0.0.1');
    const afterJunk = Date.now();
    await until('a success after the junk', () => reports.some((r) => (r.addresses[0]!.lastOkAt ?? 0) > afterJunk && r.state === 'ok'));
  });
});
