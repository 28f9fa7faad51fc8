import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { AppError, notFound, ruleEventTypes, severitySchema } from '@tandem/engine';
import { iso } from '../schemas';

export const ruleEventsSchema = z
  .array(z.enum(ruleEventTypes, { error: 'Unknown event; choose from the listed ones' }))
  .min(1, 'Choose at least one event')
  .transform((e) => [...new Set(e)]);
export const minSeveritySchema = severitySchema;

export const ruleOutput = z.object({
  id: z.string(),
  /** null: the organization's default, for customers with no rule of their own. */
  customerId: z.string().nullable(),
  customerName: z.string().nullable(),
  channelId: z.string(),
  channelName: z.string(),
  channelKind: z.enum(['email', 'webhook']),
  events: z.array(z.enum(ruleEventTypes)),
  minSeverity: minSeveritySchema,
  enabled: z.boolean(),
  updatedAt: z.string().nullable(),
});
export type RuleOutput = z.infer<typeof ruleOutput>;

const known = new Set<string>(ruleEventTypes);

export function toRuleOutput(r: {
  id: string;
  customerId: string | null;
  customer?: { name: string } | null;
  channelId: string;
  channel: { name: string; kind: string };
  events: string[];
  minSeverity: string;
  enabled: boolean;
  updatedAt: Date;
}): RuleOutput {
  return {
    id: r.id,
    customerId: r.customerId,
    customerName: r.customer?.name ?? null,
    channelId: r.channelId,
    channelName: r.channel.name,
    channelKind: r.channel.kind === 'email' ? 'email' : 'webhook',
    events: r.events.filter((e): e is (typeof ruleEventTypes)[number] => known.has(e)),
    minSeverity: minSeveritySchema.catch('info').parse(r.minSeverity),
    enabled: r.enabled,
    updatedAt: iso(r.updatedAt),
  };
}

export const ruleInclude = { channel: { select: { name: true, kind: true } }, customer: { select: { name: true } } } as const;

export async function loadRule(db: TenantTx, id: string) {
  const r = await db.alertRule.findUnique({ where: { id }, include: ruleInclude });
  if (!r) throw notFound('Rule');
  return r;
}

/** The channel a rule names must be one of the organization's (a bad id in a form is a field error). */
export async function ruleChannel(db: TenantTx, channelId: string) {
  const c = await db.alertChannel.findUnique({ where: { id: channelId }, select: { id: true, name: true } });
  if (!c) throw new AppError('NOT_FOUND', 'Channel not found', { channelId: 'Choose one of the listed channels' });
  return c;
}
