// Protecting a file server end to end, through the same API the portal uses: two real agents
// (the source sees a real NFS export), a real gateway, the worker's operation runner and
// detection sweep on a private queue prefix. Enable → mirroring → protected with identical trees;
// a cut between target and source alone never makes the pair failover-pending; stopping the
// source agent does, after about interval × missed; disable stops everything and keeps the
// configuration. Invalid settings are refused with field messages and change nothing.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import type { PairSettings } from '@tandem/engine';
import {
  detectionQueue,
  redisConnection,
  scheduleDetection,
  startDetectionWorker,
  startOperationsWorker,
  type WatchJob,
} from '../../apps/worker/src/queues';
import { sweepDetection } from '../../apps/worker/src/detection/sweep';
import { callerFor, expectCode } from './helpers';
import { agentBundle, agentCli, enrollmentToken, freePort, tempDir, waitFor } from './support/agents';
import { spawnAgentWithExports } from './support/file-shares';
import { dropOnLoopback, type Cut } from './support/firewall';
import { ReplicationHarness, waitEqual, writeFiles } from './support/replication/agents';
import { recordPassingValidation } from './support/validation';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;
// The gateway stops a switched-off pair on an agent after this grace (15 s in production).
process.env.LEFTOVER_GRACE_MS = '1000';

const h = new ReplicationHarness('protect');
const connection = redisConnection(process.env.REDIS_URL!);
let db: Db;
let workers: Worker[] = [];
let detection: Queue<WatchJob>;
let sourceChild: ChildProcess | undefined;
let sourceConfig: string;
let sourceAgentId: string;
let sourceServerId: string;
let targetServerId: string;
let share: string;
let targetRoot: string;
let pairId: string;
let dataPort: number;
let monitorPort: number;

/** A real file server as far as the agent can tell: its export list names `share`. */
function runSource() {
  sourceChild = spawnAgentWithExports(agentBundle, sourceConfig, [share], { ...process.env, TANDEM_AGENT_BACKOFF_BASE_MS: '100', TANDEM_AGENT_BACKOFF_MAX_MS: '1000' });
  return sourceChild;
}

async function stopSource(signal: NodeJS.Signals = 'SIGTERM') {
  const child = sourceChild;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Drops every packet between the target and the source (monitor probes and data channel); the gateway link stays. */
let cut: Cut | undefined;
function cutLink() {
  cut = dropOnLoopback('protect', [`udp dport ${monitorPort} drop`, `tcp dport ${dataPort} drop`]);
}
function restoreLink() {
  cut?.restore();
}

const pair = () => ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });

beforeAll(async () => {
  await h.setup();
  db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
  detection = detectionQueue(connection, { prefix });
  await scheduleDetection(detection, 500);
  workers = [startOperationsWorker(connection, db, h.bus, { prefix }), startDetectionWorker(connection, db, { prefix })];
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  const data = tempDir('protect-data');
  h.cleanup.push(data);
  share = path.join(data, 'srv', 'share');
  targetRoot = path.join(data, 'replica');
  fs.mkdirSync(share, { recursive: true });
  fs.mkdirSync(targetRoot, { recursive: true });
  writeFiles(share, 'doc', 40);
  fs.mkdirSync(path.join(share, 'empty dir'));

  // The source: enrolled normally, run in its own mount namespace with the export.
  const dir = tempDir('protect-source');
  h.cleanup.push(dir);
  sourceConfig = path.join(dir, 'agent.json');
  const token = await enrollmentToken(h.t.customerX);
  const res = await agentCli(['enroll', '--url', h.gw.url, `--token=${token}`, '--config', sourceConfig, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', `protect-src-${crypto.randomUUID().slice(0, 6)}`]);
  expect(res.output).toContain('Enrolled as agent');
  ({ agentId: sourceAgentId, serverId: sourceServerId } = JSON.parse(fs.readFileSync(sourceConfig, 'utf8')) as { agentId: string; serverId: string });
  runSource();
  const target = await h.enrolAndRun('target');
  targetServerId = target.serverId;
  await h.online(sourceAgentId);
  await h.online(target.agentId);
  // Both have reported facts (the wizard works from them).
  await waitFor('facts of both servers', async () => {
    const servers = await ownerDb().server.findMany({ where: { id: { in: [sourceServerId, targetServerId] } } });
    return servers.length === 2 && servers.every((s) => s.facts !== null);
  });
  dataPort = await freePort();
  monitorPort = await freePort();
}, 120_000);

afterAll(async () => {
  restoreLink();
  await stopSource('SIGKILL');
  await Promise.all(workers.map((w) => w.close()));
  await detection?.obliterate({ force: true });
  await detection?.close();
  await h.teardown();
  await db?.$disconnect();
});

async function wizardSettings(): Promise<PairSettings> {
  const caller = callerFor(h.t.operator.id);
  const wizard = await caller.pair.wizard({ customerId: h.t.customerX.id, sourceServerId, application: 'file_server', targetServerId });
  expect(wizard.applications?.find((a) => a.application === 'file_server')).toMatchObject({ available: true });
  expect(wizard.targets?.find((t) => t.id === targetServerId)).toMatchObject({ ok: true });
  const d = wizard.defaults!;
  // The export is the default replication set; the usual Linux file-server service is listed.
  expect(d.replicationSet).toEqual({ roots: [share], rules: [] });
  expect(d.failover.services).toEqual(['nfs-server']);
  expect(d.connection.mirror).toBe('checksum');
  expect(d.failover.monitor).toMatchObject({ intervalSeconds: 5, missed: 5, trigger: 'all', observers: 'both' });
  expect(d.failover.manualIntervention).toBe(true);
  // Everything runs on this one machine: loopback addresses, free ports, a private target directory.
  return {
    ...d,
    name: 'Protected share',
    failover: { ...d.failover, monitor: { ...d.failover.monitor, addresses: ['127.0.0.1'], port: monitorPort, intervalSeconds: 1, missed: 3 } },
    connection: { ...d.connection, route: '127.0.0.1', port: dataPort, targetRoot },
    dns: { ...d.dns, servers: ['127.0.0.1'], zone: 'protect.test', addressMap: [{ source: '127.0.0.1', target: '127.0.0.2' }] },
  };
}

describe('protecting a file server', () => {
  it('refuses invalid settings with a clear message and saves nothing', async () => {
    const caller = callerFor(h.t.operator.id);
    const good = await wizardSettings();
    const before = await ownerDb().protectionPair.count({ where: { customerId: h.t.customerX.id } });
    const zero = await expectCode(
      caller.pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId, settings: { ...good, failover: { ...good.failover, monitor: { ...good.failover.monitor, intervalSeconds: 0 } } } }),
      'BAD_REQUEST',
    );
    expect(zero.message).toMatch(/interval is at least 1 second/);
    const noZone = await expectCode(caller.pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId, settings: { ...good, dns: { ...good.dns, zone: '' } } }), 'BAD_REQUEST');
    expect(noZone.message).toMatch(/zone/);
    const missing = await expectCode(
      caller.pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId, settings: { ...good, replicationSet: { roots: [path.join(share, 'no-such-dir')], rules: [] } } }),
      'BAD_REQUEST',
    );
    expect(missing.message).toMatch(/no-such-dir \(does not exist\)/);
    const self = await expectCode(caller.pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId: sourceServerId, settings: good }), 'BAD_REQUEST');
    expect(self.message).toMatch(/This is the source server/);
    await expectCode(callerFor(h.t.viewer.id).pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId, settings: good }), 'FORBIDDEN');
    expect(await ownerDb().protectionPair.count({ where: { customerId: h.t.customerX.id } })).toBe(before);
  });

  it('enables protection as an operation with visible steps; the mirror finishes and the pair is protected', async () => {
    const caller = callerFor(h.t.operator.id);
    pairId = (await caller.pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId, settings: await wizardSettings() })).id;
    expect((await pair()).status).toBe('unprotected');
    // Validation is not this test's subject: a passing run lets the enable gate through.
    await recordPassingValidation(pairId);
    const { operationId } = await caller.pair.enable({ pairId });
    const op = await waitFor(
      'enable operation finished',
      async () => {
        const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
        return o.status === 'succeeded' || o.status === 'failed' ? o : null;
      },
      60_000,
    );
    expect(op.error).toBeNull();
    expect(op.steps.map((s) => [s.kind, s.status])).toEqual([
      ['agents.check', 'succeeded'],
      ['replication.check-set', 'succeeded'],
      ['replication.start', 'succeeded'],
      ['replication.start', 'succeeded'],
      ['monitor.start', 'succeeded'],
      ['monitor.start', 'succeeded'],
      ['pair.set-state', 'succeeded'],
    ]);
    // The key travels only to the agents: it is sealed in the database and not in any step.
    const row = await pair();
    expect(row.pairKeyEnc).toMatch(/^v1\./);
    expect(JSON.stringify(op.steps)).not.toContain(row.pairKeyEnc!);

    await waitFor('pair protected', async () => (await pair()).status === 'protected', 60_000);
    expect(await waitEqual(share, path.join(targetRoot, share), 30_000)).toEqual([]);
    const events = await caller.pair.events({ pairId });
    expect(events.map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/initial mirror finished/i)]));

    // Continuous replication: an edit on the source reaches the target.
    fs.writeFileSync(path.join(share, 'new.txt'), 'written after the mirror');
    expect(await waitEqual(share, path.join(targetRoot, share), 30_000)).toEqual([]);
  }, 150_000);

  it('refuses configuration changes while protection is enabled', async () => {
    const caller = callerFor(h.t.operator.id);
    const current = (await caller.pair.settings({ pairId })).settings!;
    const err = await expectCode(caller.pair.update({ pairId, settings: { ...current, name: 'Renamed' } }), 'CONFLICT');
    expect(err.message).toMatch(/disable protection before changing/);
    expect((await pair()).name).toBe('Protected share');
  });

  it('turns failure monitoring off and on without touching replication', async () => {
    const caller = callerFor(h.t.operator.id);
    const targetAgent = await ownerDb().agent.findUniqueOrThrow({ where: { serverId: targetServerId } });
    // Each switch is an operation the worker runs; the call returns its id at once.
    const switched = async (enabled: boolean) => {
      const { operationId } = await caller.pair.setMonitoring({ pairId, enabled });
      return waitFor(`monitoring ${enabled ? 'on' : 'off'} finished`, async () => {
        const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId! }, include: { steps: { orderBy: { position: 'asc' } } } });
        return o.status === 'succeeded' || o.status === 'failed' ? o : null;
      });
    };
    const off = await switched(false);
    expect(off).toMatchObject({ kind: 'monitoring_off', status: 'succeeded' });
    expect(off.steps.map((s) => [s.kind, s.status])).toEqual([
      ['monitor.stop', 'succeeded'],
      ['monitor.stop', 'succeeded'],
      ['pair.set-monitoring', 'succeeded'],
    ]);
    expect((await h.bus.send(targetAgent.id, 'monitor.status', { pairId })).running).toBe(false);
    expect(await pair()).toMatchObject({ status: 'protected', monitoringStatus: 'off' });
    fs.writeFileSync(path.join(share, 'while-unmonitored.txt'), 'still replicated');
    expect(await waitEqual(share, path.join(targetRoot, share), 30_000)).toEqual([]);
    // Already off: nothing to do, no operation.
    expect(await caller.pair.setMonitoring({ pairId, enabled: false })).toEqual({ operationId: null });
    const on = await switched(true);
    expect(on).toMatchObject({ kind: 'monitoring_on', status: 'succeeded' });
    expect(on.steps.map((s) => s.kind)).toEqual(['agents.check', 'monitor.start', 'monitor.start', 'pair.set-monitoring']);
    expect((await pair()).monitoringStatus).toBe('watching');
    expect(await h.bus.send(targetAgent.id, 'monitor.status', { pairId })).toMatchObject({ running: true, role: 'target' });
    await expectCode(callerFor(h.t.viewer.id).pair.setMonitoring({ pairId, enabled: false }), 'FORBIDDEN');
  }, 60_000);

  it('a cut between target and source alone is recorded but never makes the pair failover-pending', async () => {
    await waitFor('target reports the source reachable', async () => (await ownerDb().pairMonitor.findUnique({ where: { pairId } }))?.targetState === 'ok', 20_000);
    cutLink();
    try {
      const monitor = await waitFor('target reports the source lost', async () => {
        const m = await ownerDb().pairMonitor.findUnique({ where: { pairId } });
        return m?.targetState === 'lost' ? m : null;
      }, 20_000);
      expect(monitor.targetEvidence).toEqual([expect.objectContaining({ address: '127.0.0.1', reachable: false })]);
      await waitFor('a warning event about the one-sided loss', async () => {
        const events = await ownerDb().pairEvent.findMany({ where: { pairId, kind: 'monitor', severity: 'warning' } });
        return events.some((e) => /control plane still sees the source agent/.test(e.message));
      }, 20_000);
      // More sweeps see the same one-sided loss (detection depends on the reports, not on how long
      // ago the loss began): still protected. Run here rather than waited for.
      for (let i = 0; i < 3; i++) await sweepDetection(db);
      expect(await pair()).toMatchObject({ status: 'protected', monitoringStatus: 'watching' });
      expect((await ownerDb().pairMonitor.findUniqueOrThrow({ where: { pairId } })).verdict).toBe('target');
    } finally {
      restoreLink();
    }
    await waitFor('target sees the source again', async () => (await ownerDb().pairMonitor.findUnique({ where: { pairId } }))?.targetState === 'ok', 20_000);
  }, 90_000);

  it('stopping the source agent makes the pair failover-pending after about interval × missed, with evidence', async () => {
    const stoppedAt = Date.now();
    await stopSource('SIGKILL');
    const row = await waitFor('failover pending', async () => {
      const p = await pair();
      return p.status === 'failover_pending' ? p : null;
    }, 30_000);
    expect(row.monitoringStatus).toBe('source_lost');
    expect(row.autoFailoverMarked).toBe(false); // manual intervention is on
    const detection = await ownerDb().pairEvent.findFirstOrThrow({ where: { pairId, kind: 'detection' }, orderBy: { at: 'desc' } });
    expect(detection.severity).toBe('error');
    expect(detection.message).toMatch(/both the target and the control plane/);
    const evidence = detection.evidence as { target: { state: string; addresses: { address: string; reachable: boolean }[] }; control: { sourceAgentStatus: string } };
    expect(evidence.target.state).toBe('lost');
    expect(evidence.target.addresses[0]).toMatchObject({ address: '127.0.0.1', reachable: false });
    expect(evidence.control.sourceAgentStatus).toBe('offline');
    // Not instant: the target needs three missed one-second probes first.
    expect(detection.at.getTime() - stoppedAt).toBeGreaterThanOrEqual(2_000);

    // The source comes back before anyone failed over: the pair returns to protected.
    runSource();
    await waitFor('protected again', async () => (await pair()).status === 'protected', 45_000);
    expect((await pair()).monitoringStatus).toBe('watching');
  }, 120_000);

  it('disables protection: replication and monitoring stop on both agents, the configuration stays', async () => {
    const caller = callerFor(h.t.operator.id);
    await h.online(sourceAgentId);
    const { operationId } = await caller.pair.disable({ pairId });
    await waitFor('disable finished', async () => (await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } })).status === 'succeeded', 60_000);
    expect(await pair()).toMatchObject({ status: 'unprotected', monitoringStatus: 'off', name: 'Protected share' });
    for (const serverId of [sourceServerId, targetServerId]) {
      const agent = await ownerDb().agent.findUniqueOrThrow({ where: { serverId } });
      // The source has just come back (the test before): should its connection have dropped
      // during the disable, its stop step was skipped and the gateway tells it again when it
      // next reports the pair, so both stop, at once or shortly after.
      await waitFor(`replication and monitoring stopped on ${serverId}`, async () => {
        const status = await h.bus.send(agent.id, 'replication.status', { pairId });
        const monitor = await h.bus.send(agent.id, 'monitor.status', { pairId });
        return !status.running && !monitor.running;
      }, 30_000);
    }
    // Now the configuration may change, and enabling again reuses it (and the same key).
    const current = (await caller.pair.settings({ pairId })).settings!;
    await caller.pair.update({ pairId, settings: { ...current, connection: { ...current.connection, compression: 'fast' } } });
    expect((await caller.pair.settings({ pairId })).settings!.connection.compression).toBe('fast');

    // Every change above is in the audit trail, by the operator who made it.
    const audit = await ownerDb().auditEvent.findMany({ where: { targetId: pairId }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((e) => e.action)).toEqual(['pair.create', 'pair.enable', 'pair.monitoring.disable', 'pair.monitoring.enable', 'pair.disable', 'pair.update']);
    expect(audit.every((e) => e.actorId === h.t.operator.id)).toBe(true);
  }, 90_000);

  it('an agent that was offline while protection was disabled is told to stop when it returns', async () => {
    const caller = callerFor(h.t.operator.id);
    // Validation is not this test's subject: a passing run lets the enable gate through.
    await recordPassingValidation(pairId);
    const { operationId: enableId } = await caller.pair.enable({ pairId });
    await waitFor('enabled again', async () => (await ownerDb().operation.findUniqueOrThrow({ where: { id: enableId } })).status === 'succeeded', 60_000);
    await waitFor('protected again', async () => (await pair()).status === 'protected', 60_000);

    await stopSource('SIGKILL');
    await waitFor('source agent offline', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: sourceAgentId } })).status === 'offline');
    const { operationId } = await caller.pair.disable({ pairId });
    const op = await waitFor('disable finished', async () => {
      const o = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
      return o.status === 'succeeded' || o.status === 'failed' ? o : null;
    }, 60_000);
    expect(op.status).toBe('succeeded');
    // The source's steps could not reach it; the target's and the state change could.
    expect(op.steps.map((s) => s.status)).toEqual(['succeeded', 'skipped', 'skipped', 'succeeded', 'succeeded']);
    expect(op.steps[1]!.error).toMatch(/is offline/);
    const warning = await ownerDb().pairEvent.findFirstOrThrow({ where: { pairId, kind: 'operation' }, orderBy: { at: 'desc' } });
    expect(warning.severity).toBe('warning');
    expect(warning.message).toMatch(/could not be reached/);

    // The source comes back and resumes the pair it persisted; the gateway sees statistics of a
    // disabled pair and stops it.
    runSource();
    await h.online(sourceAgentId);
    await waitFor(
      'the returning source stopped replicating',
      async () => {
        const status = await h.bus.send(sourceAgentId, 'replication.status', { pairId });
        const monitor = await h.bus.send(sourceAgentId, 'monitor.status', { pairId });
        return !status.running && !monitor.running;
      },
      30_000,
    );
    expect(await pair()).toMatchObject({ status: 'unprotected', monitoringStatus: 'off' });
  }, 150_000);
});
