// Fix for the findings a person picked. Refused whole, before anything runs, when one of them
// cannot be fixed now: a person must fix it, it changes the target of a protected pair ("disable
// protection first"), or it widens access without an owner's or admin's confirmation.
import { z } from 'zod';
import { AppError, forbidden, idSchema, orgRoleAtLeast } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { fixPlanFor } from './plan';
import { requestFix } from './request-fix';

export const fixInput = z.object({
  findingIds: z.array(idSchema).min(1).max(500),
  confirmPrivileged: z.boolean().default(false),
});
export const fixOutput = z.object({ operationId: z.string(), planDigest: z.string() });

export const validationFix = orgProcedure('operator')
  .input(fixInput)
  .output(fixOutput)
  .mutation(async ({ ctx, input }) => {
    if (input.confirmPrivileged && !orgRoleAtLeast(ctx.actor.role, 'admin'))
      throw forbidden('Only an owner or admin can confirm a privileged fix');
    const { pair, plan, view } = await fixPlanFor(ctx.db, input.findingIds, input.confirmPrivileged);
    const refused = plan.skipped[0];
    if (refused)
      throw new AppError('CONFLICT', `${refused.checkId}${refused.subject ? ` (${refused.subject})` : ''}: ${refused.reason}`);
    if (view.actions === 0) throw new AppError('CONFLICT', 'Nothing to fix');
    return requestFix(ctx, pair, view, { fixAll: false, deselected: [], confirmPrivileged: input.confirmPrivileged });
  });
