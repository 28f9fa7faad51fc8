// Command routing between any process (web, worker) and the gateway process that holds an
// agent's socket, through Redis. Several gateways can run; each registers which agents it holds.
//
//   tandem:agent-loc:<agentId>   -> gatewayId (expires unless refreshed by the holding gateway)
//   tandem:gw:<gatewayId>        pub/sub: commands and disconnect orders for that gateway
//   tandem:cmd:<commandId>       pub/sub: the agent's acknowledgement, then its result
//
// Delivery: the sender publishes, waits for an acknowledgement, and re-sends (same command id)
// when none comes — the agent executes a command id once and answers duplicates from its memory.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { actionArgs, actionResults, DEFAULT_COMMAND_TIMEOUT_MS, type ActionInput, type ActionName, type ActionResult } from '@tandem/protocol';
import { busKeySchema, signOrder } from './signing.ts';

export { busKeySchema, OrderVerifier, signOrder, ORDER_MAX_SKEW_MS } from './signing.ts';

export const keys = {
  location: (agentId: string) => `tandem:agent-loc:${agentId}`,
  gateway: (gatewayId: string) => `tandem:gw:${gatewayId}`,
  reply: (commandId: string) => `tandem:cmd:${commandId}`,
};

/** How long a location entry lives without a refresh from its gateway. */
export const LOCATION_TTL_SECONDS = 90;

export const gatewayOrderSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('command'),
    agentId: z.uuid(),
    commandId: z.uuid(),
    action: z.string(),
    args: z.unknown(),
    timeoutMs: z.number().int(),
  }),
  z.object({ kind: z.literal('disconnect'), agentId: z.uuid(), code: z.number().int(), reason: z.string() }),
]);
export type GatewayOrder = z.infer<typeof gatewayOrderSchema>;

export const commandReplySchema = z.union([
  z.object({ stage: z.literal('ack') }),
  z.object({ stage: z.literal('result'), ok: z.literal(true), result: z.unknown() }),
  z.object({ stage: z.literal('result'), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type CommandReply = z.infer<typeof commandReplySchema>;

/**
 * Why a command did not give a result:
 * - agent_offline, no_ack, timeout: the agent could not be reached or did not answer in time
 *   (worth trying again; after a timeout the agent may still finish the work);
 * - failed: the agent ran it and reported an error (its code and message);
 * - bad_args: the arguments were refused before anything was sent;
 * - bad_result: the agent answered with a result that does not match the action's result schema
 *   (`detail` says what did not match: for logs, not for users).
 */
export type CommandErrorCode = 'agent_offline' | 'no_ack' | 'timeout' | 'failed' | 'bad_args' | 'bad_result';

export class CommandError extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface SendOptions {
  /** How long the action may run on the agent. */
  timeoutMs?: number;
  /** Reuse to make a retried request idempotent: the agent runs a command id once. */
  commandId?: string;
  /** Re-sends when no acknowledgement arrives in `ackTimeoutMs`. */
  attempts?: number;
  ackTimeoutMs?: number;
}

/** The sending side: used by the worker and the web app. */
export class AgentBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly waiters = new Map<string, (reply: CommandReply) => void>();
  private readonly busKey: string;

  /** `busKey` signs every order (see signing.ts); by default TANDEM_BUS_KEY from the environment. */
  constructor(redisUrl: string, busKey: string | undefined = process.env.TANDEM_BUS_KEY) {
    const key = busKeySchema.safeParse(busKey);
    if (!key.success) throw new Error(`AgentBus needs the bus key (TANDEM_BUS_KEY): ${key.error.issues[0]?.message ?? 'missing'}`);
    this.busKey = key.data;
    this.pub = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.sub = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.sub.on('message', (channel: string, raw: string) => {
      const commandId = channel.slice(keys.reply('').length);
      const parsed = commandReplySchema.safeParse(safeJson(raw));
      if (parsed.success) this.waiters.get(commandId)?.(parsed.data);
    });
  }

  /** Which gateway holds the agent's socket, if any. */
  async locate(agentId: string): Promise<string | null> {
    return this.pub.get(keys.location(agentId));
  }

  /** Runs an action on an agent and returns its result, checked against the action's result schema. */
  async send<A extends ActionName>(agentId: string, action: A, args: ActionInput<A>, opts: SendOptions = {}): Promise<ActionResult<A>> {
    const checked = actionArgs[action].safeParse(args);
    if (!checked.success) throw new CommandError('bad_args', z.prettifyError(checked.error));
    const commandId = opts.commandId ?? randomUUID();
    // A hook brings its own time limit; the command must not give up before the hook does.
    const hookTimeout = action === 'hook.run' ? (checked.data as unknown as { timeoutMs: number }).timeoutMs + 5_000 : 0;
    const timeoutMs = opts.timeoutMs ?? Math.max(DEFAULT_COMMAND_TIMEOUT_MS, hookTimeout);
    const attempts = opts.attempts ?? 3;
    const ackTimeoutMs = opts.ackTimeoutMs ?? 3_000;
    const channel = keys.reply(commandId);

    const replies: CommandReply[] = [];
    let wake: (() => void) | null = null;
    this.waiters.set(commandId, (r) => {
      replies.push(r);
      wake?.();
    });
    await this.sub.subscribe(channel);
    const next = (ms: number) =>
      new Promise<CommandReply | null>((resolve) => {
        const take = () => {
          const r = replies.shift();
          if (r) {
            clearTimeout(timer);
            wake = null;
            resolve(r);
          }
        };
        const timer = setTimeout(() => {
          wake = null;
          resolve(null);
        }, ms);
        wake = take;
        take();
      });

    try {
      let acked = false;
      for (let attempt = 1; attempt <= attempts && !acked; attempt++) {
        const gatewayId = await this.locate(agentId);
        if (!gatewayId) {
          if (attempt === attempts) throw new CommandError('agent_offline', 'The agent is not connected');
          await sleep(ackTimeoutMs);
          continue;
        }
        const order: GatewayOrder = { kind: 'command', agentId, commandId, action, args: checked.data, timeoutMs };
        await this.pub.publish(keys.gateway(gatewayId), signOrder(this.busKey, order));
        const reply = await next(ackTimeoutMs);
        if (!reply) continue;
        if (reply.stage === 'result' && !reply.ok && reply.error.code === 'agent_offline') {
          // The location named a gateway whose session for the agent is gone or not ready yet
          // (a reconnect in progress): nothing was delivered, so asking again is safe.
          if (attempt === attempts) throw new CommandError('agent_offline', reply.error.message);
          await sleep(Math.min(ackTimeoutMs, 1_000));
          continue;
        }
        if (reply.stage === 'result') return unwrap(action, reply);
        acked = true;
      }
      if (!acked) throw new CommandError('no_ack', `The agent did not acknowledge the command after ${attempts} attempts`);
      // Acknowledged: the agent is working on it. Allow a little beyond its own timeout.
      const deadline = Date.now() + timeoutMs + 5_000;
      for (;;) {
        const reply = await next(Math.max(0, deadline - Date.now()));
        if (!reply) throw new CommandError('timeout', `No result within ${Math.round(timeoutMs / 1000)} s`);
        if (reply.stage === 'result') return unwrap(action, reply);
      }
    } finally {
      this.waiters.delete(commandId);
      await this.sub.unsubscribe(channel).catch(() => undefined);
    }
  }

  /** Orders whichever gateway holds the agent to drop its connection (revocation, replacement). */
  async disconnect(agentId: string, code: number, reason: string): Promise<boolean> {
    const gatewayId = await this.locate(agentId);
    if (!gatewayId) return false;
    const order: GatewayOrder = { kind: 'disconnect', agentId, code, reason };
    await this.pub.publish(keys.gateway(gatewayId), signOrder(this.busKey, order));
    return true;
  }

  close() {
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

function unwrap<A extends ActionName>(action: A, reply: Extract<CommandReply, { stage: 'result' }>): ActionResult<A> {
  if (!reply.ok) throw new CommandError('failed', `${reply.error.code}: ${reply.error.message}`);
  // TypeScript cannot pair a generic key with its schema's type; the catalogue is that pairing.
  const schema = actionResults[action] as unknown as z.ZodType<ActionResult<A>>;
  const parsed = schema.safeParse(reply.result);
  // An agent of another version, or a broken one: callers get a clear error, never half a result.
  if (!parsed.success) throw new CommandError('bad_result', `The agent answered something unexpected to ${action}`, z.prettifyError(parsed.error));
  return parsed.data;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
