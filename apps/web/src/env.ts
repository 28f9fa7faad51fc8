import { z } from 'zod';

// Server environment, validated once at start-up so a missing setting fails loudly and early.
const schema = z.object({
  APP_DATABASE_URL: z.string().startsWith('postgresql://', 'APP_DATABASE_URL must be a postgresql:// URL'),
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters'),
  TANDEM_ENCRYPTION_KEY: z.string().min(40, 'TANDEM_ENCRYPTION_KEY must be 32 bytes, base64'),
  TANDEM_PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().startsWith('redis://', 'REDIS_URL must be a redis:// URL'),
  /** Signs the orders sent to agents through the gateway (packages/agent-bus signing.ts). */
  TANDEM_BUS_KEY: z.string().min(40, 'TANDEM_BUS_KEY must be at least 32 bytes, base64'),
  /** Where agents connect (the gateway), as shown in the enrol command. */
  TANDEM_GATEWAY_URL: z.url().default('http://127.0.0.1:3001'),
  /** BullMQ key prefix shared with the worker (tests use their own). */
  TANDEM_QUEUE_PREFIX: z.string().min(1).optional(),
});

let cached: z.infer<typeof schema> | undefined;
export function env() {
  if (!cached) {
    const parsed = schema.safeParse(process.env);
    if (!parsed.success) {
      throw new Error(`Invalid server environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
    }
    cached = parsed.data;
  }
  return cached;
}
