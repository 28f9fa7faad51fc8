// A protected file pair ready to fail over, for the failover/failback tests: two real agents
// (the source sees a real NFS export), a gateway, the pair created and enabled through the API
// (the same path as the portal), a real BIND 9 holding the source's records, and a dns_tsig
// credential for it. The worker is the test's business (in process, or a child it can kill).
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import type { PairSettings } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { callerFor } from '../helpers';
import { agentBundle, agentCli, enrollmentToken, freePort, tempDir, waitFor } from './agents';
import { startBind, type Bind } from './bind';
import { spawnAgentWithExports } from './file-shares';
import { ReplicationHarness, waitEqual, writeFiles, type Enrolled } from './replication/agents';
import { finished, queueOperation, recordPassingValidation } from './validation';

export const ZONE = 'corp.test';
export const REVERSE_ZONE = '1.10.in-addr.arpa';
export const SOURCE_IP = '10.1.0.5';
export const TARGET_IP = '10.1.0.6';

/** The zone: the source's name, a CNAME chain to it, an MX naming it, unrelated records that must never change. */
export const zoneRecords = [
  `fs1 IN A ${SOURCE_IP}`,
  'files IN CNAME fs1',
  'www IN CNAME files',
  `@ IN MX 10 fs1.${ZONE}.`,
  'other IN A 10.1.0.99',
  'fs2 IN A 10.1.0.7',
].join('\n');
export const reverseRecords = [`5.0 IN PTR fs1.${ZONE}.`, `99.0 IN PTR other.${ZONE}.`].join('\n');

export interface FailoverSetup {
  h: ReplicationHarness;
  bind: Bind;
  pairId: string;
  share: string;
  targetRoot: string;
  credentialId: string;
  sourceServerId: string;
  targetServerId: string;
  sourceAgentId: string;
  targetAgentId: string;
  targetHooksDir: string;
  /** The target's agent (h.run(target.dir) starts it again). */
  target: Enrolled;
  /** Starts or restarts the source agent (its own mount namespace, with the export). */
  runSource: () => ChildProcess;
  stopSource: (signal?: NodeJS.Signals) => Promise<void>;
  teardown: () => Promise<void>;
}

export interface FailoverOptions {
  label: string;
  settings?: (s: PairSettings) => PairSettings;
}

/** Everything up to a protected pair (identical trees). The caller runs the operations worker. */
export async function protectedPair(o: FailoverOptions, startWorker: (h: ReplicationHarness) => Promise<void>): Promise<FailoverSetup> {
  const h = new ReplicationHarness(o.label);
  await h.setup();
  const bind = await startBind([
    { name: ZONE, records: zoneRecords },
    { name: REVERSE_ZONE, records: reverseRecords },
  ]);
  await startWorker(h);

  const data = tempDir(`${o.label}-data`);
  h.cleanup.push(data);
  const share = path.join(data, 'srv', 'share');
  const targetRoot = path.join(data, 'replica');
  fs.mkdirSync(share, { recursive: true });
  fs.mkdirSync(targetRoot, { recursive: true });
  writeFiles(share, 'doc', 10);

  const dir = tempDir(`${o.label}-source`);
  h.cleanup.push(dir);
  const sourceConfig = path.join(dir, 'agent.json');
  const token = await enrollmentToken(h.t.customerX);
  const res = await agentCli(['enroll', '--url', h.gw.url, `--token=${token}`, '--config', sourceConfig, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', `${o.label}-src-${randomUUID().slice(0, 6)}`]);
  expect(res.output).toContain('Enrolled as agent');
  const { agentId: sourceAgentId, serverId: sourceServerId } = JSON.parse(fs.readFileSync(sourceConfig, 'utf8')) as { agentId: string; serverId: string };
  let sourceChild: ChildProcess | undefined;
  const runSource = () => {
    sourceChild = spawnAgentWithExports(agentBundle, sourceConfig, [share], { ...process.env, TANDEM_AGENT_BACKOFF_BASE_MS: '100', TANDEM_AGENT_BACKOFF_MAX_MS: '1000' });
    return sourceChild;
  };
  const stopSource = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const child = sourceChild;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  };
  runSource();
  const target = await h.enrolAndRun('target');
  await h.online(sourceAgentId);
  await h.online(target.agentId);
  await waitFor('facts of both servers', async () => {
    const servers = await ownerDb().server.findMany({ where: { id: { in: [sourceServerId, target.serverId] } } });
    return servers.length === 2 && servers.every((s) => s.facts !== null);
  }, 30_000);

  const credentialId = await storeTsigCredential(h, bind, o.label);

  const caller = callerFor(h.t.operator.id);
  const wizard = await caller.pair.wizard({ customerId: h.t.customerX.id, sourceServerId, application: 'file_server', targetServerId: target.serverId });
  const d = wizard.defaults!;
  const dataPort = await freePort();
  const monitorPort = await freePort();
  const base: PairSettings = {
    ...d,
    name: `${o.label} share`,
    failover: {
      ...d.failover,
      type: 'dns',
      services: [],
      drainTimeoutSeconds: 20,
      serviceTimeoutSeconds: 20,
      monitor: { ...d.failover.monitor, addresses: ['127.0.0.1'], port: monitorPort, intervalSeconds: 1, missed: 3 },
    },
    connection: { ...d.connection, route: '127.0.0.1', port: dataPort, targetRoot },
    dns: {
      ...d.dns,
      provider: 'rfc2136',
      servers: [`127.0.0.1:${bind.port}`],
      zone: ZONE,
      addressMap: [{ source: SOURCE_IP, target: TARGET_IP }],
      ttlSeconds: 60,
      credentialId,
      executorServerId: null,
      records: [
        { zone: ZONE, name: `fs1.${ZONE}`, type: 'A' },
        { zone: REVERSE_ZONE, name: `5.0.1.10.in-addr.arpa`, type: 'PTR' },
      ],
    },
  };
  const settings = o.settings ? o.settings(base) : base;
  const pairId = (await caller.pair.create({ customerId: h.t.customerX.id, sourceServerId, targetServerId: target.serverId, settings })).id;
  // Validation is not this test's subject: a passing run lets the enable gate through.
  await recordPassingValidation(pairId);
  const { operationId } = await caller.pair.enable({ pairId });
  const enabled = await waitFor('enable finished', async () => {
    const op = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } });
    return op.status === 'succeeded' || op.status === 'failed' ? op : null;
  }, 60_000);
  expect(enabled.error).toBeNull();
  await waitFor('pair protected', async () => (await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pairId } })).status === 'protected', 60_000);
  expect(await waitEqual(share, path.join(targetRoot, share), 30_000)).toEqual([]);

  return {
    h,
    bind,
    pairId,
    share,
    targetRoot,
    credentialId,
    sourceServerId,
    targetServerId: target.serverId,
    sourceAgentId,
    targetAgentId: target.agentId,
    targetHooksDir: path.join(target.dir, 'hooks'),
    target,
    runSource,
    stopSource,
    teardown: async () => {
      await stopSource('SIGKILL');
      await bind.stop();
      await h.teardown();
    },
  };
}

/** The TSIG key BIND accepts, stored as the portal stores it (sealed, bound to its row); its id. */
export async function storeTsigCredential(h: ReplicationHarness, bind: Bind, label: string): Promise<string> {
  const credentialId = randomUUID();
  await ownerDb().credential.create({
    data: {
      id: credentialId,
      organizationId: h.t.org.id,
      customerId: h.t.customerX.id,
      kind: 'dns_tsig',
      name: `${label} key ${credentialId.slice(0, 6)}`,
      secretEnc: sealSecret(bind.key.secret, `credential:${credentialId}:secret`),
      publicInfo: { keyName: bind.key.name, algorithm: bind.key.algorithm },
    },
  });
  return credentialId;
}

/** A failover or failback operation as the portal creates it (no steps: the worker plans), queued. */
export async function startOperation(s: FailoverSetup, kind: 'failover' | 'failback', options: Record<string, string | boolean>, prefix: string): Promise<string> {
  return queueOperation({ organizationId: s.h.t.org.id, customerId: s.h.t.customerX.id }, s.pairId, kind, options, s.h.t.operator.id, prefix);
}

export function finishedOperation(operationId: string, timeoutMs = 90_000) {
  return finished(operationId, timeoutMs);
}

/** The zone's records as `dig AXFR` lists them, sorted, without the SOA (its serial moves with every update). */
export async function zoneDump(bind: Bind, zone: string): Promise<string[]> {
  const lines = await bind.dig(zone, 'AXFR', ['+noshort', '+nocmd', '+nostats', '+onesoa', '-y', `hmac-sha256:${bind.key.name}:${bind.key.secret}`]);
  return lines
    .filter((l) => !l.startsWith(';'))
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] !== 'SOA')
    .map((f) => f.join(' '))
    .sort();
}

/** The zone's SOA serial. */
export async function soaSerial(bind: Bind, zone: string): Promise<number> {
  const [soa] = await bind.dig(zone, 'SOA');
  return Number(soa!.split(/\s+/)[2]);
}
