import { z } from 'zod';
import { AppError, idSchema, notFound } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { customerProcedure } from '../../../trpc';
import { MAX_WINDOW_MS, toWindowOutput, windowOutput, windowReasonSchema } from './schemas';

const when = (what: string) => z.iso.datetime({ offset: true, error: `Enter the ${what} as a date and time` });

export const createWindowInput = z
  .object({
    pairId: idSchema.nullish(),
    startsAt: when('start'),
    endsAt: when('end'),
    reason: windowReasonSchema,
  })
  .superRefine((v, c) => {
    const [start, end] = [Date.parse(v.startsAt), Date.parse(v.endsAt)];
    if (end <= start) c.addIssue({ code: 'custom', path: ['endsAt'], message: 'The window must end after it starts' });
    else if (end - start > MAX_WINDOW_MS) c.addIssue({ code: 'custom', path: ['endsAt'], message: 'A maintenance window lasts at most 30 days' });
  });

/** Mutes alerts of the customer (or one of its pairs) for a while. Audited; never deleted. */
export const createWindow = customerProcedure({ staff: 'operator' })
  .input(createWindowInput)
  .output(windowOutput)
  .mutation(async ({ ctx, input }) => {
    let pairName: string | null = null;
    if (input.pairId) {
      const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, select: { customerId: true, name: true } });
      if (!pair) throw notFound('Protection pair');
      if (pair.customerId !== ctx.customer.id) throw new AppError('BAD_REQUEST', 'That pair belongs to another customer', { pairId: 'Pick a pair of this customer' });
      pairName = pair.name;
    }
    const now = new Date();
    const endsAt = new Date(input.endsAt);
    if (endsAt <= now) throw new AppError('BAD_REQUEST', 'That window would already be over', { endsAt: 'Pick an end in the future' });
    const w = await ctx.db.maintenanceWindow.create({
      data: {
        organizationId: ctx.actor.organizationId,
        customerId: ctx.customer.id,
        pairId: input.pairId ?? null,
        startsAt: new Date(input.startsAt),
        endsAt,
        reason: input.reason,
        createdById: ctx.actor.userId,
      },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.window.create',
      targetType: 'MaintenanceWindow',
      targetId: w.id,
      customerId: ctx.customer.id,
      summary: `Muted alerts of ${pairName ? `pair "${pairName}"` : ctx.customer.name} from ${w.startsAt.toISOString()} to ${w.endsAt.toISOString()}: ${w.reason}`,
      changes: { pairId: w.pairId, startsAt: w.startsAt.toISOString(), endsAt: w.endsAt.toISOString(), reason: w.reason },
    });
    return toWindowOutput(w, pairName, now);
  });
