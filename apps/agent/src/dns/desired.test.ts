import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { changedBehind, classify, groupByZone, groupRRsets, sameRecords, type DnsChange } from './desired.ts';
import { signRequest, TsigStreamVerifier, type TsigKey } from './tsig.ts';
import { relativeName } from './windows.ts';
import { encodeHeader, encodeQuestion, encodeRecord, u16 } from './wire.ts';

const change: DnsChange = {
  zone: 'example.test',
  name: 'www.example.test',
  type: 'A',
  before: { ttl: 300, records: [{ type: 'A', address: '192.0.2.10' }] },
  after: { ttl: 60, records: [{ type: 'A', address: '192.0.2.20' }] },
};

describe('classify', () => {
  it('is already when the records and the TTL are after’s, before when the records are before’s (any TTL), else a conflict', () => {
    expect(classify(change, { ttl: 60, records: [{ type: 'A', address: '192.0.2.20' }] })).toBe('already');
    // Right records, wrong TTL: not done yet, but not before either.
    expect(classify(change, { ttl: 300, records: [{ type: 'A', address: '192.0.2.20' }] })).toBe('conflict');
    expect(classify(change, { ttl: 30, records: [{ type: 'A', address: '192.0.2.10' }] })).toBe('before');
    expect(classify(change, { ttl: 300, records: [] })).toBe('conflict');
    const removal = { ...change, after: { ttl: 60, records: [] } };
    expect(classify(removal, { ttl: 0, records: [] })).toBe('already');
  });

  it('compares records in any order, names without case or trailing dot, IPv6 in any spelling', () => {
    expect(
      sameRecords(
        [
          { type: 'MX', preference: 10, exchange: 'Mail.Example.test.' },
          { type: 'MX', preference: 20, exchange: 'b.example.test' },
        ],
        [
          { type: 'MX', preference: 20, exchange: 'b.example.test' },
          { type: 'MX', preference: 10, exchange: 'mail.example.test' },
        ],
      ),
    ).toBe(true);
    expect(sameRecords([{ type: 'AAAA', address: '2001:DB8:0:0:0::10' }], [{ type: 'AAAA', address: '2001:db8::10' }])).toBe(
      true,
    );
    expect(sameRecords([{ type: 'A', address: '192.0.2.10' }], [])).toBe(false);
  });

  it('names the RRset, what it holds and what was expected', () => {
    expect(changedBehind([{ change, current: { ttl: 300, records: [{ type: 'A', address: '192.0.2.99' }] } }]).message).toBe(
      "DNS records changed behind Tandem's back: www.example.test A holds 192.0.2.99 (TTL 300); Tandem expected 192.0.2.10 (TTL 300) (before) or 192.0.2.20 (TTL 60) (after). Nothing was changed.",
    );
  });
});

describe('groupByZone', () => {
  it('groups by zone in order and refuses an RRset changed twice or a name outside its zone', () => {
    const ptr: DnsChange = { ...change, zone: '2.0.192.in-addr.arpa', name: '10.2.0.192.in-addr.arpa', type: 'PTR' };
    expect([...groupByZone([change, ptr]).keys()]).toEqual(['example.test', '2.0.192.in-addr.arpa']);
    expect(() => groupByZone([change, { ...change }])).toThrow(/www.example.test A is changed twice/);
    expect(() => groupByZone([{ ...change, zone: 'other.test' }])).toThrow(/not in zone other.test/);
  });
});

describe('groupRRsets', () => {
  it('groups records by name and type and says truncated over 64 records in one RRset', () => {
    const many = Array.from({ length: 70 }, (_, i) => ({
      name: 'big.example.test',
      type: 'A' as const,
      ttl: 300,
      record: { type: 'A' as const, address: `192.0.2.${i + 1}` },
    }));
    const { rrsets, truncated } = groupRRsets([
      ...many,
      { name: 'WWW.example.test.', type: 'A', ttl: 60, record: { type: 'A', address: '192.0.2.200' } },
    ]);
    expect(truncated).toBe(true);
    expect(rrsets.map((s) => [s.name, s.records.length])).toEqual([
      ['big.example.test', 64],
      ['www.example.test', 1],
    ]);
  });
});

describe('relativeName', () => {
  it('is "@" at the apex and the labels below the zone otherwise', () => {
    expect(relativeName('Example.test', 'example.test.')).toBe('@');
    expect(relativeName('a.b.example.test', 'example.test')).toBe('a.b');
    expect(() => relativeName('www.other.test', 'example.test')).toThrow(/not in zone/);
  });
});

describe('TsigStreamVerifier', () => {
  const key: TsigKey = { name: 'stream-key', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 3).toString('base64') };
  const now = 1_800_000_000;

  /** A server signing a stream (RFC 8945 §5.3.1), signing only the messages `signedAt` picks. */
  function serverStream(requestMac: Buffer, count: number, signedAt: (i: number) => boolean): Buffer[] {
    const name = Buffer.from('0a73747265616d2d6b657900', 'hex'); // stream-key
    const alg = Buffer.from('0b686d61632d73686132353600', 'hex'); // hmac-sha256
    let prior = requestMac;
    let pending: Buffer[] = [];
    const out: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const body = Buffer.concat([
        encodeHeader({ id: 77, opcode: 0, qd: 1, an: 1, ns: 0, ar: 0 }),
        encodeQuestion('example.test', 252),
        encodeRecord(`h${i}.example.test`, 1, 1, 300, Buffer.from([192, 0, 2, i])),
      ]);
      body.writeUInt16BE(body.readUInt16BE(2) | 0x8000, 2);
      if (!signedAt(i)) {
        pending.push(body);
        out.push(body);
        continue;
      }
      const time = Buffer.alloc(6);
      time.writeUIntBE(now, 0, 6);
      const timers = Buffer.concat([time, u16(300)]);
      const first = i === 0;
      const h = crypto.createHmac('sha256', Buffer.from(key.secret, 'base64'));
      h.update(u16(prior.length)).update(prior);
      for (const p of pending) h.update(p);
      h.update(body);
      // The first message covers all TSIG variables; later ones only the timers.
      h.update(first ? Buffer.concat([name, u16(255), Buffer.alloc(4), alg, timers, u16(0), u16(0)]) : timers);
      const mac = h.digest();
      const rdata = Buffer.concat([alg, timers, u16(mac.length), mac, u16(77), u16(0), u16(0)]);
      const record = Buffer.concat([name, u16(250), u16(255), Buffer.alloc(4), u16(rdata.length), rdata]);
      const signed = Buffer.concat([body, record]);
      signed.writeUInt16BE(1, 10);
      out.push(signed);
      prior = mac;
      pending = [];
    }
    return out;
  }

  const request = () =>
    signRequest(
      Buffer.concat([encodeHeader({ id: 77, opcode: 0, qd: 1, an: 0, ns: 0, ar: 0 }), encodeQuestion('example.test', 252)]),
      key,
      now,
    );

  it('accepts unsigned messages between signed ones when the first and last are signed', () => {
    const { mac } = request();
    const v = new TsigStreamVerifier(key, mac);
    for (const m of serverStream(mac, 7, (i) => i % 3 === 0)) v.next(m, now);
    v.finish();
    expect(v.signed).toBe(3);
  });

  it('refuses a stream whose last message is unsigned, or with more than 99 unsigned in a row', () => {
    const { mac } = request();
    const v = new TsigStreamVerifier(key, mac);
    for (const m of serverStream(mac, 5, (i) => i < 3)) v.next(m, now);
    expect(() => v.finish()).toThrow(/last message of the zone transfer is not signed/);

    const long = new TsigStreamVerifier(key, mac);
    const stream = serverStream(mac, 102, (i) => i === 0 || i === 101);
    expect(() => stream.forEach((m) => long.next(m, now))).toThrow(/more than 99 messages in a row/);
  });

  it('refuses an unsigned message that was altered (the next signed MAC covers it)', () => {
    const { mac } = request();
    const stream = serverStream(mac, 4, (i) => i !== 1);
    const altered = stream[1]!;
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 0x01, altered.length - 1);
    const v = new TsigStreamVerifier(key, mac);
    expect(() => stream.forEach((m) => v.next(m, now))).toThrow(/does not verify/);
  });
});
