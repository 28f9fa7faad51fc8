import { z } from 'zod';
import { AppError, idSchema } from '@tandem/engine';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { agentOrgProcedure } from '../../trpc';
import { findServer } from './find';

/** Asks the server's agent to collect and report its facts now; waits until they arrive. */
export const refreshFacts = agentOrgProcedure('operator')
  .input(z.object({ serverId: idSchema }))
  .output(z.object({ collectedAt: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const { s, agentId } = await ctx.tx(async (db) => {
      const s = await findServer(db, input.serverId);
      if (!s.agent || s.agent.status === 'revoked') throw new AppError('CONFLICT', 'This server has no agent; add it with "Add server"');
      return { s, agentId: s.agent.id };
    });
    // Outside any transaction: collection takes a few seconds. A failure of the agent (not
    // reachable, no answer) is mapped once, in trpc.ts.
    const result = await agentBus().send(agentId, 'facts.collect', {}, { timeoutMs: 12_000 });
    await ctx.tx((db) => audit(db, ctx.actor, {
      action: 'server.facts.refresh',
      targetType: 'Server',
      targetId: s.id,
      customerId: s.customerId,
      summary: `Refreshed the facts of ${s.hostname}`,
    }));
    return { collectedAt: result.collectedAt };
  });
