import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { encodeQuery, encodeUpdate } from './client.ts';
import { encodeIPv6, walkRecords } from './wire.ts';

describe('encodeIPv6', () => {
  it.each([
    ['2001:db8::10', '20010db8000000000000000000000010'],
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ])('%s', (address, hex) => {
    expect(encodeIPv6(address).toString('hex')).toBe(hex);
  });
});

describe('encodeQuery', () => {
  it('writes a question dns-packet reads back', () => {
    const decoded = dnsPacket.decode(encodeQuery(7, 'www.example.test.', 'MX'));
    expect(decoded).toMatchObject({ id: 7, type: 'query', questions: [{ name: 'www.example.test', type: 'MX', class: 'IN' }] });
  });
});

describe('encodeUpdate', () => {
  const message = encodeUpdate(9, {
    zone: 'example.test',
    prerequisites: [
      { kind: 'rrsetEquals', name: 'www.example.test', records: [{ type: 'A', address: '192.0.2.10' }] },
      { kind: 'rrsetExists', name: 'app.example.test', type: 'CNAME' },
      { kind: 'rrsetAbsent', name: 'new.example.test', type: 'AAAA' },
      { kind: 'nameInUse', name: 'example.test' },
      { kind: 'nameAbsent', name: 'free.example.test' },
    ],
    updates: [
      { op: 'deleteRecord', name: 'www.example.test', record: { type: 'A', address: '192.0.2.10' } },
      { op: 'deleteRRset', name: 'app.example.test', type: 'CNAME' },
      { op: 'add', name: 'example.test', ttl: 120, record: { type: 'MX', preference: 10, exchange: 'mail.example.test' } },
    ],
  });

  it('is an UPDATE with the zone, 5 prerequisites and 3 updates', () => {
    expect(message.readUInt16BE(0)).toBe(9);
    expect((message.readUInt16BE(2) >> 11) & 0xf).toBe(5);
    expect([4, 6, 8, 10].map((o) => message.readUInt16BE(o))).toEqual([1, 5, 3, 0]);
  });

  it('uses RFC 2136 classes, TTLs and empty rdata for each kind of prerequisite and update', () => {
    const { answers, authorities } = walkRecords(message);
    const fields = (r: { start: number; rdataStart: number; end: number }) => {
      const fixed = r.rdataStart - 10;
      return {
        type: message.readUInt16BE(fixed),
        class: message.readUInt16BE(fixed + 2),
        ttl: message.readUInt32BE(fixed + 4),
        rdlength: r.end - r.rdataStart,
      };
    };
    expect(answers.map(fields)).toEqual([
      { type: 1, class: 1, ttl: 0, rdlength: 4 }, // RRset exists (value dependent): IN with rdata
      { type: 5, class: 255, ttl: 0, rdlength: 0 }, // RRset exists: ANY, empty
      { type: 28, class: 254, ttl: 0, rdlength: 0 }, // RRset does not exist: NONE, empty
      { type: 255, class: 255, ttl: 0, rdlength: 0 }, // name in use: ANY ANY
      { type: 255, class: 254, ttl: 0, rdlength: 0 }, // name not in use: NONE ANY
    ]);
    expect(authorities.map(fields)).toEqual([
      { type: 1, class: 254, ttl: 0, rdlength: 4 }, // delete one RR: NONE with rdata
      { type: 5, class: 255, ttl: 0, rdlength: 0 }, // delete an RRset: ANY, empty
      { type: 15, class: 1, ttl: 120, rdlength: 2 + 19 }, // add: IN, TTL, preference + name
    ]);
  });

  it('refuses bad input with a readable message', () => {
    expect(() =>
      encodeUpdate(1, {
        zone: 'example.test',
        updates: [{ op: 'add', name: 'a.other.test', ttl: 1, record: { type: 'A', address: '192.0.2.1' } }],
      }),
    ).toThrow(/Invalid DNS update: .*"a\.other\.test" is not in zone "example\.test"/s);
    expect(() =>
      encodeUpdate(1, {
        zone: 'example.test',
        updates: [{ op: 'add', name: 'a.example.test', ttl: 1, record: { type: 'AAAA', address: '192.0.2.1' } }],
      }),
    ).toThrow(/Invalid DNS update/);
    expect(() =>
      encodeUpdate(1, {
        zone: 'example.test',
        prerequisites: [
          {
            kind: 'rrsetEquals',
            name: 'a.example.test',
            records: [
              { type: 'A', address: '192.0.2.1' },
              { type: 'PTR', target: 'x.example.test' },
            ],
          },
        ],
        updates: [{ op: 'deleteRRset', name: 'a.example.test', type: 'A' }],
      }),
    ).toThrow(/one type/);
    expect(() => encodeQuery(1, `${'a'.repeat(64)}.example.test`, 'A')).toThrow(/not a valid DNS name/);
  });
});
