// A pair's validation history, newest first: when, why, the overall status and the counts.
import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { loadPair, runSummaryOutput, toRunSummary } from './shared';

export const runsInput = z.object({ pairId: idSchema, limit: z.number().int().min(1).max(200).default(50) });
export const runsOutput = z.array(runSummaryOutput);

export const validationRuns = memberProcedure
  .input(runsInput)
  .output(runsOutput)
  .query(async ({ ctx, input }) => {
    const pair = await loadPair(ctx.db, input.pairId);
    const runs = await ctx.db.validationRun.findMany({
      where: { pairId: pair.id },
      orderBy: { startedAt: 'desc' },
      take: input.limit,
      include: { findings: { select: { severity: true } } },
    });
    return runs.map(toRunSummary);
  });
