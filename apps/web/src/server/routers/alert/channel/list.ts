import { z } from 'zod';
import { orgProcedure } from '../../../trpc';
import { channelOutput, toChannelOutput } from '../schemas';

/** The organization's alert channels (no secret; only whether one is stored). */
export const listChannels = orgProcedure('operator')
  .output(z.array(channelOutput))
  .query(async ({ ctx }) => {
    const rows = await ctx.db.alertChannel.findMany({ include: { _count: { select: { rules: true } } }, orderBy: { name: 'asc' } });
    return rows.map(toChannelOutput);
  });
