import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { busKeySchema } from '@tandem/agent-bus';

const schema = z.object({
  APP_DATABASE_URL: z.string().startsWith('postgresql://', 'APP_DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().startsWith('redis://', 'REDIS_URL must be a redis:// URL'),
  /** Verifies the orders web and worker publish for agents (packages/agent-bus signing.ts). */
  TANDEM_BUS_KEY: busKeySchema,
  GATEWAY_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_ID: z.string().min(1).max(64).default(() => `gw-${randomUUID().slice(0, 8)}`),
  /** Agents heartbeat at this interval; a socket silent for two intervals is dead. */
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(200).max(120_000).default(5_000),
  /** How long a pair switched off in the control plane may keep reporting before the gateway stops it on the agent. */
  LEFTOVER_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  /** Replication relay (relay.ts): how long a socket waits for the other side of its pair. */
  RELAY_WAIT_MS: z.coerce.number().int().min(500).max(3_600_000).default(120_000),
  /** A joined relay that carries no byte in either direction for this long is closed (the source reconnects). */
  RELAY_IDLE_MS: z.coerce.number().int().min(500).max(86_400_000).default(900_000),
  /** Relay sockets one pair may hold at once (waiting or joined, both sides). */
  RELAY_MAX_PER_PAIR: z.coerce.number().int().min(2).max(10_000).default(64),
  /** Liveness pings on relay sockets; one silent for two intervals is dropped. */
  RELAY_PING_MS: z.coerce.number().int().min(200).max(600_000).default(10_000),
});

export type GatewayEnv = z.infer<typeof schema>;

export function gatewayEnv(): GatewayEnv {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`Invalid gateway environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
