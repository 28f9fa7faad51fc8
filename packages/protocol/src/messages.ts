import { z } from 'zod';
import { actionNames, MAX_COMMAND_TIMEOUT_MS, monitorAddressStateSchema } from './actions.ts';
import { envelopeSchema, MAX_FRAME_BYTES, type Envelope } from './envelope.ts';
import { factsSchema } from './facts.ts';

// The message catalogue: every frame type in each direction with its payload schema.

const commandId = z.uuid();
const errorBody = z.strictObject({ code: z.string().max(64), message: z.string().max(2000) });

export const agentMessages = {
  /** First frame after connecting. */
  hello: z.strictObject({
    protocolVersion: z.number().int().min(0).max(1000),
    agentVersion: z.string().min(1).max(64),
    capabilities: z.array(z.string().max(64)).max(100),
    hostname: z.string().min(1).max(255),
    osFamily: z.enum(['linux', 'windows']),
  }),
  heartbeat: z.strictObject({ seq: z.number().int().nonnegative(), sentAt: z.number() }),
  facts: z.strictObject({ facts: factsSchema }),
  'command.ack': z.strictObject({ commandId }),
  /** Replication statistics of one pair, from its source agent every few seconds. */
  'replication.stats': z.strictObject({
    pairId: z.uuid(),
    at: z.number().int().positive(),
    mirrorBytesLeft: z.number().int().nonnegative(),
    mirrorFilesLeft: z.number().int().nonnegative(),
    queueBytes: z.number().int().nonnegative(),
    throughputBps: z.number().nonnegative(),
    /** Age of the oldest change not yet applied on the target (the pair's RPO); null: unknown. */
    lagSeconds: z.number().nonnegative().nullable(),
  }),
  /**
   * The target agent's view of a pair's source: sent when the state changes and at least every
   * probe interval while it runs (the control plane stops believing a stale view).
   */
  'monitor.report': z.strictObject({
    pairId: z.uuid(),
    at: z.number().int().positive(),
    state: z.enum(['ok', 'lost']),
    /** When the trigger condition was first met (state lost). */
    lostSince: z.number().int().positive().nullable(),
    addresses: z.array(monitorAddressStateSchema).max(16),
  }),
  'command.result': z.discriminatedUnion('ok', [
    z.strictObject({ commandId, ok: z.literal(true), result: z.unknown() }),
    z.strictObject({ commandId, ok: z.literal(false), error: errorBody }),
  ]),
  error: errorBody,
} as const;

export const gatewayMessages = {
  welcome: z.strictObject({
    agentId: z.uuid(),
    serverId: z.uuid(),
    protocolVersion: z.number().int(),
    heartbeatIntervalMs: z.number().int().min(100),
    serverTime: z.number(),
  }),
  'heartbeat.ack': z.strictObject({ seq: z.number().int().nonnegative(), sentAt: z.number(), serverTime: z.number() }),
  command: z.strictObject({
    commandId,
    action: z.enum(actionNames),
    args: z.unknown(),
    timeoutMs: z.number().int().min(100).max(MAX_COMMAND_TIMEOUT_MS),
  }),
  /** Tells the agent its frame was refused (and why); the connection stays open. */
  error: errorBody.extend({ offendingId: z.string().max(64).optional() }),
} as const;

export type AgentMessageType = keyof typeof agentMessages;
export type GatewayMessageType = keyof typeof gatewayMessages;
export type AgentPayload<T extends AgentMessageType> = z.infer<(typeof agentMessages)[T]>;
export type GatewayPayload<T extends GatewayMessageType> = z.infer<(typeof gatewayMessages)[T]>;

type Catalogue = Record<string, z.ZodType>;
export type Parsed<C extends Catalogue> = { [T in keyof C & string]: { id: string; type: T; replyTo?: string; payload: z.infer<C[T]> } }[keyof C & string];

export type ParseResult<C extends Catalogue> =
  | { ok: true; message: Parsed<C> }
  | { ok: false; code: 'too_large' | 'bad_json' | 'bad_envelope' | 'unknown_type' | 'bad_payload'; message: string; offendingId?: string };

function byteLength(raw: string | Buffer): number {
  return typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
}

/** Parses and validates one received frame against a direction's catalogue. Never throws. */
export function parseFrame<C extends Catalogue>(catalogue: C, raw: string | Buffer): ParseResult<C> {
  if (byteLength(raw) > MAX_FRAME_BYTES) {
    return { ok: false, code: 'too_large', message: `frame of ${byteLength(raw)} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit` };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, code: 'bad_json', message: 'frame is not valid JSON' };
  }
  const env = envelopeSchema.safeParse(json);
  if (!env.success) return { ok: false, code: 'bad_envelope', message: `bad envelope: ${z.prettifyError(env.error)}` };
  const { id, type, replyTo, payload } = env.data;
  const schema = Object.hasOwn(catalogue, type) ? catalogue[type] : undefined;
  if (!schema) return { ok: false, code: 'unknown_type', message: `unknown message type "${type}"`, offendingId: id };
  const body = schema.safeParse(payload);
  if (!body.success) {
    return { ok: false, code: 'bad_payload', message: `bad ${type} payload: ${z.prettifyError(body.error)}`.slice(0, 2000), offendingId: id };
  }
  return { ok: true, message: { id, type, replyTo, payload: body.data } as Parsed<C> };
}

/** Builds a frame; the payload is checked against the catalogue first, so a bug cannot send junk. */
export function encodeFrame<C extends Catalogue, T extends keyof C & string>(
  catalogue: C,
  type: T,
  payload: z.input<C[T]>,
  opts: { id?: string; replyTo?: string } = {},
): string {
  const checked = catalogue[type]!.parse(payload);
  const env: Envelope = { id: opts.id ?? crypto.randomUUID(), type, payload: checked };
  if (opts.replyTo) env.replyTo = opts.replyTo;
  return JSON.stringify(env);
}
