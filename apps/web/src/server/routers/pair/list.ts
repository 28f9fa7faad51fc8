import { z } from 'zod';
import { customerProcedure } from '../../trpc';
import { pairInclude, pairSummaryOutput, toLatest } from './schemas';

export const listPairs = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  // Readiness (0-100, from the last validation) is listed too: the customer's home shows it.
  .output(z.array(pairSummaryOutput.extend({ readinessScore: z.number().nullable() })))
  .query(async ({ ctx }) => {
    const pairs = await ctx.db.protectionPair.findMany({ where: { customerId: ctx.customer.id }, include: pairInclude, orderBy: { name: 'asc' } });
    return pairs.map((p) => ({
      id: p.id,
      name: p.name,
      customerId: p.customerId,
      application: p.application,
      replicationMethod: p.replicationMethod,
      status: p.status,
      monitoringStatus: p.monitoringStatus,
      source: p.source,
      target: p.target,
      latest: toLatest(p.replicationSamples[0]),
      readinessScore: p.readinessScore,
    }));
  });
