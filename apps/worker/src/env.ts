import { z } from 'zod';

const schema = z.object({
  APP_DATABASE_URL: z.string().startsWith('postgresql://', 'APP_DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().startsWith('redis://', 'REDIS_URL must be a redis:// URL'),
  /** Signs the orders sent to agents through the gateway (packages/agent-bus signing.ts). */
  TANDEM_BUS_KEY: z.string().min(40, 'TANDEM_BUS_KEY must be at least 32 bytes, base64'),
  /** Opens pair keys sealed by the web app (same key). */
  TANDEM_ENCRYPTION_KEY: z.string().min(40, 'TANDEM_ENCRYPTION_KEY must be 32 bytes, base64'),
  /** BullMQ key prefix shared with the web app (tests use their own). */
  TANDEM_QUEUE_PREFIX: z.string().min(1).optional(),
  /** The web app's address as people reach it: links in e-mails (approval requests) start with it. */
  TANDEM_PUBLIC_URL: z.url().default('http://127.0.0.1:3000'),
  /**
   * Whether webhooks may reach loopback, private and reserved addresses (alerts/address-policy.ts).
   * Denied unless set: a hosted worker must not be pointed at its own network. `npm start` (a demo on
   * loopback) and the tests allow it.
   */
  TANDEM_WEBHOOK_PRIVATE_ADDRESSES: z.enum(['allow', 'deny']).default('deny'),
  /** Tests only: the alert sender's first retry delay in ms (default 30 s, doubling per attempt). */
  TANDEM_ALERT_RETRY_BASE_MS: z.coerce.number().int().positive().optional(),
});

/** TANDEM_PUBLIC_URL alone, for jobs that build links and need no other setting. */
export const workerPublicUrl = () => schema.shape.TANDEM_PUBLIC_URL.parse(process.env.TANDEM_PUBLIC_URL);

export function workerEnv() {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`Invalid worker environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
