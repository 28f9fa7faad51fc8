import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import type { OperationKind, TenantTx } from '@tandem/db';
import { AppError, dnsTtlLowering, idSchema, methodSupport, notFound, pairKeyContext, planDisable, planEnable, planMonitoring, stepToRow, type PlannedStep } from '@tandem/engine';
import { enabledStatuses, operationInFlightStatuses, transition } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit } from '../../services/audit';
import { enableGateFor } from '../../services/enable-gate';
import { startOperation } from '../../services/operations';
import { pairEvent, storedSettings } from '../../services/pairs';
import { orgProcedure } from '../../trpc';

async function loadPair(db: TenantTx, pairId: string) {
  const pair = await db.protectionPair.findUnique({
    where: { id: pairId },
    include: { source: { include: { agent: true } }, target: { include: { agent: true } } },
  });
  if (!pair) throw notFound('Protection pair');
  return pair;
}

/**
 * Holds the pair's row until the transaction ends, so two requests cannot both find the pair idle
 * and both start an operation on it.
 */
export async function lockPair(db: TenantTx, pairId: string) {
  await db.$queryRaw`SELECT 1 FROM "ProtectionPair" WHERE id = ${pairId} FOR UPDATE`;
}

export async function refuseIfBusy(db: TenantTx, pairId: string) {
  await lockPair(db, pairId);
  const running = await db.operation.findFirst({ where: { pairId, status: { in: [...operationInFlightStatuses] } } });
  if (running) throw new AppError('CONFLICT', `Another operation (${running.kind}) is still running on this pair; wait for it to finish`);
}

export async function createOperation(db: TenantTx, pair: { id: string; organizationId: string; customerId: string }, kind: OperationKind, requestedById: string, steps: PlannedStep[]) {
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
    // A validation run without errors since the last change, on the facts as they still are.
    const gate = await enableGateFor(ctx.db, pair, settings);
    if (!gate.ok) throw new AppError('CONFLICT', gate.reason, { validation: gate.code });

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
      lowerTtl: dnsTtlLowering(settings),
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
 * Turns failure monitoring on or off while replication keeps running: an Operation the worker
 * runs (both agents told, then the monitoring status recorded), so the page shows its progress.
 * Turning it on needs both agents online; if either cannot start its side, the worker stops the
 * other again and the status stays off. Nothing to do (already so) starts nothing.
 */
export const setPairMonitoring = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, enabled: z.boolean() }))
  .output(z.object({ operationId: z.string().nullable() }))
  .mutation(async ({ ctx, input }) => {
    const pair = await loadPair(ctx.db, input.pairId);
    if (!enabledStatuses.includes(pair.status)) {
      throw new AppError('CONFLICT', 'Monitoring runs only while protection is enabled');
    }
    const settings = storedSettings(pair);
    if (!settings || !pair.pairKeyEnc) throw new AppError('CONFLICT', 'The pair has no complete configuration');
    await refuseIfBusy(ctx.db, pair.id);
    if (input.enabled === (pair.monitoringStatus !== 'off')) return { operationId: null };
    if (input.enabled && (pair.source.agent?.status !== 'online' || pair.target.agent?.status !== 'online')) {
      throw new AppError('CONFLICT', 'Both agents must be online to start monitoring');
    }
    const steps = planMonitoring({ sourceHostname: pair.source.hostname, targetHostname: pair.target.hostname }, input.enabled);
    const op = await createOperation(ctx.db, pair, input.enabled ? 'monitoring_on' : 'monitoring_off', ctx.actor.userId, steps);
    await pairEvent(ctx.db, pair, { kind: 'monitor', message: `${ctx.actor.label} started turning failure monitoring ${input.enabled ? 'on' : 'off'}` });
    await audit(ctx.db, ctx.actor, {
      action: input.enabled ? 'pair.monitoring.enable' : 'pair.monitoring.disable',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Turned failure monitoring of "${pair.name}" ${input.enabled ? 'on' : 'off'}`,
    });
    ctx.afterCommit(() => startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }));
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
    return { operationId: op.id };
  });
