// Replication samples reach the database through the gateway, only from the pair's source agent.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { agentMessages, encodeFrame, gatewayMessages, parseFrame } from '@tandem/protocol';
import { agentCredential, startGateway, waitFor, type GatewayHandle } from './support/agents';

let gw: GatewayHandle;
let t: Tenant;
let pairId: string;
let targetServerId: string;
const sockets: WebSocket[] = [];

async function connectAs(credential: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
  sockets.push(ws);
  const errors: { code: string; offendingId?: string }[] = [];
  let welcomed = false;
  ws.on('message', (d: Buffer) => {
    const parsed = parseFrame(gatewayMessages, d);
    if (!parsed.ok) return;
    if (parsed.message.type === 'welcome') welcomed = true;
    if (parsed.message.type === 'error') errors.push(parsed.message.payload);
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(encodeFrame(agentMessages, 'hello', { protocolVersion: 1, agentVersion: 'test', capabilities: [], hostname: 'h', osFamily: 'linux' }));
  await waitFor('welcome', () => welcomed);
  const send = (lagSeconds: number) => {
    const id = crypto.randomUUID();
    ws.send(
      encodeFrame(
        agentMessages,
        'replication.stats',
        { pairId, at: Date.now(), mirrorBytesLeft: 1000, mirrorFilesLeft: 3, queueBytes: 4096, throughputBps: 1e6, lagSeconds },
        { id },
      ),
    );
    return id;
  };
  return { send, errors };
}

beforeAll(async () => {
  t = await createTenant();
  gw = await startGateway();
  const target = await createServer(t.customerX);
  targetServerId = target.id;
  const pair = await ownerDb().protectionPair.create({
    // Protected: the gateway stores samples only of pairs whose protection is enabled.
    data: { organizationId: t.org.id, customerId: t.customerX.id, name: 'stats', sourceServerId: t.serverX.id, targetServerId: target.id, application: 'file_server', status: 'protected' },
  });
  pairId = pair.id;
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await gw?.stop();
});

describe('replication samples', () => {
  it('are stored when the pair’s source agent reports them, at most one per second', async () => {
    const source = await connectAs((await agentCredential(t, t.serverX)).credential);
    source.send(1.5);
    const sample = await waitFor('sample stored', () => ownerDb().replicationSample.findFirst({ where: { pairId } }));
    expect(sample).toMatchObject({ lagSeconds: 1.5, mirrorFilesLeft: 3, queueBytes: 4096n, resolutionSeconds: 0, customerId: t.customerX.id });
    const flood = source.send(2);
    await waitFor('too frequent', () => source.errors.some((e) => e.offendingId === flood && e.code === 'too_frequent'));
    expect(await ownerDb().replicationSample.count({ where: { pairId } })).toBe(1);
  });

  it('are refused from any other agent, including the pair’s target and another tenant’s agents', async () => {
    const target = await connectAs((await agentCredential(t, await ownerDb().server.findUniqueOrThrow({ where: { id: targetServerId } }))).credential);
    const fromTarget = target.send(3);
    await waitFor('refused', () => target.errors.some((e) => e.offendingId === fromTarget && e.code === 'not_your_pair'));

    const other = await createTenant();
    const stranger = await connectAs((await agentCredential(other, other.serverX)).credential);
    const fromStranger = stranger.send(4);
    await waitFor('refused', () => stranger.errors.some((e) => e.offendingId === fromStranger && e.code === 'not_your_pair'));
    expect(await ownerDb().replicationSample.count({ where: { pairId, lagSeconds: { in: [3, 4] } } })).toBe(0);
  });
});
