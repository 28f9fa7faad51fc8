import { z } from 'zod';
import { AppError, idSchema } from '@tandem/engine';
import { randomToken, sha256Hex } from '@tandem/security';
import { audit } from '../../services/audit';
import { agentBus } from '../../services/agents';
import { agentOrgProcedure } from '../../trpc';
import { findServer } from '../server/find';

/**
 * Gives a connected agent a new credential without ever locking it out:
 * 1. (short transaction) the new credential's hash is stored as pending: from now on both the
 *    old and the new one work;
 * 2. (no transaction) the agent saves the new credential;
 * 3. (short transaction) the new one replaces the old, which stops working.
 * Should step 3 fail, or the agent's answer be lost after it saved, the pending credential still
 * works, and the gateway makes it the agent's credential when the agent connects with it. The
 * agent must be online (it cannot be told otherwise).
 */
export const rotateAgentCredential = agentOrgProcedure('operator')
  .input(z.object({ serverId: idSchema }))
  .output(z.object({ serverId: z.string(), rotatedAt: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const credential = randomToken();
    const hash = sha256Hex(credential);
    const { s, agentId } = await ctx.tx(async (db) => {
      const s = await findServer(db, input.serverId);
      if (!s.agent || s.agent.status === 'revoked') throw new AppError('CONFLICT', 'This server has no active agent');
      if (s.agent.status !== 'online') throw new AppError('CONFLICT', 'The agent must be online to receive a new credential');
      await db.agent.update({ where: { id: s.agent.id }, data: { pendingCredentialHash: hash } });
      return { s, agentId: s.agent.id };
    });
    // Outside any transaction; the agent's failures (not reachable, no answer) are mapped once, in trpc.ts.
    await agentBus().send(agentId, 'credential.rotate', { credential }, { timeoutMs: 10_000 });
    await ctx.tx(async (db) => {
      // Only while this rotation's credential is still the pending one (the agent may already
      // have connected with it, which promoted it; a newer rotation may have replaced it).
      await db.agent.updateMany({ where: { id: agentId, pendingCredentialHash: hash, status: { not: 'revoked' } }, data: { credentialHash: hash, pendingCredentialHash: null } });
      await audit(db, ctx.actor, {
        action: 'agent.rotate',
        targetType: 'Server',
        targetId: s.id,
        customerId: s.customerId,
        summary: `Rotated the agent credential of ${s.hostname}`,
      });
    });
    return { serverId: s.id, rotatedAt: new Date().toISOString() };
  });
