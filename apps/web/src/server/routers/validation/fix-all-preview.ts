// Fix All's plan (catalogue §5), shown once for one confirmation: every fixable finding of the
// latest run in the ordered phases, and what is left out (blocked while protected, privileged,
// deselected, never in Fix All) with the reason.
import { z } from 'zod';
import { idSchema } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { fixAllPlanFor, planOutput } from './plan';

export const fixAllPreviewInput = z.object({ pairId: idSchema, deselected: z.array(idSchema).max(500).default([]) });

export const validationFixAllPreview = memberProcedure
  .input(fixAllPreviewInput)
  .output(planOutput)
  .query(async ({ ctx, input }) => (await fixAllPlanFor(ctx.db, ctx.actor.organizationId, input.pairId, input.deselected)).view);
