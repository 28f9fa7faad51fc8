import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { notFound } from '@tandem/engine';

export const drillScheduleOutput = z.object({
  id: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  /** null: every protected pair of the customer. */
  pairId: z.string().nullable(),
  pairName: z.string().nullable(),
  everyDays: z.number().int(),
  enabled: z.boolean(),
  nextDueAt: z.string(),
  lastStartedAt: z.string().nullable(),
  /** The latest test failover this schedule started, whatever its outcome. */
  lastResult: z
    .object({
      operationId: z.string(),
      pairId: z.string().nullable(),
      status: z.string(),
      createdAt: z.string(),
      finishedAt: z.string().nullable(),
    })
    .nullable(),
  /** The passing test that counts for the schedule: the pair's, or for a customer the pair tested longest ago (null: one never passed). */
  lastPassedAt: z.string().nullable(),
  status: z.object({ state: z.enum(['ok', 'due', 'overdue']), days: z.number().int() }),
  overdue: z.boolean(),
});
export type DrillScheduleView = z.infer<typeof drillScheduleOutput>;

export async function loadDrill(db: TenantTx, id: string) {
  const drill = await db.drillSchedule.findUnique({ where: { id }, include: { pair: { select: { name: true } } } });
  if (!drill) throw notFound('Drill schedule');
  return drill;
}

/** "every day", "every 7 days". */
export const everyText = (days: number) => (days === 1 ? 'every day' : `every ${days} days`);
