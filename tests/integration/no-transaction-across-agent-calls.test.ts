// No procedure holds a database transaction while it waits for an agent. The source agent (a
// real process) is stopped with SIGSTOP, so it answers nothing; each procedure that asks it
// something is called, and once its command is on its way to the gateway, the app role's
// connections from this process are counted: none may sit "idle in transaction". Then the agent
// is continued and the call ends (how does not matter here). A held transaction is counted too,
// so the probe is known to see one.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDb, withTenant } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { settingsToColumns } from '@tandem/engine';
import { callerFor } from './helpers';
import { startGateway } from './support/agents';
import { validPairSettings } from './support/pair-settings';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';

// This process's own connections carry a name of their own, so other test files' work in the
// same database never counts.
const appName = `tandem-txprobe-${process.pid}`;
process.env.APP_DATABASE_URL = `${process.env.APP_DATABASE_URL!}${process.env.APP_DATABASE_URL!.includes('?') ? '&' : '?'}application_name=${appName}`;

const h = new ReplicationHarness('txprobe');
let source: Enrolled;
let target: Enrolled;
let pairId: string;
let orders: Redis;
const seen: string[] = [];

/**
 * Transactions of this process held open while waiting between statements — the same transaction
 * seen idle in three looks 200 ms apart. One look alone can catch other work under this name (the
 * gateway this file starts inherits it, and stores reports) in the instant between two of its
 * statements; a transaction held across a wait for an agent is idle the whole time.
 */
async function idleInTransaction(): Promise<number> {
  const look = async () =>
    new Set(
      (
        await appDb().$queryRaw<{ key: string }[]>`
          SELECT pid::text || '@' || xact_start::text AS key FROM pg_stat_activity
          WHERE application_name = ${appName} AND state LIKE 'idle in transaction%'`
      ).map((r) => r.key),
    );
  let held = await look();
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await look();
    held = new Set([...held].filter((k) => now.has(k)));
  }
  return held.size;
}

/** The order in a message to a gateway (signed orders carry it as a JSON string in `body`). */
function orderOf(raw: string): { agentId?: unknown; action?: unknown } {
  try {
    const msg = JSON.parse(raw) as { body?: unknown; agentId?: unknown; action?: unknown };
    return typeof msg.body === 'string' ? (JSON.parse(msg.body) as { agentId?: unknown; action?: unknown }) : msg;
  } catch {
    return {};
  }
}

/** Waits until a command for `agentId` with `action` has been published to a gateway. */
async function commandSent(agentId: string, action: string, since: number) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (seen.slice(since).map(orderOf).some((o) => o.agentId === agentId && o.action === action)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${action} command was sent to ${agentId}`);
}

/** Runs `call` with the source agent stopped; returns the open-transaction count while it waits on `action`. */
async function whileSourceIsSilent(action: string, call: () => Promise<unknown>): Promise<number> {
  const since = seen.length;
  source.handle.child.kill('SIGSTOP');
  let outcome = 'still waiting';
  const pending = call().then(
    () => void (outcome = 'answered'),
    (err: unknown) => void (outcome = `failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  try {
    await commandSent(source.agentId, action, since).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (the call: ${outcome})`);
    });
    return await idleInTransaction();
  } finally {
    source.handle.child.kill('SIGCONT');
    await pending;
  }
}

/** Facts that show a file share under /srv/data, so the pair checks reach the agent question. */
function fileServerFacts(hostname: string) {
  return {
    collectedAt: new Date().toISOString(),
    agent: { version: '1.0.0-test', protocolVersion: 1, capabilities: ['facts'] },
    host: { status: 'ok', data: { hostname, fqdn: null, osFamily: 'linux', osName: 'Debian GNU/Linux 12', osVersion: '12', kernel: '6.1.0', cpuCount: 2, memoryBytes: 4e9, uptimeSeconds: 100, clockOffsetMs: null } },
    network: { status: 'unknown', reason: 'test' },
    volumes: { status: 'unknown', reason: 'test' },
    services: { status: 'unknown', reason: 'test' },
    applications: { status: 'ok', data: [{ kind: 'file_server', shares: [{ protocol: 'nfs', name: 'data', path: '/srv/data' }] }] },
    cluster: { status: 'ok', data: null },
  };
}
async function giveShares() {
  for (const serverId of [source.serverId, target.serverId]) {
    const s = await ownerDb().server.findUniqueOrThrow({ where: { id: serverId } });
    await ownerDb().server.update({ where: { id: serverId }, data: { facts: fileServerFacts(s.hostname) } });
  }
}

beforeAll(async () => {
  await h.setup();
  // A gateway that pings rarely: a stopped agent stays connected (its socket is open, it just
  // does not answer), so commands reach it and wait, as with an agent that is merely slow.
  await h.gw.stop();
  h.gw = await startGateway({ heartbeatMs: 120_000 });
  h.running.push(h.gw);
  orders = new Redis(process.env.REDIS_URL!);
  orders.on('pmessage', (_pattern: string, _channel: string, raw: string) => void seen.push(raw));
  await orders.psubscribe('tandem:gw:*');
  const made = await h.twoAgentPair();
  ({ source, target } = made);
  pairId = made.pair.id;
}, 120_000);

afterAll(async () => {
  source?.handle.child.kill('SIGCONT');
  orders?.disconnect();
  await h.teardown();
});

describe('while an agent is slow to answer', () => {
  it('the probe sees a transaction held open', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const tx = withTenant({ organizationId: h.t.org.id, customerId: null, userId: null }, async (db) => {
      await db.server.count();
      entered();
      await held;
    });
    await inside;
    expect(await idleInTransaction()).toBe(1);
    release();
    await tx;
    expect(await idleInTransaction()).toBe(0);
  });

  it('server.refreshFacts holds no transaction', async () => {
    const caller = callerFor(h.t.operator.id);
    expect(await whileSourceIsSilent('facts.collect', () => caller.server.refreshFacts({ serverId: source.serverId }))).toBe(0);
  }, 60_000);

  it('pair.resend holds no transaction; pair.verify asks no agent at all (the worker does, in an operation)', async () => {
    const caller = callerFor(h.t.operator.id);
    const since = seen.length;
    const { operationId } = await caller.pair.verify({ pairId });
    expect(seen.slice(since).map(orderOf).some((o) => o.action === 'replication.verify')).toBe(false);
    expect(await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } })).toMatchObject({ kind: 'verify', pairId });
    expect(await whileSourceIsSilent('replication.resend', () => caller.pair.resend({ pairId, items: [{ root: '/srv/data', path: 'a.txt' }] }))).toBe(0);
  }, 90_000);

  it('pair.create and pair.update (which ask the source about the directories) hold no transaction', async () => {
    const caller = callerFor(h.t.operator.id);
    await giveShares();
    const settings = { ...validPairSettings(), name: `txprobe-${randomUUID().slice(0, 6)}` };
    expect(
      await whileSourceIsSilent('replication.check-set', () => caller.pair.create({ customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, settings })),
    ).toBe(0);
    // An unprotected pair with settings, to change.
    const created = await ownerDb().protectionPair.create({
      data: {
        organizationId: h.t.org.id,
        customerId: h.t.customerX.id,
        name: `txprobe-${randomUUID().slice(0, 6)}`,
        sourceServerId: source.serverId,
        targetServerId: target.serverId,
        application: 'file_server',
      },
    });
    await giveShares();
    expect(await whileSourceIsSilent('replication.check-set', () => caller.pair.update({ pairId: created.id, settings: { ...settings, name: created.name } }))).toBe(0);
  }, 90_000);

  it('pair.dnsRecords, pair.dnsDiscover and credential.test (through the DNS executor, here the source) hold no transaction', async () => {
    const caller = callerFor(h.t.operator.id);
    const credential = await caller.credential.create({ kind: 'dns_tsig', name: `txprobe-${randomUUID().slice(0, 6)}`, keyName: 'k.corp.test', algorithm: 'hmac-sha256', secret: 'c2VjcmV0LXZhbHVl' });
    const base = validPairSettings();
    const dns = { ...base.dns, servers: ['127.0.0.1:53'], zone: 'corp.test', credentialId: credential.id, executorServerId: source.serverId };
    const withDns = await ownerDb().protectionPair.create({
      data: { organizationId: h.t.org.id, customerId: h.t.customerX.id, sourceServerId: source.serverId, targetServerId: target.serverId, ...settingsToColumns({ ...base, name: `txprobe-${randomUUID().slice(0, 6)}`, dns }) },
    });
    expect(await whileSourceIsSilent('dns.query', () => caller.pair.dnsRecords({ pairId: withDns.id }))).toBe(0);
    expect(
      await whileSourceIsSilent('dns.transfer', () =>
        caller.pair.dnsDiscover({ sourceServerId: source.serverId, targetServerId: target.serverId, dns: { servers: dns.servers, zone: dns.zone, credentialId: credential.id, provider: 'rfc2136', executorServerId: source.serverId } }),
      ),
    ).toBe(0);
    expect(await whileSourceIsSilent('dns.apply', () => caller.credential.test({ id: credential.id, zone: 'corp.test', servers: dns.servers, executorServerId: source.serverId }))).toBe(0);
  }, 120_000);
});
