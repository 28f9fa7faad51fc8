// Shared pieces of the alerting API: input rules (said the same way by the API and the forms),
// what may be shown of a channel (never its secret), and loaders that answer NOT_FOUND for
// another tenant's rows (the tenant transaction cannot see them at all).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { emitEvent, type TenantTx } from '@tandem/db';
import { emailChannelConfigSchema, emailSchema, nameTextSchema, notFound, webhookChannelConfigSchema, webhookPresets, type EventRecipient } from '@tandem/engine';

/** Binds a channel's sealed secret (signing secret or PagerDuty routing key) to its row. */
export const channelSecretContext = (channelId: string) => `alert-channel:${channelId}`;
/** Binds the organization's sealed SMTP password to it. */
export const smtpSecretContext = (organizationId: string) => `smtp:${organizationId}`;

/** A new Standard Webhooks signing secret: whsec_ + base64 of 24 random bytes. */
export const newSigningSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export const channelNameSchema = nameTextSchema('The name').trim().min(1, 'Give the channel a name').max(120, 'Keep the name under 120 characters');
export const addressesSchema = z
  .array(emailSchema)
  .min(1, 'Add at least one e-mail address')
  .max(50, 'At most 50 addresses per channel')
  .refine((a) => new Set(a).size === a.length, 'An address is listed twice');
export const webhookUrlSchema = z
  .string()
  .trim()
  .min(1, 'Enter the webhook URL')
  .max(2000, 'That URL is too long')
  .pipe(z.url({ error: 'Enter a full URL, such as https://hooks.example.com/tandem' }))
  .refine((u) => /^https?:\/\//i.test(u), 'Use an http:// or https:// URL');
export const presetSchema = z.enum(webhookPresets, { error: 'Choose standard, slack, teams or pagerduty' });
export const routingKeySchema = z.string().trim().min(1, 'Enter the PagerDuty integration (routing) key').max(200, 'That routing key is too long');

export const channelOutput = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['email', 'webhook']),
  enabled: z.boolean(),
  addresses: z.array(z.string()),
  url: z.string().nullable(),
  preset: presetSchema.nullable(),
  /** A signing secret or routing key is stored (never shown). */
  hasSecret: z.boolean(),
  ruleCount: z.number(),
  createdAt: z.string(),
});
export type ChannelOutput = z.infer<typeof channelOutput>;

type ChannelRow = { id: string; name: string; kind: string; enabled: boolean; config: unknown; secretEnc: string | null; createdAt: Date; _count?: { rules: number } };

export function toChannelOutput(c: ChannelRow): ChannelOutput {
  const email = c.kind === 'email' ? emailChannelConfigSchema.safeParse(c.config) : null;
  const hook = c.kind === 'webhook' ? webhookChannelConfigSchema.safeParse(c.config) : null;
  return {
    id: c.id,
    name: c.name,
    kind: c.kind === 'email' ? 'email' : 'webhook',
    enabled: c.enabled,
    addresses: email?.success ? email.data.addresses : [],
    url: hook?.success ? hook.data.url : null,
    preset: hook?.success ? hook.data.preset : null,
    hasSecret: c.secretEnc !== null,
    ruleCount: c._count?.rules ?? 0,
    createdAt: c.createdAt.toISOString(),
  };
}

export async function loadChannel(db: TenantTx, id: string) {
  const c = await db.alertChannel.findUnique({ where: { id } });
  if (!c) throw notFound('Channel');
  return c;
}

/**
 * Emits an `alert.test` event (the dispatcher and sender do the rest) and returns its id. The
 * unique key lets us find the row we just wrote; it also makes the event a once-only one.
 */
export async function emitTestEvent(
  db: TenantTx,
  organizationId: string,
  e: { message: string; recipients?: EventRecipient[]; data: Record<string, unknown> },
): Promise<string> {
  const dedupeKey = `alert.test:${randomBytes(12).toString('hex')}`;
  await emitEvent(db, {
    organizationId,
    customerId: null,
    type: 'alert.test',
    severity: 'info',
    message: e.message,
    subject: { kind: 'organization', id: organizationId, name: 'Test' },
    recipients: e.recipients,
    data: e.data,
    dedupeKey,
  });
  const row = await db.outboxEvent.findUniqueOrThrow({ where: { dedupeKey }, select: { id: true } });
  return row.id.toString();
}

export const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
