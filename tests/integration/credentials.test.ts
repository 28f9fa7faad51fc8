// Credentials (TSIG keys, domain accounts): the secret is sealed to its row, never returned and
// never audited; an edit without a secret keeps it; one a pair uses cannot be deleted. Then, with
// a real agent as DNS executor and a real BIND 9: the credential test ("can update this zone")
// adds and removes a record, a wrong key is refused plainly, and the pair's DNS records and the
// wizard's discovery answer what BIND holds.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, ownerDb } from '@tandem/db/testing';
import { settingsToColumns, type PairSettings } from '@tandem/engine';
import { openSecret } from '@tandem/security';
import { auditEventsOf, callerFor, expectCode } from './helpers';
import { freePort } from './support/agents';
import { startBind, type Bind } from './support/bind';
import { validPairSettings } from './support/pair-settings';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';

const h = new ReplicationHarness('cred');
let bind: Bind;
let executor: Enrolled;
const plainSecret = 'dGhpcyBpcyB0aGUgdGVzdCBzZWNyZXQgb2YgdGhlIGtleQ==';

beforeAll(async () => {
  await h.setup();
  bind = await startBind([
    { name: 'corp.test', records: 'files IN A 10.0.0.5\nwww IN CNAME files\nintranet IN CNAME www\n@ IN MX 10 files\nother IN A 10.0.0.9\n' },
    { name: '0.0.10.in-addr.arpa', records: '5 IN PTR files.corp.test.\n9 IN PTR other.corp.test.\n' },
  ]);
  executor = await h.enrolAndRun('dns');
  await h.online(executor.agentId);
}, 120_000);

afterAll(async () => {
  await bind?.stop();
  await h.teardown();
});

/** Everything the API and the audit log said, as one text to search for the secret. */
const everything = async (...responses: unknown[]) => JSON.stringify(responses) + JSON.stringify(await auditEventsOf(h.t.org.id));

function pairSettings(over: Partial<PairSettings['dns']>): PairSettings {
  const s = validPairSettings();
  return { ...s, name: `dns-${randomUUID().slice(0, 6)}`, failover: { ...s.failover, enabled: true }, dns: { ...s.dns, zone: 'corp.test', addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }], ...over } };
}

describe('storing credentials', () => {
  it('seals the secret to its row and never returns or audits it; an edit without a secret keeps it', async () => {
    const caller = callerFor(h.t.operator.id);
    const created = await caller.credential.create({ kind: 'dns_tsig', name: 'BIND primary', keyName: 'tandem-key.corp.test.', algorithm: 'hmac-sha512', secret: plainSecret });
    expect(created).toMatchObject({ name: 'BIND primary', kind: 'dns_tsig', customerId: null, publicInfo: { keyName: 'tandem-key.corp.test', algorithm: 'hmac-sha512' }, lastVerifiedAt: null });

    const row = await ownerDb().credential.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.secretEnc).not.toContain(plainSecret);
    expect(row.secretEnc).not.toContain(Buffer.from(plainSecret, 'base64').toString('utf8'));
    expect(openSecret(row.secretEnc, `credential:${row.id}:secret`)).toBe(plainSecret);
    // Bound to its row: the same ciphertext does not open as another row's.
    expect(() => openSecret(row.secretEnc, `credential:${randomUUID()}:secret`)).toThrow();

    const renamed = await caller.credential.update({ id: created.id, name: 'BIND primary (ns1)', algorithm: 'hmac-sha256' });
    const blank = await caller.credential.update({ id: created.id, secret: '' });
    const kept = await ownerDb().credential.findUniqueOrThrow({ where: { id: created.id } });
    expect(kept.secretEnc).toBe(row.secretEnc);
    expect(kept.publicInfo).toEqual({ keyName: 'tandem-key.corp.test', algorithm: 'hmac-sha256' });

    const replacement = 'bmV3IHNlY3JldCB2YWx1ZQ==';
    const replaced = await caller.credential.update({ id: created.id, secret: replacement });
    expect(openSecret((await ownerDb().credential.findUniqueOrThrow({ where: { id: created.id } })).secretEnc, `credential:${created.id}:secret`)).toBe(replacement);

    const listed = await caller.credential.list({});
    expect(listed.map((c) => c.name)).toContain('BIND primary (ns1)');
    const text = await everything(created, renamed, blank, replaced, listed);
    expect(text).not.toContain(plainSecret);
    expect(text).not.toContain(replacement);
    expect(text).not.toContain(row.secretEnc);
    const actions = (await auditEventsOf(h.t.org.id)).filter((e) => e.targetId === created.id).map((e) => e.action);
    expect(actions).toEqual(['credential.create', 'credential.update', 'credential.update', 'credential.update']);
  });

  it('stores a domain account the same way (password sealed, user shown)', async () => {
    const c = await callerFor(h.t.operator.id).credential.create({ kind: 'domain', name: 'AD DNS', customerId: h.t.customerX.id, user: 'CORP\\tandem-dns', password: 'Pa55word for dns' });
    expect(c.publicInfo).toEqual({ user: 'CORP\\tandem-dns' });
    const row = await ownerDb().credential.findUniqueOrThrow({ where: { id: c.id } });
    expect(row.secretEnc).not.toContain('Pa55word');
    expect(openSecret(row.secretEnc, `credential:${c.id}:secret`)).toBe('Pa55word for dns');
    await expectCode(callerFor(h.t.operator.id).credential.update({ id: c.id, secret: plainSecret }), 'BAD_REQUEST');
    expect(await everything(c)).not.toContain('Pa55word');
    // The customer's own users see it (never the password); another customer's do not.
    expect((await callerFor(h.t.customerUser.id).credential.list({})).map((x) => x.id)).toContain(c.id);
    expect((await callerFor(h.t.customerYUser.id).credential.list({})).map((x) => x.id)).not.toContain(c.id);
  });

  it('refuses a secret that is not base64, an unknown algorithm, and non-operators', async () => {
    const caller = callerFor(h.t.operator.id);
    const bad = await expectCode(caller.credential.create({ kind: 'dns_tsig', name: 'Bad', keyName: 'k.corp.test', algorithm: 'hmac-sha256', secret: 'not base64!' }), 'BAD_REQUEST');
    expect(bad.message).toMatch(/base64/);
    await expectCode(caller.credential.create({ kind: 'dns_tsig', name: 'Bad', keyName: 'k.corp.test', algorithm: 'hmac-md5' as 'hmac-sha256', secret: plainSecret }), 'BAD_REQUEST');
    await expectCode(callerFor(h.t.viewer.id).credential.create({ kind: 'dns_tsig', name: 'Viewer', keyName: 'k.corp.test', algorithm: 'hmac-sha256', secret: plainSecret }), 'FORBIDDEN');
    await expectCode(callerFor(h.t.customerUser.id).credential.create({ kind: 'dns_tsig', name: 'Customer', keyName: 'k.corp.test', algorithm: 'hmac-sha256', secret: plainSecret }), 'FORBIDDEN');
  });

  it('cannot delete a credential a pair uses, and names the pair', async () => {
    const caller = callerFor(h.t.operator.id);
    const c = await caller.credential.create({ kind: 'dns_tsig', name: 'In use', keyName: 'k.corp.test', algorithm: 'hmac-sha256', secret: plainSecret });
    const target = await createServer(h.t.customerX);
    const settings = pairSettings({ credentialId: c.id });
    const pair = await ownerDb().protectionPair.create({ data: { organizationId: h.t.org.id, customerId: h.t.customerX.id, sourceServerId: h.t.serverX.id, targetServerId: target.id, ...settingsToColumns(settings) } });
    const err = await expectCode(caller.credential.remove({ id: c.id }), 'CONFLICT');
    expect(err.message).toContain(`"${settings.name}"`);
    await ownerDb().protectionPair.delete({ where: { id: pair.id } });
    await caller.credential.remove({ id: c.id });
    expect(await ownerDb().credential.findUnique({ where: { id: c.id } })).toBeNull();
  });
});

describe('through a real agent and BIND 9', () => {
  const servers = () => [`${bind.host}:${bind.port}`];

  it('credential.test adds and removes a check record with the right key, and records when', async () => {
    const caller = callerFor(h.t.operator.id);
    const c = await caller.credential.create({ kind: 'dns_tsig', name: 'BIND test key', keyName: bind.key.name, algorithm: bind.key.algorithm, secret: bind.key.secret });
    const res = await caller.credential.test({ id: c.id, zone: 'corp.test', servers: servers(), executorServerId: executor.serverId });
    expect(res.ok, res.message).toBe(true);
    expect(res.message).toMatch(/can update corp.test/);
    expect(res.lastVerifiedAt).not.toBeNull();
    expect(await bind.dig('tandem-check.corp.test', 'A')).toEqual([]);
    expect((await ownerDb().credential.findUniqueOrThrow({ where: { id: c.id } })).lastVerifiedAt).not.toBeNull();
    const audit = (await auditEventsOf(h.t.org.id)).filter((e) => e.targetId === c.id && e.action === 'credential.test');
    expect(audit.map((e) => e.summary)).toEqual([expect.stringMatching(/it can update the zone/)]);
    expect(await everything(res)).not.toContain(bind.key.secret);
  }, 60_000);

  it('a wrong key is refused plainly, changes nothing and is not marked verified', async () => {
    const caller = callerFor(h.t.operator.id);
    const c = await caller.credential.create({ kind: 'dns_tsig', name: 'Wrong key', keyName: bind.key.name, algorithm: 'hmac-sha256', secret: plainSecret });
    const res = await caller.credential.test({ id: c.id, zone: 'corp.test', servers: servers(), executorServerId: executor.serverId });
    expect(res.ok).toBe(false);
    expect(res.message).toMatch(/^Wrong key cannot update corp.test: The DNS server refused the TSIG key tandem-test-key: .*\(BADSIG\)\. Nothing was changed\.$/);
    expect(res.lastVerifiedAt).toBeNull();
    expect(await bind.dig('tandem-check.corp.test', 'A')).toEqual([]);
    expect((await ownerDb().credential.findUniqueOrThrow({ where: { id: c.id } })).lastVerifiedAt).toBeNull();
  }, 60_000);

  it('pair.dnsRecords answers what BIND holds for the picked records', async () => {
    const caller = callerFor(h.t.operator.id);
    const c = await caller.credential.create({ kind: 'dns_tsig', name: 'Records key', keyName: bind.key.name, algorithm: bind.key.algorithm, secret: bind.key.secret });
    const target = await createServer(h.t.customerX);
    const settings = pairSettings({
      servers: servers(),
      credentialId: c.id,
      executorServerId: executor.serverId,
      records: [
        { zone: 'corp.test', name: 'files.corp.test', type: 'A' },
        { zone: 'corp.test', name: 'www.corp.test', type: 'CNAME' },
        { zone: 'corp.test', name: 'gone.corp.test', type: 'A' },
      ],
    });
    const pair = await ownerDb().protectionPair.create({ data: { organizationId: h.t.org.id, customerId: h.t.customerX.id, sourceServerId: h.t.serverX.id, targetServerId: target.id, status: 'protected', ...settingsToColumns(settings) } });
    const got = await caller.pair.dnsRecords({ pairId: pair.id });
    expect(got).toMatchObject({ configured: true, picked: true, server: `${bind.host}:${bind.port}` });
    expect(got.records.map((r) => [r.name, r.type, r.state, r.values])).toEqual([
      ['files.corp.test', 'A', 'ok', ['10.0.0.5']],
      ['www.corp.test', 'CNAME', 'ok', ['files.corp.test']],
      ['gone.corp.test', 'A', 'ok', []],
    ]);
    expect(got.records[0]!.ttl).toBe(300);

    // A DNS server that does not answer is no error: each record is unknown, saying why.
    const silent = await freePort();
    await ownerDb().protectionPair.update({ where: { id: pair.id }, data: settingsToColumns({ ...settings, dns: { ...settings.dns, servers: [`127.0.0.1:${silent}`] } }) });
    const unreachable = await caller.pair.dnsRecords({ pairId: pair.id });
    expect(unreachable.records.map((r) => [r.name, r.state])).toEqual([
      ['files.corp.test', 'unknown'],
      ['www.corp.test', 'unknown'],
      ['gone.corp.test', 'unknown'],
    ]);
    expect(unreachable.records[0]!.reason).toContain(`127.0.0.1:${silent}`);
  }, 90_000);

  it('pair.dnsDiscover finds the source’s address, its aliases, its mail exchange and its PTR (reverse /24 zone)', async () => {
    const caller = callerFor(h.t.operator.id);
    const c = await caller.credential.create({ kind: 'dns_tsig', name: 'Discovery key', keyName: bind.key.name, algorithm: bind.key.algorithm, secret: bind.key.secret });
    const source = await createServer(h.t.customerX, 'files');
    await ownerDb().server.update({ where: { id: source.id }, data: { addresses: ['10.0.0.5'] } });
    const target = await createServer(h.t.customerX);
    const found = await caller.pair.dnsDiscover({
      sourceServerId: source.id,
      targetServerId: target.id,
      dns: { servers: servers(), zone: 'corp.test', credentialId: c.id, provider: 'rfc2136', executorServerId: executor.serverId },
    });
    expect(found.reverseZones).toEqual([{ zone: '0.0.10.in-addr.arpa', transferred: true, reason: null }]);
    const rows = found.records.map((r) => [r.zone, r.name, r.type, r.values.join(',')]).sort();
    expect(rows).toEqual(
      [
        ['0.0.10.in-addr.arpa', '5.0.0.10.in-addr.arpa', 'PTR', 'files.corp.test'],
        ['corp.test', 'corp.test', 'MX', 'files.corp.test (preference 10)'],
        ['corp.test', 'files.corp.test', 'A', '10.0.0.5'],
        ['corp.test', 'intranet.corp.test', 'CNAME', 'www.corp.test'],
        ['corp.test', 'www.corp.test', 'CNAME', 'files.corp.test'],
      ].sort(),
    );
    expect(found.records.every((r) => r.reason.length > 0)).toBe(true);
    await expectCode(callerFor(h.t.customerUser.id).pair.dnsDiscover({ sourceServerId: source.id, targetServerId: target.id, dns: { servers: servers(), zone: 'corp.test', credentialId: null, provider: 'rfc2136', executorServerId: null } }), 'FORBIDDEN');
  }, 60_000);
});
