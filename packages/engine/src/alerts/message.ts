import { z } from 'zod';

// A delivery's rendered message, stored on the AlertDelivery row when the event is fanned out, so
// every attempt and a manual redelivery send exactly the same thing.

/** Where a one-time link goes in a message; the sender swaps in the opened link as it sends. */
export const LINK_PLACEHOLDER = '{{tandem:link}}';

export const webhookPresets = ['standard', 'slack', 'teams', 'pagerduty'] as const;
export type WebhookPreset = (typeof webhookPresets)[number];

/**
 * A file an e-mail carries, named rather than stored: the sender makes it as it sends (a monthly
 * report is a PDF of a finished month, so every attempt attaches the same document).
 */
export const emailAttachmentSchema = z.object({ kind: z.literal('monthly-report'), customerId: z.string(), month: z.string() });
export type EmailAttachment = z.infer<typeof emailAttachmentSchema>;

export const renderedEmailSchema = z.object({
  kind: z.literal('email'),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  attachments: z.array(emailAttachmentSchema).optional(),
});
export const renderedWebhookSchema = z.object({
  kind: z.literal('webhook'),
  preset: z.enum(webhookPresets),
  /** The JSON body, as sent (signed as is for the standard preset). */
  body: z.record(z.string(), z.unknown()),
});
export const renderedMessageSchema = z.discriminatedUnion('kind', [renderedEmailSchema, renderedWebhookSchema]);
export type RenderedEmail = z.infer<typeof renderedEmailSchema>;
export type RenderedWebhook = z.infer<typeof renderedWebhookSchema>;
export type RenderedMessage = z.infer<typeof renderedMessageSchema>;

/** Channel settings (AlertChannel.config), by kind. Secrets live sealed in secretEnc. */
export const emailChannelConfigSchema = z.object({
  addresses: z.array(z.email()).min(1).max(50),
});
export const webhookChannelConfigSchema = z.object({
  url: z.url().refine((u) => /^https?:\/\//.test(u), 'Use an http:// or https:// URL'),
  preset: z.enum(webhookPresets).default('standard'),
});
export type EmailChannelConfig = z.infer<typeof emailChannelConfigSchema>;
export type WebhookChannelConfig = z.infer<typeof webhookChannelConfigSchema>;
