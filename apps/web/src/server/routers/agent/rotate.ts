import { z } from 'zod';
import { AppError, idSchema } from '@tandem/engine';
import { randomToken, sha256Hex } from '@tandem/security';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { orgProcedure } from '../../trpc';
import { findServer } from '../server/find';

/**
 * Gives a connected agent a new credential: the agent saves it first, then the old one stops
 * working. The agent must be online (it cannot be told otherwise).
 */
export const rotateAgentCredential = orgProcedure('operator')
  .input(z.object({ serverId: idSchema }))
  .output(z.object({ serverId: z.string(), rotatedAt: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const s = await findServer(ctx.db, input.serverId);
    if (!s.agent || s.agent.status === 'revoked') throw new AppError('CONFLICT', 'This server has no active agent');
    if (s.agent.status !== 'online') throw new AppError('CONFLICT', 'The agent must be online to receive a new credential');
    const credential = randomToken();
    // Nothing is saved unless the agent took it (its failures are mapped once, in trpc.ts).
    await agentBus().send(s.agent.id, 'credential.rotate', { credential }, { timeoutMs: 10_000 });
    await ctx.db.agent.update({ where: { id: s.agent.id }, data: { credentialHash: sha256Hex(credential) } });
    await audit(ctx.db, ctx.actor, {
      action: 'agent.rotate',
      targetType: 'Server',
      targetId: s.id,
      customerId: s.customerId,
      summary: `Rotated the agent credential of ${s.hostname}`,
    });
    return { serverId: s.id, rotatedAt: new Date().toISOString() };
  });
