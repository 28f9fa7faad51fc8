import { z } from 'zod';
import { memberProcedure } from '../../trpc';

/** The values the Audit page's filters offer: actors and actions seen in this tenant's trail. */
export const auditFacets = memberProcedure
  .output(
    z.object({
      actors: z.array(z.object({ id: z.string(), label: z.string() })),
      actions: z.array(z.string()),
      customers: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  )
  .query(async ({ ctx }) => {
    const actors = await ctx.db.auditEvent.findMany({
      where: { actorId: { not: null } },
      distinct: ['actorId'],
      select: { actorId: true, actorLabel: true },
      orderBy: { actorId: 'asc' },
    });
    const actions = await ctx.db.auditEvent.findMany({ distinct: ['action'], select: { action: true }, orderBy: { action: 'asc' } });
    const customers = await ctx.db.customer.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
    return {
      actors: actors.map((a) => ({ id: a.actorId!, label: a.actorLabel })),
      actions: actions.map((a) => a.action),
      customers,
    };
  });
