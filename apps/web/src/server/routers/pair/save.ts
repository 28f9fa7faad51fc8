import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import { CommandError } from '@tandem/agent-bus';
import type { TenantTx } from '@tandem/db';
import {
  AppError,
  applicationChoices,
  applicationLabels,
  idSchema,
  notFound,
  operationInFlightStatuses,
  pairSettingsSchema,
  postgresInstances,
  replicationMethodFor,
  settingsToColumns,
  targetCompatibility,
  transition,
  type PairSettings,
} from '@tandem/engine';
import type { ActionResult } from '@tandem/protocol';
import { agentBus } from '../../services/agents';
import { audit } from '../../services/audit';
import { checkCredential, pairEvent, serverView, storedSettings } from '../../services/pairs';
import { agentCustomerProcedure, agentOrgProcedure } from '../../trpc';

const serverWithAgent = { agent: { select: { id: true, status: true } } } as const;

/** Checks the source, target and settings together; throws a clear BAD_REQUEST naming the field. */
async function checkPair(db: TenantTx, customerId: string, sourceServerId: string, targetServerId: string, settings: PairSettings) {
  const [source, target] = await Promise.all([
    db.server.findUnique({ where: { id: sourceServerId }, include: serverWithAgent }),
    db.server.findUnique({ where: { id: targetServerId }, include: serverWithAgent }),
  ]);
  if (!source || source.customerId !== customerId) throw new AppError('NOT_FOUND', 'Source server not found');
  if (!target || target.customerId !== customerId) throw new AppError('NOT_FOUND', 'Target server not found');
  const sv = serverView(source);
  const app = applicationChoices(sv).find((a) => a.application === settings.application);
  if (!app?.available) {
    throw new AppError('BAD_REQUEST', `${applicationLabels[settings.application]} cannot be protected on ${source.hostname}: ${app?.detail ?? 'not found'}`, {
      application: app?.detail ?? 'Not available on this source',
    });
  }
  const compat = targetCompatibility(sv, serverView(target), settings.application);
  if (!compat.ok) throw new AppError('BAD_REQUEST', `${target.hostname} cannot be the target: ${compat.reason}`, { targetServerId: compat.reason });
  const link = settings.connection.database;
  if (settings.application === 'postgresql' && link) {
    if (!postgresInstances(sv).some((i) => i.dataDirectory === link.sourceDataDir)) {
      throw new AppError('BAD_REQUEST', `${source.hostname} reports no PostgreSQL instance in ${link.sourceDataDir}`, { 'connection.database.sourceDataDir': 'Choose one of the instances the source reports' });
    }
    if (!postgresInstances(serverView(target)).some((i) => i.dataDirectory === link.targetDataDir)) {
      throw new AppError('BAD_REQUEST', `${target.hostname} reports no PostgreSQL instance in ${link.targetDataDir}`, { 'connection.database.targetDataDir': 'Choose one of the instances the target reports' });
    }
  }
  await checkCredential(db, customerId, settings.dns.credentialId);
  return { source, target };
}

/**
 * Asks the source agent, when it is online, whether the directories exist, so a typo is caught
 * in the wizard. (Enabling checks again; an offline source is checked then.) Called outside any
 * transaction: the agent may take seconds to answer.
 */
async function checkRootsOnSource(agent: { id: string; status: string } | null, hostname: string, settings: PairSettings) {
  if (!settings.replicationSet || !agent || agent.status !== 'online') return;
  let result: ActionResult<'replication.check-set'>;
  try {
    result = await agentBus().send(agent.id, 'replication.check-set', { source: settings.replicationSet }, { timeoutMs: 8_000 });
  } catch (err) {
    // Unreachable, or an answer we cannot use: the enable step checks again.
    if (err instanceof CommandError) return;
    throw err;
  }
  const missing = result.roots.filter((r) => !r.exists || !r.directory);
  if (missing.length) {
    const what = missing.map((r) => `${r.root} (${r.exists ? 'not a directory' : 'does not exist'})`).join(', ');
    throw new AppError('BAD_REQUEST', `On ${hostname}: ${what}`, { 'replicationSet.roots': `Not a directory on ${hostname}: ${missing.map((r) => r.root).join(', ')}` });
  }
}

export const createPairInput = z.object({
  sourceServerId: idSchema,
  targetServerId: idSchema,
  settings: pairSettingsSchema,
});

/** Saves a new pair (unprotected); enabling protection is a separate step. */
export const createPair = agentCustomerProcedure({ staff: 'operator' })
  .input(createPairInput)
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const { source, target } = await ctx.tx((db) => checkPair(db, ctx.customer.id, input.sourceServerId, input.targetServerId, input.settings));
    await checkRootsOnSource(source.agent, source.hostname, input.settings);
    const pair = await ctx.tx(async (db) => {
      const pair = await db.protectionPair.create({
        data: {
          organizationId: ctx.customer.organizationId,
          customerId: ctx.customer.id,
          sourceServerId: source.id,
          targetServerId: target.id,
          replicationMethod: replicationMethodFor[input.settings.application],
          ...settingsToColumns(input.settings),
        },
      });
      await pairEvent(db, pair, { kind: 'configuration', message: `Created by ${ctx.actor.label}: ${source.hostname} → ${target.hostname}` });
      await audit(db, ctx.actor, {
        action: 'pair.create',
        targetType: 'ProtectionPair',
        targetId: pair.id,
        customerId: ctx.customer.id,
        summary: `Created protection pair "${pair.name}" (${source.hostname} → ${target.hostname}, ${applicationLabels[input.settings.application]})`,
      });
      return pair;
    });
    void publishPairChange(pair, pair.id, 'settings');
    return { id: pair.id };
  });

/** An enable or disable in progress reads the configuration step by step: it must not change under it. */
async function refuseWhileOperationRuns(db: TenantTx, pairId: string) {
  const running = await db.operation.findFirst({ where: { pairId, status: { in: [...operationInFlightStatuses] } } });
  if (running) throw new AppError('CONFLICT', `An operation (${running.kind}) is running on this pair: wait for it to finish before changing its configuration`);
}

/** Changes a pair's settings; only while protection is disabled, so agents never run a half-old configuration. */
export const updatePair = agentOrgProcedure('operator')
  .input(z.object({ pairId: idSchema, settings: pairSettingsSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const { pair, source, next } = await ctx.tx(async (db) => {
      const pair = await db.protectionPair.findUnique({ where: { id: input.pairId } });
      if (!pair) throw notFound('Protection pair');
      const next = transition(pair.status, 'config.changed');
      if ('refusal' in next) throw new AppError('CONFLICT', next.refusal);
      await refuseWhileOperationRuns(db, pair.id);
      if (input.settings.application !== pair.application) {
        throw new AppError('BAD_REQUEST', 'The application of a pair cannot change; create a new pair instead', { application: 'Fixed for this pair' });
      }
      const { source } = await checkPair(db, pair.customerId, pair.sourceServerId, pair.targetServerId, input.settings);
      return { pair, source, next };
    });
    await checkRootsOnSource(source.agent, source.hostname, input.settings);
    const before = storedSettings(pair);
    const changed = before ? changedSections(before, input.settings) : ['all'];
    await ctx.tx(async (db) => {
      // Checked again: an enable may have started while the agent answered.
      await refuseWhileOperationRuns(db, pair.id);
      // Conditional on the status the lifecycle answered from: a pair that was enabled meanwhile
      // keeps its configuration. A change voids an earlier validation (validated → unprotected).
      const { count } = await db.protectionPair.updateMany({
        where: { id: pair.id, status: pair.status },
        data: {
          ...settingsToColumns(input.settings),
          ...(changed.length ? { configChangedAt: new Date() } : {}),
          // Test settings only matter to test failovers: they do not void a validation.
          ...(changed.some((k) => k !== 'testing') ? { status: next.status } : {}),
        },
      });
      if (count === 0) throw new AppError('CONFLICT', 'The pair changed while saving (protection was enabled?); reload and try again');
      await pairEvent(db, pair, { kind: 'configuration', message: `Configuration changed by ${ctx.actor.label}${changed.length ? `: ${changed.join(', ')}` : ' (no differences)'}` });
      await audit(db, ctx.actor, {
        action: 'pair.update',
        targetType: 'ProtectionPair',
        targetId: pair.id,
        customerId: pair.customerId,
        summary: `Changed the configuration of "${input.settings.name}"${changed.length ? ` (${changed.join(', ')})` : ''}`,
      });
    });
    void publishPairChange(pair, pair.id, 'settings');
    return { id: pair.id };
  });

function changedSections(a: PairSettings, b: PairSettings): string[] {
  const sections: (keyof PairSettings)[] = ['name', 'replicationSet', 'failover', 'connection', 'dns', 'hooks', 'testing'];
  return sections.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
