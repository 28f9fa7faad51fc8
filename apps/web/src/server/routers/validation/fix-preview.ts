// What Fix would do for the picked findings, before anything runs: per phase and node, each
// action with its before and after values, and the findings it cannot take with the reason.
import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { fixPlanFor, planOutput } from './plan';

export const fixPreviewInput = z.object({
  findingIds: z.array(idSchema).min(1).max(500),
  confirmPrivileged: z.boolean().default(true),
});

export const validationFixPreview = memberProcedure
  .input(fixPreviewInput)
  .output(planOutput)
  .query(async ({ ctx, input }) => (await fixPlanFor(ctx.db, input.findingIds, input.confirmPrivileged)).view);
