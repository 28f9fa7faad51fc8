// The organization's validation settings: how often every pair is re-validated, and whether Fix
// All may include privileged fixes (grants, firewall openings, replication roles). Staff read
// them; owners and admins change them (audited).
import { z } from 'zod';
import { orgProcedure } from '../../trpc';
import { audit, diff } from '../../services/audit';

export const settingsOutput = z.object({ validationIntervalHours: z.number().int(), privilegedFixesInFixAll: z.boolean() });
export const updateSettingsInput = z.object({
  /** 1 hour to 30 days. */
  validationIntervalHours: z
    .number()
    .int()
    .min(1, 'At least every hour')
    .max(720, 'At most every 30 days (720 hours)')
    .optional(),
  privilegedFixesInFixAll: z.boolean().optional(),
});

export const validationSettings = orgProcedure('viewer')
  .output(settingsOutput)
  .query(({ ctx }) =>
    ctx.db.organization.findUniqueOrThrow({
      where: { id: ctx.actor.organizationId },
      select: { validationIntervalHours: true, privilegedFixesInFixAll: true },
    }),
  );

export const validationUpdateSettings = orgProcedure('admin')
  .input(updateSettingsInput)
  .output(settingsOutput)
  .mutation(async ({ ctx, input }) => {
    const select = { validationIntervalHours: true, privilegedFixesInFixAll: true } as const;
    const before = await ctx.db.organization.findUniqueOrThrow({ where: { id: ctx.actor.organizationId }, select });
    const changes = diff(before, input);
    if (Object.keys(changes).length === 0) return before;
    const after = await ctx.db.organization.update({ where: { id: ctx.actor.organizationId }, data: input, select });
    await audit(ctx.db, ctx.actor, {
      action: 'organization.validationSettings',
      targetType: 'Organization',
      targetId: ctx.actor.organizationId,
      summary: `Changed validation settings: ${Object.entries(changes)
        .map(
          ([k, c]) =>
            `${k === 'validationIntervalHours' ? 're-validate every' : 'privileged fixes in Fix All'} ${String(c.from)} → ${String(c.to)}${k === 'validationIntervalHours' ? ' h' : ''}`,
        )
        .join('; ')}`,
      changes,
    });
    return after;
  });
