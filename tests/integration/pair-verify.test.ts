// "Verify" and "Re-send" from the portal API travel through Redis and a real gateway to the pair's
// source agent. The agent here is a small client speaking the real protocol with canned answers
// (the agent's own verify is tested with real trees in replication-verify-agents/-verify tests).
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { agentMessages, encodeFrame, gatewayMessages, parseFrame } from '@tandem/protocol';
import { callerFor, expectCode } from './helpers';
import { agentCredential, startGateway, waitFor, type GatewayHandle } from './support/agents';

let gw: GatewayHandle;
let t: Tenant;
let pairId: string;
let ws: WebSocket;
const received: { action: string; args: unknown }[] = [];

beforeAll(async () => {
  t = await createTenant();
  gw = await startGateway();
  const target = await createServer(t.customerX);
  pairId = (
    await ownerDb().protectionPair.create({
      data: { organizationId: t.org.id, customerId: t.customerX.id, name: 'verify-me', sourceServerId: t.serverX.id, targetServerId: target.id, application: 'file_server' },
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
    const result =
      m.payload.action === 'replication.verify'
        ? { checkedFiles: 3, checkedBytes: 300, differing: [{ root: '/srv/data', path: 'a.txt', kind: 'content', detail: null }], truncated: false }
        : { queued: 1 };
    ws.send(encodeFrame(agentMessages, 'command.result', { commandId: m.payload.commandId, ok: true, result }));
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(encodeFrame(agentMessages, 'hello', { protocolVersion: 1, agentVersion: 'sim', capabilities: [], hostname: 'src', osFamily: 'linux' }));
  await waitFor('welcome', () => welcomed);
  await waitFor('agent online', async () => (await ownerDb().agent.findFirst({ where: { serverId: t.serverX.id } }))?.status === 'online');
});

afterAll(async () => {
  ws?.terminate();
  await gw?.stop();
});

describe('pair.verify and pair.resend', () => {
  it('ask the source agent, return what differs, re-send it, and audit both', async () => {
    const caller = callerFor(t.operator.id);
    const result = await caller.pair.verify({ pairId });
    expect(result.differing).toEqual([{ root: '/srv/data', path: 'a.txt', kind: 'content', detail: null }]);
    const resent = await caller.pair.resend({ pairId, items: result.differing.map((d) => ({ root: d.root, path: d.path })) });
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
    expect(events[0]!.summary).toMatch(/3 files checked, 1 differing/);
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
