import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { severitySchema } from '@tandem/engine';
import { iso } from '../schemas';

/** Resolved alerts stay listed this long, so a fix is seen to have worked. */
export const RECENTLY_RESOLVED_MS = 24 * 3600 * 1000;

export const openAlertOutput = z.object({
  id: z.string(),
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  pairId: z.string().nullable(),
  pairName: z.string().nullable(),
  type: z.string(),
  severity: severitySchema,
  message: z.string(),
  openedAt: z.string(),
  lastEventAt: z.string(),
  resolvedAt: z.string().nullable(),
});
export type OpenAlertOutput = z.infer<typeof openAlertOutput>;

/** Open alerts and those resolved in the last day matching `where`: open first, newest first. */
export async function alertViews(db: TenantTx, where: Record<string, unknown>, now: Date): Promise<OpenAlertOutput[]> {
  const rows = await db.alert.findMany({
    where: { ...where, OR: [{ resolvedAt: null }, { resolvedAt: { gte: new Date(now.getTime() - RECENTLY_RESOLVED_MS) } }] },
    orderBy: [{ openedAt: 'desc' }, { id: 'desc' }],
    take: 500,
  });
  const customerIds = [...new Set(rows.map((a) => a.customerId).filter((id): id is string => id !== null))];
  const pairIds = [...new Set(rows.map((a) => a.pairId).filter((id): id is string => id !== null))];
  const [customers, pairs] = await Promise.all([
    customerIds.length ? db.customer.findMany({ where: { id: { in: customerIds } }, select: { id: true, name: true } }) : [],
    pairIds.length ? db.protectionPair.findMany({ where: { id: { in: pairIds } }, select: { id: true, name: true } }) : [],
  ]);
  const customerName = new Map(customers.map((c) => [c.id, c.name]));
  const pairName = new Map(pairs.map((p) => [p.id, p.name]));
  const views = rows.map((a) => ({
    id: a.id,
    customerId: a.customerId,
    customerName: a.customerId ? (customerName.get(a.customerId) ?? null) : null,
    pairId: a.pairId,
    pairName: a.pairId ? (pairName.get(a.pairId) ?? null) : null,
    type: a.type,
    severity: a.severity,
    message: a.message,
    openedAt: a.openedAt.toISOString(),
    lastEventAt: a.lastEventAt.toISOString(),
    resolvedAt: iso(a.resolvedAt),
  }));
  // Still open first; the sort is stable, so each group stays newest first.
  return views.sort((x, y) => Number(x.resolvedAt !== null) - Number(y.resolvedAt !== null));
}
