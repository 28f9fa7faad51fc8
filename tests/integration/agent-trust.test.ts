// Who the gateway believes: a command's answer only from the agent it was sent to, a revoked
// agent never back online, bus orders only when signed, and a rotation whose commit fails leaves
// the agent able to connect. Real gateway process, PostgreSQL and Redis; the agents here are raw
// WebSocket clients so the test controls exactly what they send and when.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus, keys, signOrder, type GatewayOrder } from '@tandem/agent-bus';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { agentMessages, closeCodes, encodeFrame, gatewayMessages, parseFrame, PROTOCOL_VERSION, type Parsed } from '@tandem/protocol';
import { sha256Hex } from '@tandem/security';
import { callerFor } from './helpers';
import { agentCli, agentCredential, enrollmentToken, startAgent, startGateway, tempDir, waitFor, type AgentHandle, type GatewayHandle } from './support/agents';

type GatewayFrame = Parsed<typeof gatewayMessages>;

interface RawAgent {
  agentId: string;
  serverId: string;
  ws: WebSocket;
  frames: GatewayFrame[];
  closed: Promise<{ code: number; reason: string }>;
  send(type: keyof typeof agentMessages, payload: unknown, id?: string): void;
}

const hello = { protocolVersion: PROTOCOL_VERSION, agentVersion: '1.0.0-test', capabilities: ['facts'], hostname: 'trust-host', osFamily: 'linux' as const };

let gw: GatewayHandle;
let bus: AgentBus;
let t1: Tenant;
let t2: Tenant;
const sockets: WebSocket[] = [];
const agents: AgentHandle[] = [];

beforeAll(async () => {
  [t1, t2] = await Promise.all([createTenant(), createTenant()]);
  gw = await startGateway({ heartbeatMs: 3000 });
  bus = new AgentBus(process.env.REDIS_URL!);
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  for (const a of agents) await a.stop();
  bus?.close();
  await gw?.stop();
});

/** A raw agent connection for a fresh server of the tenant (hello not sent yet). */
async function connectAgent(t: Tenant): Promise<RawAgent> {
  const server = await createServer(t.customerX);
  const { agentId, credential } = await agentCredential(t, server);
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
  sockets.push(ws);
  const frames: GatewayFrame[] = [];
  ws.on('message', (data: Buffer) => {
    const parsed = parseFrame(gatewayMessages, data);
    if (parsed.ok) frames.push(parsed.message);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    agentId,
    serverId: server.id,
    ws,
    frames,
    closed,
    send: (type, payload, id) => ws.send(encodeFrame(agentMessages, type, payload as never, id ? { id } : {})),
  };
}

async function online(t: Tenant): Promise<RawAgent> {
  const a = await connectAgent(t);
  a.send('hello', hello);
  await waitFor('welcome', () => a.frames.some((f) => f.type === 'welcome'));
  await waitFor('located', async () => (await bus.locate(a.agentId)) === gw.id);
  return a;
}

/**
 * Waits until the gateway holds a session for this socket (credential looked up): a heartbeat
 * before hello is refused with not_ready only then.
 */
async function whenAuthenticated(a: RawAgent) {
  await waitFor('session exists', () => {
    const id = randomUUID();
    a.send('heartbeat', { seq: 0, sentAt: Date.now() }, id);
    return a.frames.some((f) => f.type === 'error' && f.payload.code === 'not_ready');
  });
}

describe('command answers', () => {
  it('accepts an acknowledgement and result only from the agent the command was sent to, across tenants', async () => {
    const [target, other] = await Promise.all([online(t1), online(t2)]);
    const commandId = randomUUID();
    const sent = bus.send(target.agentId, 'facts.collect', {}, { commandId, attempts: 1, ackTimeoutMs: 20_000 });
    await waitFor('command delivered', () => target.frames.some((f) => f.type === 'command' && f.payload.commandId === commandId));

    // Another tenant's agent names the command: refused, and nothing reaches the sender.
    const forgedAck = randomUUID();
    const forgedResult = randomUUID();
    other.send('command.ack', { commandId }, forgedAck);
    other.send('command.result', { commandId, ok: true, result: { collectedAt: 'forged' } }, forgedResult);
    const refusals = await waitFor('forged answers refused', () => {
      const errors = other.frames.filter((f) => f.type === 'error' && (f.payload.offendingId === forgedAck || f.payload.offendingId === forgedResult));
      return errors.length === 2 ? errors : null;
    });
    expect(refusals.map((f) => (f.type === 'error' ? f.payload.code : ''))).toEqual(['unknown_command', 'unknown_command']);

    // The real agent's answer is the one the sender gets.
    target.send('command.ack', { commandId });
    target.send('command.result', { commandId, ok: true, result: { collectedAt: '2026-01-01T00:00:00.000Z' } });
    expect(await sent).toEqual({ collectedAt: '2026-01-01T00:00:00.000Z' });
  });
});

describe('orders on the bus', () => {
  it('refuses clients without the Redis password', async () => {
    const url = new URL(process.env.REDIS_URL!);
    expect(url.password).not.toBe('');
    // A client that does not authenticate: its first command is refused.
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect({ host: url.hostname, port: Number(url.port) }, () => sock.write(`PUBLISH ${keys.gateway(gw.id)} x\r\n`));
      sock.once('data', (d) => {
        resolve(d.toString());
        sock.destroy();
      });
      sock.once('error', reject);
    });
    expect(answer).toMatch(/^-NOAUTH/);
  });

  it('delivers only orders signed with the bus key, each once: unsigned, forged, stale and replayed ones never reach the agent', async () => {
    const a = await online(t1);
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      const channel = keys.gateway(gw.id);
      const order = (): Extract<GatewayOrder, { kind: 'command' }> => ({ kind: 'command', agentId: a.agentId, commandId: randomUUID(), action: 'facts.collect', args: {}, timeoutMs: 5_000 });
      const key = process.env.TANDEM_BUS_KEY!;
      const unsigned = order();
      const forged = order();
      const stale = order();
      const good = order();
      const later = order();
      await redis.publish(channel, JSON.stringify(unsigned));
      await redis.publish(channel, signOrder(randomBytes(32).toString('base64'), forged));
      await redis.publish(channel, signOrder(key, stale, Date.now() - 10 * 60_000));
      // A valid envelope whose body was swapped for another order.
      const swapped = JSON.parse(signOrder(key, order())) as { body: string };
      swapped.body = JSON.stringify({ ...order(), commandId: forged.commandId });
      await redis.publish(channel, JSON.stringify(swapped));
      const signed = signOrder(key, good);
      await redis.publish(channel, signed);
      await redis.publish(channel, signed); // replayed
      await redis.publish(channel, signOrder(key, later));
      // Orders on one channel arrive in order: once `later` is here, every earlier one was handled.
      await waitFor('the last order', () => a.frames.some((f) => f.type === 'command' && f.payload.commandId === later.commandId));
      const delivered = a.frames.flatMap((f) => (f.type === 'command' ? [f.payload.commandId] : []));
      expect(delivered).toEqual([good.commandId, later.commandId]);
      expect(gw.output()).toContain('dropped an order that is not validly signed');
    } finally {
      redis.disconnect();
    }
  });
});

describe('revocation', () => {
  it('never marks a revoked agent online: a connection looked up before the revocation committed is refused at hello', async () => {
    const a = await connectAgent(t1);
    // The credential was looked up (not revoked then); the revocation commits before hello.
    await whenAuthenticated(a);
    await callerFor(t1.owner.id).agent.revoke({ serverId: a.serverId });
    a.send('hello', hello);
    expect(await a.closed).toMatchObject({ code: closeCodes.revoked, reason: expect.stringMatching(/revoked/) as unknown });
    const row = await ownerDb().agent.findUniqueOrThrow({ where: { id: a.agentId } });
    expect(row.status).toBe('revoked');
    expect(await bus.locate(a.agentId)).toBeNull();
  });

  it('drops a connected agent once the revocation is committed, and keeps it revoked', async () => {
    const a = await online(t2);
    await callerFor(t2.owner.id).agent.revoke({ serverId: a.serverId });
    expect((await a.closed).code).toBe(closeCodes.revoked);
    await waitFor('location released', async () => (await bus.locate(a.agentId)) === null);
    expect((await ownerDb().agent.findUniqueOrThrow({ where: { id: a.agentId } })).status).toBe('revoked');
  });
});

describe('credential rotation', () => {
  it('cannot lock the agent out: when the rotation fails to commit after the agent saved its new credential, the agent still connects', async () => {
    // A real agent, enrolled through the gateway.
    const dir = tempDir('rotate-fail');
    const configPath = path.join(dir, 'agent.json');
    const token = await enrollmentToken(t1.customerY);
    const enrolled = await agentCli(['enroll', '--url', gw.url, `--token=${token}`, '--config', configPath, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', `rotate-fail-${randomUUID().slice(0, 6)}`]);
    expect(enrolled.code, enrolled.output).toBe(0);
    const readConfig = () => JSON.parse(fs.readFileSync(configPath, 'utf8')) as { agentId: string; serverId: string; credential: string };
    const { agentId, serverId, credential: before } = readConfig();
    let agent = startAgent(dir);
    agents.push(agent);
    await waitFor('online', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: agentId } })).status === 'online' && (await bus.locate(agentId)) === gw.id);

    // The commit that would switch the agent to its new credential fails (after the agent saved it).
    const trigger = `fail_rotation_${agentId.replaceAll('-', '')}`;
    await ownerDb().$executeRawUnsafe(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'commit failed on purpose'; END $$`);
    await ownerDb().$executeRawUnsafe(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE ON "Agent" FOR EACH ROW WHEN (NEW.id = '${agentId}' AND NEW."credentialHash" IS DISTINCT FROM OLD."credentialHash") EXECUTE FUNCTION ${trigger}()`,
    );
    try {
      await expect(callerFor(t1.owner.id).agent.rotate({ serverId })).rejects.toThrow();
    } finally {
      await ownerDb().$executeRawUnsafe(`DROP TRIGGER ${trigger} ON "Agent"`);
      await ownerDb().$executeRawUnsafe(`DROP FUNCTION ${trigger}()`);
    }
    const after = readConfig().credential;
    expect(after).not.toBe(before);
    expect((await ownerDb().agent.findUniqueOrThrow({ where: { id: agentId } })).credentialHash).toBe(sha256Hex(before));

    // The agent restarts with the credential it saved, connects, and that credential becomes its own.
    await agent.stop();
    await waitFor('offline', async () => (await bus.locate(agentId)) === null);
    agent = startAgent(dir);
    agents.push(agent);
    await waitFor('back online with the new credential', async () => (await bus.locate(agentId)) === gw.id, 30_000);
    const row = await ownerDb().agent.findUniqueOrThrow({ where: { id: agentId } });
    expect(row.status).toBe('online');
    expect(row.credentialHash).toBe(sha256Hex(after));
    expect(row.pendingCredentialHash).toBeNull();
    // The old credential no longer works.
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/agent`, { headers: { authorization: `Bearer ${before}` } });
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(closeCodes.unauthorized);
  });
});
