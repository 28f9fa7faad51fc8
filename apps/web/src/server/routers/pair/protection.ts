import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import type { TenantTx } from '@tandem/db';
import { AppError, idSchema, methodSupport, notFound, pairKeyContext, planDisable, planEnable, stepToRow, type PlannedStep } from '@tandem/engine';
import { enabledStatuses, operationInFlightStatuses, transition } from '@tandem/engine';
import { sealSecret, openSecret } from '@tandem/security';
import { agentBus } from '../../services/agents';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { pairEvent, storedSettings } from '../../services/pairs';
import { agentOrgProcedure, orgProcedure } from '../../trpc';

async function loadPair(db: TenantTx, pairId: string) {
  const pair = await db.protectionPair.findUnique({
    where: { id: pairId },
    include: { source: { include: { agent: true } }, target: { include: { agent: true } } },
  });
  if (!pair) throw notFound('Protection pair');
  return pair;
}

async function refuseIfBusy(db: TenantTx, pairId: string) {
  const running = await db.operation.findFirst({ where: { pairId, status: { in: [...operationInFlightStatuses] } } });
  if (running) throw new AppError('CONFLICT', `Another operation (${running.kind}) is still running on this pair; wait for it to finish`);
}

async function createOperation(db: TenantTx, pair: { id: string; organizationId: string; customerId: string }, kind: 'enable' | 'disable', requestedById: string, steps: PlannedStep[]) {
  return db.operation.create({
    data: {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId: pair.id,
      kind,
      requestedById,
      steps: {
        create: steps.map((s, i) => ({
          organizationId: pair.organizationId,
          customerId: pair.customerId,
          position: i,
          ...stepToRow(s),
        })),
      },
    },
  });
}

const operationOutput = z.object({ operationId: z.string() });

/**
 * Enables protection: an Operation the worker runs step by step (check the agents and the set,
 * open the data channel, start the mirror, start the failure monitor). The pair becomes
 * mirroring, then protected once the initial mirror finishes.
 */
export const enablePair = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, monitoring: z.boolean().default(true) }))
  .output(operationOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadPair(ctx.db, input.pairId);
    const allowed = transition(pair.status, 'enable.requested');
    if ('refusal' in allowed) throw new AppError('CONFLICT', allowed.refusal);
    const unsupported = methodSupport[pair.replicationMethod];
    if (unsupported) throw new AppError('CONFLICT', unsupported);
    const settings = storedSettings(pair);
    if (!settings) throw new AppError('CONFLICT', 'The pair has no complete configuration yet: edit it first');
    await refuseIfBusy(ctx.db, pair.id);

    // One key per pair for the data channel and the monitor; kept across disable/enable.
    if (!pair.pairKeyEnc) {
      await ctx.db.protectionPair.update({ where: { id: pair.id }, data: { pairKeyEnc: sealSecret(randomBytes(32).toString('base64'), pairKeyContext(pair.id)) } });
    }
    const steps = planEnable({
      method: pair.replicationMethod,
      sourceHostname: pair.source.hostname,
      targetHostname: pair.target.hostname,
      route: settings.connection.route,
      port: settings.connection.port,
      routeMode: settings.connection.routeMode,
      monitoring: input.monitoring,
    });
    const op = await createOperation(ctx.db, pair, 'enable', ctx.actor.userId, steps);
    await pairEvent(ctx.db, pair, { kind: 'operation', message: `${ctx.actor.label} started enabling protection${input.monitoring ? '' : ' (without failure monitoring)'}` });
    await audit(ctx.db, ctx.actor, { action: 'pair.enable', targetType: 'ProtectionPair', targetId: pair.id, customerId: pair.customerId, summary: `Enabled protection of "${pair.name}"` });
    ctx.afterCommit(() => startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }));
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
    return { operationId: op.id };
  });

/** Disables protection: stops replication and the monitor on both agents; the configuration stays. */
export const disablePair = orgProcedure('operator')
  .input(z.object({ pairId: idSchema }))
  .output(operationOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadPair(ctx.db, input.pairId);
    const allowed = transition(pair.status, 'disable.requested');
    if ('refusal' in allowed) throw new AppError('CONFLICT', allowed.refusal);
    await refuseIfBusy(ctx.db, pair.id);
    const op = await createOperation(ctx.db, pair, 'disable', ctx.actor.userId, planDisable({ sourceHostname: pair.source.hostname, targetHostname: pair.target.hostname }));
    await pairEvent(ctx.db, pair, { kind: 'operation', message: `${ctx.actor.label} started disabling protection` });
    await audit(ctx.db, ctx.actor, { action: 'pair.disable', targetType: 'ProtectionPair', targetId: pair.id, customerId: pair.customerId, summary: `Disabled protection of "${pair.name}"` });
    ctx.afterCommit(() => startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }));
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
    return { operationId: op.id };
  });

/**
 * Turns failure monitoring on or off while replication keeps running. Both agents are told at
 * once; if one cannot be reached the change is refused and nothing is saved. The agents are asked
 * outside any transaction; the change is written after, only if the pair is still as it was read.
 */
export const setPairMonitoring = agentOrgProcedure('operator')
  .input(z.object({ pairId: idSchema, enabled: z.boolean() }))
  .output(z.object({ monitoringStatus: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const pair = await ctx.tx((db) => loadPair(db, input.pairId));
    if (!enabledStatuses.includes(pair.status)) {
      throw new AppError('CONFLICT', 'Monitoring runs only while protection is enabled');
    }
    const settings = storedSettings(pair);
    if (!settings || !pair.pairKeyEnc) throw new AppError('CONFLICT', 'The pair has no complete configuration');
    if (input.enabled === (pair.monitoringStatus !== 'off')) return { monitoringStatus: pair.monitoringStatus };
    const sourceAgent = pair.source.agent;
    const targetAgent = pair.target.agent;
    const m = settings.failover.monitor;
    // An agent that cannot do it fails the call (mapped once, in trpc.ts) and nothing is saved.
    if (input.enabled) {
      if (!sourceAgent || sourceAgent.status !== 'online' || !targetAgent || targetAgent.status !== 'online') {
        throw new AppError('CONFLICT', 'Both agents must be online to start monitoring');
      }
      const key = openSecret(pair.pairKeyEnc, pairKeyContext(pair.id));
      await agentBus().send(sourceAgent.id, 'monitor.start', { pairId: pair.id, role: 'source', key, method: m.method, port: m.port }, { timeoutMs: 8_000 });
      await agentBus().send(
        targetAgent.id,
        'monitor.start',
        { pairId: pair.id, role: 'target', key, method: m.method, port: m.port, addresses: m.addresses, intervalMs: m.intervalSeconds * 1000, missed: m.missed, trigger: m.trigger },
        { timeoutMs: 8_000 },
      );
    } else {
      // Stopping is best effort on an agent that is gone: it forgets the monitor when told, and
      // a stale report from it no longer counts once monitoring is off.
      for (const agent of [targetAgent, sourceAgent]) {
        if (agent?.status === 'online') await agentBus().send(agent.id, 'monitor.stop', { pairId: pair.id }, { timeoutMs: 8_000 }).catch(() => undefined);
      }
    }
    const monitoringStatus = input.enabled ? 'watching' : 'off';
    await ctx.tx(async (db) => {
      // A pair disabled (or switched by someone else) meanwhile is left alone; the gateway stops a
      // monitor that reports for a pair whose monitoring is off.
      const { count } = await db.protectionPair.updateMany({
        where: { id: pair.id, status: { in: [...enabledStatuses] }, monitoringStatus: pair.monitoringStatus },
        data: { monitoringStatus, ...(input.enabled ? {} : { autoFailoverMarked: false }) },
      });
      if (count === 0) throw new AppError('CONFLICT', 'The pair changed meanwhile; reload and try again');
      await db.pairMonitor.deleteMany({ where: { pairId: pair.id } });
      await pairEvent(db, pair, { kind: 'monitor', message: `${ctx.actor.label} turned failure monitoring ${input.enabled ? 'on' : 'off'}` });
      await audit(db, ctx.actor, {
        action: input.enabled ? 'pair.monitoring.enable' : 'pair.monitoring.disable',
        targetType: 'ProtectionPair',
        targetId: pair.id,
        customerId: pair.customerId,
        summary: `Turned failure monitoring of "${pair.name}" ${input.enabled ? 'on' : 'off'}`,
      });
    });
    void publishPairChange(pair, pair.id, 'status');
    return { monitoringStatus };
  });
