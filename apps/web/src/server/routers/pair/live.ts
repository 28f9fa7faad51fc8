import { z } from 'zod';
import { liveChannels } from '@tandem/agent-bus/live';
import { idSchema, notFound } from '@tandem/engine';
import { liveStream } from '../../services/live';
import { liveMemberProcedure } from '../../trpc';

/**
 * Live notices for one pair's page: its status, operation steps, events, lag and monitor, and
 * its two servers' agents (shown on the page). Whoever may read the pair (pair.get) may listen;
 * the stream carries ids and kinds of change only, and the page refetches its queries.
 */
export const pairLive = liveMemberProcedure.input(z.object({ pairId: idSchema })).subscription(async ({ ctx, input, signal }) => {
  const pair = await ctx.tx((db) =>
    db.protectionPair.findUnique({ where: { id: input.pairId }, select: { id: true, organizationId: true, customerId: true, sourceServerId: true, targetServerId: true } }),
  );
  if (!pair) throw notFound('Protection pair');
  const servers = new Set([pair.sourceServerId, pair.targetServerId]);
  return liveStream({ channel: liveChannels.customer(pair) }, (n) => (n.kind === 'pair' ? n.pairId === pair.id : servers.has(n.serverId)), signal);
});
