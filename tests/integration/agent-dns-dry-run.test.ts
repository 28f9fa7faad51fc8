// dns.dry-run through a real agent process (gateway, Redis, the bundled agent) against a real
// BIND 9 on loopback (support/bind.ts): the zone's authority, the TSIG key's rights (a signed
// prerequisite-only update), the source's records with their TTL, the records pointing at it, the
// reverse zones, the resolvers' view; a wrong secret, a missing record, a missing reverse zone,
// a dead primary with a working secondary, a server that never answers, zones open to anyone or
// closed to updates. The zones are transferred
// before and after every run: the dry run must leave every record and the SOA serial as they were.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ActionInput } from '@tandem/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBind, type Bind } from './support/bind';
import { freePort } from './support/ports';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';

const run = promisify(execFile);
const ZONE = 'corp.test';
const REVERSE = '1.10.in-addr.arpa';

let bind: Bind;
let h: ReplicationHarness;
let agent: Enrolled;
let silent: dgram.Socket;
let silentPort = 0;

beforeAll(async () => {
  bind = await startBind([
    { name: ZONE, records: ['fs1 IN A 10.1.0.5', 'files IN CNAME fs1', `@ IN MX 10 fs1.${ZONE}.`, 'other IN A 10.1.0.99', 'fs2 IN A 10.1.0.6'].join('\n') },
    { name: REVERSE, records: `5.0 IN PTR fs1.${ZONE}.` },
    { name: 'open.test', records: 'fs1 IN A 10.1.0.5', updates: 'any' },
    { name: 'static.test', records: 'fs1 IN A 10.1.0.5', updates: 'none' },
  ]);
  // A DNS "server" that takes every question and never answers.
  silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  silentPort = silent.address().port;
  h = new ReplicationHarness('dnsdry');
  await h.setup();
  agent = await h.enrolAndRun('executor');
  await h.online(agent.agentId);
}, 120_000);

afterAll(async () => {
  await h?.teardown();
  silent?.close();
  await bind?.stop();
});

/** Every record of the zones (signed AXFR with dig), SOA serial included, in a stable order. */
async function zones(): Promise<string> {
  const out: string[] = [];
  for (const zone of [ZONE, REVERSE, 'open.test', 'static.test']) {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(bind.port), '-k', path.join(bind.dir, 'key.conf'), '+noall', '+answer', zone, 'AXFR']);
    out.push(...stdout.split('\n').filter((l) => l.trim() !== '' && !/\sTSIG\s/.test(l)));
  }
  return out.sort().join('\n');
}

type DryRunInput = ActionInput<'dns.dry-run'>;
const base = (): DryRunInput => ({
  zone: ZONE,
  servers: [{ host: bind.host, port: bind.port }],
  tsig: bind.key,
  sourceName: `fs1.${ZONE}`,
  addresses: ['10.1.0.5', '10.1.0.6'],
  resolvers: [`127.0.0.1:${bind.port}`],
});

/** Runs the dry run on the agent and checks it changed nothing in either zone. */
async function dryRun(patch: Partial<DryRunInput> = {}) {
  const before = await zones();
  expect(before).toContain('SOA');
  const result = await h.bus.send(agent.agentId, 'dns.dry-run', { ...base(), ...patch });
  expect(await zones()).toBe(before);
  return result;
}

describe('dns.dry-run (real agent, real BIND 9)', () => {
  it('all good: the authoritative primary, the key allowed, the records with their TTL, the reverse zone updatable', async () => {
    const r = await dryRun();
    expect(r.provider).toEqual({ kind: 'rfc2136', endpoint: `127.0.0.1:${bind.port}` });
    expect(r.attempts).toEqual([{ server: `127.0.0.1:${bind.port}`, role: 'primary', answered: true, ms: expect.any(Number) as unknown, error: null }]);
    expect(r.timedOut).toBe(false);
    expect(r.auth).toEqual({ ok: true, error: null });
    // The zone takes signed updates only (support/bind.ts allows the key, nothing unsigned).
    expect(r.zone).toEqual({ name: ZONE, authoritative: true, primary: `ns1.${ZONE}`, dynamicUpdate: 'secure' });
    expect(r.records).toEqual([{ type: 'A', name: `fs1.${ZONE}`, value: '10.1.0.5', ttl: 300 }]);
    expect(r.referrers).toEqual(
      expect.arrayContaining([
        { type: 'CNAME', name: `files.${ZONE}`, zone: ZONE, managed: true },
        { type: 'MX', name: ZONE, zone: ZONE, managed: true },
      ]),
    );
    expect(r.referrers).toHaveLength(2);
    expect(r.reverseZones).toEqual([
      { address: '10.1.0.5', zone: REVERSE, updatable: true },
      { address: '10.1.0.6', zone: REVERSE, updatable: true },
    ]);
    expect(r.resolverView).toEqual([{ resolver: `127.0.0.1:${bind.port}`, answers: ['10.1.0.5'], matchesServer: true }]);
    expect(r.fenceEntries).toEqual([]);
    expect(r).toMatchObject({ planOk: true, planReason: null });
  }, 90_000);

  it('a wrong TSIG secret: not authorised, said as the server said it (BADSIG), the secret nowhere in the answer', async () => {
    const wrong = Buffer.alloc(32, 7).toString('base64');
    const r = await dryRun({ tsig: { ...bind.key, secret: wrong } });
    expect(r.auth.ok).toBe(false);
    expect(r.auth.error).toMatch(/BADSIG|BADKEY/);
    expect(r.auth.error).toContain(bind.key.name);
    expect(JSON.stringify(r)).not.toContain(wrong);
    // Whether the zone takes updates cannot be told with a key the server refuses.
    expect(r.zone).toMatchObject({ authoritative: true, dynamicUpdate: null });
    expect(r.reverseZones.every((z) => !z.updatable)).toBe(true);
    // A key the server does not know at all.
    const unknown = await dryRun({ tsig: { ...bind.key, name: 'no-such-key' } });
    expect(unknown.auth).toEqual({ ok: false, error: expect.stringMatching(/no-such-key.*BADKEY/) as unknown });
  }, 90_000);

  it('the source record missing: no records (the zone and the key are fine)', async () => {
    const r = await dryRun({ sourceName: `gone.${ZONE}` });
    expect(r.records).toEqual([]);
    expect(r.referrers).toEqual([]);
    expect(r.auth.ok).toBe(true);
    expect(r.resolverView).toEqual([{ resolver: `127.0.0.1:${bind.port}`, answers: [], matchesServer: true }]);
    expect(r.planOk).toBe(true);
  }, 90_000);

  it('a reverse zone the server does not have: that address has no zone and cannot be updated', async () => {
    const r = await dryRun({ addresses: ['10.1.0.5', '10.2.0.7', '2001:db8::7'] });
    expect(r.reverseZones).toEqual([
      { address: '10.1.0.5', zone: REVERSE, updatable: true },
      { address: '10.2.0.7', zone: null, updatable: false },
      { address: '2001:db8::7', zone: null, updatable: false },
    ]);
  }, 90_000);

  it('the primary down and a working secondary: the primary tried first and unanswered, the data from the secondary', async () => {
    const dead = await freePort();
    const r = await dryRun({ servers: [{ host: '127.0.0.1', port: dead }, { host: bind.host, port: bind.port }], primaryMs: 2_000 });
    expect(r.attempts).toEqual([
      { server: `127.0.0.1:${dead}`, role: 'primary', answered: false, ms: expect.any(Number) as unknown, error: expect.any(String) as unknown },
      { server: `127.0.0.1:${bind.port}`, role: 'secondary', answered: true, ms: expect.any(Number) as unknown, error: null },
    ]);
    expect(r.provider.endpoint).toBe(`127.0.0.1:${bind.port}`);
    expect(r.timedOut).toBe(false);
    expect(r.auth.ok).toBe(true);
    expect(r.records).toEqual([{ type: 'A', name: `fs1.${ZONE}`, value: '10.1.0.5', ttl: 300 }]);
  }, 90_000);

  it('a server that never answers, with a short budget: timed out, nothing else known', async () => {
    const r = await dryRun({ servers: [{ host: '127.0.0.1', port: silentPort }], budgetMs: 1_000, primaryMs: 1_000, resolvers: [] });
    expect(r.timedOut).toBe(true);
    expect(r.attempts).toEqual([{ server: `127.0.0.1:${silentPort}`, role: 'primary', answered: false, ms: expect.any(Number) as unknown, error: expect.stringMatching(/deadline/) as unknown }]);
    expect(r).toMatchObject({ zone: null, records: [], auth: { ok: null }, planOk: false });
    expect(r.planReason).toMatch(/budget/);
  }, 90_000);

  it('a zone the server does not serve, or a source name outside the zone: the plan cannot be built', async () => {
    const other = await dryRun({ zone: 'elsewhere.test', sourceName: 'fs1.elsewhere.test' });
    expect(other.zone).toMatchObject({ name: 'elsewhere.test', authoritative: false });
    expect(other.planOk).toBe(false);
    expect(other.planReason).toMatch(/not authoritative/);
    const outside = await dryRun({ sourceName: 'fs1.example.test' });
    expect(outside.planOk).toBe(false);
    expect(outside.planReason).toMatch(/not in zone corp\.test/);
  }, 90_000);

  it('a zone open to unsigned updates is open; a zone taking no updates is none, and the key is refused there (the probe record refused too, nothing left)', async () => {
    const open = await dryRun({ zone: 'open.test', sourceName: 'fs1.open.test' });
    expect(open.zone).toMatchObject({ name: 'open.test', authoritative: true, dynamicUpdate: 'open' });
    expect(open.auth).toEqual({ ok: true, error: null });
    const closed = await dryRun({ zone: 'static.test', sourceName: 'fs1.static.test' });
    expect(closed.zone).toMatchObject({ name: 'static.test', authoritative: true, dynamicUpdate: 'none' });
    expect(closed.auth.ok).toBe(false);
    expect(closed.auth.error).toMatch(/REFUSED.*static\.test/);
    expect(closed.records).toEqual([{ type: 'A', name: 'fs1.static.test', value: '10.1.0.5', ttl: 300 }]);
    expect(await bind.dig('_tandem-probe.static.test', 'TXT')).toEqual([]);
  }, 90_000);

  it('the windows provider on this Linux agent: refused plainly', async () => {
    await expect(h.bus.send(agent.agentId, 'dns.dry-run', { ...base(), provider: 'windows', tsig: undefined })).rejects.toThrow(/windows DNS provider needs a Windows agent/);
  }, 90_000);
});
