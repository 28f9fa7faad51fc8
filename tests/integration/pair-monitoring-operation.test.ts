// Turning failure monitoring on is a worker Operation; when one agent cannot start its side the
// operation fails at that step, the side that did start is stopped again, and the pair keeps
// monitoring off; turning it off skips an agent that is gone. While any operation runs on a
// pair, verify and the switch are refused. The two agents here are small clients speaking the
// real protocol through a real gateway (the target's monitor refuses to start); the real agents'
// monitoring is in pair-protection.test.ts.
import type { Worker } from 'bullmq';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus } from '@tandem/agent-bus';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { pairKeyContext, settingsToColumns } from '@tandem/engine';
import { agentMessages, encodeFrame, gatewayMessages, parseFrame } from '@tandem/protocol';
import { sealSecret } from '@tandem/security';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor, expectCode } from './helpers';
import { agentCredential, startGateway, waitFor, type GatewayHandle } from './support/agents';
import { validPairSettings } from './support/pair-settings';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let gw: GatewayHandle;
let t: Tenant;
let pairId: string;
let db: Db;
let bus: AgentBus;
let worker: Worker;
const sockets: WebSocket[] = [];
let targetAgentId: string;
const received: { side: string; action: string }[] = [];

/** A connected agent for `serverId` that answers every command with `reply(action)`. */
async function fakeAgent(side: 'source' | 'target', server: Tenant['serverX'], reply: (action: string) => { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } }) {
  const { credential, agentId } = await agentCredential(t, server);
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
  sockets.push(ws);
  let welcomed = false;
  ws.on('message', (d: Buffer) => {
    const parsed = parseFrame(gatewayMessages, d);
    if (!parsed.ok) return;
    const m = parsed.message;
    if (m.type === 'welcome') welcomed = true;
    if (m.type !== 'command') return;
    received.push({ side, action: m.payload.action });
    ws.send(encodeFrame(agentMessages, 'command.ack', { commandId: m.payload.commandId }));
    ws.send(encodeFrame(agentMessages, 'command.result', { commandId: m.payload.commandId, ...reply(m.payload.action) }));
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(encodeFrame(agentMessages, 'hello', { protocolVersion: 1, agentVersion: 'sim', capabilities: ['replication.start'], hostname: side, osFamily: 'linux' }));
  await waitFor(`${side} welcomed`, () => welcomed);
  await waitFor(`${side} online`, async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: agentId } })).status === 'online');
  return { ws, agentId };
}

beforeAll(async () => {
  t = await createTenant();
  gw = await startGateway();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
  bus = new AgentBus(process.env.REDIS_URL!);
  worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, bus, { prefix });
  await worker.waitUntilReady();
  const target = await createServer(t.customerX);
  // A protected pair whose monitoring is off (as after switching it off).
  const pair = await ownerDb().protectionPair.create({
    data: {
      organizationId: t.org.id,
      customerId: t.customerX.id,
      sourceServerId: t.serverX.id,
      targetServerId: target.id,
      status: 'protected',
      monitoringStatus: 'off',
      ...settingsToColumns({ ...validPairSettings(), name: 'monitor-me' }),
    },
  });
  pairId = pair.id;
  await ownerDb().protectionPair.update({ where: { id: pairId }, data: { pairKeyEnc: sealSecret(Buffer.alloc(32, 7).toString('base64'), pairKeyContext(pairId)) } });
  await fakeAgent('source', t.serverX, (action) => (action === 'monitor.start' ? { ok: true, result: { started: true, port: 7000 } } : { ok: true, result: { stopped: true } }));
  targetAgentId = (await fakeAgent('target', target, (action) =>
    action === 'monitor.start' ? { ok: false, error: { code: 'monitor_failed', message: 'cannot open the probe socket' } } : { ok: true, result: { stopped: true } },
  )).agentId;
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await worker?.close();
  bus?.close();
  await db?.$disconnect();
  await gw?.stop();
});

describe('failure monitoring on, as an operation', () => {
  it('fails at the side that cannot start, stops the side that did, and leaves monitoring off', async () => {
    const { operationId } = await callerFor(t.operator.id).pair.setMonitoring({ pairId, enabled: true });
    const op = await waitFor('monitoring operation finished', async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId! }, include: { steps: { orderBy: { position: 'asc' } } } });
      return o.status === 'succeeded' || o.status === 'failed' ? o : null;
    });
    expect(op.kind).toBe('monitoring_on');
    expect(op.status).toBe('failed');
    expect(op.error).toMatch(/cannot open the probe socket/);
    expect(op.steps.map((s) => [s.kind, s.status])).toEqual([
      ['agents.check', 'succeeded'],
      ['monitor.start', 'succeeded'],
      ['monitor.start', 'failed'],
      ['pair.set-monitoring', 'skipped'],
    ]);
    expect(received).toEqual([
      { side: 'source', action: 'monitor.start' },
      { side: 'target', action: 'monitor.start' },
      { side: 'target', action: 'monitor.stop' },
      { side: 'source', action: 'monitor.stop' },
    ]);
    expect(await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).toMatchObject({ status: 'protected', monitoringStatus: 'off' });
    const events = await callerFor(t.operator.id).pair.events({ pairId });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/Turning failure monitoring on failed/)]));
  });

  it('refuses the switch and verify while another operation runs on the pair', async () => {
    const other = await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId, kind: 'disable', status: 'running' } });
    try {
      const caller = callerFor(t.operator.id);
      expect((await expectCode(caller.pair.setMonitoring({ pairId, enabled: true }), 'CONFLICT')).message).toMatch(/Another operation \(disable\)/);
      expect((await expectCode(caller.pair.verify({ pairId }), 'CONFLICT')).message).toMatch(/Another operation \(disable\)/);
    } finally {
      await ownerDb().operation.update({ where: { id: other.id }, data: { status: 'cancelled' } });
    }
  });

  it('turning it off is best effort on an agent that is gone: that step is skipped, the rest runs, monitoring is off', async () => {
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: { monitoringStatus: 'watching' } });
    sockets[1]!.terminate();
    await waitFor('target offline', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: targetAgentId } })).status !== 'online');
    const before = received.length;
    const { operationId } = await callerFor(t.operator.id).pair.setMonitoring({ pairId, enabled: false });
    const op = await waitFor('monitoring off finished', async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId! }, include: { steps: { orderBy: { position: 'asc' } } } });
      return o.status === 'succeeded' || o.status === 'failed' ? o : null;
    });
    expect(op).toMatchObject({ kind: 'monitoring_off', status: 'succeeded' });
    expect(op.steps.map((s) => [s.kind, s.status])).toEqual([
      ['monitor.stop', 'skipped'],
      ['monitor.stop', 'succeeded'],
      ['pair.set-monitoring', 'succeeded'],
    ]);
    expect(received.slice(before)).toEqual([{ side: 'source', action: 'monitor.stop' }]);
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).monitoringStatus).toBe('off');
    const events = await callerFor(t.operator.id).pair.events({ pairId });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/monitoring off finished, but some agents could not be reached.*gateway stops the target probing/)]));
  });
});
