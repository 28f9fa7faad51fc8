import { z } from 'zod';

// The relay: for pairs whose agents cannot reach each other, both agents dial the gateway on
// RELAY_PATH (a WebSocket beside the control session's `/agent`, same port, same Bearer
// credential) and the gateway splices the two sockets once both are there.
//
// On the wire:
// 1. agent → gateway, one text frame: a RelayHello (which pair, which side, which stream).
// 2. gateway → agent, text: `relay.waiting` (accepted; the other side is not there yet), then
//    `relay.paired` once it is. An agent sends no binary frame before `relay.paired`.
// 3. After that only binary frames, copied unchanged to the other agent. They carry the pair's
//    TLS-PSK session end to end: the gateway sees ciphertext and never holds the pair key.
// Refusals and time-outs end the WebSocket with a RELAY_CLOSE code and a readable reason.

export const RELAY_PATH = '/relay';
/** Announced in the agent's hello capabilities by agents that can use the relay. */
export const RELAY_CAPABILITY = 'replication.relay';
export const RELAY_PROTOCOL_VERSION = 1;
/** A hello is a few hundred bytes; anything longer is refused without being parsed. */
export const MAX_RELAY_HELLO_BYTES = 4096;
/** Largest binary frame the gateway forwards; agents cut their writes into pieces well below it. */
export const RELAY_MAX_MESSAGE_BYTES = 1024 * 1024;

/** The hex digits that end a data-channel identity (`<pairId>:<12 hex>`, one per replication root). */
export const relayStreamSchema = z.string().regex(/^[0-9a-f]{12}$/, 'stream is the 12 hex digits that end the channel identity');

export const relayHelloSchema = z.strictObject({
  type: z.literal('relay.hello'),
  version: z.literal(RELAY_PROTOCOL_VERSION),
  pairId: z.uuid(),
  role: z.enum(['source', 'target']),
  stream: relayStreamSchema,
});
export type RelayHello = z.infer<typeof relayHelloSchema>;

export const relayNoticeSchema = z.discriminatedUnion('type', [
  /** The hello was accepted; the gateway holds this socket for `waitMs` at most. */
  z.strictObject({ type: z.literal('relay.waiting'), waitMs: z.number().int().nonnegative() }),
  /** Both sides are present: from now on every binary frame goes to the other agent. */
  z.strictObject({ type: z.literal('relay.paired') }),
]);
export type RelayNotice = z.infer<typeof relayNoticeSchema>;

/** Close codes of a relay socket (the control session's 4401/4403/4409 mean the same here). */
export const relayCloseCodes = {
  /** The other agent closed its side, cleanly. */
  peerClosed: 1000,
  shuttingDown: 1001,
  /** Hello missing, malformed or late; text after pairing; binary before it. */
  badHello: 4400,
  unauthorized: 4401,
  revoked: 4403,
  /** The pair does not exist in this agent's tenant, or this agent's server is not that side of it. */
  notYourPair: 4404,
  /** No other side within the wait, or no byte relayed for the idle time. */
  timedOut: 4408,
  /** Another socket said hello for the same pair, side and stream; the newer one is kept. */
  replaced: 4409,
  /** The other agent's socket failed (not a clean close). */
  peerLost: 4410,
  /** The pair is not set to relay, or its protection is not enabled. */
  notAllowed: 4412,
  /** Too many relay sockets for one pair. */
  tooMany: 4429,
} as const;

export type RelayHelloResult = { ok: true; hello: RelayHello } | { ok: false; message: string };

/** Parses a hello frame; never throws. The message is short enough for a close reason. */
export function parseRelayHello(raw: Buffer | string, isBinary: boolean): RelayHelloResult {
  if (isBinary) return { ok: false, message: 'the hello must be a text frame' };
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_RELAY_HELLO_BYTES) return { ok: false, message: `hello of ${size} bytes exceeds ${MAX_RELAY_HELLO_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, message: 'the hello is not JSON' };
  }
  const parsed = relayHelloSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    return { ok: false, message: `bad hello: ${first.path.join('.') || '(root)'}: ${first.message}` };
  }
  return { ok: true, hello: parsed.data };
}

/**
 * A WebSocket close reason is at most 123 bytes of UTF-8: longer text is cut (at a character
 * boundary) so that closing can never throw.
 */
export function closeReason(text: string): string {
  let out = text.slice(0, 123);
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
