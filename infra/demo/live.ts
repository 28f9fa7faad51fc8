// The live demo behind `npm start`: a customer "Live demo" with two real agents on this machine
// (files-a, the source, on 127.0.0.2; files-b, the target, on 127.0.0.3), the demo DNS server's
// TSIG key as a credential, and one protected file pair between them with DNS failover, so a
// newcomer can press Failover and Failback and watch `dig` change.
//
//   tsx infra/demo/live.ts prepare   enrols the two agents (once) and prints their config paths
//   tsx infra/demo/live.ts protect   waits for both agents, creates the pair (once), enables it
//
// Runs as the database owner like the seed. Idempotent: every run finds what an earlier run made.
// Enabling writes the same Operation the portal's "Enable protection" writes (planEnable) and
// leaves it to the worker.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createPrismaClient } from '@tandem/db';
import { pairKeyContext, pairSettingsSchema, planEnable, settingsToColumns, stepToRow, transition, type PairSettingsInput } from '@tandem/engine';
import { enqueueOperation, operationsQueue, redisConnection } from '@tandem/jobs';
import { credentialSecretContext, randomToken, sealSecret, sha256Hex } from '@tandem/security';

const root = path.resolve(import.meta.dirname, '../..');
const demoDir = path.join(root, '.data', 'demo');
const CUSTOMER = 'Live demo';
const PAIR = 'Demo file share';
const CREDENTIAL = 'Live demo DNS key';
const ACTOR = 'Tandem (demo set-up)';
const DATA_PORT = 16320;
const MONITOR_PORT = 16321;
const agents = [
  { hostname: 'files-a', role: 'source' },
  { hostname: 'files-b', role: 'target' },
] as const;

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const db = createPrismaClient(env('DATABASE_URL'), { max: 2 });
const configPath = (hostname: string) => path.join(demoDir, 'agents', hostname, 'agent.json');

async function demoCustomer() {
  const org = await db.organization.findUnique({ where: { slug: 'demo-msp' } });
  if (!org) throw new Error('the demo organization is missing: run the seed first');
  const customer =
    (await db.customer.findFirst({ where: { organizationId: org.id, name: CUSTOMER } })) ??
    (await db.customer.create({
      data: {
        organizationId: org.id,
        name: CUSTOMER,
        notes: 'Two real agents on this machine (files-a on 127.0.0.2, files-b on 127.0.0.3), a real BIND 9 on 127.0.0.1:53530 and one protected file pair. Try Failover on the pair, then: dig @127.0.0.1 -p 53530 files.demo.tandem.test',
      },
    }));
  return { org, customer };
}

/** Installs made before the live demo existed seeded pairs no agent backed; label and remove them. */
async function tidyOlderSeed(organizationId: string) {
  await db.customer.updateMany({ where: { organizationId, name: { in: ['Northwind Traders', 'Contoso Dental', 'Fabrikam Legal'] } }, data: { sample: true } });
  const stale = await db.protectionPair.findMany({ where: { organizationId, name: { in: ['ERP files', 'Document store'] }, source: { hostname: { in: ['nw-erp01', 'fl-docs'] } } } });
  for (const p of stale) {
    await db.protectionPair.delete({ where: { id: p.id } });
    await db.server.deleteMany({ where: { id: { in: [p.sourceServerId, p.targetServerId] } } });
  }
}

async function prepare() {
  const { org, customer } = await demoCustomer();
  await tidyOlderSeed(org.id);

  // The DNS server's key, sealed like any dns_tsig credential the portal stores.
  const secret = env('DEMO_TSIG_SECRET');
  const existing = await db.credential.findFirst({ where: { organizationId: org.id, name: CREDENTIAL } });
  const credentialId = existing?.id ?? randomUUID();
  const data = { kind: 'dns_tsig' as const, secretEnc: sealSecret(secret, credentialSecretContext(credentialId)), publicInfo: { keyName: env('DEMO_TSIG_KEY_NAME'), algorithm: 'hmac-sha256' } };
  if (existing) await db.credential.update({ where: { id: credentialId }, data });
  else await db.credential.create({ data: { id: credentialId, organizationId: org.id, customerId: customer.id, name: CREDENTIAL, ...data } });

  for (const a of agents) {
    const config = configPath(a.hostname);
    if (fs.existsSync(config)) {
      // A configuration from another database (reset, or a different DATABASE_URL) would be refused: enrol again.
      const { agentId } = JSON.parse(fs.readFileSync(config, 'utf8')) as { agentId?: string };
      const known = agentId ? await db.agent.findFirst({ where: { id: agentId, customerId: customer.id, status: { not: 'revoked' } } }) : null;
      if (known) continue;
      fs.rmSync(path.dirname(config), { recursive: true, force: true });
    }
    const token = randomToken();
    await db.enrollmentToken.create({ data: { organizationId: org.id, customerId: customer.id, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + 10 * 60_000) } });
    const hooksDir = path.join(path.dirname(config), 'hooks');
    execFileSync(process.execPath, [env('TANDEM_AGENT_BUNDLE'), 'enroll', '--url', env('TANDEM_GATEWAY_URL'), `--token=${token}`, '--config', config, '--hooks-dir', hooksDir, '--hostname', a.hostname], { stdio: 'inherit' });
  }
  process.stdout.write(`${JSON.stringify({ agents: agents.map((a) => ({ hostname: a.hostname, config: configPath(a.hostname) })) })}\n`);
}

async function waitForAgents(customerId: string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const servers = await db.server.findMany({ where: { customerId, hostname: { in: agents.map((a) => a.hostname) } }, include: { agent: true } });
    const ready = agents.map((a) => servers.find((s) => s.hostname === a.hostname && s.agent?.status === 'online' && s.factsAt));
    const [source, target] = ready;
    if (source && target) return { source, target };
    if (Date.now() > deadline) throw new Error('the demo agents did not come online within 90 s (see .data/demo/agents/*/agent.log)');
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function protect() {
  const { org, customer } = await demoCustomer();
  const { source, target } = await waitForAgents(customer.id);
  const credential = await db.credential.findFirstOrThrow({ where: { organizationId: org.id, name: CREDENTIAL } });
  const sourceDir = path.join(demoDir, 'files', 'source');
  const targetDir = path.join(demoDir, 'files', 'target');
  fs.mkdirSync(sourceDir, { recursive: true });
  fs.mkdirSync(targetDir, { recursive: true });
  const readme = path.join(sourceDir, 'README.txt');
  if (!fs.existsSync(readme)) fs.writeFileSync(readme, 'Files in this folder (files-a) are replicated to files-b. Change one and watch it arrive.\n');

  let pair = await db.protectionPair.findFirst({ where: { customerId: customer.id, name: PAIR } });
  if (!pair) {
    const input: PairSettingsInput = {
      name: PAIR,
      application: 'file_server',
      replicationSet: { roots: [sourceDir], rules: [] },
      failover: {
        type: 'dns',
        services: [],
        monitor: { method: 'agent', addresses: ['127.0.0.2'], port: MONITOR_PORT, intervalSeconds: 2, missed: 3 },
        manualIntervention: true,
        mode: 'graceful',
        drainTimeoutSeconds: 30,
      },
      connection: { route: '127.0.0.3', port: DATA_PORT, targetRoot: targetDir },
      dns: {
        servers: ['127.0.0.1:53530'],
        zone: 'demo.tandem.test',
        addressMap: [{ source: '127.0.0.2', target: '127.0.0.3' }],
        ttlSeconds: 60,
        credentialId: credential.id,
        records: [
          { zone: 'demo.tandem.test', name: 'files.demo.tandem.test', type: 'A' },
          { zone: '127.in-addr.arpa', name: '2.0.0.127.in-addr.arpa', type: 'PTR' },
        ],
      },
      hooks: {},
    };
    const settings = pairSettingsSchema.parse(input);
    pair = await db.protectionPair.create({
      data: { organizationId: org.id, customerId: customer.id, sourceServerId: source.id, targetServerId: target.id, replicationMethod: 'file', ...settingsToColumns(settings) },
    });
    await db.auditEvent.create({ data: { organizationId: org.id, customerId: customer.id, actorLabel: ACTOR, action: 'pair.create', targetType: 'ProtectionPair', targetId: pair.id, summary: `Created the live demo pair "${PAIR}"` } });
  }

  // Enabled once; later starts find it protected (or failed over) and leave it as it is.
  if ('refusal' in transition(pair.status, 'enable.requested')) return console.log(`demo pair is ${pair.status.replace(/_/g, ' ')}`);
  const busy = await db.operation.findFirst({ where: { pairId: pair.id, status: { in: ['pending', 'running', 'awaiting_approval'] } } });
  if (busy) return console.log('demo pair: an operation is already under way');
  if (!pair.pairKeyEnc) {
    await db.protectionPair.update({ where: { id: pair.id }, data: { pairKeyEnc: sealSecret(randomBytes(32).toString('base64'), pairKeyContext(pair.id)) } });
  }
  const steps = planEnable({ method: 'file', sourceHostname: source.hostname, targetHostname: target.hostname, route: '127.0.0.3', port: DATA_PORT, routeMode: 'direct', monitoring: true });
  const scope = { organizationId: org.id, customerId: customer.id };
  const op = await db.operation.create({
    data: { ...scope, pairId: pair.id, kind: 'enable', steps: { create: steps.map((s, i) => ({ ...scope, position: i, ...stepToRow(s) })) } },
  });
  await db.pairEvent.create({ data: { ...scope, pairId: pair.id, kind: 'operation', message: `${ACTOR} started enabling protection` } });
  await db.auditEvent.create({ data: { ...scope, actorLabel: ACTOR, action: 'pair.enable', targetType: 'ProtectionPair', targetId: pair.id, summary: `Enabled protection of "${PAIR}"` } });
  const queue = operationsQueue(redisConnection(env('REDIS_URL')), { prefix: process.env.TANDEM_QUEUE_PREFIX });
  await enqueueOperation(queue, { operationId: op.id, ...scope });
  await queue.close();
  console.log('demo pair: enabling protection (files-a → files-b)');
}

try {
  const command = process.argv[2];
  if (command === 'prepare') await prepare();
  else if (command === 'protect') await protect();
  else throw new Error('usage: live.ts prepare|protect');
} finally {
  await db.$disconnect();
}
