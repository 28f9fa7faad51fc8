import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { eventTypes, idSchema } from '@tandem/engine';
import { iso } from '../schemas';

export const deliveryStatusSchema = z.enum(['pending', 'delivered', 'failed']);
export const PAGE_SIZE = 50;

export const deliveryFilters = {
  status: deliveryStatusSchema.optional(),
  event: z.enum(eventTypes, { error: 'Unknown event type' }).optional(),
  /** 0-based page of PAGE_SIZE rows, newest first. */
  page: z.number().int().min(0).max(10_000).default(0),
};
export const staffDeliveryFilters = z.object({ ...deliveryFilters, channelId: idSchema.optional(), customerId: idSchema.optional() });

const attemptSchema = z.object({ at: z.string(), ms: z.number().optional(), statusCode: z.number().optional(), error: z.string().optional() });

export const deliveryOutput = z.object({
  id: z.string(),
  createdAt: z.string(),
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  channelId: z.string().nullable(),
  channelName: z.string().nullable(),
  kind: z.enum(['email', 'webhook']),
  /** E-mail address, or the webhook URL (only its origin for customer users). */
  recipient: z.string(),
  event: z.string(),
  /** The e-mail subject, or the event's type for a webhook. */
  summary: z.string(),
  status: deliveryStatusSchema,
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  log: z.array(attemptSchema),
});
export type DeliveryOutput = z.infer<typeof deliveryOutput>;
export const deliveryPageOutput = z.object({ items: z.array(deliveryOutput), page: z.number(), hasMore: z.boolean() });

/** A webhook URL down to its origin: the path of a Slack or Teams URL is itself a credential. */
function originOf(url: string) {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/**
 * One page of deliveries matching `where` (newest first), never with the sealed link. `full`:
 * staff see the webhook URL; customer users see only its origin.
 */
export async function deliveryPage(db: TenantTx, where: Record<string, unknown>, page: number, full: boolean) {
  const rows = await db.alertDelivery.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    skip: page * PAGE_SIZE,
    take: PAGE_SIZE + 1,
    omit: { linkEnc: true },
    include: { channel: { select: { name: true } } },
  });
  const shown = rows.slice(0, PAGE_SIZE);
  const customerIds = [...new Set(shown.map((d) => d.customerId).filter((id): id is string => id !== null))];
  const customers = customerIds.length ? await db.customer.findMany({ where: { id: { in: customerIds } }, select: { id: true, name: true } }) : [];
  const names = new Map(customers.map((c) => [c.id, c.name]));
  const items = shown.map((d): DeliveryOutput => {
    const payload = d.payload as { kind?: string; subject?: unknown } | null;
    const log = z.array(attemptSchema).catch([]).parse(d.log);
    return {
      id: d.id,
      createdAt: d.createdAt.toISOString(),
      customerId: d.customerId,
      customerName: d.customerId ? (names.get(d.customerId) ?? null) : null,
      channelId: d.channelId,
      channelName: d.channel?.name ?? null,
      kind: d.kind === 'email' ? 'email' : 'webhook',
      recipient: d.kind === 'webhook' && !full ? originOf(d.recipient) : d.recipient,
      event: d.event,
      summary: payload?.kind === 'email' && typeof payload.subject === 'string' ? payload.subject : d.event,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
      deliveredAt: iso(d.deliveredAt),
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      log,
    };
  });
  return { items, page, hasMore: rows.length > PAGE_SIZE };
}
