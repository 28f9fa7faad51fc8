// The pair lifecycle as the API applies it, without agents (both are offline, so nothing is asked
// of them): configuration changes are refused while an operation runs or protection is on, move
// the pair's own configuration-changed time and void a validation; enable and disable answer with
// the lifecycle's refusals; the worker's state step applies lifecycle events, conditionally.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus } from '@tandem/agent-bus';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { stepToRow, type LifecycleEvent, type PairStatus } from '@tandem/engine';
import { runOperation } from '../../apps/worker/src/operations/run-operation';
import { callerFor, expectCode } from './helpers';
import { validPairSettings } from './support/pair-settings';

let t: Tenant;

/** A Linux file server's facts as the agent reports them, with one share under /srv/data. */
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

/** A pair between two servers with offline agents, created through the API, then put in `status`. */
async function pairIn(status: PairStatus) {
  const servers = [];
  for (const label of ['src', 'tgt']) {
    const s = await createServer(t.customerX, `${label}-${randomUUID().slice(0, 6)}`);
    await ownerDb().server.update({ where: { id: s.id }, data: { facts: fileServerFacts(s.hostname) } });
    await ownerDb().agent.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: s.id, status: 'offline', credentialHash: randomUUID() } });
    servers.push(s);
  }
  const caller = callerFor(t.operator.id);
  const { id } = await caller.pair.create({
    customerId: t.customerX.id,
    sourceServerId: servers[0]!.id,
    targetServerId: servers[1]!.id,
    settings: { ...validPairSettings(), name: `pair-${randomUUID().slice(0, 6)}` },
  });
  // The fixture moves the status directly: the API has no shortcut into, say, failed_over.
  await ownerDb().protectionPair.update({ where: { id }, data: { status } });
  return ownerDb().protectionPair.findUniqueOrThrow({ where: { id } });
}

const settingsOf = async (pairId: string) => (await callerFor(t.operator.id).pair.settings({ pairId })).settings!;

let db: Db;
let bus: AgentBus;

beforeAll(async () => {
  t = await createTenant();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
  bus = new AgentBus(process.env.REDIS_URL!);
});

afterAll(async () => {
  bus?.close();
  await db?.$disconnect();
});

/** Runs an operation of one state step (no agent is asked) through the worker's runner. */
async function runStateStep(pairId: string, kind: 'enable' | 'disable', event: LifecycleEvent) {
  const op = await ownerDb().operation.create({
    data: {
      organizationId: t.org.id,
      customerId: t.customerX.id,
      pairId,
      kind,
      requestedById: t.operator.id,
      steps: {
        create: [{ organizationId: t.org.id, customerId: t.customerX.id, position: 0, ...stepToRow({ kind: 'pair.set-state', description: 'State', params: { event, monitoringStatus: 'off' } }) }],
      },
    },
  });
  const result = await runOperation({ db, bus }, { operationId: op.id, organizationId: t.org.id, customerId: t.customerX.id });
  return { result, op: await ownerDb().operation.findUniqueOrThrow({ where: { id: op.id } }) };
}

describe('configuration changes', () => {
  it('are refused while an operation runs on the pair, even an unprotected one', async () => {
    const pair = await pairIn('unprotected');
    await ownerDb().operation.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, pairId: pair.id, kind: 'enable', status: 'running', requestedById: t.operator.id } });
    const current = await settingsOf(pair.id);
    const err = await expectCode(callerFor(t.operator.id).pair.update({ pairId: pair.id, settings: { ...current, name: 'Changed under an enable' } }), 'CONFLICT');
    expect(err.message).toMatch(/operation \(enable\) is running/);
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).name).toBe(pair.name);
  });

  it('are refused in every status the lifecycle locks, with its reason', async () => {
    const expected: [PairStatus, RegExp][] = [
      ['protected', /^The pair is protected: disable protection before changing its configuration$/],
      ['failed_over', /^The pair is failed over: disable protection before changing its configuration$/],
      ['restoring', /^The pair is restoring: changing its configuration must wait until that finishes$/],
    ];
    for (const [status, message] of expected) {
      const pair = await pairIn(status);
      const current = await settingsOf(pair.id);
      const err = await expectCode(callerFor(t.operator.id).pair.update({ pairId: pair.id, settings: { ...current, name: 'Changed' } }), 'CONFLICT');
      expect(err.message).toMatch(message);
    }
  });

  it('move the pair’s configuration-changed time (not a status change) and void a passed validation', async () => {
    const pair = await pairIn('validated');
    const before = pair.configChangedAt;
    // Saving the same settings changes nothing, validation included.
    await callerFor(t.operator.id).pair.update({ pairId: pair.id, settings: await settingsOf(pair.id) });
    let row = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } });
    expect(row).toMatchObject({ status: 'validated', configChangedAt: before });

    const current = await settingsOf(pair.id);
    await callerFor(t.operator.id).pair.update({ pairId: pair.id, settings: { ...current, connection: { ...current.connection, compression: 'fast' } } });
    row = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } });
    expect(row.status).toBe('unprotected');
    expect(row.configChangedAt.getTime()).toBeGreaterThan(before.getTime());

    // A status change alone leaves it where it is.
    await ownerDb().protectionPair.update({ where: { id: pair.id }, data: { status: 'validated' } });
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).configChangedAt).toEqual(row.configChangedAt);
  });
});

describe('enable and disable', () => {
  it('answer with the lifecycle’s refusal', async () => {
    const caller = callerFor(t.operator.id);
    const failedOver = await pairIn('failed_over');
    expect((await expectCode(caller.pair.enable({ pairId: failedOver.id }), 'CONFLICT')).message).toBe('The pair is already failed over');
    expect((await expectCode(caller.pair.disable({ pairId: failedOver.id }), 'CONFLICT')).message).toBe('Protection can only be disabled while mirroring or protected; the pair is failed over');
    const unprotected = await pairIn('unprotected');
    expect((await expectCode(caller.pair.disable({ pairId: unprotected.id }), 'CONFLICT')).message).toMatch(/the pair is unprotected$/);
    expect(await ownerDb().operation.count({ where: { pairId: { in: [failedOver.id, unprotected.id] } } })).toBe(0);
  });
});

describe('the worker’s state step', () => {
  it('records when protection was enabled for a streaming standby too (no mirror, straight to protected)', async () => {
    const pair = await pairIn('unprotected');
    expect(pair.enabledAt).toBeNull();
    const { result } = await runStateStep(pair.id, 'enable', 'standby.streaming');
    expect(result.status).toBe('succeeded');
    const row = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } });
    expect(row.status).toBe('protected');
    expect(row.enabledAt).toBeInstanceOf(Date);
  });

  it('applies the lifecycle to the status it finds: a refused event fails the operation and changes nothing', async () => {
    const pair = await pairIn('failed_over');
    const { result, op } = await runStateStep(pair.id, 'disable', 'replication.stopped');
    expect(result.status).toBe('failed');
    expect(op.error).toMatch(/Protection can only be disabled while mirroring or protected; the pair is failed over/);
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('failed_over');
  });

  it('run again after its change was made (a crash before the step was recorded), it is done, not refused', async () => {
    const pair = await pairIn('mirroring');
    const { result } = await runStateStep(pair.id, 'enable', 'replication.started');
    expect(result.status).toBe('succeeded');
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('mirroring');
  });
});
