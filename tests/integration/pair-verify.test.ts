// "Verify" and "Re-send" from the portal API travel through Redis and a real gateway to the pair's
// source agent. Verify is a worker Operation (the worker's real runner on a private queue prefix);
// re-send is answered in the request. The agent here is a small client speaking the real protocol
// with canned answers (the agent's own verify is tested with real trees in
// replication-verify-agents/-verify tests); it can hold its verify answer back, so the test sees
// the operation while it runs.
import type { Worker } from 'bullmq';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus } from '@tandem/agent-bus';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { settingsToColumns } from '@tandem/engine';
import { agentMessages, encodeFrame, gatewayMessages, parseFrame } from '@tandem/protocol';
import { redisConnection, startOperationsWorker } from '../../apps/worker/src/queues';
import { callerFor, expectCode } from './helpers';
import { agentCredential, startGateway, waitFor, type GatewayHandle } from './support/agents';
import { validPairSettings } from './support/pair-settings';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let gw: GatewayHandle;
let t: Tenant;
let pairId: string;
let ws: WebSocket;
let db: Db;
let bus: AgentBus;
let worker: Worker;
const received: { action: string; args: unknown }[] = [];
/** While true, verify commands are acknowledged but not answered until release(). */
let holdVerify = false;
const held: string[] = [];
const verifyResult = { checkedFiles: 3, checkedBytes: 300, differing: [{ root: '/srv/data', path: 'a.txt', kind: 'content', detail: null }], truncated: false };

function answer(commandId: string, result: unknown) {
  ws.send(encodeFrame(agentMessages, 'command.result', { commandId, ok: true, result }));
}
function release() {
  holdVerify = false;
  for (const id of held.splice(0)) answer(id, verifyResult);
}

/** Waits until the operation has finished, and returns it with its steps. */
function finished(operationId: string) {
  return waitFor('verify operation finished', async () => {
    const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
    return o.status === 'succeeded' || o.status === 'failed' ? o : null;
  });
}

beforeAll(async () => {
  t = await createTenant();
  gw = await startGateway();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
  bus = new AgentBus(process.env.REDIS_URL!);
  worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), db, bus, { prefix });
  await worker.waitUntilReady();
  const target = await createServer(t.customerX);
  pairId = (
    await ownerDb().protectionPair.create({
      // A stored configuration, as every pair that replicates has (the worker reads it).
      data: { organizationId: t.org.id, customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: target.id, ...settingsToColumns({ ...validPairSettings(), name: 'verify-me' }) },
    })
  ).id;
  const { credential } = await agentCredential(t, t.serverX);
  ws = new WebSocket(`ws://127.0.0.1:${gw.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
  let welcomed = false;
  ws.on('message', (d: Buffer) => {
    const parsed = parseFrame(gatewayMessages, d);
    if (!parsed.ok) return;
    const m = parsed.message;
    if (m.type === 'welcome') welcomed = true;
    if (m.type !== 'command') return;
    received.push({ action: m.payload.action, args: m.payload.args });
    ws.send(encodeFrame(agentMessages, 'command.ack', { commandId: m.payload.commandId }));
    if (m.payload.action === 'replication.verify' && holdVerify) held.push(m.payload.commandId);
    else answer(m.payload.commandId, m.payload.action === 'replication.verify' ? verifyResult : { queued: 1 });
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(encodeFrame(agentMessages, 'hello', { protocolVersion: 1, agentVersion: 'sim', capabilities: [], hostname: 'src', osFamily: 'linux' }));
  await waitFor('welcome', () => welcomed);
  await waitFor('agent online', async () => (await ownerDb().agent.findFirst({ where: { serverId: t.serverX.id } }))?.status === 'online');
});

afterAll(async () => {
  ws?.terminate();
  await worker?.close();
  bus?.close();
  await db?.$disconnect();
  await gw?.stop();
});

describe('pair.verify and pair.resend', () => {
  it('verify runs as an operation whose step output is what differs; re-send it; both audited', async () => {
    const caller = callerFor(t.operator.id);
    const started = await caller.pair.verify({ pairId });
    expect(started.joined).toBe(false);
    const op = await finished(started.operationId);
    expect(op).toMatchObject({ kind: 'verify', status: 'succeeded', error: null, requestedById: t.operator.id });
    expect(op.steps.map((s) => [s.kind, s.status])).toEqual([['replication.verify', 'succeeded']]);
    // The portal's verify card reads the result from the operation.
    const shown = await caller.pair.verifyResult({ pairId });
    expect(shown.operation).toMatchObject({ id: op.id, status: 'succeeded' });
    expect(shown.result?.differing).toEqual([{ root: '/srv/data', path: 'a.txt', kind: 'content', detail: null }]);
    const resent = await caller.pair.resend({ pairId, items: shown.result!.differing.map((d) => ({ root: d.root, path: d.path })) });
    expect(resent).toEqual({ queued: 1 });
    expect(received).toEqual([
      { action: 'replication.verify', args: { pairId } },
      { action: 'replication.resend', args: { pairId, items: [{ root: '/srv/data', path: 'a.txt' }] } },
    ]);
    const events = await ownerDb().auditEvent.findMany({ where: { targetId: pairId }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => [e.action, e.actorId])).toEqual([
      ['pair.verify', t.operator.id],
      ['pair.resend', t.operator.id],
    ]);
    const log = await caller.pair.events({ pairId });
    expect(log.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/3 files checked, 1 differing/)]));
  });

  it('records progress in its step while the agent works, and a second verify meanwhile joins the running one', async () => {
    const caller = callerFor(t.operator.id);
    const before = received.length;
    holdVerify = true;
    const first = await caller.pair.verify({ pairId });
    expect(first.joined).toBe(false);
    const running = await waitFor('verify step running', async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: first.operationId }, include: { steps: true } });
      return o.status === 'running' && o.steps[0]?.status === 'running' && held.length === 1 ? o : null;
    });
    expect(running.startedAt).not.toBeNull();
    expect(running.steps[0]!.startedAt).not.toBeNull();
    expect(running.steps[0]!.finishedAt).toBeNull();
    // The card shows it running, with no result yet (the earlier one belongs to an older operation).
    expect(await caller.pair.verifyResult({ pairId })).toMatchObject({ operation: { id: first.operationId, status: 'running' }, result: null });
    const ops = await caller.pair.operations({ pairId });
    expect(ops[0]).toMatchObject({ id: first.operationId, kind: 'verify', status: 'running', steps: [{ kind: 'replication.verify', status: 'running' }] });

    const second = await callerFor(t.owner.id).pair.verify({ pairId });
    expect(second).toEqual({ operationId: first.operationId, joined: true });

    release();
    const op = await finished(first.operationId);
    expect(op.status).toBe('succeeded');
    expect(op.steps[0]!.finishedAt!.getTime()).toBeGreaterThanOrEqual(op.steps[0]!.startedAt!.getTime());
    expect(op.steps[0]!.output).toEqual(verifyResult);
    // One comparison ran for both requests, and one operation exists for them.
    expect(received.slice(before).map((r) => r.action)).toEqual(['replication.verify']);
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'verify' } })).toBe(2);
  });

  it('refuses viewers, and says so when the source agent is offline', async () => {
    await expectCode(callerFor(t.viewer.id).pair.verify({ pairId }), 'FORBIDDEN');
    const other = await ownerDb().protectionPair.create({
      data: { organizationId: t.org.id, customerId: t.customerY.id, name: 'no-agent', sourceServerId: t.serverY.id, targetServerId: (await createServer(t.customerY)).id, application: 'file_server' },
    });
    const err = await expectCode(callerFor(t.operator.id).pair.verify({ pairId: other.id }), 'CONFLICT');
    expect(err.message).toMatch(/not online/);
  });
});
