import { z } from 'zod';
import { AppError, idSchema } from '@tandem/engine';
import { audit } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { loadCredential } from './schemas';

/** Deletes a credential no pair uses (a pair's DNS failover would fail without it). */
export const removeCredential = orgProcedure('operator')
  .input(z.object({ id: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const c = await loadCredential(ctx.db, input.id);
    const users = await ctx.db.protectionPair.findMany({ where: { dnsSettings: { path: ['credentialId'], equals: c.id } }, select: { name: true }, orderBy: { name: 'asc' } });
    if (users.length > 0) {
      const names = users.map((p) => `"${p.name}"`).join(', ');
      throw new AppError('CONFLICT', `Credential "${c.name}" is used by ${users.length === 1 ? 'pair' : 'pairs'} ${names}; choose another credential there first`);
    }
    await ctx.db.credential.delete({ where: { id: c.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'credential.remove',
      targetType: 'Credential',
      targetId: c.id,
      customerId: c.customerId,
      summary: `Deleted credential "${c.name}"`,
    });
    return { id: c.id };
  });
