// Pushed live updates: subscriptions over server-sent events, fed by Redis pub/sub, through the
// same fetch adapter as the Next.js route handler. A stream hears its own pair's (server's,
// organization's) changes and never another tenant's; it holds no database transaction.
import { randomUUID } from 'node:crypto';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeLivePublisher, publishPairChange, publishServerChange } from '@tandem/agent-bus/live';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { markOnline, storeReplicationSample, type AgentIdentity } from '../../apps/gateway/src/store';
import { appRouter } from '@/server/routers/_app';
import { callerFor, expectCode } from './helpers';

const origin = 'http://127.0.0.1:3100';

interface SseEvent {
  event: string;
  id: string | null;
  data: unknown;
}

/** One open subscription over HTTP: its events in order, read as they arrive. */
interface Stream {
  status: number;
  /** The next event other than the connection's own (connected, ping). */
  next(): Promise<SseEvent>;
  close(): void;
}

const open: Stream[] = [];

async function subscribe(userId: string, path: string, input?: unknown, lastEventId?: string): Promise<Stream> {
  const url = new URL(`${origin}/api/trpc/${path}`);
  if (input !== undefined) url.searchParams.set('input', JSON.stringify(input));
  const abort = new AbortController();
  const headers: Record<string, string> = lastEventId ? { 'last-event-id': lastEventId } : {};
  const res = await fetchRequestHandler({
    endpoint: '/api/trpc',
    req: new Request(url, { method: 'GET', headers, signal: abort.signal }),
    router: appRouter,
    createContext: () => ({ userId, workspaceKey: null, origin }),
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const stream: Stream = {
    status: res.status,
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const ev: SseEvent = { event: 'message', id: null, data: null };
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            const [field, value] = [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')];
            if (field === 'event') ev.event = value;
            else if (field === 'id') ev.id = value;
            else if (field === 'data' && value) ev.data = JSON.parse(value) as unknown;
          }
          if (ev.event === 'connected' || ev.event === 'ping') continue;
          return ev;
        }
        const chunk = await reader.read();
        if (chunk.done) throw new Error('the stream ended');
        buffer += chunk.value;
      }
    },
    close() {
      abort.abort();
      void reader.cancel().catch(() => undefined);
    },
  };
  open.push(stream);
  return stream;
}

/** Subscribes and waits for the first item: a `sync`, sent once the subscription is live. */
async function listening(userId: string, path: string, input?: unknown) {
  const stream = await subscribe(userId, path, input);
  const first = await stream.next();
  expect(first.event).toBe('message');
  expect(first.data).toMatchObject({ kind: 'sync' });
  return stream;
}

const tenantOf = (r: { organizationId: string; customerId: string }) => ({ organizationId: r.organizationId, customerId: r.customerId });

let a: Tenant;
let b: Tenant;
let aPair: { id: string; organizationId: string; customerId: string; sourceServerId: string };
let aOtherPair: { id: string; organizationId: string; customerId: string };
let bPair: { id: string; organizationId: string; customerId: string };

async function pairOf(t: Tenant, customer: { id: string; organizationId: string }) {
  const [source, target] = [await createServer(customer), await createServer(customer)];
  return ownerDb().protectionPair.create({
    data: { organizationId: t.org.id, customerId: customer.id, name: `pair-${randomUUID().slice(0, 6)}`, sourceServerId: source.id, targetServerId: target.id, application: 'file_server' },
  });
}

async function agentOn(server: { id: string; organizationId: string; customerId: string }, status: 'online' | 'offline' = 'offline'): Promise<AgentIdentity> {
  const agent = await ownerDb().agent.create({
    data: { organizationId: server.organizationId, customerId: server.customerId, serverId: server.id, status, credentialHash: randomUUID() },
  });
  return { id: agent.id, organizationId: agent.organizationId, customerId: agent.customerId, serverId: server.id, status: agent.status, revokedAt: null };
}

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
  aPair = await pairOf(a, a.customerX);
  aOtherPair = await pairOf(a, a.customerX);
  bPair = await pairOf(b, b.customerX);
});

afterAll(() => {
  for (const s of open) s.close();
  closeLivePublisher();
});

describe('pair.live', () => {
  it('delivers the pair’s own changes, and none of another pair or another tenant', async () => {
    const stream = await listening(a.owner.id, 'pair.live', { pairId: aPair.id });
    // Published in this order on one connection: anything that leaked would arrive first.
    await publishPairChange(tenantOf(bPair), bPair.id, 'status');
    await publishPairChange(tenantOf(aOtherPair), aOtherPair.id, 'status');
    await publishPairChange(tenantOf(aPair), aPair.id, 'event');
    const ev = await stream.next();
    expect(ev.data).toEqual({ kind: 'pair', customerId: aPair.customerId, pairId: aPair.id, change: 'event', id: ev.id });
    expect(ev.id).toBeTruthy();
    stream.close();
  });

  it('a customer user of the pair’s customer hears it too', async () => {
    const stream = await listening(a.customerUser.id, 'pair.live', { pairId: aPair.id });
    await publishPairChange(tenantOf(aPair), aPair.id, 'lag');
    expect((await stream.next()).data).toMatchObject({ pairId: aPair.id, change: 'lag' });
    stream.close();
  });

  it('another tenant’s pair → NOT_FOUND over HTTP, and no notice of it follows', async () => {
    const stream = await subscribe(a.owner.id, 'pair.live', { pairId: bPair.id });
    const ev = await stream.next();
    expect(ev.event).toBe('serialized-error');
    expect(ev.data).toMatchObject({ data: { code: 'NOT_FOUND' } });
    await publishPairChange(tenantOf(bPair), bPair.id, 'status');
    await expect(stream.next()).rejects.toThrow('the stream ended');
  });

  it('another customer’s pair, for a customer user (same organization) → NOT_FOUND', async () => {
    const yPair = await pairOf(a, a.customerY);
    await expectCode(callerFor(a.customerUser.id).pair.live({ pairId: yPair.id }), 'NOT_FOUND');
  });

  it('a replication sample stored by the gateway reaches the pair’s page; the mirror finishing says status', async () => {
    await ownerDb().protectionPair.update({ where: { id: aPair.id }, data: { status: 'mirroring' } });
    const source = await ownerDb().server.findUniqueOrThrow({ where: { id: aPair.sourceServerId } });
    const agent = await agentOn(source, 'online');
    const stream = await listening(a.owner.id, 'pair.live', { pairId: aPair.id });
    const sample = { pairId: aPair.id, at: Date.now(), lagSeconds: null, mirrorBytesLeft: 10, mirrorFilesLeft: 1, queueBytes: 0, throughputBps: 5 };
    expect(await storeReplicationSample(agent, sample)).toBe('stored');
    expect((await stream.next()).data).toMatchObject({ kind: 'pair', pairId: aPair.id, change: 'lag' });
    expect(await storeReplicationSample(agent, { ...sample, lagSeconds: 1, mirrorBytesLeft: 0, mirrorFilesLeft: 0 })).toBe('stored');
    expect((await stream.next()).data).toMatchObject({ kind: 'pair', pairId: aPair.id, change: 'status' });
    // Its source server's agent is on the pair's page as well.
    await publishServerChange(tenantOf(source), source.id, 'agent');
    expect((await stream.next()).data).toMatchObject({ kind: 'server', serverId: source.id, change: 'agent' });
    stream.close();
  });

  it('a reconnecting client (last event id) starts with a sync, then hears new changes', async () => {
    const stream = await subscribe(a.owner.id, 'pair.live', { pairId: aPair.id }, 'some-earlier-id');
    expect((await stream.next()).data).toMatchObject({ kind: 'sync' });
    await publishPairChange(tenantOf(aPair), aPair.id, 'operation');
    expect((await stream.next()).data).toMatchObject({ pairId: aPair.id, change: 'operation' });
    stream.close();
  });

  it('a dropped Redis connection ends the stream with a retryable error; a new stream resyncs and hears changes again', async () => {
    const stream = await listening(a.owner.id, 'pair.live', { pairId: aPair.id });
    // The web process's one subscriber connection (services/live.ts) loses its socket.
    const hub = (globalThis as unknown as { tandemLiveHub: unknown }).tandemLiveHub as { sub: { disconnect(reconnect: boolean): void } };
    hub.sub.disconnect(true);
    const ev = await stream.next();
    expect(ev.event).toBe('serialized-error');
    expect(ev.data).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE' } });
    const again = await listening(a.owner.id, 'pair.live', { pairId: aPair.id });
    await publishPairChange(tenantOf(aPair), aPair.id, 'status');
    expect((await again.next()).data).toMatchObject({ pairId: aPair.id, change: 'status' });
    again.close();
  });

  it('holds no database transaction: more open streams than pooled connections, and queries still answer', async () => {
    // The app's pool has 10 connections; a stream holding a transaction would exhaust it.
    const streams = await Promise.all(Array.from({ length: 12 }, () => listening(a.owner.id, 'pair.live', { pairId: aPair.id })));
    expect((await callerFor(a.owner.id).pair.get({ pairId: aPair.id })).id).toBe(aPair.id);
    await publishPairChange(tenantOf(aPair), aPair.id, 'event');
    for (const s of streams) expect((await s.next()).data).toMatchObject({ pairId: aPair.id, change: 'event' });
    for (const s of streams) s.close();
  });
});

describe('server.live', () => {
  it('hears its agent come online through the gateway, and not another tenant’s server', async () => {
    const agent = await agentOn(a.serverX);
    const other = await agentOn(b.serverX);
    const stream = await listening(a.owner.id, 'server.live', { serverId: a.serverX.id });
    const hello = { agentVersion: '0.0.0-test', protocolVersion: 1, capabilities: [] } as unknown as Parameters<typeof markOnline>[1];
    await markOnline(other, hello);
    await publishServerChange(tenantOf(a.serverY), a.serverY.id, 'facts');
    await markOnline(agent, hello);
    expect((await stream.next()).data).toMatchObject({ kind: 'server', serverId: a.serverX.id, change: 'agent' });
    stream.close();
  });

  it('hears a revocation made in the portal', async () => {
    const server = await createServer(a.customerX);
    await agentOn(server, 'online');
    const stream = await listening(a.owner.id, 'server.live', { serverId: server.id });
    await callerFor(a.owner.id).agent.revoke({ serverId: server.id });
    expect((await stream.next()).data).toMatchObject({ kind: 'server', serverId: server.id, change: 'agent' });
    stream.close();
  });

  it('another tenant’s server → NOT_FOUND', async () => {
    await expectCode(callerFor(a.owner.id).server.live({ serverId: b.serverX.id }), 'NOT_FOUND');
  });
});

describe('dashboard.live', () => {
  it('hears every customer of the organization, and nothing of another organization', async () => {
    const stream = await listening(a.viewer.id, 'dashboard.live');
    await publishPairChange(tenantOf(bPair), bPair.id, 'status');
    await publishServerChange(tenantOf(b.serverX), b.serverX.id, 'agent');
    await publishServerChange(tenantOf(a.serverY), a.serverY.id, 'facts');
    expect((await stream.next()).data).toMatchObject({ kind: 'server', customerId: a.customerY.id, serverId: a.serverY.id });
    await publishPairChange(tenantOf(aPair), aPair.id, 'lag');
    expect((await stream.next()).data).toMatchObject({ kind: 'pair', customerId: a.customerX.id, pairId: aPair.id });
    stream.close();
  });

  it('is for MSP staff only, like the dashboard', async () => {
    await expectCode(callerFor(a.customerUser.id).dashboard.live(), 'FORBIDDEN');
  });
});
