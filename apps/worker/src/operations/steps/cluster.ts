// Cluster steps: resources and groups brought online/offline in failover and failback
// (cluster.resource), the cluster configuration kept as a version (cluster.snapshot, and the
// cluster operations' config-snapshot), and the executors of cluster_backup/cluster_restore
// steps (node check, stack stop/start, configuration replace and verify). Agent calls are never
// made inside a transaction; each stored version is one short transaction.
import { randomUUID } from 'node:crypto';
import type { TenantTx } from '@tandem/db';
import { openClusterConfig, sealClusterConfig } from '@tandem/security';
import type { ClusterStack, ClusterStepKind, ClusterStepParams, StepParams } from '@tandem/engine';
import { factsSchema, type ActionResult, type ClusterFacts } from '@tandem/protocol';
import { command, commandTo, serverIdOf, sideOf, sleep, StepError, type CommandContext, type StepContext } from './context.ts';

/** The name a cluster is filed under (a Pacemaker cluster without cluster_name in corosync.conf has none; the portal files it under the same name). */
export const clusterNameOf = (c: Pick<ClusterFacts, 'name'>) => c.name ?? '(unnamed)';

/** The cluster a server's stored facts report, or null when it is not a member (or never said). */
export function clusterFactsOf(facts: unknown): ClusterFacts | null {
  const parsed = facts ? factsSchema.safeParse(facts) : null;
  if (!parsed?.success || parsed.data.cluster.status !== 'ok') return null;
  return parsed.data.cluster.data;
}

/** How long reading a configuration may take on the agent (cibadmin; a cluster database backup). */
const CONFIG_READ_TIMEOUT_MS = 120_000;

type ConfigRead = ActionResult<'cluster.config-read'>;

export interface StoredVersion {
  versionId: string;
  /** false: the newest version of this cluster already had this content, nothing was added. */
  stored: boolean;
  stack: string;
  clusterName: string;
  sha256: string;
  epoch: string | null;
  sizeBytes: number;
}

/**
 * Keeps a configuration read as a ClusterConfigVersion, unless the newest version of that
 * cluster has the same content (then that one is answered). The content itself never goes into
 * a step's output (it can be megabytes); the version id does.
 */
export async function storeClusterConfig(
  tx: <T>(fn: (db: TenantTx) => Promise<T>) => Promise<T>,
  v: { organizationId: string; customerId: string; stack: string; clusterName: string; serverId: string; reason: 'scheduled' | 'before_failover' | 'before_failback' | 'manual' | 'before_restore'; operationId: string | null; read: ConfigRead; now: Date },
): Promise<StoredVersion> {
  const sizeBytes = Buffer.byteLength(v.read.content, 'utf8');
  const base = { stack: v.stack, clusterName: v.clusterName, sha256: v.read.sha256, epoch: v.read.epoch, sizeBytes };
  return tx(async (db) => {
    const newest = await db.clusterConfigVersion.findFirst({
      where: { customerId: v.customerId, stack: v.stack, clusterName: v.clusterName },
      orderBy: { takenAt: 'desc' },
      select: { id: true, sha256: true },
    });
    if (newest?.sha256 === v.read.sha256) return { versionId: newest.id, stored: false, ...base };
    const id = randomUUID();
    const row = await db.clusterConfigVersion.create({
      data: {
        id,
        organizationId: v.organizationId,
        customerId: v.customerId,
        stack: v.stack,
        clusterName: v.clusterName,
        serverId: v.serverId,
        reason: v.reason,
        operationId: v.operationId,
        epoch: v.read.epoch,
        sha256: v.read.sha256,
        sizeBytes,
        // Sealed: a configuration may hold fence-device passwords and resource secrets.
        content: sealClusterConfig(id, v.read.content),
        takenAt: v.now,
      },
      select: { id: true },
    });
    return { versionId: row.id, stored: true, ...base };
  });
}

// ---- in failover and failback (pair steps) ----

async function sideCluster(ctx: StepContext, side: 'source' | 'target'): Promise<ClusterFacts> {
  const serverId = serverIdOf(ctx, side);
  const row = await ctx.tx((db) => db.server.findUnique({ where: { id: serverId }, select: { facts: true } }));
  const cluster = clusterFactsOf(row?.facts);
  if (!cluster) throw new StepError(`${sideOf(ctx, side).hostname} no longer reports a cluster`);
  return cluster;
}

export const clusterPairExecutors = {
  'cluster.resource': async (ctx: StepContext, p: StepParams['cluster.resource']) => {
    const timeoutMs = p.timeoutSeconds * 1000;
    const result = await command(ctx, p.side, 'cluster.resource-ensure', { stack: p.stack, resource: p.resource, kind: p.kind, state: p.state, node: p.node, timeoutMs }, { timeoutMs: timeoutMs + 15_000 });
    if (result.state !== p.state) throw new StepError(`${p.resource} is ${result.state}, not ${p.state}`, { ...result });
    if (p.state === 'online' && p.node && result.node !== p.node) throw new StepError(`${p.resource} runs on ${result.node ?? 'no node'}, not on ${p.node}`, { ...result });
    return { resource: p.resource, kind: p.kind, ...result };
  },

  'cluster.snapshot': async (ctx: StepContext, p: StepParams['cluster.snapshot']) => {
    const cluster = await sideCluster(ctx, p.side);
    const read = await command(ctx, p.side, 'cluster.config-read', { stack: cluster.stack }, { timeoutMs: CONFIG_READ_TIMEOUT_MS });
    return storeClusterConfig(ctx.tx, {
      organizationId: ctx.pair.organizationId,
      customerId: ctx.pair.customerId,
      stack: cluster.stack,
      clusterName: clusterNameOf(cluster),
      serverId: serverIdOf(ctx, p.side),
      reason: p.reason,
      operationId: ctx.step?.operationId ?? null,
      read,
      now: ctx.now(),
    });
  },
};

// ---- cluster operations (cluster_backup, cluster_restore) ----

export interface ClusterContext extends CommandContext {
  organizationId: string;
  customerId: string;
  operationId: string;
  stack: ClusterStack;
  clusterName: string;
  now: () => Date;
}

/** Polls the node's configuration this often while waiting for it to hold a version. */
const VERIFY_POLL_MS = 2_000;

type ClusterExecutors = { [K in ClusterStepKind]: (ctx: ClusterContext, params: ClusterStepParams[K]) => Promise<Record<string, unknown>> };

export const clusterStepExecutors: ClusterExecutors = {
  'cluster.node-check': async (ctx, p) => {
    const row = await ctx.tx((db) => db.server.findUnique({ where: { id: p.serverId }, select: { hostname: true, facts: true, agent: { select: { id: true, status: true } } } }));
    if (!row) throw new StepError(`${p.hostname} no longer exists`);
    if (row.agent?.status !== 'online') throw new StepError(`The agent on ${row.hostname} is ${row.agent?.status ?? 'not enrolled'}`);
    const cluster = clusterFactsOf(row.facts);
    if (!cluster || cluster.stack !== ctx.stack || clusterNameOf(cluster) !== ctx.clusterName) {
      throw new StepError(`${row.hostname} no longer reports membership of cluster ${ctx.clusterName}`);
    }
    return { agentId: row.agent.id, quorate: cluster.quorate, nodes: cluster.nodes };
  },

  'cluster.node-stack': async (ctx, p) => {
    const timeoutMs = p.timeoutSeconds * 1000;
    const result = await commandTo(ctx, p.serverId, 'cluster.stack-ensure', { stack: ctx.stack, state: p.state, timeoutMs }, { timeoutMs: timeoutMs + 15_000 });
    if (result.state !== p.state) throw new StepError(`The cluster stack on ${p.hostname} is ${result.state}, not ${p.state}`, { ...result });
    return { hostname: p.hostname, ...result };
  },

  'cluster.config-snapshot': async (ctx, p) => {
    const read = await commandTo(ctx, p.serverId, 'cluster.config-read', { stack: ctx.stack }, { timeoutMs: CONFIG_READ_TIMEOUT_MS });
    const stored = await storeClusterConfig(ctx.tx, {
      organizationId: ctx.organizationId,
      customerId: ctx.customerId,
      stack: ctx.stack,
      clusterName: ctx.clusterName,
      serverId: p.serverId,
      reason: p.reason,
      operationId: ctx.operationId,
      read,
      now: ctx.now(),
    });
    return { hostname: p.hostname, ...stored };
  },

  'cluster.config-replace': async (ctx, p) => {
    const version = await ctx.tx((db) =>
      db.clusterConfigVersion.findUnique({ where: { id: p.versionId }, select: { id: true, content: true, sha256: true, stack: true, clusterName: true } }),
    );
    if (!version) throw new StepError('The configuration version to restore no longer exists');
    if (version.sha256 !== p.sha256 || version.stack !== ctx.stack || version.clusterName !== ctx.clusterName) {
      throw new StepError('The stored configuration version does not match the one this restore was planned with');
    }
    const result = await commandTo(ctx, p.serverId, 'cluster.config-replace', { stack: ctx.stack, content: openClusterConfig(version), sha256: version.sha256, authoritative: p.authoritative }, { timeoutMs: 300_000 });
    return { hostname: p.hostname, versionId: p.versionId, ...result };
  },

  'cluster.config-verify': async (ctx, p) => {
    const deadline = Date.now() + p.timeoutSeconds * 1000;
    let seen: { sha256: string; epoch: string | null } | null = null;
    let reads = 0;
    for (;;) {
      try {
        // A fresh id every time: it must see the configuration now, not a remembered answer.
        const read = await commandTo(ctx, p.serverId, 'cluster.config-read', { stack: ctx.stack }, { timeoutMs: CONFIG_READ_TIMEOUT_MS, fresh: true });
        reads++;
        seen = { sha256: read.sha256, epoch: read.epoch };
        if (read.sha256 === p.sha256) return { hostname: p.hostname, versionId: p.versionId, sha256: read.sha256, epoch: read.epoch, reads };
      } catch (err) {
        // A node whose stack is still starting may not answer yet: keep waiting until the deadline.
        if (Date.now() >= deadline) throw err;
      }
      if (Date.now() >= deadline) {
        throw new StepError(`${p.hostname} still holds ${seen ? `a different configuration (${seen.sha256.slice(0, 12)}, epoch ${seen.epoch ?? 'unknown'})` : 'a configuration that could not be read'} after ${p.timeoutSeconds} s`, {
          expected: p.sha256,
          seen,
          reads,
        });
      }
      await sleep(VERIFY_POLL_MS);
    }
  },
};

/** Runs one cluster step with its own kind's executor (the parameters were checked when the step was read). */
export function runClusterStep<K extends ClusterStepKind>(ctx: ClusterContext, step: { kind: K; params: ClusterStepParams[K] }): Promise<Record<string, unknown>> {
  return clusterStepExecutors[step.kind](ctx, step.params);
}
