import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { factsSchema } from '@tandem/protocol';
import { memberProcedure } from '../../trpc';
import { findServer } from './find';
import { serverOutput } from './list';

export const getServer = memberProcedure
  .input(z.object({ serverId: idSchema }))
  .output(
    serverOutput.extend({
      customerId: z.string(),
      customerName: z.string(),
      agentId: z.string().nullable(),
      agentVersion: z.string().nullable(),
      factsAt: z.string().nullable(),
      facts: factsSchema.nullable(),
    }),
  )
  .query(async ({ ctx, input }) => {
    const s = await findServer(ctx.db, input.serverId);
    // Facts were validated when they arrived; re-check so an older shape never breaks the page.
    const facts = factsSchema.safeParse(s.facts);
    return {
      id: s.id,
      hostname: s.hostname,
      osFamily: s.osFamily,
      osVersion: s.osVersion,
      addresses: s.addresses,
      agentStatus: s.agent?.status ?? 'none',
      lastSeenAt: s.agent?.lastSeenAt?.toISOString() ?? null,
      customerId: s.customerId,
      customerName: s.customer.name,
      agentId: s.agent?.id ?? null,
      agentVersion: s.agent?.version ?? null,
      factsAt: s.factsAt?.toISOString() ?? null,
      facts: facts.success ? facts.data : null,
    };
  });
