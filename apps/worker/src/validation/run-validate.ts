// A validation run (Operation kind `validate`, catalogue §1.9): fresh facts from both agents and
// the DNS executor in parallel, each within its deadline, shown as steps while they run; the
// snapshot; the catalogue evaluated; everything stored in one short transaction. No agent is
// asked inside a transaction. A run resumed after a worker crash gathers again from the start
// (facts must be fresh), so nothing of a half-finished run is kept.
import { z } from 'zod';
import type { AgentBus } from '@tandem/agent-bus';
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent, withTenant, type Db, type TenantTx } from '@tandem/db';
import { evaluateCatalogue, factsFingerprint, pairFactsOf, settingsFromColumns, type DnsDryRun, type PairSettings } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { openDnsCredential, CredentialError } from '@tandem/security';
import { buildSnapshot, validateArgsFor, type ReplicationInput } from './build-snapshot.ts';
import { dnsDryRun, gatherNode, type Gathered, type ServerRead } from './gather.ts';
import { findingKey, persistRun } from './persist.ts';
import { referenceFacts } from './reference.ts';

export interface ValidateDeps {
  db: Db;
  bus: AgentBus;
  now?: () => Date;
}

/**
 * What a validate or fix operation on a pair works with: the clock, the pair, a short tenant
 * transaction (after which the pair's pages are told the operation moved) and an organization-wide
 * one (the organization's policy and the vault).
 */
export function pairOperation(deps: ValidateDeps, job: OperationJob, op: { pairId: string | null }) {
  const now = deps.now ?? (() => new Date());
  const scope = { organizationId: job.organizationId, customerId: job.customerId, userId: null };
  const pairId = op.pairId!;
  const tx = async <T>(fn: (db: TenantTx) => Promise<T>) => {
    const result = await withTenant(scope, fn, deps.db);
    void publishPairChange(job, pairId, 'operation');
    return result;
  };
  const orgTx = <T>(fn: (db: TenantTx) => Promise<T>) => withTenant({ ...scope, customerId: null }, fn, deps.db);
  return { now, pairId, tx, orgTx };
}

export const validateOptionsSchema = z.object({
  trigger: z.enum(['manual', 'scheduled', 'reconnect', 'fix', 'config']).catch('manual'),
  /** Set by a fix: the findings it settled are marked did-not-hold when they come back. */
  fixOperationId: z.string().optional(),
});
export type ValidateOptions = z.infer<typeof validateOptionsSchema>;

const triggerLabel: Record<ValidateOptions['trigger'], string> = {
  manual: 'Tandem',
  scheduled: 'Tandem (scheduled validation)',
  reconnect: 'Tandem (validation after an agent reconnected)',
  fix: 'Tandem (validation after a fix)',
  config: 'Tandem (validation after a configuration change)',
};

interface OpRow {
  id: string;
  pairId: string | null;
  requestedById: string | null;
  options: unknown;
  startedAt: Date | null;
  steps: { id: string; position: number; kind: string }[];
}

const agentSelect = { select: { id: true, status: true, version: true, protocolVersion: true, capabilities: true, lastSeenAt: true } } as const;
const serverSelect = { id: true, hostname: true, facts: true, factsAt: true, agent: agentSelect } as const;

export async function runValidate(deps: ValidateDeps, job: OperationJob, op: OpRow): Promise<{ status: string }> {
  const { now, pairId, tx, orgTx } = pairOperation(deps, job, op);
  const options = validateOptionsSchema.parse(op.options ?? {});
  const startedAt = now();

  const row = await tx((db) => db.protectionPair.findUnique({ where: { id: pairId }, include: { source: { select: serverSelect }, target: { select: serverSelect } } }));
  if (!row) throw new Error(`Pair of operation ${op.id} not found`);
  const fail = async (error: string) => {
    await tx(async (db) => {
      await db.operation.update({ where: { id: op.id }, data: { status: 'failed', error, finishedAt: now() } });
      await db.validationRun.updateMany({ where: { operationId: op.id, finishedAt: null }, data: { status: 'failed', finishedAt: now() } });
      await emitEvent(db, { organizationId: row.organizationId, customerId: row.customerId, pairId, pairName: row.name, kind: 'operation', severity: 'error', message: `Validation could not run: ${error}` });
    });
    return { status: 'failed' };
  };
  let settings: PairSettings;
  try {
    settings = settingsFromColumns(row);
  } catch (err) {
    return fail(`the stored configuration is not valid; edit the pair (${String(err).slice(0, 300)})`);
  }
  const pair = pairFactsOf(row, settings);
  const dnsWanted = settings.failover.enabled && settings.failover.type === 'dns';
  const executorId = settings.dns.executorServerId ?? row.targetServerId;
  const executor = dnsWanted ? await tx((db) => db.server.findUnique({ where: { id: executorId }, select: serverSelect })) : null;

  // Progress: one step per gatherer and one for the evaluation, started again on a resume.
  const plan = [
    { kind: 'validate.facts', description: `Facts from ${row.source.hostname} (source)`, gatherer: 'source' },
    { kind: 'validate.facts', description: `Facts from ${row.target.hostname} (target)`, gatherer: 'target' },
    ...(dnsWanted ? [{ kind: 'validate.dns', description: `DNS dry run through ${executor?.hostname ?? 'the DNS executor'}`, gatherer: 'dns' }] : []),
    { kind: 'validate.evaluate', description: 'Evaluate the catalogue and save the run', gatherer: 'evaluate' },
  ];
  const { steps, runId } = await tx(async (db) => {
    await db.operationStep.deleteMany({ where: { operationId: op.id } });
    await db.operationStep.createMany({
      data: plan.map((p, i) => ({ organizationId: row.organizationId, customerId: row.customerId, operationId: op.id, position: i, kind: p.kind, description: p.description, params: { gatherer: p.gatherer } })),
    });
    await db.operation.update({ where: { id: op.id }, data: { status: 'running', startedAt: op.startedAt ?? startedAt, error: null } });
    // One run per operation: a resumed operation starts its unfinished run again.
    const existing = await db.validationRun.findFirst({ where: { operationId: op.id } });
    const run = existing
      ? await db.validationRun.update({ where: { id: existing.id }, data: { status: 'running', startedAt, finishedAt: null, configChangedAt: row.configChangedAt } })
      : await db.validationRun.create({
          data: { organizationId: row.organizationId, customerId: row.customerId, pairId, status: 'running', startedAt, operationId: op.id, trigger: options.trigger, requestedById: op.requestedById, configChangedAt: row.configChangedAt },
        });
    await db.finding.deleteMany({ where: { validationRunId: run.id } });
    return { steps: await db.operationStep.findMany({ where: { operationId: op.id }, orderBy: { position: 'asc' } }), runId: run.id };
  });
  const stepOf = (gatherer: string) => steps[plan.findIndex((p) => p.gatherer === gatherer)]!;
  const setStep = (gatherer: string, data: { status: 'running' | 'succeeded' | 'failed' | 'skipped'; output?: object; error?: string | null }) =>
    tx((db) => db.operationStep.update({ where: { id: stepOf(gatherer).id }, data: { ...data, ...(data.status === 'running' ? { startedAt: now() } : { finishedAt: now() }) } }));

  const readServer = (id: string) => () => tx((db) => db.server.findUnique({ where: { id }, select: serverSelect })) as Promise<ServerRead | null>;
  const gatherSide = async (side: 'source' | 'target'): Promise<Gathered> => {
    await setStep(side, { status: 'running' });
    const server = row[side] as ServerRead;
    const g = await gatherNode(deps.bus, server, validateArgsFor(settings, side), readServer(server.id));
    // A node that answered with some collectors unknown still succeeded: the checks show unknown.
    await setStep(side, { status: g.input.answered ? 'succeeded' : 'failed', output: g.gatherer, error: g.gatherer.error });
    return g;
  };
  const gatherDns = async (): Promise<{ dns: DnsDryRun | null; gatherer: Gathered['gatherer'] } | undefined> => {
    if (!dnsWanted) return undefined;
    await setStep('dns', { status: 'running' });
    // The TSIG key (or domain password) is opened in memory for this one command only.
    let auth: Parameters<typeof dnsDryRun>[2]['auth'] = {};
    if (settings.dns.credentialId) {
      const c = await orgTx((db) => db.credential.findUnique({ where: { id: settings.dns.credentialId! }, select: { id: true, name: true, kind: true, customerId: true, secretEnc: true, publicInfo: true } }));
      if (!c || (c.customerId !== null && c.customerId !== row.customerId)) auth = { error: 'the DNS credential of this pair no longer exists; choose another in the pair’s DNS settings' };
      else {
        try {
          auth = openDnsCredential(c);
        } catch (err) {
          auth = { error: err instanceof CredentialError ? err.message : 'the DNS credential cannot be opened' };
        }
      }
    }
    const d = await dnsDryRun(deps.bus, settings, { server: executor, auth }, row.source.hostname);
    await setStep('dns', { status: d.dns ? 'succeeded' : 'failed', output: d.gatherer, error: d.gatherer.error });
    return d;
  };

  const [source, target, dns] = await Promise.all([gatherSide('source'), gatherSide('target'), gatherDns()]);

  await setStep('evaluate', { status: 'running' });
  const [replication, credentials, org, fixedBefore, actorLabel] = await Promise.all([
    readReplication(tx, pairId, row),
    settings.dns.credentialId ? orgTx((db) => db.credential.findMany({ where: { id: settings.dns.credentialId! }, select: { id: true, kind: true, lastVerifiedAt: true } })) : Promise.resolve([]),
    orgTx((db) => db.organization.findUniqueOrThrow({ where: { id: row.organizationId }, select: { privilegedFixesInFixAll: true } })),
    fixedByOperation(tx, options.fixOperationId),
    op.requestedById ? orgTx((db) => db.user.findUnique({ where: { id: op.requestedById! }, select: { name: true, email: true } })).then((u) => (u ? `${u.name} <${u.email}>` : triggerLabel[options.trigger])) : Promise.resolve(triggerLabel[options.trigger]),
  ]);
  const gatherers: Record<string, Gathered['gatherer']> = { source: source.gatherer, target: target.gatherer, ...(dns ? { dns: dns.gatherer } : {}) };
  const snap = buildSnapshot({
    now: now().getTime(),
    pair,
    settings,
    source: source.input,
    target: target.input,
    replication,
    dns: dns ? dns.dns : undefined,
    credentials,
    reference: referenceFacts(org),
    gatherers,
  });
  const evaluated = evaluateCatalogue(snap);
  const fingerprint = factsFingerprint({ pair, source: source.input.storedFacts, target: target.input.storedFacts });

  const persisted = await tx(async (db) => {
    const out = await persistRun(db, {
      runId,
      operationId: op.id,
      pair: { id: pairId, organizationId: row.organizationId, customerId: row.customerId, name: row.name },
      startedAt,
      finishedAt: now(),
      results: evaluated.results,
      snap,
      overall: evaluated.status,
      fingerprint,
      gatherers,
      fixedBefore,
      actor: { id: op.requestedById, label: actorLabel },
    });
    const counts = { checks: evaluated.results.length, findings: evaluated.results.reduce((n, r) => n + r.findings.length, 0), unknown: evaluated.results.filter((r) => r.status === 'unknown').length };
    await db.operationStep.update({ where: { id: stepOf('evaluate').id }, data: { status: 'succeeded', finishedAt: now(), output: { runId, status: out.status, overall: evaluated.status, readiness: out.readiness.score, ...counts } } });
    await db.operation.update({ where: { id: op.id }, data: { status: 'succeeded', finishedAt: now(), outcome: { runId, status: out.status, overall: evaluated.status, warnings: [], nextSteps: [] } } });
    return out;
  });
  void publishPairChange(job, pairId, 'status');
  return { status: 'succeeded', ...{ validation: persisted.status } };
}

/** R.*: the pair's replication state and history, and the other pairs on its servers. */
async function readReplication(
  tx: <T>(fn: (db: TenantTx) => Promise<T>) => Promise<T>,
  pairId: string,
  row: { status: ReplicationInput['status']; restoreRequired: boolean; monitoringStatus: string; sourceServerId: string; targetServerId: string },
): Promise<ReplicationInput> {
  return tx(async (db) => {
    const servers = [row.sourceServerId, row.targetServerId];
    const hourAgo = new Date(Date.now() - 3600_000);
    const [pairs, samples, tests, awaiting, monitor] = await Promise.all([
      db.protectionPair.findMany({
        where: { OR: [{ sourceServerId: { in: servers } }, { targetServerId: { in: servers } }] },
        select: { id: true, sourceServerId: true, targetServerId: true, status: true, monitoringStatus: true, replicationSet: true, application: true, replicationMethod: true },
      }),
      db.replicationSample.findMany({ where: { pairId, at: { gte: hourAgo } }, orderBy: { at: 'desc' }, take: 2000, select: { at: true, lagSeconds: true, mirrorBytesLeft: true } }),
      db.operation.findMany({ where: { pairId, kind: 'test_failover', dryRun: false, status: { in: ['succeeded', 'failed'] }, finishedAt: { not: null } }, orderBy: { finishedAt: 'desc' }, take: 50, select: { finishedAt: true, status: true } }),
      db.operation.count({ where: { pairId, kind: 'failover', status: 'awaiting_approval' } }),
      db.pairMonitor.findUnique({ where: { pairId }, select: { targetState: true } }),
    ]);
    return {
      status: row.status,
      restoreRequired: row.restoreRequired,
      monitoringStatus: row.monitoringStatus,
      pairs: pairs.map((p) => {
        const set = p.replicationSet as { roots?: unknown } | null;
        const roots = Array.isArray(set?.roots) ? set.roots.filter((r): r is string => typeof r === 'string') : [];
        const method = p.replicationMethod === 'postgresql_streaming' ? 'streaming' : p.replicationMethod === 'mariadb_replication' ? 'replication' : p.replicationMethod === 'sql_log_shipping' ? 'log-shipping' : p.application === 'file_server' || p.application === 'generic_service' ? 'files' : 'file';
        return { id: p.id, sourceServerId: p.sourceServerId, targetServerId: p.targetServerId, status: p.status, monitoringStatus: p.monitoringStatus, roots, method };
      }),
      lagSamples: samples,
      tests: tests.map((t) => ({ finishedAt: t.finishedAt!, ok: t.status === 'succeeded' })),
      awaitingFailover: awaiting > 0,
      monitor,
    };
  });
}

/** The findings a fix operation settled (keys), so a run after it can tell a fix that did not hold. */
async function fixedByOperation(tx: <T>(fn: (db: TenantTx) => Promise<T>) => Promise<T>, fixOperationId: string | undefined): Promise<Set<string>> {
  if (!fixOperationId) return new Set();
  return tx(async (db) => {
    const op = await db.operation.findUnique({ where: { id: fixOperationId }, select: { options: true } });
    const runId = (op?.options as { runId?: unknown } | null)?.runId;
    if (typeof runId !== 'string') return new Set<string>();
    const fixed = await db.finding.findMany({ where: { validationRunId: runId, fixState: 'fixed' }, select: { checkId: true, side: true, subject: true } });
    return new Set(fixed.map(findingKey));
  });
}
