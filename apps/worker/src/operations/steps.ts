// What each kind of operation step does. The engine decides the steps (data); this file is the
// I/O that carries them out through the agents and the database.
import { createHmac } from 'node:crypto';
import { emitEvent } from '@tandem/db';
import { enabledStatuses, failoverStatuses, statusesAllowing, transition, type Side, type StepKind, type StepParams } from '@tandem/engine';
import { postgresqlCommandTimeoutMs, RELAY_CAPABILITY } from '@tandem/protocol';
import { command, pairKey, sideOf, StepError, type AgentRow, type StepContext } from './steps/context.ts';
import { conditionChange, pairNames } from '../jobs/alert-conditions.ts';
import { clusterPairExecutors } from './steps/cluster.ts';
import { failoverExecutors } from './steps/failover.ts';
import { pgFollow, pgPromote, pgStop, pgWaitCaughtUp } from './steps/postgresql.ts';
import { testFailoverExecutors } from './steps/test-failover.ts';

export { command, commandTo, pairKey, sideOf, StepError, type LoadedPair, type StepContext, type StepRun } from './steps/context.ts';

function onlineAgent(ctx: StepContext, side: Side): AgentRow {
  const server = sideOf(ctx, side);
  const agent = server.agent;
  if (!agent) throw new StepError(`${server.hostname} has no agent`);
  if (agent.status !== 'online') {
    const seen = agent.lastSeenAt ? ` (last seen ${agent.lastSeenAt.toISOString()})` : '';
    throw new StepError(`The agent on ${server.hostname} is ${agent.status}${seen}`);
  }
  return agent;
}

/** The replication role of a PostgreSQL pair and its password, derived from the pair key (never stored apart). */
export const PG_REPLICATION_USER = 'tandem_replication';
function pgPassword(ctx: StepContext): string {
  return createHmac('sha256', Buffer.from(pairKey(ctx), 'base64')).update('postgresql-replication').digest('base64url');
}
/** One slot per pair on the source, named after it. */
export const pgSlotName = (pairId: string) => `tandem_${pairId.replace(/-/g, '').slice(0, 24)}`;

function databaseLink(ctx: StepContext) {
  const db = ctx.settings.connection.database;
  if (!db) throw new StepError('This pair does not say which PostgreSQL instances to use; edit its configuration');
  return db;
}

function replicationArgs(ctx: StepContext, side: Side) {
  const { connection } = ctx.settings;
  const set = ctx.settings.replicationSet;
  if (!set) throw new StepError('This pair has no replication set');
  return {
    pairId: ctx.pair.id,
    role: side,
    key: pairKey(ctx),
    source: set,
    targetRoot: connection.targetRoot,
    mode: connection.mirror,
    orphans: connection.orphans,
    compression: connection.compression,
    ...(connection.bandwidthLimitKbps ? { bandwidthLimitBps: Math.floor((connection.bandwidthLimitKbps * 1000) / 8) } : {}),
    ...(connection.inPlaceFromMiB ? { inPlaceMinBytes: connection.inPlaceFromMiB * 1024 * 1024 } : {}),
    route: connection.routeMode,
    // Direct: the target listens on the route address and the source connects to it. Relay: both
    // dial the gateway they already use, so neither needs an address of the other.
    ...(connection.routeMode === 'relay'
      ? {}
      : side === 'target'
        ? { listen: { host: connection.route, port: connection.port } }
        : { connect: { host: connection.route, port: connection.port } }),
  };
}

function monitorArgs(ctx: StepContext, side: Side) {
  const m = ctx.settings.failover.monitor;
  return {
    pairId: ctx.pair.id,
    role: side,
    key: pairKey(ctx),
    method: m.method,
    port: m.port,
    ...(side === 'target' ? { addresses: m.addresses, intervalMs: m.intervalSeconds * 1000, missed: m.missed, trigger: m.trigger } : {}),
  };
}

type StepExecutors = { [K in StepKind]: (ctx: StepContext, params: StepParams[K]) => Promise<unknown> };

/** Runs one step with its own kind's executor (the parameters were checked when the step was read). */
export function runStep<K extends StepKind>(ctx: StepContext, step: { kind: K; params: StepParams[K] }): Promise<unknown> {
  return stepExecutors[step.kind](ctx, step.params);
}

export const stepExecutors: StepExecutors = {
  ...failoverExecutors,
  'postgresql.promote': pgPromote,
  'postgresql.follow': pgFollow,
  'postgresql.wait-caught-up': pgWaitCaughtUp,
  'postgresql.stop': pgStop,
  ...clusterPairExecutors,
  ...testFailoverExecutors,
  'agents.check': (ctx, params) => {
    const out: Record<string, unknown> = {};
    for (const side of params.sides) {
      const agent = onlineAgent(ctx, side);
      if (!agent.capabilities.includes('replication.start')) throw new StepError(`The agent on ${sideOf(ctx, side).hostname} is too old to replicate; update it`);
      if (ctx.settings.connection.routeMode === 'relay' && !agent.capabilities.includes(RELAY_CAPABILITY)) {
        throw new StepError(`The agent on ${sideOf(ctx, side).hostname} is too old to replicate through the gateway relay; update it or choose a direct route`);
      }
      out[side] = { agentId: agent.id };
    }
    return Promise.resolve(out);
  },

  'replication.check-set': async (ctx) => {
    const set = ctx.settings.replicationSet;
    if (!set) throw new StepError('This pair has no replication set');
    const result = await command(ctx, 'source', 'replication.check-set', { source: set });
    const bad = result.roots.filter((r) => !r.exists || !r.directory);
    if (bad.length) throw new StepError(`Not a directory on ${ctx.pair.source.hostname}: ${bad.map((r) => `${r.root} (${r.exists ? 'not a directory' : 'missing'})`).join(', ')}`);
    return result;
  },

  'replication.start': (ctx, params) => command(ctx, params.side, 'replication.start', replicationArgs(ctx, params.side)),
  'replication.stop': (ctx, params) => command(ctx, params.side, 'replication.stop', { pairId: ctx.pair.id }, 15_000),
  'postgresql.prepare-source': async (ctx) => {
    const db = databaseLink(ctx);
    const args = {
      dataDir: db.sourceDataDir,
      replicationUser: PG_REPLICATION_USER,
      password: pgPassword(ctx),
      slotName: pgSlotName(ctx.pair.id),
      targetAddress: ctx.settings.connection.route,
      allowRestart: db.allowSourceRestart,
      allowRewind: true,
    };
    const result = await command(ctx, 'source', 'postgresql.prepare-source', args, postgresqlCommandTimeoutMs('postgresql.prepare-source', args));
    if (!result.ready) {
      const pending = result.changedSettings.filter((c) => c.needsRestart).map((c) => `${c.name} = ${c.to}`);
      throw new StepError(
        result.restartRequired
          ? `PostgreSQL on ${ctx.pair.source.hostname} must restart for ${pending.join(', ') || 'its new replication settings'}: restart it, or allow Tandem to restart it in the pair's connection settings, then enable again`
          : `PostgreSQL on ${ctx.pair.source.hostname} is not ready for replication${result.warnings.length ? `: ${result.warnings.join('; ')}` : ''}`,
      );
    }
    return result;
  },

  'postgresql.clone-standby': async (ctx) => {
    const db = databaseLink(ctx);
    const args = {
      dataDir: db.targetDataDir,
      port: db.targetPort,
      source: { host: db.sourceAddress, port: db.sourcePort },
      replicationUser: PG_REPLICATION_USER,
      password: pgPassword(ctx),
      slotName: pgSlotName(ctx.pair.id),
    };
    const result = await command(ctx, 'target', 'postgresql.clone-standby', args, postgresqlCommandTimeoutMs('postgresql.clone-standby', args));
    if (!result.streaming) throw new StepError(`The standby on ${ctx.pair.target.hostname} started but is not streaming from ${db.sourceAddress}:${db.sourcePort}`);
    return result;
  },

  'monitor.start': (ctx, params) => command(ctx, params.side, 'monitor.start', monitorArgs(ctx, params.side)),
  'monitor.stop': (ctx, params) => command(ctx, params.side, 'monitor.stop', { pairId: ctx.pair.id }, 15_000),

  // Hashing both trees can take minutes on a large set: the worker waits, no web request does.
  'replication.verify': async (ctx) => {
    const result = await command(ctx, 'source', 'replication.verify', { pairId: ctx.pair.id }, 10 * 60_000);
    const differing = `${result.differing.length}${result.truncated ? '+' : ''}`;
    await ctx.tx((db) =>
      emitEvent(db, {
        organizationId: ctx.pair.organizationId,
        customerId: ctx.pair.customerId,
        pairId: ctx.pair.id,
        pairName: ctx.pair.name,
        kind: 'operation',
        severity: result.differing.length ? 'warning' : 'info',
        message: `Verified: ${result.checkedFiles} files checked, ${differing} differing`,
      }),
    );
    return result;
  },

  'pair.set-monitoring': (ctx, params) =>
    ctx.tx(async (db) => {
      // A pair disabled meanwhile is left alone (its monitors were stopped with it).
      const { count } = await db.protectionPair.updateMany({
        where: { id: ctx.pair.id, status: { in: [...enabledStatuses] } },
        data: { monitoringStatus: params.monitoringStatus, ...(params.monitoringStatus === 'off' ? { autoFailoverMarked: false } : {}) },
      });
      if (count === 0) throw new StepError('Protection of the pair is no longer enabled');
      // A fresh start for the observers: nothing from before the change counts.
      await db.pairMonitor.deleteMany({ where: { pairId: ctx.pair.id } });
      return { monitoringStatus: params.monitoringStatus };
    }),

  'pair.set-state': (ctx, params) => {
    const { event, monitoringStatus } = params;
    return ctx.tx(async (db) => {
      const row = await db.protectionPair.findUnique({ where: { id: ctx.pair.id }, select: { status: true } });
      if (!row) throw new StepError('The pair no longer exists');
      const next = transition(row.status, event);
      if ('refusal' in next) {
        // Run again after a crash, the step finds its own change made: that is done, not refused.
        const done = statusesAllowing(event).some((from) => {
          const t = transition(from, event);
          return 'status' in t && t.status === row.status;
        });
        if (!done) throw new StepError(next.refusal);
        return { from: row.status, status: row.status, monitoringStatus: monitoringStatus ?? null };
      }
      // Conditional on the status the lifecycle answered from: if another process moved the pair
      // meanwhile, this step fails instead of overwriting it.
      const { count } = await db.protectionPair.updateMany({
        where: { id: ctx.pair.id, status: row.status },
        data: {
          status: next.status,
          ...(monitoringStatus ? { monitoringStatus } : {}),
          // Replication starts now, whether a mirror follows (files) or not (a streaming standby).
          ...(event === 'replication.started' || event === 'standby.streaming' ? { enabledAt: ctx.now() } : {}),
          ...(next.status === 'unprotected' ? { autoFailoverMarked: false } : {}),
        },
      });
      if (count === 0) throw new StepError('The pair changed while this step ran; run the operation again');
      // A fresh start for the observers: nothing from an earlier run counts.
      await db.pairMonitor.deleteMany({ where: { pairId: ctx.pair.id } });
      // The source.lost condition lasts while the pair is in the failover part of its lifecycle
      // (monitoring is off once failed over, so the sweep cannot see the source come back);
      // leaving it (failed back, disabled, or a pending failover that went nowhere) clears it.
      if (!failoverStatuses.includes(next.status)) {
        const condition = await conditionChange(db, 'source.lost', ctx.pair.id, 'clear');
        if (condition) {
          await emitEvent(db, {
            organizationId: ctx.pair.organizationId,
            customerId: ctx.pair.customerId,
            pairId: ctx.pair.id,
            type: 'source.back',
            history: false,
            message: `The source-lost condition of "${ctx.pair.name}" is over: the pair is ${next.status.replace(/_/g, ' ')}`,
            condition,
            ...(await pairNames(db, ctx.pair.id)),
          });
        }
      }
      return { from: row.status, status: next.status, monitoringStatus: monitoringStatus ?? null };
    });
  },
};
