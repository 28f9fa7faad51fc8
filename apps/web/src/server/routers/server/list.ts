import { z } from 'zod';
import { customerProcedure } from '../../trpc';

export const serverOutput = z.object({
  id: z.string(),
  hostname: z.string(),
  osFamily: z.enum(['linux', 'windows']),
  osVersion: z.string().nullable(),
  addresses: z.array(z.string()),
  agentStatus: z.enum(['none', 'pending', 'online', 'offline', 'revoked']),
  lastSeenAt: z.string().nullable(),
});

export const listServers = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .output(z.array(serverOutput))
  .query(async ({ ctx }) => {
    const rows = await ctx.db.server.findMany({
      where: { customerId: ctx.customer.id },
      include: { agent: { select: { status: true, lastSeenAt: true } } },
      orderBy: { hostname: 'asc' },
    });
    return rows.map((s) => ({
      id: s.id,
      hostname: s.hostname,
      osFamily: s.osFamily,
      osVersion: s.osVersion,
      addresses: s.addresses,
      agentStatus: s.agent?.status ?? 'none',
      lastSeenAt: s.agent?.lastSeenAt?.toISOString() ?? null,
    }));
  });
