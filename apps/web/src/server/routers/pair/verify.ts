import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { AppError, idSchema, notFound } from '@tandem/engine';
import { actionResults } from '@tandem/protocol';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { agentOrgProcedure } from '../../trpc';

/** The pair and its source agent, which runs verification and re-sends. */
async function sourceAgentOf(db: TenantTx, pairId: string) {
  const pair = await db.protectionPair.findUnique({ where: { id: pairId }, include: { source: { include: { agent: true } } } });
  if (!pair) throw notFound('Protection pair');
  const agent = pair.source.agent;
  if (!agent || agent.status !== 'online') throw new AppError('CONFLICT', `The agent on ${pair.source.hostname} is not online`);
  return { pair, agentId: agent.id };
}

/** Compares source and target content now and lists what differs. */
export const verifyPair = agentOrgProcedure('operator')
  .input(z.object({ pairId: idSchema }))
  .output(actionResults['replication.verify'])
  .mutation(async ({ ctx, input }) => {
    const { pair, agentId } = await ctx.tx((db) => sourceAgentOf(db, input.pairId));
    // Outside any transaction: the agent hashes both sides and may take its time.
    const result = await agentBus().send(agentId, 'replication.verify', { pairId: pair.id }, { timeoutMs: 14_000 });
    await ctx.tx((db) => audit(db, ctx.actor, {
      action: 'pair.verify',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Verified "${pair.name}": ${result.checkedFiles} files checked, ${result.differing.length}${result.truncated ? '+' : ''} differing`,
    }));
    return result;
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
