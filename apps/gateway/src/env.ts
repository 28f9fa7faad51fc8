import { randomUUID } from 'node:crypto';
import { z } from 'zod';

const schema = z.object({
  APP_DATABASE_URL: z.string().startsWith('postgresql://', 'APP_DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().startsWith('redis://', 'REDIS_URL must be a redis:// URL'),
  GATEWAY_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_ID: z.string().min(1).max(64).default(() => `gw-${randomUUID().slice(0, 8)}`),
  /** Agents heartbeat at this interval; a socket silent for two intervals is dead. */
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(200).max(120_000).default(5_000),
  /** How long a pair switched off in the control plane may keep reporting before the gateway stops it on the agent. */
  LEFTOVER_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
});

export type GatewayEnv = z.infer<typeof schema>;

export function gatewayEnv(): GatewayEnv {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`Invalid gateway environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
