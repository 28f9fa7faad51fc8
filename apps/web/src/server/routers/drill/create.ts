import { z } from 'zod';
import { AppError, drillEveryDaysSchema, firstDrillDue, idSchema, notFound } from '@tandem/engine';
import { audit } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { everyText } from './schemas';

/** A recurring test failover of one pair, or of every protected pair of the customer (pairId null). */
export const createDrill = orgProcedure('operator')
  .input(
    z.object({
      customerId: idSchema,
      pairId: idSchema.nullable(),
      everyDays: drillEveryDaysSchema,
      /** When the first drill is due; default one period from now. */
      firstDueAt: z.iso.datetime({ offset: true, error: 'Enter a date and time' }).optional(),
    }),
  )
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const customer = await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true, name: true } });
    if (!customer) throw notFound('Customer');
    let pairName: string | null = null;
    if (input.pairId) {
      const pair = await ctx.db.protectionPair.findUnique({
        where: { id: input.pairId },
        select: { customerId: true, name: true },
      });
      if (!pair) throw notFound('Protection pair');
      if (pair.customerId !== customer.id)
        throw new AppError('BAD_REQUEST', 'That pair belongs to another customer', { pairId: 'Pick a pair of this customer' });
      pairName = pair.name;
    }
    const now = new Date();
    const firstDueAt = input.firstDueAt ? new Date(input.firstDueAt) : null;
    if (firstDueAt && firstDueAt.getTime() > now.getTime() + 366 * 24 * 3600 * 1000) {
      throw new AppError('BAD_REQUEST', 'The first drill must be within a year', { firstDueAt: 'Pick a date within a year' });
    }
    const nextDueAt = firstDrillDue(input.everyDays, now, firstDueAt);
    const drill = await ctx.db.drillSchedule.create({
      data: {
        organizationId: ctx.actor.organizationId,
        customerId: customer.id,
        pairId: input.pairId,
        everyDays: input.everyDays,
        nextDueAt,
        createdById: ctx.actor.userId,
      },
    });
    const what = pairName ? `pair "${pairName}"` : `every protected pair of ${customer.name}`;
    await audit(ctx.db, ctx.actor, {
      action: 'drill.create',
      targetType: 'DrillSchedule',
      targetId: drill.id,
      customerId: customer.id,
      summary: `Scheduled a test failover drill of ${what} ${everyText(input.everyDays)}, first due ${nextDueAt.toISOString()}`,
      changes: { pairId: input.pairId, everyDays: input.everyDays, nextDueAt: nextDueAt.toISOString() },
    });
    return { id: drill.id };
  });
