import { z } from 'zod';
import { liveChannels } from '@tandem/agent-bus/live';
import { idSchema, notFound } from '@tandem/engine';
import { liveStream } from '../../services/live';
import { liveMemberProcedure } from '../../trpc';

/**
 * Live notices for one server's page: its agent came, went or was revoked, or sent new facts.
 * Whoever may read the server (server.get) may listen; ids and kinds of change only.
 */
export const serverLive = liveMemberProcedure.input(z.object({ serverId: idSchema })).subscription(async ({ ctx, input, signal }) => {
  const server = await ctx.tx((db) => db.server.findUnique({ where: { id: input.serverId }, select: { id: true, organizationId: true, customerId: true } }));
  if (!server) throw notFound('Server');
  return liveStream({ channel: liveChannels.customer(server) }, (n) => n.kind === 'server' && n.serverId === server.id, signal);
});
