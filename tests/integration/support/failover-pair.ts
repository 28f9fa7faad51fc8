// A file pair ready to fail over, all real parts on loopback: a gateway, two enrolled agents, a
// BIND 9 serving corp.test and its reverse zone with a TSIG key (stored as a dns_tsig Credential,
// sealed like the portal seals it), a SysV init script standing for the protected service, and the
// worker's operations and detection workers on a private queue prefix.
// Used by failover-planning, failover-fencing and failover-automatic.
//
// Both agents run on this one machine, so "the source's service" and "the target's service" are
// the same init script: a test reads its state at the moment it means one side.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Queue, Worker } from 'bullmq';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { settingsToColumns, type PairSettings } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { detectionQueue, operationsQueue, redisConnection, scheduleDetection, startDetectionWorker, startOperationsWorker, type WatchJob } from '../../../apps/worker/src/queues';
import { callerFor } from '../helpers';
import { freePort, tempDir, waitFor } from './agents';
import { startBind, type Bind } from './bind';
import { validPairSettings } from './pair-settings';
import { ReplicationHarness, writeFiles, type Enrolled } from './replication/agents';
import { installTestService, type TestService } from './sysv-service';
import { storeTsigCredential } from './failover';
import { finished, recordPassingValidation } from './validation';

export const ZONE = 'corp.test';
export const REVERSE_ZONE = '2.0.192.in-addr.arpa';
export const SOURCE_NAME = `fs01.${ZONE}`;
export const SOURCE_ADDRESS = '192.0.2.10';
export const TARGET_ADDRESS = '192.0.2.20';

export class FailoverPair {
  readonly h: ReplicationHarness;
  readonly prefix: string;
  db!: Db;
  bind!: Bind;
  source!: Enrolled;
  target!: Enrolled;
  credentialId!: string;
  operations!: Queue<OperationJob>;
  detection!: Queue<WatchJob>;
  workers: Worker[] = [];
  share!: string;
  targetRoot!: string;
  dataPort!: number;
  monitorPort!: number;
  /** The protected service, installed by setup(). */
  private testService?: TestService;

  constructor(readonly label: string) {
    this.h = new ReplicationHarness(label);
    this.prefix = process.env.TANDEM_QUEUE_PREFIX!;
  }

  /** The protected service's name. */
  get service(): string {
    if (!this.testService) throw new Error('FailoverPair.setup() has not run');
    return this.testService.name;
  }

  /** Everything up: agents online with facts, BIND answering, workers ready. */
  async setup(opts: { detectionEveryMs?: number } = {}) {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('these tests need root on Linux (they install a SysV init script)');
    this.testService = installTestService('fo');
    await this.h.setup();
    this.bind = await startBind([
      { name: ZONE, records: `fs01 IN A ${SOURCE_ADDRESS}\nwww IN CNAME fs01\n` },
      { name: REVERSE_ZONE, records: `10 IN PTR ${SOURCE_NAME}.\n` },
    ]);
    this.credentialId = await storeTsigCredential(this.h, this.bind, this.label);
    this.db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 4 });
    const connection = redisConnection(process.env.REDIS_URL!);
    this.operations = operationsQueue(connection, { prefix: this.prefix });
    this.detection = detectionQueue(connection, { prefix: this.prefix });
    await scheduleDetection(this.detection, opts.detectionEveryMs ?? 500);
    this.workers = [
      startOperationsWorker(connection, this.db, this.h.bus, { prefix: this.prefix }),
      // DNS is re-asserted for this test's organization only: other tests may change their records on purpose.
      startDetectionWorker(connection, this.db, { prefix: this.prefix, bus: this.h.bus, operations: this.operations, dnsReassertOrganizationId: this.h.t.org.id }),
    ];
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));

    const data = tempDir(`${this.label}-data`);
    this.h.cleanup.push(data);
    this.share = path.join(data, 'share');
    this.targetRoot = path.join(data, 'replica');
    fs.mkdirSync(this.share, { recursive: true });
    fs.mkdirSync(this.targetRoot, { recursive: true });
    writeFiles(this.share, 'doc', 5);
    this.dataPort = await freePort();
    this.monitorPort = await freePort();

    this.source = await this.h.enrolAndRun('source');
    this.target = await this.h.enrolAndRun('target');
    await this.online(this.source.agentId, this.source.handle);
    await this.online(this.target.agentId, this.target.handle);
    await waitFor(
      'facts of both servers',
      async () => {
        const servers = await ownerDb().server.findMany({ where: { id: { in: [this.source.serverId, this.target.serverId] } } });
        return servers.length === 2 && servers.every((s) => s.facts !== null);
      },
      60_000,
    );
  }

  /** An agent is reachable through the gateway (generous: a loaded machine starts agents slowly). */
  online(agentId: string, agent?: { output: () => string; child: { exitCode: number | null; signalCode: string | null } }) {
    return waitFor(`agent ${agentId} online`, async () => (await this.h.bus.locate(agentId)) !== null, 60_000).catch((err: Error) => {
      // What the two processes said is what tells why (a crash, a refused credential, a gateway down).
      const state = agent ? `exit code ${agent.child.exitCode}, signal ${agent.child.signalCode}` : 'not started here';
      throw new Error(`${err.message}\nthe agent (${state}) said:\n${agent?.output().slice(-3000) ?? ''}\nthe gateway said:\n${this.h.gw.output().slice(-3000)}`);
    });
  }

  async teardown() {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.detection?.obliterate({ force: true }).catch(() => undefined);
    await this.detection?.close();
    await this.operations?.close();
    await this.h.teardown();
    await this.bind?.stop();
    await this.db?.$disconnect();
    this.testService?.remove();
  }

  /** DNS failover of fs01's A record and its PTR, immediate, the test service, monitor on loopback. */
  settings(over: { manualIntervention?: boolean; mode?: 'graceful' | 'immediate'; name?: string } = {}): PairSettings {
    const base = validPairSettings();
    return {
      ...base,
      name: over.name ?? `${this.label} ${randomUUID().slice(0, 6)}`,
      replicationSet: { roots: [this.share], rules: [] },
      failover: {
        ...base.failover,
        enabled: true,
        type: 'dns',
        services: [this.service],
        manualIntervention: over.manualIntervention ?? true,
        mode: over.mode ?? 'immediate',
        serviceTimeoutSeconds: 20,
        monitor: { ...base.failover.monitor, addresses: ['127.0.0.1'], port: this.monitorPort, intervalSeconds: 1, missed: 3 },
      },
      connection: { ...base.connection, route: '127.0.0.1', port: this.dataPort, targetRoot: this.targetRoot },
      dns: {
        ...base.dns,
        servers: [`127.0.0.1:${this.bind.port}`],
        zone: ZONE,
        addressMap: [{ source: SOURCE_ADDRESS, target: TARGET_ADDRESS }],
        ttlSeconds: 60,
        credentialId: this.credentialId,
        records: [
          { zone: ZONE, name: SOURCE_NAME, type: 'A' },
          { zone: REVERSE_ZONE, name: `10.${REVERSE_ZONE}`, type: 'PTR' },
        ],
      },
    };
  }

  /** A pair row with these settings (the API's create checks the set through the agent; not needed here). */
  async createPair(settings: PairSettings, status: 'unprotected' | 'protected' = 'unprotected'): Promise<string> {
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: this.h.t.org.id,
        customerId: this.h.t.customerX.id,
        sourceServerId: this.source.serverId,
        targetServerId: this.target.serverId,
        replicationMethod: 'file',
        status,
        ...settingsToColumns(settings),
      },
    });
    return pair.id;
  }

  /** Enables protection through the API and waits until the mirror finished (protected, monitor watching). */
  async enable(pairId: string) {
    // Validation is not this test's subject: a passing run lets the enable gate through.
    await recordPassingValidation(pairId);
    const { operationId } = await callerFor(this.h.t.operator.id).pair.enable({ pairId });
    const op = await this.finished(operationId);
    if (op.status !== 'succeeded') throw new Error(`enable failed: ${op.error}`);
    await waitFor('pair protected', async () => (await this.pair(pairId)).status === 'protected', 60_000);
  }

  /** Stops the source's agent (as if the server died) and waits until the control plane sees it offline. */
  async stopSource() {
    await this.source.handle.stop('SIGKILL');
    await waitFor('source agent offline', async () => (await ownerDb().agent.findUniqueOrThrow({ where: { id: this.source.agentId } })).status === 'offline', 30_000);
  }

  /** Starts the source's agent again from its saved configuration (it persisted its pairs). */
  async restartSource() {
    this.source = { ...this.source, handle: this.h.run(this.source.dir) };
    await this.online(this.source.agentId);
  }

  pair(pairId: string) {
    return ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } });
  }

  /** Waits until the operation has finished (succeeded or failed) and returns it with its steps. */
  finished(operationId: string, timeoutMs = 60_000) {
    return finished(operationId, timeoutMs);
  }

  /** Changes a record behind Tandem's back, as an administrator would, with the zone's key. */
  async nsupdate(commands: string[]) {
    const script = [`server 127.0.0.1 ${this.bind.port}`, ...commands, 'send', ''].join('\n');
    const keyArg = `${this.bind.key.algorithm}:${this.bind.key.name}:${this.bind.key.secret}`;
    await new Promise<void>((resolve, reject) => {
      const child = execFile('nsupdate', ['-y', keyArg], (err, _stdout, stderr) => (err ? reject(new Error(`nsupdate failed: ${stderr || err.message}`)) : resolve()));
      child.stdin?.end(script);
    });
  }

  /** The test service's state per its init script. */
  serviceRunning(): Promise<boolean> {
    return Promise.resolve(this.testService?.running() ?? false);
  }

  /** rc links of the test service (none: it starts only by hand). */
  serviceLinks(): string[] {
    return ['2', '3', '4', '5'].flatMap((l) => {
      try {
        return fs.readdirSync(`/etc/rc${l}.d`).filter((e) => e.endsWith(this.service) && e.startsWith('S'));
      } catch {
        return [];
      }
    });
  }
}
