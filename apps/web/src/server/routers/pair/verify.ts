import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { publishPairChange } from '@tandem/agent-bus/live';
import { AppError, idSchema, notFound, operationInFlightStatuses, planVerify } from '@tandem/engine';
import { actionResults } from '@tandem/protocol';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { startOperation } from '../../services/operations';
import { pairEvent } from '../../services/pairs';
import { agentOrgProcedure, orgProcedure } from '../../trpc';
import { createOperation, lockPair, refuseIfBusy } from './protection';

/** The pair and its source agent, which runs verification and re-sends. */
async function sourceAgentOf(db: TenantTx, pairId: string) {
  const pair = await db.protectionPair.findUnique({ where: { id: pairId }, include: { source: { include: { agent: true } }, target: { select: { hostname: true } } } });
  if (!pair) throw notFound('Protection pair');
  const agent = pair.source.agent;
  if (!agent || agent.status !== 'online') throw new AppError('CONFLICT', `The agent on ${pair.source.hostname} is not online`);
  return { pair, agentId: agent.id };
}

/**
 * Compares source and target content and lists what differs. Hashing both trees can take long,
 * so it is a worker Operation (its step shows progress; its output is the result, see
 * verifyResult). A verify asked for while one is already under way joins it.
 */
export const verifyPair = orgProcedure('operator')
  .input(z.object({ pairId: idSchema }))
  .output(z.object({ operationId: z.string(), joined: z.boolean() }))
  .mutation(async ({ ctx, input }) => {
    const { pair } = await sourceAgentOf(ctx.db, input.pairId);
    await lockPair(ctx.db, pair.id);
    const running = await ctx.db.operation.findFirst({ where: { pairId: pair.id, kind: 'verify', status: { in: [...operationInFlightStatuses] } } });
    if (running) return { operationId: running.id, joined: true };
    await refuseIfBusy(ctx.db, pair.id);
    const op = await createOperation(ctx.db, pair, 'verify', ctx.actor.userId, planVerify({ sourceHostname: pair.source.hostname, targetHostname: pair.target.hostname }));
    await pairEvent(ctx.db, pair, { kind: 'operation', message: `${ctx.actor.label} started verifying source and target` });
    await audit(ctx.db, ctx.actor, { action: 'pair.verify', targetType: 'ProtectionPair', targetId: pair.id, customerId: pair.customerId, summary: `Started verifying "${pair.name}"` });
    ctx.afterCommit(() => startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }));
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
    return { operationId: op.id, joined: false };
  });

/** The pair's latest verify operation: how far it got and, once it succeeded, what it found. */
export const verifyResult = orgProcedure('operator')
  .input(z.object({ pairId: idSchema }))
  .output(
    z.object({
      operation: z.object({ id: z.string(), status: z.string(), error: z.string().nullable(), finishedAt: z.string().nullable() }).nullable(),
      result: actionResults['replication.verify'].nullable(),
    }),
  )
  .query(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, select: { id: true } });
    if (!pair) throw notFound('Protection pair');
    const op = await ctx.db.operation.findFirst({
      where: { pairId: pair.id, kind: 'verify' },
      orderBy: { createdAt: 'desc' },
      include: { steps: { where: { kind: 'replication.verify', status: 'succeeded' }, select: { output: true } } },
    });
    if (!op) return { operation: null, result: null };
    // The step output is what the agent answered (checked by the bus then); read it through the schema again.
    const parsed = op.steps[0] ? actionResults['replication.verify'].safeParse(op.steps[0].output) : null;
    return {
      operation: { id: op.id, status: op.status, error: op.error, finishedAt: op.finishedAt?.toISOString() ?? null },
      result: parsed?.success ? parsed.data : null,
    };
  });

/** Sends the given files again (after a verify found them differing). */
export const resendPair = agentOrgProcedure('operator')
  .input(z.object({ pairId: idSchema, items: z.array(z.object({ root: z.string().min(1).max(4096), path: z.string().min(1).max(4096) })).min(1).max(10_000) }))
  .output(actionResults['replication.resend'])
  .mutation(async ({ ctx, input }) => {
    const { pair, agentId } = await ctx.tx((db) => sourceAgentOf(db, input.pairId));
    const result = await agentBus().send(agentId, 'replication.resend', { pairId: pair.id, items: input.items }, { timeoutMs: 14_000 });
    await ctx.tx((db) => audit(db, ctx.actor, {
      action: 'pair.resend',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Re-sent ${result.queued} file(s) of "${pair.name}"`,
    }));
    return result;
  });
