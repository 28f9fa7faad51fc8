// The agent's dns.query, dns.transfer and dns.apply (rfc2136 provider) against a real BIND 9 on
// loopback (support/bind.ts), called through runAction as the agent does: the records a failover
// moves (A, CNAME, MX, PTR in a forward and a reverse zone) move once, a second run sends nothing
// (the SOA serial stays), the reverse change restores the zones exactly; a change made behind
// Tandem's back, before or during the apply, is a conflict that changes nothing; a wrong key is
// said plainly; a dead first server is skipped. The windows provider: agent-dns-windows.test.ts.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import { transfer } from '../../apps/agent/src/dns/axfr.ts';
import { readTsig } from '../../apps/agent/src/dns/tsig.ts';
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
standby IN A 192.0.2.20
`;
const reverse = `
10 IN PTR www.example.test.
30 IN PTR db.example.test.
`;
// Big enough that BIND sends the transfer in several messages (each one signed).
const bulk = Array.from({ length: 3000 }, (_, i) => `host${i} IN A 10.${Math.floor(i / 250)}.${i % 250}.1`).join('\n');

let bind: Bind;
let servers: { host: string; port: number }[];
let tsig: Bind['key'];
const ctx = { hooksDir: '/nonexistent' };

beforeAll(async () => {
  bind = await startBind([
    { name: 'example.test', records: forward },
    { name: '2.0.192.in-addr.arpa', records: reverse },
    { name: 'bulk.test', records: bulk },
  ]);
  servers = [{ host: bind.host, port: bind.port }];
  tsig = bind.key;
});

afterAll(async () => {
  await bind?.stop();
});

async function nsupdate(commands: string[]) {
  const file = path.join(bind.dir, `nsupdate-${Date.now()}-${Math.random()}.txt`);
  fs.writeFileSync(file, [`server 127.0.0.1 ${bind.port}`, ...commands, 'send', ''].join('\n'));
  await run('nsupdate', ['-k', path.join(bind.dir, 'key.conf'), file]);
}

const serial = async (zone: string) => Number((await bind.dig(zone, 'SOA'))[0]!.split(' ')[2]);

type Change = {
  zone: string;
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'MX' | 'PTR';
  before: { ttl: number; records: object[] };
  after: { ttl: number; records: object[] };
};
const reversed = (changes: Change[]): Change[] => changes.map((c) => ({ ...c, before: c.after, after: c.before }));

describe('dns.query', () => {
  it('answers the current RRsets of A, AAAA, CNAME, MX and PTR (forward and reverse zone), empty when absent', async () => {
    const result = await runAction(
      'dns.query',
      {
        servers,
        tsig,
        questions: [
          { name: 'www.example.test', type: 'A' },
          { name: 'www.example.test', type: 'AAAA' },
          { name: 'app.example.test', type: 'CNAME' },
          { name: 'app.example.test', type: 'A' },
          { name: 'example.test', type: 'MX' },
          { name: '10.2.0.192.in-addr.arpa', type: 'PTR' },
          { name: 'nothing.example.test', type: 'A' },
          { name: 'mail.example.test', type: 'AAAA' },
        ],
      },
      ctx,
    );
    expect(result).toEqual({
      server: `127.0.0.1:${bind.port}`,
      rrsets: [
        { name: 'www.example.test', type: 'A', ttl: 300, records: [{ type: 'A', address: '192.0.2.10' }], rcode: 'NOERROR' },
        {
          name: 'www.example.test',
          type: 'AAAA',
          ttl: 300,
          records: [{ type: 'AAAA', address: '2001:db8::10' }],
          rcode: 'NOERROR',
        },
        {
          name: 'app.example.test',
          type: 'CNAME',
          ttl: 300,
          records: [{ type: 'CNAME', target: 'www.example.test' }],
          rcode: 'NOERROR',
        },
        // The A records are www's (reached through the CNAME): app itself has none.
        { name: 'app.example.test', type: 'A', ttl: 0, records: [], rcode: 'NOERROR' },
        {
          name: 'example.test',
          type: 'MX',
          ttl: 300,
          records: [{ type: 'MX', preference: 10, exchange: 'mail.example.test' }],
          rcode: 'NOERROR',
        },
        {
          name: '10.2.0.192.in-addr.arpa',
          type: 'PTR',
          ttl: 300,
          records: [{ type: 'PTR', target: 'www.example.test' }],
          rcode: 'NOERROR',
        },
        { name: 'nothing.example.test', type: 'A', ttl: 0, records: [], rcode: 'NXDOMAIN' },
        { name: 'mail.example.test', type: 'AAAA', ttl: 0, records: [], rcode: 'NOERROR' },
      ],
    });
  });
});

describe('dns.transfer', () => {
  it("returns the zone's A, AAAA, CNAME, MX and PTR RRsets grouped by name and type (signed AXFR)", async () => {
    const result = await runAction('dns.transfer', { servers, tsig, zone: 'example.test' }, ctx);
    expect(result).toMatchObject({ server: `127.0.0.1:${bind.port}`, truncated: false });
    const rrsets = (result as { rrsets: { name: string; type: string }[] }).rrsets;
    const key = (s: { name: string; type: string }) => `${s.name} ${s.type}`;
    expect([...rrsets].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([
      { name: 'app.example.test', type: 'CNAME', ttl: 300, records: [{ type: 'CNAME', target: 'www.example.test' }] },
      { name: 'db.example.test', type: 'A', ttl: 300, records: [{ type: 'A', address: '192.0.2.30' }] },
      { name: 'example.test', type: 'MX', ttl: 300, records: [{ type: 'MX', preference: 10, exchange: 'mail.example.test' }] },
      { name: 'mail.example.test', type: 'A', ttl: 300, records: [{ type: 'A', address: '192.0.2.25' }] },
      { name: 'ns1.example.test', type: 'A', ttl: 300, records: [{ type: 'A', address: '127.0.0.1' }] },
      { name: 'standby.example.test', type: 'A', ttl: 300, records: [{ type: 'A', address: '192.0.2.20' }] },
      { name: 'www.example.test', type: 'A', ttl: 300, records: [{ type: 'A', address: '192.0.2.10' }] },
      { name: 'www.example.test', type: 'AAAA', ttl: 300, records: [{ type: 'AAAA', address: '2001:db8::10' }] },
    ]);
    const ptr = await runAction('dns.transfer', { servers, tsig, zone: '2.0.192.in-addr.arpa' }, ctx);
    expect((ptr as { rrsets: { name: string; type: string }[] }).rrsets.filter((s) => s.type === 'PTR')).toEqual([
      { name: '10.2.0.192.in-addr.arpa', type: 'PTR', ttl: 300, records: [{ type: 'PTR', target: 'www.example.test' }] },
      { name: '30.2.0.192.in-addr.arpa', type: 'PTR', ttl: 300, records: [{ type: 'PTR', target: 'db.example.test' }] },
    ]);
  });

  it('verifies every signed message of a transfer that spans many messages', async () => {
    const t = await transfer({ servers, key: tsig, timeoutMs: 10_000 }, 'bulk.test');
    expect(t.messages).toBeGreaterThan(1);
    expect(t.signedMessages).toBeGreaterThanOrEqual(2);
    expect(t.answers.filter((a) => a.type === 'A' && a.name.startsWith('host'))).toHaveLength(3000);
    const result = await runAction('dns.transfer', { servers, tsig, zone: 'bulk.test' }, ctx);
    expect((result as { rrsets: unknown[] }).rrsets).toHaveLength(3001);
  });

  it('rejects a transfer whose messages were altered on the way or whose last message lost its signature', async () => {
    // A TCP relay in front of BIND that passes the request and changes the answer's messages.
    const relay = async (mutate: (message: Buffer, index: number) => Buffer) => {
      const server = net.createServer((client) => {
        const upstream = net.connect(bind.port, bind.host);
        client.pipe(upstream);
        let buffered = Buffer.alloc(0);
        let index = 0;
        upstream.on('data', (chunk: Buffer) => {
          buffered = Buffer.concat([buffered, chunk]);
          while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
            const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
            buffered = buffered.subarray(2 + message.length);
            const out = mutate(Buffer.from(message), index++);
            const length = Buffer.alloc(2);
            length.writeUInt16BE(out.length);
            client.write(Buffer.concat([length, out]));
          }
        });
        const close = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('close', close);
        upstream.on('close', close);
        client.on('error', close);
        upstream.on('error', close);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
    };
    const total = (await transfer({ servers, key: tsig, timeoutMs: 10_000 }, 'bulk.test')).messages;

    // One byte of an address in a middle message.
    const flipped = await relay((m, i) => {
      if (i === 2) m.writeUInt8(m.readUInt8(readTsig(m)!.start - 1) ^ 0x01, readTsig(m)!.start - 1);
      return m;
    });
    // The last message without its TSIG record (as if an attacker appended records and cut the signature).
    const stripped = await relay((m, i) => {
      if (i !== total - 1) return m;
      const cut = Buffer.from(m.subarray(0, readTsig(m)!.start));
      cut.writeUInt16BE(cut.readUInt16BE(10) - 1, 10);
      return cut;
    });
    try {
      await expect(
        runAction('dns.transfer', { servers: [{ host: '127.0.0.1', port: flipped.port }], tsig, zone: 'bulk.test' }, ctx),
      ).rejects.toThrow(/a message of the zone transfer has a TSIG signature that does not verify/);
      await expect(
        runAction('dns.transfer', { servers: [{ host: '127.0.0.1', port: stripped.port }], tsig, zone: 'bulk.test' }, ctx),
      ).rejects.toThrow(/the last message of the zone transfer is not signed/);
    } finally {
      flipped.close();
      stripped.close();
    }
  });

  it('is refused without the key (transfers are allowed for the key only)', async () => {
    await expect(runAction('dns.transfer', { servers, zone: 'example.test' }, ctx)).rejects.toThrow(
      /refused the transfer of zone "example.test" \(REFUSED/,
    );
  });
});

describe('dns.apply', () => {
  const moves: Change[] = [
    {
      zone: 'example.test',
      name: 'www.example.test',
      type: 'A',
      before: { ttl: 300, records: [{ type: 'A', address: '192.0.2.10' }] },
      after: { ttl: 60, records: [{ type: 'A', address: '192.0.2.20' }] },
    },
    {
      zone: 'example.test',
      name: 'app.example.test',
      type: 'CNAME',
      before: { ttl: 300, records: [{ type: 'CNAME', target: 'www.example.test' }] },
      after: { ttl: 60, records: [{ type: 'CNAME', target: 'standby.example.test' }] },
    },
    {
      zone: 'example.test',
      name: 'example.test',
      type: 'MX',
      before: { ttl: 300, records: [{ type: 'MX', preference: 10, exchange: 'mail.example.test' }] },
      after: { ttl: 60, records: [{ type: 'MX', preference: 10, exchange: 'standby.example.test' }] },
    },
    {
      zone: '2.0.192.in-addr.arpa',
      name: '10.2.0.192.in-addr.arpa',
      type: 'PTR',
      before: { ttl: 300, records: [{ type: 'PTR', target: 'www.example.test' }] },
      after: { ttl: 60, records: [] },
    },
    {
      zone: '2.0.192.in-addr.arpa',
      name: '20.2.0.192.in-addr.arpa',
      type: 'PTR',
      before: { ttl: 300, records: [] },
      after: { ttl: 60, records: [{ type: 'PTR', target: 'www.example.test' }] },
    },
  ];
  const outcomes = (outcome: string) => moves.map((c) => ({ zone: c.zone, name: c.name, type: c.type, outcome }));

  it('moves A, CNAME, MX and PTR records once, sends nothing the second time, and the reverse change restores the zones exactly', async () => {
    const zonesBefore = await Promise.all(
      ['example.test', '2.0.192.in-addr.arpa'].map((zone) => runAction('dns.transfer', { servers, tsig, zone }, ctx)),
    );
    const serials = [await serial('example.test'), await serial('2.0.192.in-addr.arpa')];

    const first = await runAction('dns.apply', { servers, tsig, changes: moves }, ctx);
    expect(first).toEqual({ server: `127.0.0.1:${bind.port}`, changes: outcomes('changed') });
    expect(await bind.dig('www.example.test', 'A', ['+noshort', '+noall', '+answer'])).toEqual([
      expect.stringMatching(/^www\.example\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.20$/),
    ]);
    expect(await bind.dig('app.example.test', 'A')).toEqual(['standby.example.test.', '192.0.2.20']);
    expect(await bind.dig('example.test', 'MX')).toEqual(['10 standby.example.test.']);
    expect(await bind.dig('10.2.0.192.in-addr.arpa', 'PTR')).toEqual([]);
    expect(await bind.dig('20.2.0.192.in-addr.arpa', 'PTR')).toEqual(['www.example.test.']);
    expect(await bind.dig('www.example.test', 'AAAA')).toEqual(['2001:db8::10']); // not touched
    // One update per zone: each serial moved once.
    expect([await serial('example.test'), await serial('2.0.192.in-addr.arpa')]).toEqual([serials[0]! + 1, serials[1]! + 1]);

    const again = await runAction('dns.apply', { servers, tsig, changes: moves }, ctx);
    expect(again).toEqual({ server: `127.0.0.1:${bind.port}`, changes: outcomes('already') });
    expect([await serial('example.test'), await serial('2.0.192.in-addr.arpa')]).toEqual([serials[0]! + 1, serials[1]! + 1]);

    const back = await runAction('dns.apply', { servers, tsig, changes: reversed(moves) }, ctx);
    expect((back as { changes: { outcome: string }[] }).changes.map((c) => c.outcome)).toEqual(moves.map(() => 'changed'));
    const zonesAfter = await Promise.all(
      ['example.test', '2.0.192.in-addr.arpa'].map((zone) => runAction('dns.transfer', { servers, tsig, zone }, ctx)),
    );
    const sorted = (t: unknown) =>
      (t as { rrsets: { name: string; type: string }[] }).rrsets.map((s) => JSON.stringify(s)).sort();
    expect(zonesAfter.map(sorted)).toEqual(zonesBefore.map(sorted));
  });

  it('updates only the RRsets not yet done when some already are', async () => {
    await nsupdate(['update delete www.example.test A', 'update add www.example.test 60 A 192.0.2.20']);
    const serialBefore = await serial('example.test');
    const result = await runAction('dns.apply', { servers, tsig, changes: moves.slice(0, 2) }, ctx);
    expect((result as { changes: { outcome: string }[] }).changes.map((c) => c.outcome)).toEqual(['already', 'changed']);
    expect(await serial('example.test')).toBe(serialBefore + 1);
    await runAction('dns.apply', { servers, tsig, changes: reversed(moves.slice(0, 2)) }, ctx);
    expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.10']);
    expect(await bind.dig('app.example.test', 'CNAME')).toEqual(['www.example.test.']);
  });

  it('refuses with a conflict naming the RRset and what it holds when it changed after planning, and changes nothing', async () => {
    const plan: Change[] = [
      moves[0]!,
      {
        zone: 'example.test',
        name: 'db.example.test',
        type: 'A',
        before: { ttl: 300, records: [{ type: 'A', address: '192.0.2.30' }] },
        after: { ttl: 60, records: [{ type: 'A', address: '192.0.2.40' }] },
      },
    ];
    await nsupdate(['update delete db.example.test A', 'update add db.example.test 300 A 192.0.2.31']);
    const serialBefore = await serial('example.test');
    await expect(runAction('dns.apply', { servers, tsig, changes: plan }, ctx)).rejects.toThrow(
      /changed behind Tandem's back: db\.example\.test A holds 192\.0\.2\.31 \(TTL 300\); Tandem expected 192\.0\.2\.30 \(TTL 300\) \(before\) or 192\.0\.2\.40 \(TTL 60\) \(after\)\. Nothing was changed\./,
    );
    expect(await serial('example.test')).toBe(serialBefore);
    expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.10']);
    await nsupdate(['update delete db.example.test A', 'update add db.example.test 300 A 192.0.2.30']);
  });

  it('is a conflict that changes nothing when the record changes between the read and the update (prerequisite)', async () => {
    // A UDP relay in front of BIND: when the UPDATE comes by, someone else changes the record first.
    const relay = dgram.createSocket('udp4');
    const upstream = dgram.createSocket('udp4');
    let client: { address: string; port: number } | null = null;
    let interfered = false;
    relay.on('message', (msg, rinfo) => {
      client = { address: rinfo.address, port: rinfo.port };
      const isUpdate = ((msg.readUInt16BE(2) >> 11) & 0xf) === 5;
      const forward = () => upstream.send(msg, bind.port, bind.host);
      if (isUpdate && !interfered) {
        interfered = true;
        void nsupdate(['update delete db.example.test A', 'update add db.example.test 300 A 192.0.2.99']).then(forward);
      } else forward();
    });
    upstream.on('message', (reply) => {
      if (client) relay.send(reply, client.port, client.address);
    });
    await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
    try {
      const serialBefore = await serial('example.test');
      const change: Change = {
        zone: 'example.test',
        name: 'db.example.test',
        type: 'A',
        before: { ttl: 300, records: [{ type: 'A', address: '192.0.2.30' }] },
        after: { ttl: 60, records: [{ type: 'A', address: '192.0.2.40' }] },
      };
      const err = await runAction(
        'dns.apply',
        { servers: [{ host: '127.0.0.1', port: relay.address().port }], tsig, changes: [moves[0]!, change] },
        ctx,
      ).catch((e: unknown) => e);
      expect(interfered).toBe(true);
      expect((err as Error).message).toMatch(
        /changed behind Tandem's back: db\.example\.test A holds 192\.0\.2\.99 \(TTL 300\).*The server refused the update of zone example\.test \(NXRRSET\)\. Nothing was changed\./,
      );
      // Only the other party's change happened; www was not moved.
      expect(await serial('example.test')).toBe(serialBefore + 1);
      expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.10']);
      expect(await bind.dig('db.example.test', 'A')).toEqual(['192.0.2.99']);
    } finally {
      relay.close();
      upstream.close();
      await nsupdate(['update delete db.example.test A', 'update add db.example.test 300 A 192.0.2.30']);
    }
  });

  it('says plainly that the TSIG key was refused, and changes nothing', async () => {
    const serialBefore = await serial('example.test');
    const wrong = { ...tsig, secret: Buffer.alloc(32, 7).toString('base64') };
    await expect(runAction('dns.apply', { servers, tsig: wrong, changes: moves }, ctx)).rejects.toThrow(
      /^The DNS server refused the TSIG key tandem-test-key: .*BADSIG.* Nothing was changed\.$/,
    );
    const unknown = { ...tsig, name: 'someone-else' };
    await expect(runAction('dns.apply', { servers, tsig: unknown, changes: moves }, ctx)).rejects.toThrow(
      /^The DNS server refused the TSIG key someone-else: .*BADKEY/,
    );
    expect(await serial('example.test')).toBe(serialBefore);
    expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.10']);
    await expect(runAction('dns.transfer', { servers, tsig: wrong, zone: 'example.test' }, ctx)).rejects.toThrow(
      /^The DNS server refused the TSIG key tandem-test-key: .*BADSIG/,
    );
    await expect(
      runAction('dns.query', { servers, tsig: wrong, questions: [{ name: 'www.example.test', type: 'A' }] }, ctx),
    ).rejects.toThrow(/^The DNS server refused the TSIG key tandem-test-key: /);
  });

  it('uses the second server when nothing answers on the first', async () => {
    const dead = { host: '127.0.0.1', port: await freePort() };
    const both = [dead, ...servers];
    const q = await runAction(
      'dns.query',
      { servers: both, tsig, timeoutMs: 2000, questions: [{ name: 'www.example.test', type: 'A' }] },
      ctx,
    );
    expect(q).toMatchObject({ server: `127.0.0.1:${bind.port}`, rrsets: [{ records: [{ address: '192.0.2.10' }] }] });
    const applied = await runAction('dns.apply', { servers: both, tsig, timeoutMs: 2000, changes: [moves[0]!] }, ctx);
    expect(applied).toEqual({ server: `127.0.0.1:${bind.port}`, changes: [{ ...outcomes('changed')[0] }] });
    expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.20']);
    const t = await runAction('dns.transfer', { servers: both, tsig, timeoutMs: 2000, zone: '2.0.192.in-addr.arpa' }, ctx);
    expect(t).toMatchObject({ server: `127.0.0.1:${bind.port}` });
    await runAction('dns.apply', { servers: both, tsig, changes: reversed([moves[0]!]) }, ctx);
    expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.10']);
  });

  it('waits for a silent first server once per action, not once per message', async () => {
    const silent = dgram.createSocket('udp4');
    let asked = 0;
    silent.on('message', () => asked++);
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      const both = [{ host: '127.0.0.1', port: silent.address().port }, ...servers];
      const applied = await runAction('dns.apply', { servers: both, tsig, timeoutMs: 300, changes: moves }, ctx);
      expect(applied).toEqual({ server: `127.0.0.1:${bind.port}`, changes: outcomes('changed') });
      // Five reads, two updates, five confirming reads: the silent server was asked once.
      expect(asked).toBe(1);
      await runAction('dns.apply', { servers: both, tsig, timeoutMs: 300, changes: reversed(moves) }, ctx);
      expect(asked).toBe(2);
      expect(await bind.dig('www.example.test', 'A')).toEqual(['192.0.2.10']);
    } finally {
      silent.close();
    }
  });
});
