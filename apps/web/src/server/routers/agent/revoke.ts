import { z } from 'zod';
import { publishServerChange } from '@tandem/agent-bus/live';
import { AppError, idSchema } from '@tandem/engine';
import { closeCodes } from '@tandem/protocol';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { orgProcedure } from '../../trpc';
import { findServer } from '../server/find';

/** Revokes the server's agent credential and, once that is committed, drops its connection. */
export const revokeAgent = orgProcedure('operator')
  .input(z.object({ serverId: idSchema }))
  .output(z.object({ serverId: z.string(), status: z.literal('revoked') }))
  .mutation(async ({ ctx, input }) => {
    const s = await findServer(ctx.db, input.serverId);
    if (!s.agent) throw new AppError('CONFLICT', 'This server has no agent');
    if (s.agent.status === 'revoked') throw new AppError('CONFLICT', 'The agent is already revoked');
    await ctx.db.agent.update({ where: { id: s.agent.id }, data: { status: 'revoked', revokedAt: new Date() } });
    await audit(ctx.db, ctx.actor, {
      action: 'agent.revoke',
      targetType: 'Server',
      targetId: s.id,
      customerId: s.customerId,
      summary: `Revoked the agent of ${s.hostname}`,
    });
    // Only once the revocation is committed: an agent dropped earlier could reconnect and be
    // looked up as not revoked yet.
    const agentId = s.agent.id;
    ctx.afterCommit(async () => {
      await agentBus().disconnect(agentId, closeCodes.revoked, 'Credential revoked by an operator; enrol again');
    });
    ctx.afterCommit(() => publishServerChange(s, s.id, 'agent'));
    return { serverId: s.id, status: 'revoked' as const };
  });
