import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { loadChannel } from '../schemas';

/** Deletes a channel with its rules (and, with them, its delivery log). */
export const removeChannel = orgProcedure('admin')
  .input(z.object({ channelId: idSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const c = await loadChannel(ctx.db, input.channelId);
    const rules = await ctx.db.alertRule.count({ where: { channelId: c.id } });
    await ctx.db.alertChannel.delete({ where: { id: c.id } });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.channel.remove',
      targetType: 'AlertChannel',
      targetId: c.id,
      summary: `Deleted channel "${c.name}"${rules ? ` and its ${rules} ${rules === 1 ? 'rule' : 'rules'}` : ''}`,
      changes: { name: c.name, kind: c.kind, rules },
    });
    return { id: c.id };
  });
