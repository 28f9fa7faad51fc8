// Real agent processes (the bundled tandem-agent) against real gateway processes, PostgreSQL and
// Redis: enrolment, connection, facts, reconnection, routing across gateways, idempotent
// commands, revocation and rotation.
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus, keys } from '@tandem/agent-bus';
import { createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { agentMessages, closeCodes, encodeFrame, PROTOCOL_VERSION } from '@tandem/protocol';
import { callerFor } from './helpers';
import {
  agentCli,
  agentCredential,
  enrollmentToken,
  startAgent,
  startGateway,
  tempDir,
  waitFor,
  type AgentHandle,
  type GatewayHandle,
} from './support/agents';

const running: { stop: () => Promise<void> }[] = [];
let bus: AgentBus;
let redis: Redis;

beforeAll(() => {
  bus = new AgentBus(process.env.REDIS_URL!);
  redis = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  for (const p of running.reverse()) await p.stop();
  bus.close();
  redis.disconnect();
});

async function gateway(opts: Parameters<typeof startGateway>[0] = {}) {
  const g = await startGateway(opts);
  running.push(g);
  return g;
}

/** Enrols a fresh agent for the tenant's customer X through the gateway and starts it. */
async function enrolAndRun(t: Tenant, g: GatewayHandle, label: string): Promise<AgentHandle & { agentId: string; serverId: string }> {
  const dir = tempDir(label);
  const configPath = path.join(dir, 'agent.json');
  const token = await enrollmentToken(t.customerX);
  const res = await agentCli(['enroll', '--url', g.url, `--token=${token}`, '--config', configPath, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', `test-${label}-${crypto.randomUUID().slice(0, 6)}`]);
  expect(res.output).toContain('Enrolled as agent');
  expect(res.code).toBe(0);
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { agentId: string; serverId: string; credential: string };
  expect(fs.statSync(configPath).mode & 0o777).toBe(0o600);
  const agent = startAgent(dir);
  running.push(agent);
  return { ...agent, agentId: config.agentId, serverId: config.serverId };
}

const agentRow = (id: string) => ownerDb().agent.findUniqueOrThrow({ where: { id } });

describe('agents and gateways (real processes)', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('enrols with a one-time token, connects, and reports facts', async () => {
    const g = await gateway();
    const a = await enrolAndRun(t, g, 'enrol');
    await waitFor('agent online', async () => (await agentRow(a.agentId)).status === 'online');
    const server = await waitFor('facts stored', async () => {
      const s = await ownerDb().server.findUniqueOrThrow({ where: { id: a.serverId } });
      return s.facts ? s : null;
    });
    expect(server.customerId).toBe(t.customerX.id);
    // Through the API, as the portal shows it: readable sections, the host's own name.
    const view = await callerFor(t.owner.id).server.get({ serverId: a.serverId });
    expect(view.agentStatus).toBe('online');
    expect(view.facts?.host.status).toBe('ok');
    if (view.facts?.host.status === 'ok') {
      expect(view.facts.host.data.cpuCount).toBeGreaterThan(0);
      // Measured from the first heartbeat before the facts were sent (same machine: tiny).
      expect(Math.abs(view.facts.host.data.clockOffsetMs ?? Infinity)).toBeLessThan(1000);
    }
    expect(view.facts?.agent.capabilities).toContain('service.start');

    // "Refresh facts" asks the agent through Redis and the gateway, and is audited.
    const refreshed = await callerFor(t.owner.id).server.refreshFacts({ serverId: a.serverId });
    expect(new Date(refreshed.collectedAt).getTime()).toBeGreaterThan(new Date(view.facts!.collectedAt).getTime());
    expect(await ownerDb().auditEvent.count({ where: { action: 'server.facts.refresh', targetId: a.serverId } })).toBe(1);
    // A customer user may read the server, not act on it.
    expect((await callerFor(t.customerUser.id).server.get({ serverId: a.serverId })).hostname).toBe(view.hostname);

    // The token worked once.
    const again = await agentCli(['enroll', '--url', g.url, `--token=${'x'.repeat(43)}`, '--config', path.join(a.dir, 'other.json')]);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('Unknown enrolment token');

    const status = await agentCli(['status', '--config', a.configPath]);
    expect(status.output).toMatch(/state:\s+connected/);
    expect(status.output).toMatch(/last heartbeat: \d{4}-/);
    expect(status.code).toBe(0);
  });

  it('refuses a used or expired enrolment token with a clear reason', async () => {
    const g = await gateway();
    const token = await enrollmentToken(t.customerY, -1000);
    const dir = tempDir('expired');
    const res = await agentCli(['enroll', '--url', g.url, `--token=${token}`, '--config', path.join(dir, 'agent.json')]);
    expect(res.code).not.toBe(0);
    expect(res.output).toContain('expired');
    expect(fs.existsSync(path.join(dir, 'agent.json'))).toBe(false);
  });

  it('reconnects after the gateway is killed and restarted', async () => {
    const g1 = await gateway();
    const a = await enrolAndRun(t, g1, 'reconnect');
    await waitFor('first connection', async () => (await redis.get(keys.location(a.agentId))) === g1.id);
    await g1.stop('SIGKILL');
    const g2 = await gateway({ port: g1.port });
    await waitFor('reconnected to the new gateway', async () => (await redis.get(keys.location(a.agentId))) === g2.id, 20_000);
    expect((await agentRow(a.agentId)).status).toBe('online');
    expect(a.output()).toContain('reconnecting');
  });

  it('routes a command from any process to the agent on whichever gateway holds it, once per command id', async () => {
    const gA = await gateway();
    const gB = await gateway();
    const onA = await enrolAndRun(t, gA, 'route-a');
    const onB = await enrolAndRun(t, gB, 'route-b');
    await waitFor('both located', async () =>
      (await bus.locate(onA.agentId)) === gA.id && (await bus.locate(onB.agentId)) === gB.id,
    );
    // A hook that appends a line per run: running a command id twice must add one line only.
    const marker = path.join(onB.dir, 'runs.txt');
    await bus.send(onB.agentId, 'hook.write', { name: 'count.sh', content: `#!/bin/sh\necho "run $1" >> ${marker}\necho done\n` });
    const commandId = crypto.randomUUID();
    const first = await bus.send(onB.agentId, 'hook.run', { name: 'count.sh', args: ['one'] }, { commandId });
    const second = await bus.send(onB.agentId, 'hook.run', { name: 'count.sh', args: ['one'] }, { commandId });
    expect(first).toMatchObject({ exitCode: 0, stdout: 'done\n' });
    expect(second).toEqual(first);
    expect(fs.readFileSync(marker, 'utf8')).toBe('run one\n');
    // And the agent on the other gateway answers too.
    const status = await bus.send(onA.agentId, 'service.status', { name: 'tandem-no-such-service' });
    expect(status.state).toBe('not-found');
    // Bad arguments never leave the sender.
    await expect(bus.send(onA.agentId, 'hook.run', { name: '../etc/passwd' })).rejects.toThrow(/Hook names/);
  });

  it('reports an offline agent promptly instead of hanging', async () => {
    const g = await gateway();
    const a = await enrolAndRun(t, g, 'offline');
    await waitFor('online', async () => (await bus.locate(a.agentId)) === g.id);
    await a.stop();
    await waitFor('location released', async () => (await bus.locate(a.agentId)) === null);
    await waitFor('marked offline', async () => (await agentRow(a.agentId)).status === 'offline');
    await expect(bus.send(a.agentId, 'service.status', { name: 'x' }, { ackTimeoutMs: 200, attempts: 2 })).rejects.toThrow(/not connected/);
  });

  it('a command sent while the agent reconnects waits for it instead of failing', async () => {
    const g = await gateway();
    const a = await enrolAndRun(t, g, 'reconnecting');
    await waitFor('online', async () => (await bus.locate(a.agentId)) === g.id && (await agentRow(a.agentId)).status === 'online');
    // A second connection with the agent's credential replaces its session and says no hello:
    // the location still names this gateway, but its session is not ready. The agent is paused
    // so that it cannot come back before the command has been refused once.
    a.child.kill('SIGSTOP');
    const { credential } = JSON.parse(fs.readFileSync(a.configPath, 'utf8')) as { credential: string };
    const silent = new WebSocket(`ws://127.0.0.1:${g.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
    silent.on('error', () => undefined);
    try {
      await new Promise((r) => silent.once('open', r));
      const commandId = crypto.randomUUID();
      const replies = new Redis(process.env.REDIS_URL!);
      const refusedOnce = new Promise<void>((resolve) => replies.on('message', (_ch, msg: string) => msg.includes('agent_offline') && resolve()));
      await replies.subscribe(keys.reply(commandId));
      try {
        const answer = bus.send(a.agentId, 'service.status', { name: 'tandem-no-such-service' }, { commandId, ackTimeoutMs: 1_000, attempts: 5 });
        await refusedOnce;
        // Resumed, the agent finds its connection replaced, reconnects and says hello; the
        // command, asked again, reaches it.
        a.child.kill('SIGCONT');
        expect((await answer).state).toBe('not-found');
      } finally {
        replies.disconnect();
      }
    } finally {
      a.child.kill('SIGCONT');
      silent.terminate();
    }
  });

  it('refuses missing, unknown and revoked credentials with a close code and reason', async () => {
    const g = await gateway();
    const close = (headers: Record<string, string>) =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${g.port}/agent`, { headers });
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', () => undefined);
      });
    expect(await close({})).toMatchObject({ code: closeCodes.unauthorized, reason: expect.stringMatching(/No credential/) as unknown });
    expect(await close({ authorization: 'Bearer not-a-real-credential-aaaaaaaaaaaaaaaaaaaa' })).toMatchObject({
      code: closeCodes.unauthorized,
      reason: expect.stringMatching(/Unknown credential/) as unknown,
    });

    // Revoked from the portal while connected: dropped at once, and refused from then on.
    const a = await enrolAndRun(t, g, 'revoke');
    await waitFor('online', async () => (await agentRow(a.agentId)).status === 'online');
    await callerFor(t.owner.id).agent.revoke({ serverId: a.serverId });
    await waitFor('agent told why', () => a.output().includes('Credential revoked'));
    const { credential } = JSON.parse(fs.readFileSync(a.configPath, 'utf8')) as { credential: string };
    expect(await close({ authorization: `Bearer ${credential}` })).toMatchObject({
      code: closeCodes.revoked,
      reason: expect.stringMatching(/revoked/) as unknown,
    });
    expect((await agentRow(a.agentId)).status).toBe('revoked');
    const status = await agentCli(['status', '--config', a.configPath]);
    expect(status.output).toMatch(/last error:\s+4403: Credential revoked/);
    // Refused, it waits to retry; a service stop ends that wait instead of sitting it out.
    await a.stop();
    expect(a.child.signalCode).not.toBe('SIGKILL');
    expect(a.output()).not.toContain('Error');
  });

  it('rotates a credential: the agent keeps working, the old credential is refused', async () => {
    const g = await gateway();
    const a = await enrolAndRun(t, g, 'rotate');
    await waitFor('online', async () => (await agentRow(a.agentId)).status === 'online' && (await bus.locate(a.agentId)) === g.id);
    const before = (JSON.parse(fs.readFileSync(a.configPath, 'utf8')) as { credential: string }).credential;
    await callerFor(t.owner.id).agent.rotate({ serverId: a.serverId });
    const after = (JSON.parse(fs.readFileSync(a.configPath, 'utf8')) as { credential: string }).credential;
    expect(after).not.toBe(before);
    expect(await ownerDb().auditEvent.count({ where: { action: 'agent.rotate', targetId: a.serverId } })).toBe(1);
    expect(fs.statSync(a.configPath).mode & 0o777).toBe(0o600);
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${g.port}/agent`, { headers: { authorization: `Bearer ${before}` } });
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(closeCodes.unauthorized);
    // After a restart the agent connects with the new credential.
    await a.stop();
    const again = startAgent(a.dir);
    running.push(again);
    await waitFor('back online', async () => (await bus.locate(a.agentId)) === g.id);
  });

  it('refuses a protocol version it does not speak, and frames before hello', async () => {
    const g = await gateway();
    const { credential } = await agentCredential(t, t.serverY);
    const ws = new WebSocket(`ws://127.0.0.1:${g.port}/agent`, { headers: { authorization: `Bearer ${credential}` } });
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    ws.send(encodeFrame(agentMessages, 'heartbeat', { seq: 1, sentAt: Date.now() }));
    await waitFor('refusal', () => frames.some((f) => f.includes('Send hello first')));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.send(
      encodeFrame(agentMessages, 'hello', {
        protocolVersion: PROTOCOL_VERSION + 5,
        agentVersion: 'test',
        capabilities: [],
        hostname: 'h',
        osFamily: 'linux',
      }),
    );
    expect(await closed).toMatchObject({ code: closeCodes.unsupportedVersion, reason: expect.stringMatching(/not supported/) as unknown });
  });
});
