// The typed command path end to end: AgentBus.send returns the action's parsed result; an agent
// that answers with the wrong shape gives a clear error (over the bus, and over the tRPC HTTP
// path a browser uses) instead of a crash; an unreachable agent is a retryable 503; an operation
// step stored with parameters of the wrong shape fails its operation with a clear message.
// The agent here is a scripted WebSocket client talking to a real gateway process, so it can
// answer what a real agent never would.
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import WebSocket from 'ws';
import { AgentBus, CommandError } from '@tandem/agent-bus';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { settingsToColumns } from '@tandem/engine';
import { agentMessages, encodeFrame, gatewayMessages, parseFrame, PROTOCOL_VERSION, type ActionResult } from '@tandem/protocol';
import { runOperation } from '../../apps/worker/src/operations/run-operation';
import { httpCall } from './helpers';
import { agentCredential, startGateway, waitFor, type GatewayHandle } from './support/agents';
import { validPairSettings } from './support/pair-settings';

/** What the scripted agent answers to a command: a result (of any shape) for its action. */
type Answer = (action: string, args: unknown) => unknown;

interface ScriptedAgent {
  agentId: string;
  serverId: string;
  answer: Answer;
  commands: string[];
  close: () => void;
}

let t: Tenant;
let gw: GatewayHandle;
let bus: AgentBus;
let db: Db;
const agents: ScriptedAgent[] = [];

/** A server of customer X with an agent that connects through the gateway and answers as told. */
async function scriptedAgent(answer: Answer): Promise<ScriptedAgent> {
  const server = await createServer(t.customerX);
  const { agentId, credential } = await agentCredential(t, server);
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
  const agent: ScriptedAgent = { agentId, serverId: server.id, answer, commands: [], close: () => ws.terminate() };
  let welcomed = false;
  ws.on('message', (data: Buffer) => {
    const frame = parseFrame(gatewayMessages, data);
    if (!frame.ok) return;
    if (frame.message.type === 'welcome') welcomed = true;
    if (frame.message.type !== 'command') return;
    const { commandId, action, args } = frame.message.payload;
    agent.commands.push(action);
    ws.send(encodeFrame(agentMessages, 'command.ack', { commandId }));
    ws.send(encodeFrame(agentMessages, 'command.result', { commandId, ok: true, result: agent.answer(action, args) }));
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(
    encodeFrame(agentMessages, 'hello', {
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: '1.0.0-scripted',
      capabilities: ['facts'],
      hostname: server.hostname,
      osFamily: 'linux',
    }),
  );
  await waitFor('welcome', () => welcomed);
  await waitFor('the agent to be reachable', async () => (await bus.locate(agentId)) !== null);
  agents.push(agent);
  return agent;
}

beforeAll(async () => {
  t = await createTenant();
  gw = await startGateway({ heartbeatMs: 3000 });
  bus = new AgentBus(process.env.REDIS_URL!);
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
});

afterAll(async () => {
  for (const a of agents) a.close();
  bus?.close();
  await gw?.stop();
  await db?.$disconnect();
});

const statusOf = (pairId: string) => ({
  pairId,
  running: false,
  role: null,
  port: null,
  state: null,
  addresses: [],
});

describe('AgentBus.send returns the parsed result of the action', () => {
  it('gives the typed result of a well-formed answer', async () => {
    const agent = await scriptedAgent((action, args) =>
      action === 'monitor.status' ? statusOf((args as { pairId: string }).pairId) : null,
    );
    const pairId = crypto.randomUUID();
    const status = await bus.send(agent.agentId, 'monitor.status', { pairId });
    expectTypeOf(status).toEqualTypeOf<ActionResult<'monitor.status'>>();
    expect(status).toEqual(statusOf(pairId));
    expect(status.addresses).toEqual([]);
  });

  it('refuses an answer of the wrong shape with a bad_result CommandError, not a half result', async () => {
    const agent = await scriptedAgent(() => ({ running: 'yes', extra: true }));
    const err = await bus.send(agent.agentId, 'monitor.status', { pairId: crypto.randomUUID() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).code).toBe('bad_result');
    expect((err as CommandError).message).toMatch(/answered something unexpected to monitor\.status/);
    // What did not match is kept for the log.
    expect((err as CommandError).detail).toMatch(/running/);
  });
});

describe('agent failures over the tRPC HTTP path', () => {
  it('a well-formed answer reaches the browser', async () => {
    const at = new Date().toISOString();
    const agent = await scriptedAgent((action) => (action === 'facts.collect' ? { collectedAt: at } : null));
    const res = await httpCall(t.operator.id, 'server.refreshFacts', { serverId: agent.serverId });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: { data: { collectedAt: at } } });
  });

  it('an answer of the wrong shape is a clear 502, not a 500 with internal text', async () => {
    const agent = await scriptedAgent(() => ({ collectedAt: 12 }));
    const res = await httpCall(t.operator.id, 'server.refreshFacts', { serverId: agent.serverId });
    expect(agent.commands).toEqual(['facts.collect']);
    expect(res.status).toBe(502);
    if (!('error' in res.body)) throw new Error('expected an error');
    expect(res.body.error.data.code).toBe('BAD_GATEWAY');
    expect(res.body.error.message).toMatch(/^The agent answered something unexpected/);
    expect(res.body.error.message).not.toMatch(/collectedAt|expected string|Zod|at .*\.ts/);
    // Nothing was recorded as done.
    expect(
      await ownerDb().auditEvent.count({
        where: { organizationId: t.org.id, action: 'server.facts.refresh', targetId: agent.serverId },
      }),
    ).toBe(0);
  });

  it('an agent that is not connected is a retryable 503 that says so', async () => {
    const server = await createServer(t.customerX);
    await agentCredential(t, server); // enrolled, never connected
    const res = await httpCall(t.operator.id, 'server.refreshFacts', { serverId: server.id });
    expect(res.status).toBe(503);
    if (!('error' in res.body)) throw new Error('expected an error');
    expect(res.body.error.data.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.body.error.message).toMatch(/The agent could not be reached: it is not connected/);
  }, 30_000);
});

describe('operation steps are read through the step schema', () => {
  async function operationWithSteps(steps: { kind: string; params: unknown }[]) {
    const target = await createServer(t.customerX);
    const settings = validPairSettings();
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        sourceServerId: t.serverX.id,
        targetServerId: target.id,
        ...settingsToColumns({ ...settings, name: `Typed steps ${crypto.randomUUID().slice(0, 8)}` }),
      },
    });
    const op = await ownerDb().operation.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        pairId: pair.id,
        kind: 'enable',
        requestedById: t.operator.id,
        steps: {
          create: steps.map((s, i) => ({
            organizationId: t.org.id,
            customerId: t.customerX.id,
            position: i,
            kind: s.kind,
            description: `Step ${i}`,
            params: s.params as object,
          })),
        },
      },
    });
    return { pair, op };
  }

  const loadOperation = (id: string) =>
    ownerDb().operation.findUniqueOrThrow({ where: { id }, include: { steps: { orderBy: { position: 'asc' } } } });

  it('a stored step without its side fails the operation clearly, and nothing after it runs', async () => {
    const { pair, op } = await operationWithSteps([
      { kind: 'replication.start', params: { optional: false } },
      { kind: 'pair.set-state', params: { status: 'mirroring', optional: false } },
    ]);
    const outcome = await runOperation({ db, bus }, { operationId: op.id, organizationId: t.org.id, customerId: t.customerX.id });
    expect(outcome).toEqual({ status: 'failed' });
    const after = await loadOperation(op.id);
    expect(after.status).toBe('failed');
    expect(after.steps[0]!.status).toBe('failed');
    expect(after.steps[0]!.error).toMatch(/stored step \(replication\.start\) is not valid: .*params\.side/);
    expect(after.error).toMatch(/Step 0: The stored step \(replication\.start\) is not valid/);
    expect(after.steps[1]!.status).toBe('skipped');
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('unprotected');
  });

  it('a stored step of an unknown kind or with a parameter of the wrong type fails the same way', async () => {
    for (const step of [
      { kind: 'replication.explode', params: {} },
      { kind: 'monitor.start', params: { side: ['source'] } },
      { kind: 'pair.set-state', params: { status: 'everything-is-fine' } },
      { kind: 'agents.check', params: 'source,target' },
    ]) {
      const { op } = await operationWithSteps([step]);
      expect(
        await runOperation({ db, bus }, { operationId: op.id, organizationId: t.org.id, customerId: t.customerX.id }),
      ).toEqual({ status: 'failed' });
      const after = await loadOperation(op.id);
      expect(after.steps[0]!.status, JSON.stringify(step)).toBe('failed');
      expect(after.steps[0]!.error, JSON.stringify(step)).toContain(`The stored step (${step.kind}) is not valid: `);
    }
  });
});
