// Runs a cluster operation (cluster_backup, cluster_restore): a customer's cluster, not a pair.
// Planned first from the nodes' facts (engine planClusterBackup/planClusterRestore) and stored
// as steps; a dry run ends there. Then the steps run in order, each recorded before and after it
// runs (a restarted worker continues where it stopped; the steps state desired state). When a
// restore fails after it stopped the cluster on other nodes, those nodes are started again
// (best effort) so a failed restore does not leave them down.
import { withTenant, type TenantTx } from '@tandem/db';
import {
  clusterBackupOptionsSchema,
  clusterRestoreOptionsSchema,
  clusterStacks,
  clusterStepFromRow,
  clusterStepToRow,
  operationInFlightStatuses,
  planClusterBackup,
  planClusterRestore,
  type ClusterNode,
  type ClusterStack,
  type ClusterStep,
} from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import type { OperationDeps } from './run-operation.ts';
import { clusterFactsOf, clusterNameOf, runClusterStep, type ClusterContext } from './steps/cluster.ts';
import { StepError } from './steps/context.ts';

interface ClusterOperationRow {
  id: string;
  kind: string;
  status: string;
  dryRun: boolean;
  options: unknown;
  clusterStack: string | null;
  clusterName: string | null;
  startedAt: Date | null;
  steps: StepRow[];
}
type StepRow = { id: string; position: number; kind: string; description: string; params: unknown; status: string; attempts: number; startedAt: Date | null };

class Refused extends Error {}

const label: Record<string, string> = { cluster_backup: 'Cluster configuration backup', cluster_restore: 'Cluster configuration restore' };
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The nodes of a cluster: the customer's servers whose facts report it, by hostname. */
export async function clusterNodes(tx: ClusterContext['tx'], stack: string, clusterName: string): Promise<ClusterNode[]> {
  const servers = await tx((db) => db.server.findMany({ select: { id: true, hostname: true, facts: true, agent: { select: { status: true } } }, orderBy: { hostname: 'asc' } }));
  return servers.flatMap((s) => {
    const c = clusterFactsOf(s.facts);
    return c && c.stack === stack && clusterNameOf(c) === clusterName ? [{ serverId: s.id, hostname: s.hostname, online: s.agent?.status === 'online' }] : [];
  });
}

async function plan(ctx: ClusterContext, op: ClusterOperationRow): Promise<ClusterStep[]> {
  const inFlight = await ctx.tx((db) =>
    db.operation.count({ where: { id: { not: op.id }, clusterStack: ctx.stack, clusterName: ctx.clusterName, kind: { in: ['cluster_backup', 'cluster_restore'] }, status: { in: [...operationInFlightStatuses] } } }),
  );
  if (inFlight > 0) throw new Refused(`Another backup or restore of cluster ${ctx.clusterName} is under way; wait until it finishes`);
  const nodes = await clusterNodes(ctx.tx, ctx.stack, ctx.clusterName);
  if (nodes.length === 0) throw new Refused(`No server of this customer reports cluster ${ctx.clusterName} any more`);
  try {
    if (op.kind === 'cluster_backup') {
      const options = clusterBackupOptionsSchema.safeParse(op.options ?? {});
      if (!options.success) throw new Refused('The backup options are not valid');
      return planClusterBackup(nodes, options.data.serverId);
    }
    const options = clusterRestoreOptionsSchema.safeParse(op.options ?? {});
    if (!options.success) throw new Refused('The restore options are not valid: a version and a node are needed');
    const version = await ctx.tx((db) => db.clusterConfigVersion.findUnique({ where: { id: options.data.versionId }, select: { id: true, sha256: true, stack: true, clusterName: true } }));
    if (!version || version.stack !== ctx.stack || version.clusterName !== ctx.clusterName) throw new Refused(`That configuration version is not one of cluster ${ctx.clusterName}`);
    return planClusterRestore({ stack: ctx.stack, clusterName: ctx.clusterName, nodes, restoreOn: options.data.serverId, version: { id: version.id, sha256: version.sha256 } });
  } catch (err) {
    // The engine refuses by throwing (an offline node, a server outside the cluster…).
    if (err instanceof Refused) throw err;
    throw new Refused(errorText(err));
  }
}

export async function runClusterOperation(deps: OperationDeps, job: OperationJob, op: ClusterOperationRow): Promise<{ status: string }> {
  const now = deps.now ?? (() => new Date());
  const scope = { organizationId: job.organizationId, customerId: job.customerId, userId: null };
  const tx = <T>(fn: (db: TenantTx) => Promise<T>) => withTenant(scope, fn, deps.db);
  const fail = async (error: string) => {
    await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'failed', error: error.slice(0, 2000), finishedAt: now() } }));
    return { status: 'failed' };
  };
  const stack = clusterStacks.find((s) => s === op.clusterStack);
  if (!stack || !op.clusterName) return fail('The operation does not name a cluster');
  const base: ClusterContext = { bus: deps.bus, tx, organizationId: job.organizationId, customerId: job.customerId, operationId: op.id, stack: stack satisfies ClusterStack, clusterName: op.clusterName, now, agentWaitMs: 60_000 };

  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'running', startedAt: op.startedAt ?? now() } }));

  let steps = op.steps;
  if (steps.length === 0) {
    let planned: ClusterStep[];
    try {
      planned = await plan(base, op);
    } catch (err) {
      if (!(err instanceof Refused)) console.error(`[worker] planning cluster operation ${op.id} crashed`, err);
      return fail(err instanceof Refused ? err.message : `Planning failed: ${errorText(err)}`);
    }
    steps = await tx(async (db) => {
      // Planned once: a second worker (or a re-run after a crash) finds the steps already there.
      if ((await db.operationStep.count({ where: { operationId: op.id } })) === 0) {
        await db.operationStep.createMany({
          data: planned.map((s, position) => ({ organizationId: job.organizationId, customerId: job.customerId, operationId: op.id, position, phase: 'run', ...clusterStepToRow(s) })),
        });
      }
      return db.operationStep.findMany({ where: { operationId: op.id }, orderBy: { position: 'asc' } });
    });
  }
  // A dry run shows the plan and changes nothing (also when a restarted worker finds it planned).
  if (op.dryRun) {
    await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'succeeded', finishedAt: now() } }));
    return { status: 'succeeded' };
  }

  for (const step of steps) {
    if (step.status === 'succeeded' || step.status === 'skipped') continue;
    if (step.status === 'failed') return recover(base, op, step, 'failed before the worker restarted', tx, now);
    const result = await runOne(base, step, tx, now);
    if (!result.ok) return recover(base, op, step, result.error, tx, now);
  }
  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'succeeded', finishedAt: now() } }));
  return { status: 'succeeded' };
}

async function runOne(ctx: ClusterContext, step: StepRow, tx: ClusterContext['tx'], now: () => Date): Promise<{ ok: true } | { ok: false; error: string }> {
  const parsed = clusterStepFromRow(step);
  const startedAt = step.startedAt ?? now();
  await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'running', startedAt, error: null } }));
  try {
    if (!parsed.ok) throw new StepError(`The stored step (${step.kind}) is not valid: ${parsed.error}`);
    const run = { id: step.id, operationId: ctx.operationId, position: step.position, phase: 'run' as const, attempts: step.attempts, optional: parsed.step.optional === true, pastPointOfNoReturn: false, startedAt, sub: 0 };
    const output = await runClusterStep({ ...ctx, step: run }, parsed.step);
    await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'succeeded', output: output as object, finishedAt: now() } }));
    return { ok: true };
  } catch (err) {
    const message = errorText(err);
    if (!(err instanceof StepError)) console.error(`[worker] cluster step ${step.kind} of operation ${ctx.operationId} crashed`, err);
    const output = err instanceof StepError && err.output ? { output: err.output as object } : {};
    await tx((db) => db.operationStep.update({ where: { id: step.id }, data: { status: 'failed', error: message, finishedAt: now(), ...output } }));
    return { ok: false, error: message };
  }
}

/**
 * A step failed: the steps after it are skipped, except that a node whose cluster stack this
 * operation stopped is started again (best effort), so it does not stay out of the cluster.
 */
async function recover(ctx: ClusterContext, op: ClusterOperationRow, failed: StepRow, error: string, tx: ClusterContext['tx'], now: () => Date) {
  const fresh = await tx((db) => db.operationStep.findMany({ where: { operationId: op.id }, orderBy: { position: 'asc' } }));
  const stoppedHere = new Set(
    fresh.flatMap((s) => {
      const p = clusterStepFromRow(s);
      return p.ok && p.step.kind === 'cluster.node-stack' && p.step.params.state === 'stopped' && s.status === 'succeeded' ? [p.step.params.serverId] : [];
    }),
  );
  const notRestarted: string[] = [];
  for (const s of fresh) {
    if (s.position <= failed.position || (s.status !== 'pending' && s.status !== 'running')) continue;
    const p = clusterStepFromRow(s);
    const restart = p.ok && p.step.kind === 'cluster.node-stack' && p.step.params.state === 'running' && stoppedHere.has(p.step.params.serverId);
    if (!restart) {
      await tx((db) => db.operationStep.update({ where: { id: s.id }, data: { status: 'skipped' } }));
      continue;
    }
    const result = await runOne(ctx, s, tx, now);
    if (!result.ok) notRestarted.push(`${s.description}: ${result.error}`);
  }
  const after = notRestarted.length ? ` Start the cluster by hand on: ${notRestarted.join('; ')}` : stoppedHere.size ? ' The nodes stopped for the restore were started again.' : '';
  const text = `${label[op.kind] ?? op.kind} failed at "${failed.description}": ${error}.${after}`;
  await tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'failed', error: text.slice(0, 2000), finishedAt: now() } }));
  return { status: 'failed' };
}
