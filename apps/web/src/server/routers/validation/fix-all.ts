// Fix All: the plan of fix-all-preview, confirmed once. What it leaves out (blocked while the
// pair is protected, privileged unless the organization allows it, deselected) stays as it is.
import { z } from 'zod';
import { AppError, idSchema } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { fixAllPlanFor } from './plan';
import { requestFix } from './request-fix';
import { fixOutput } from './fix';

export const fixAllInput = z.object({
  pairId: idSchema,
  deselected: z.array(idSchema).max(500).default([]),
  /** The digest of the plan the person confirmed: a different plan now (a new run) is refused. */
  planDigest: z.string().max(64).optional(),
});

export const validationFixAll = orgProcedure('operator')
  .input(fixAllInput)
  .output(fixOutput)
  .mutation(async ({ ctx, input }) => {
    const { pair, view } = await fixAllPlanFor(ctx.db, ctx.actor.organizationId, input.pairId, input.deselected);
    if (view.actions === 0) {
      const blocked = view.skipped.find((s) => /protection/i.test(s.reason));
      throw new AppError(
        'CONFLICT',
        blocked
          ? `Nothing Fix All may do now: ${blocked.reason}`
          : 'Nothing to fix: the latest run has no finding Tandem can fix',
      );
    }
    if (input.planDigest && input.planDigest !== view.digest)
      throw new AppError('CONFLICT', 'The plan changed since it was shown (a newer validation run): look at it again');
    return requestFix(ctx, pair, view, { fixAll: true, deselected: input.deselected, confirmPrivileged: false });
  });
