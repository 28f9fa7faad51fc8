// A PostgreSQL streaming pair as production has one before it is protected, all real parts on
// loopback: two PostgreSQL 15 clusters (source and target instance), a gateway and two enrolled
// agents, a BIND 9 holding the zone with the source's A record and a TSIG key (stored as a
// dns_tsig Credential, sealed like the portal seals it), DNS failover through that server, an
// extra failover service on the target (a real SysV init script), and the worker's operations
// runner on a private queue prefix. Used by the validation acceptance test and the catalogue
// benchmark.
//
// Both agents run on this one machine, so the target's extra service is the only copy of that
// script; the source's instance is set up the way a well-run production source is (the pair's
// replication slot exists, slot WAL retention capped), so a validation run of the pair as built
// here is clean except for what a caller breaks on purpose.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { createPrismaClient, type Db } from '@tandem/db';
import { ownerDb } from '@tandem/db/testing';
import { pairSettingsSchema, settingsToColumns, type PairSettings } from '@tandem/engine';
import { factsSchema } from '@tandem/protocol';
import { sealSecret } from '@tandem/security';
import { pgSlotName } from '../../../apps/worker/src/operations/steps';
import { redisConnection, startOperationsWorker } from '../../../apps/worker/src/queues';
import { freePort, startGateway, waitFor } from './agents';
import { startBind, type Bind } from './bind';
import { validPairSettings } from './pair-settings';
import { asPostgres, ClusterRoot, PG_BIN, type TempCluster } from './postgresql/cluster';
import { ReplicationHarness, type Enrolled } from './replication/agents';
import { installTestService, type TestService } from './sysv-service';
import { storeTsigCredential } from './failover';

export const ZONE = 'corp.test';
export const SOURCE_NAME = `db.${ZONE}`;

/**
 * The machine's own (non-loopback) IPv4 address: the source's name resolves to it and failover
 * maps it to itself, since both "servers" are this one machine (agents report no loopback, and
 * the address map must name addresses configured on the nodes).
 */
export function machineAddress(): string {
  const found = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('this machine has no non-loopback IPv4 address for the pair');
  return found.address;
}

/** The reverse zone of an IPv4 address (its /24) and the record's name in it. */
export function reverseOf(address: string) {
  const [a, b, c, d] = address.split('.');
  return { zone: `${c}.${b}.${a}.in-addr.arpa`, label: d! };
}

export class ValidationPair {
  readonly h: ReplicationHarness;
  readonly roots = new ClusterRoot();
  readonly prefix: string;
  db!: Db;
  worker?: Worker;
  bind!: Bind;
  /** The source's and the target's PostgreSQL instance. */
  A!: TempCluster;
  B!: TempCluster;
  source!: Enrolled;
  target!: Enrolled;
  /** The extra failover service (installed on the target, stopped, no boot links). */
  service!: TestService;
  credentialId!: string;
  pairId!: string;
  settings!: PairSettings;
  readonly address = machineAddress();

  constructor(readonly label: string) {
    this.h = new ReplicationHarness(label);
    const prefix = process.env.TANDEM_QUEUE_PREFIX;
    if (!prefix) throw new Error('set TANDEM_QUEUE_PREFIX before building a ValidationPair (the web enqueues on it too)');
    this.prefix = prefix;
  }

  tenant() {
    return { organizationId: this.h.t.org.id, customerId: this.h.t.customerX.id };
  }

  /** Everything up, the pair stored (unprotected). */
  async setup() {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('a validation pair needs root on Linux (PostgreSQL as postgres, a SysV init script)');
    await this.h.setup();
    // The test gateway pings every 0.5 s and drops an agent silent for two pings; on a loaded
    // machine (test files share two cores) an agent collecting facts can miss that. A gateway
    // with production-like pings instead.
    await this.h.gw.stop();
    this.h.running.splice(this.h.running.indexOf(this.h.gw), 1);
    this.h.gw = await startGateway({ heartbeatMs: 5_000 });
    this.h.running.push(this.h.gw);
    this.db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 3 });
    this.worker = startOperationsWorker(redisConnection(process.env.REDIS_URL!), this.db, this.h.bus, { prefix: this.prefix });
    await this.worker.waitUntilReady();
    this.service = installTestService(this.label);
    [this.A, this.B] = await Promise.all([this.roots.create('src', ['--data-checksums']), this.roots.create('dst', ['--data-checksums'])]);
    // The target instance serves the address clients reach after failover (as a production standby does).
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', this.B.dataDir, '-l', this.B.logFile, '-w', '-t', '30', '-o', `-p ${this.B.port} -k ${this.B.socketDir} -c listen_addresses=127.0.0.1,${this.address} -c fsync=off`, 'restart']);
    const reverse = reverseOf(this.address);
    this.bind = await startBind([
      { name: ZONE, records: `db IN A ${this.address}\nother IN A 10.1.0.99\n` },
      { name: reverse.zone, records: `${reverse.label} IN PTR ${SOURCE_NAME}.\n` },
    ]);
    this.credentialId = await storeTsigCredential(this.h, this.bind, this.label);

    this.source = await this.h.enrolAndRun('pg-source');
    this.target = await this.h.enrolAndRun('pg-target');
    // An installed agent has its hook directory (enrolment alone does not make it).
    for (const a of [this.source, this.target]) fs.mkdirSync(path.join(a.dir, 'hooks'), { recursive: true, mode: 0o755 });
    await Promise.all([this.online(this.source.agentId), this.online(this.target.agentId)]);
    // The agents collect facts when they connect; the clusters were already running.
    await waitFor('both instances in the facts', async () => (await this.reports(this.source.serverId, this.A.dataDir)) && (await this.reports(this.target.serverId, this.B.dataDir)), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.source.handle.output().slice(-1000)}\n${this.target.handle.output().slice(-1000)}\n${this.h.gw.output().slice(-3000)}`);
    });

    this.settings = pairSettingsSchema.parse(await this.pairSettings());
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: this.h.t.org.id,
        customerId: this.h.t.customerX.id,
        sourceServerId: this.source.serverId,
        targetServerId: this.target.serverId,
        replicationMethod: 'postgresql_streaming',
        ...settingsToColumns(this.settings),
      },
    });
    this.pairId = pair.id;
    // A well-run source: the pair's slot already retains WAL, and slots may not fill the disk.
    this.A.psql(`SELECT pg_create_physical_replication_slot('${pgSlotName(this.pairId)}')`);
    this.A.psql("ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'");
    this.A.psql('SELECT pg_reload_conf()');
  }

  /** DNS failover of the database's A record through BIND, the extra service, the two instances. */
  private async pairSettings(): Promise<PairSettings> {
    const base = validPairSettings();
    return {
      ...base,
      name: `${this.label} orders ${randomUUID().slice(0, 6)}`,
      application: 'postgresql',
      replicationSet: null,
      failover: {
        ...base.failover,
        enabled: true,
        type: 'dns',
        // The clusters are not system services here; the database steps do their work.
        services: [],
        extraServices: [this.service.name],
        monitor: { ...base.failover.monitor, addresses: [this.address], port: await freePort(), intervalSeconds: 1, missed: 3 },
      },
      connection: {
        ...base.connection,
        route: '127.0.0.1',
        port: await freePort(),
        database: { sourceDataDir: this.A.dataDir, sourcePort: this.A.port, targetDataDir: this.B.dataDir, targetPort: this.B.port, sourceAddress: '127.0.0.1', allowSourceRestart: true },
      },
      dns: {
        ...base.dns,
        provider: 'rfc2136',
        servers: [`127.0.0.1:${this.bind.port}`],
        zone: ZONE,
        addressMap: [{ source: this.address, target: this.address }],
        ttlSeconds: 60,
        credentialId: this.credentialId,
        executorServerId: null,
        records: [{ zone: ZONE, name: SOURCE_NAME, type: 'A' }],
      },
    };
  }

  online(agentId: string) {
    return waitFor(`agent ${agentId} online`, async () => (await this.h.bus.locate(agentId)) !== null, 60_000);
  }

  /** Whether a server's reported facts list a PostgreSQL instance in `dataDir`. */
  private async reports(serverId: string, dataDir: string) {
    const s = await ownerDb().server.findUniqueOrThrow({ where: { id: serverId } });
    const facts = factsSchema.safeParse(s.facts);
    return facts.success && facts.data.applications.status === 'ok' && facts.data.applications.data.some((a) => a.kind === 'postgresql' && a.dataDirectory === dataDir);
  }

  /** Starts the extra service on the target and makes it start at boot (rc links). */
  startServiceAtBoot() {
    execFileSync(this.service.scriptPath, ['start']);
    execFileSync('update-rc.d', [this.service.name, 'defaults'], { stdio: 'ignore' });
  }

  /** Boot links of the extra service (none: it starts only by hand). */
  serviceBootLinks(): string[] {
    return ['2', '3', '4', '5'].flatMap((l) => {
      try {
        return execFileSync('ls', [`/etc/rc${l}.d`], { encoding: 'utf8' })
          .split('\n')
          .filter((e) => /^S\d\d/.test(e) && e.slice(3) === this.service.name);
      } catch {
        return [];
      }
    });
  }

  /** Replaces the stored TSIG secret with another valid-looking key BIND does not know. */
  async breakDnsKey() {
    const wrong = randomBytes(32).toString('base64');
    await ownerDb().credential.update({ where: { id: this.credentialId }, data: { secretEnc: sealSecret(wrong, `credential:${this.credentialId}:secret`) } });
  }

  /** ALTER SYSTEM on the target's instance, restarted when a setting needs it (else reloaded). */
  setTargetSettings(settings: Record<string, string>, restart = false) {
    for (const [k, v] of Object.entries(settings)) this.B.psql(`ALTER SYSTEM SET ${k} = '${v}'`);
    if (restart) asPostgres(`${PG_BIN}/pg_ctl`, ['-D', this.B.dataDir, '-l', this.B.logFile, '-w', '-t', '30', 'restart']);
    else this.B.psql('SELECT pg_reload_conf()');
  }

  /** A setting as the instance reports it now (SHOW). */
  static show(c: TempCluster, name: string): string {
    return c.psql(`SHOW ${name}`);
  }

  async teardown() {
    await this.worker?.close();
    this.roots.stopAll();
    await this.bind?.stop();
    await this.h.teardown();
    await this.db?.$disconnect();
    this.service?.remove();
  }
}
