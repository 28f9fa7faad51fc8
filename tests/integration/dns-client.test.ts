// The agent's DNS client against a real BIND 9 on loopback (support/bind.ts): queries agree
// with dig, TSIG-signed RFC 2136 updates change records, refused updates say why, a failed
// prerequisite is a typed conflict that changes nothing, and the next server is used when the
// first does not answer.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DnsConflictError,
  DnsRcodeError,
  DnsUnreachableError,
  query,
  update,
  type ClientOptions,
} from '../../apps/agent/src/dns/client.ts';
import { TsigError, readTsig } from '../../apps/agent/src/dns/tsig.ts';
import { startBind, type Bind } from './support/bind.ts';
import { freePort } from './support/ports.ts';

const run = promisify(execFile);

const forward = `
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
app IN CNAME www
@ IN MX 10 mail
mail IN A 192.0.2.25
db IN A 192.0.2.30
${Array.from({ length: 40 }, (_, i) => `big IN A 198.51.100.${i + 1}`).join('\n')}
`;
const reverse = `
10 IN PTR www.example.test.
30 IN PTR db.example.test.
`;

let bind: Bind;
let signed: ClientOptions;

beforeAll(async () => {
  bind = await startBind([
    { name: 'example.test', records: forward },
    { name: '2.0.192.in-addr.arpa', records: reverse },
  ]);
  signed = { servers: [{ host: bind.host, port: bind.port }], key: bind.key, timeoutMs: 5000 };
});

afterAll(async () => {
  await bind?.stop();
});

/** A change made behind the client's back, by BIND's own nsupdate with the zone's key. */
async function nsupdate(commands: string[]) {
  const keyFile = path.join(bind.dir, 'key.conf');
  const script = [`server 127.0.0.1 ${bind.port}`, ...commands, 'send', ''].join('\n');
  const file = path.join(bind.dir, `nsupdate-${Date.now()}.txt`);
  fs.writeFileSync(file, script);
  await run('nsupdate', ['-k', keyFile, file]);
}

describe('query', () => {
  it('answers A, AAAA, CNAME, MX, PTR and SOA as dig does (unsigned and signed)', async () => {
    const unsigned: ClientOptions = { servers: [{ host: bind.host, port: bind.port }] };
    for (const options of [unsigned, signed]) {
      const a = await query(options, 'www.example.test', 'A');
      expect(a.rcode).toBe('NOERROR');
      expect(a.authoritative).toBe(true);
      expect(a.answers.map((r) => (r.type === 'A' ? r.address : null))).toEqual(await bind.dig('www.example.test', 'A'));

      const aaaa = await query(options, 'www.example.test', 'AAAA');
      expect(aaaa.answers.map((r) => (r.type === 'AAAA' ? r.address : null))).toEqual(await bind.dig('www.example.test', 'AAAA'));

      const cname = await query(options, 'app.example.test', 'CNAME');
      expect(cname.answers.map((r) => (r.type === 'CNAME' ? `${r.target}.` : null))).toEqual(
        await bind.dig('app.example.test', 'CNAME'),
      );

      const mx = await query(options, 'example.test', 'MX');
      expect(mx.answers.map((r) => (r.type === 'MX' ? `${r.preference} ${r.exchange}.` : null))).toEqual(
        await bind.dig('example.test', 'MX'),
      );

      const ptr = await query(options, '10.2.0.192.in-addr.arpa', 'PTR');
      expect(ptr.answers.map((r) => (r.type === 'PTR' ? `${r.target}.` : null))).toEqual(
        await bind.dig('10.2.0.192.in-addr.arpa', 'PTR'),
      );

      const soa = await query(options, 'example.test', 'SOA');
      expect(
        soa.answers.map((r) =>
          r.type === 'SOA' ? `${r.mname}. ${r.rname}. ${r.serial} ${r.refresh} ${r.retry} ${r.expire} ${r.minimum}` : null,
        ),
      ).toEqual(await bind.dig('example.test', 'SOA'));
    }
  });

  it('gives the CNAME on the way to an address, and NXDOMAIN as an empty answer', async () => {
    const viaCname = await query(signed, 'app.example.test', 'A');
    expect(viaCname.answers).toEqual([
      { name: 'app.example.test', ttl: 300, type: 'CNAME', target: 'www.example.test' },
      { name: 'www.example.test', ttl: 300, type: 'A', address: expect.any(String) as unknown },
    ]);
    const missing = await query(signed, 'nothing-here.example.test', 'A');
    expect(missing).toMatchObject({ rcode: 'NXDOMAIN', answers: [] });
  });

  it('asks again over TCP when the UDP answer is truncated (40 addresses do not fit in 512 bytes)', async () => {
    for (const options of [{ servers: signed.servers }, signed]) {
      const big = await query(options, 'big.example.test', 'A');
      const addresses = big.answers.map((r) => (r.type === 'A' ? r.address : null));
      expect(addresses).toHaveLength(40);
      expect(addresses.sort()).toEqual((await bind.dig('big.example.test', 'A', ['+tcp'])).sort());
    }
    // Over UDP without EDNS the same question is truncated: the TCP path was needed.
    const udp = await bind.dig('big.example.test', 'A', ['+noedns', '+notcp', '+ignore', '+noshort', '+noall', '+comments']);
    expect(udp.join('\n')).toMatch(/flags:[^;]*\btc\b/);
  });

  it('refuses a bad name or type before sending anything', async () => {
    await expect(query(signed, 'bad name.example.test', 'A')).rejects.toThrow(/not a valid DNS name/);
    await expect(query(signed, 'www.example.test', 'TXT' as never)).rejects.toThrow();
  });
});

describe('update', () => {
  it('changes A, CNAME, MX and PTR records with TSIG when the records are as read', async () => {
    const result = await update(signed, {
      zone: 'example.test',
      prerequisites: [
        { kind: 'rrsetEquals', name: 'www.example.test', records: [{ type: 'A', address: '192.0.2.10' }] },
        { kind: 'rrsetEquals', name: 'app.example.test', records: [{ type: 'CNAME', target: 'www.example.test' }] },
        { kind: 'rrsetEquals', name: 'example.test', records: [{ type: 'MX', preference: 10, exchange: 'mail.example.test' }] },
        { kind: 'rrsetAbsent', name: 'standby.example.test', type: 'A' },
      ],
      updates: [
        { op: 'deleteRecord', name: 'www.example.test', record: { type: 'A', address: '192.0.2.10' } },
        { op: 'add', name: 'www.example.test', ttl: 60, record: { type: 'A', address: '192.0.2.20' } },
        { op: 'add', name: 'standby.example.test', ttl: 60, record: { type: 'A', address: '192.0.2.20' } },
        { op: 'deleteRRset', name: 'app.example.test', type: 'CNAME' },
        { op: 'add', name: 'app.example.test', ttl: 60, record: { type: 'CNAME', target: 'standby.example.test' } },
        { op: 'deleteRRset', name: 'example.test', type: 'MX' },
        { op: 'add', name: 'example.test', ttl: 60, record: { type: 'MX', preference: 10, exchange: 'standby.example.test' } },
      ],
    });
    expect(result).toEqual({ server: `127.0.0.1:${bind.port}`, skipped: [] });
    expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.20']);
    expect(await bind.dig('www.example.test', 'A', ['+noshort', '+noall', '+answer'])).toEqual([
      expect.stringMatching(/^www\.example\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.20$/),
    ]);
    expect(await bind.dig('app.example.test', 'CNAME')).toEqual(['standby.example.test.']);
    expect(await bind.dig('example.test', 'MX')).toEqual(['10 standby.example.test.']);
    // The AAAA at the same name was not touched.
    expect(await bind.dig('www.example.test', 'AAAA')).toEqual(['2001:db8::10']);

    await update(signed, {
      zone: '2.0.192.in-addr.arpa',
      prerequisites: [
        { kind: 'rrsetEquals', name: '10.2.0.192.in-addr.arpa', records: [{ type: 'PTR', target: 'www.example.test' }] },
      ],
      updates: [
        { op: 'deleteRRset', name: '10.2.0.192.in-addr.arpa', type: 'PTR' },
        { op: 'add', name: '20.2.0.192.in-addr.arpa', ttl: 60, record: { type: 'PTR', target: 'www.example.test' } },
      ],
    });
    expect(await bind.dig('10.2.0.192.in-addr.arpa', 'PTR')).toEqual([]);
    expect(await bind.dig('20.2.0.192.in-addr.arpa', 'PTR')).toEqual(['www.example.test.']);
  });

  it('refuses an unsigned update, a wrong secret and an unknown key with clear errors, and changes nothing', async () => {
    const change = {
      zone: 'example.test',
      updates: [
        { op: 'add' as const, name: 'intruder.example.test', ttl: 60, record: { type: 'A' as const, address: '192.0.2.66' } },
      ],
    };
    const unsignedErr = await update({ servers: signed.servers }, change).catch((e: unknown) => e);
    expect(unsignedErr).toBeInstanceOf(DnsRcodeError);
    expect(unsignedErr).toMatchObject({
      rcode: 'REFUSED',
      message: expect.stringMatching(/does not allow unsigned updates/) as unknown,
    });

    const wrongSecret = await update(
      { ...signed, key: { ...bind.key, secret: Buffer.alloc(32, 9).toString('base64') } },
      change,
    ).catch((e: unknown) => e);
    expect(wrongSecret).toBeInstanceOf(TsigError);
    expect(wrongSecret).toMatchObject({
      code: 'BADSIG',
      side: 'server',
      message: expect.stringMatching(/secret of key "tandem-test-key" does not match/) as unknown,
    });

    const unknownKey = await update({ ...signed, key: { ...bind.key, name: 'no-such-key' } }, change).catch((e: unknown) => e);
    expect(unknownKey).toBeInstanceOf(TsigError);
    expect(unknownKey).toMatchObject({
      code: 'BADKEY',
      side: 'server',
      message: expect.stringMatching(/does not know the TSIG key "no-such-key"/) as unknown,
    });

    expect(await bind.dig('intruder.example.test', 'A')).toEqual([]);
  });

  it('gives a typed conflict and changes nothing when someone changed the record since it was read', async () => {
    const before = await query(signed, 'db.example.test', 'A');
    expect(before.answers).toMatchObject([{ type: 'A', address: '192.0.2.30' }]);
    // Someone else moves the record meanwhile.
    await nsupdate(['update delete db.example.test A', 'update add db.example.test 300 A 192.0.2.31']);
    expect(await bind.dig('db.example.test', 'A')).toEqual(['192.0.2.31']);

    const err = await update(signed, {
      zone: 'example.test',
      prerequisites: [{ kind: 'rrsetEquals', name: 'db.example.test', records: [{ type: 'A', address: '192.0.2.30' }] }],
      updates: [
        { op: 'deleteRRset', name: 'db.example.test', type: 'A' },
        { op: 'add', name: 'db.example.test', ttl: 60, record: { type: 'A', address: '192.0.2.40' } },
      ],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsConflictError);
    expect(err).toMatchObject({ rcode: 'NXRRSET', message: expect.stringMatching(/changed since they were read/) as unknown });
    expect(await bind.dig('db.example.test', 'A')).toEqual(['192.0.2.31']);

    // "RRset does not exist" and "name is not in use" that no longer hold are conflicts too.
    await expect(
      update(signed, {
        zone: 'example.test',
        prerequisites: [{ kind: 'rrsetAbsent', name: 'db.example.test', type: 'A' }],
        updates: [{ op: 'deleteRRset', name: 'db.example.test', type: 'A' }],
      }),
    ).rejects.toMatchObject({ name: 'DnsConflictError', rcode: 'YXRRSET' });
    await expect(
      update(signed, {
        zone: 'example.test',
        prerequisites: [{ kind: 'nameAbsent', name: 'db.example.test' }],
        updates: [{ op: 'deleteRRset', name: 'db.example.test', type: 'A' }],
      }),
    ).rejects.toMatchObject({ name: 'DnsConflictError', rcode: 'YXDOMAIN' });
    await expect(
      update(signed, {
        zone: 'example.test',
        prerequisites: [{ kind: 'nameInUse', name: 'gone.example.test' }],
        updates: [{ op: 'deleteRRset', name: 'db.example.test', type: 'A' }],
      }),
    ).rejects.toMatchObject({ name: 'DnsConflictError', rcode: 'NXDOMAIN' });
    expect(await bind.dig('db.example.test', 'A')).toEqual(['192.0.2.31']);
  });

  it('refuses names outside the zone and bad values before sending anything', async () => {
    await expect(
      update(signed, {
        zone: 'example.test',
        updates: [{ op: 'add', name: 'www.other.test', ttl: 60, record: { type: 'A', address: '192.0.2.1' } }],
      }),
    ).rejects.toThrow(/not in zone "example.test"/);
    await expect(
      update(signed, {
        zone: 'example.test',
        updates: [{ op: 'add', name: 'x.example.test', ttl: -1, record: { type: 'A', address: '192.0.2.1' } }],
      }),
    ).rejects.toThrow();
    await expect(
      update(signed, {
        zone: 'example.test',
        updates: [{ op: 'add', name: 'x.example.test', ttl: 60, record: { type: 'A', address: '2001:db8::1' } }],
      }),
    ).rejects.toThrow();
    await expect(update(signed, { zone: 'example.test', updates: [] })).rejects.toThrow();
  });

  it('rejects a reply whose signature was altered on the way (a proxy flips one MAC byte)', async () => {
    const proxy = dgram.createSocket('udp4');
    const upstream = dgram.createSocket('udp4');
    let client: { address: string; port: number } | null = null;
    proxy.on('message', (msg, rinfo) => {
      client = { address: rinfo.address, port: rinfo.port };
      upstream.send(msg, bind.port, bind.host);
    });
    upstream.on('message', (reply) => {
      const tsig = readTsig(reply);
      const tampered = Buffer.from(reply);
      if (tsig) tampered.writeUInt8(tampered.readUInt8(reply.length - 6 - 2 - 1) ^ 0x01, reply.length - 6 - 2 - 1); // the MAC's last byte
      if (client) proxy.send(tampered, client.port, client.address);
    });
    await new Promise<void>((r) => proxy.bind(0, '127.0.0.1', () => r()));
    try {
      const err = await update(
        { ...signed, servers: [{ host: '127.0.0.1', port: proxy.address().port }] },
        {
          zone: 'example.test',
          updates: [{ op: 'add', name: 'proxied.example.test', ttl: 60, record: { type: 'A', address: '192.0.2.77' } }],
        },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TsigError);
      expect(err).toMatchObject({ code: 'BADSIG', side: 'reply', message: expect.stringMatching(/does not verify/) as unknown });
    } finally {
      proxy.close();
      upstream.close();
    }
  });
});

describe('servers in order', () => {
  it('uses the second server when the first does not answer, and says why it skipped the first', async () => {
    const closed = await freePort();
    const options: ClientOptions = {
      ...signed,
      servers: [
        { host: '127.0.0.1', port: closed },
        { host: bind.host, port: bind.port },
      ],
      timeoutMs: 2000,
    };
    const q = await query(options, 'mail.example.test', 'A');
    expect(q.server).toBe(`127.0.0.1:${bind.port}`);
    const u = await update(options, {
      zone: 'example.test',
      updates: [{ op: 'add', name: 'failover.example.test', ttl: 60, record: { type: 'AAAA', address: '2001:db8::20' } }],
    });
    expect(u.server).toBe(`127.0.0.1:${bind.port}`);
    expect(u.skipped).toEqual([{ server: `127.0.0.1:${closed}`, reason: expect.any(String) as unknown }]);
    expect(await bind.dig('failover.example.test', 'AAAA')).toEqual(['2001:db8::20']);
  });

  it('moves on after the per-server deadline when a server swallows the request', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      const options: ClientOptions = {
        ...signed,
        servers: [
          { host: '127.0.0.1', port: silent.address().port },
          { host: bind.host, port: bind.port },
        ],
        timeoutMs: 500,
      };
      const q = await query(options, 'mail.example.test', 'A');
      expect(q.server).toBe(`127.0.0.1:${bind.port}`);
      expect(q.answers).toMatchObject([{ type: 'A', address: '192.0.2.25' }]);
    } finally {
      silent.close();
    }
  });

  it('says no server answered when none does', async () => {
    const closed = await freePort();
    const err = await query({ servers: [{ host: '127.0.0.1', port: closed }], timeoutMs: 500 }, 'www.example.test', 'A').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DnsUnreachableError);
    expect((err as Error).message).toMatch(/no DNS server answered: 127\.0\.0\.1:\d+/);
  });
});
