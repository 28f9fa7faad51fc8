import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { pairInclude, pairSummaryOutput, toLatest } from './schemas';

export const getPair = memberProcedure
  .input(z.object({ pairId: idSchema }))
  .output(
    pairSummaryOutput.extend({
      customerName: z.string(),
      mirrorBytesTotal: z.number().nullable(),
      /** Failed over: when the old source's agent came back and was held stopped (fencing). */
      sourceHeldAt: z.string().nullable(),
    }),
  )
  .query(async ({ ctx, input }) => {
    const p = await ctx.db.protectionPair.findUnique({
      where: { id: input.pairId },
      include: { ...pairInclude, customer: { select: { name: true } } },
    });
    if (!p) throw notFound('Protection pair');
    // The mirror's size: the most it had left to send in the last day (for a progress bar).
    const most = await ctx.db.replicationSample.aggregate({
      where: { pairId: p.id, at: { gt: new Date(Date.now() - 86_400_000) } },
      _max: { mirrorBytesLeft: true },
    });
    return {
      id: p.id,
      name: p.name,
      customerId: p.customerId,
      customerName: p.customer.name,
      application: p.application,
      replicationMethod: p.replicationMethod,
      status: p.status,
      monitoringStatus: p.monitoringStatus,
      source: p.source,
      target: p.target,
      latest: toLatest(p.replicationSamples[0]),
      mirrorBytesTotal: most._max.mirrorBytesLeft === null ? null : Number(most._max.mirrorBytesLeft),
      sourceHeldAt: p.sourceHeldAt?.toISOString() ?? null,
    };
  });
