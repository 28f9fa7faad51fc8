import { z } from 'zod';

/** The protocol this build speaks. The gateway accepts this version and the one before it. */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS = [PROTOCOL_VERSION - 1, PROTOCOL_VERSION].filter((v) => v >= 1);

/**
 * Largest frame either side accepts, in bytes (UTF-8 JSON). Larger frames are refused with an
 * error message and the connection stays up; the WebSocket layer itself closes a connection only
 * past `TRANSPORT_MAX_FRAME_BYTES`.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
export const TRANSPORT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export const messageIdSchema = z.uuid();

/** Every frame: an id, a type, the payload of that type, and for replies the id replied to. */
export const envelopeSchema = z.strictObject({
  id: messageIdSchema,
  type: z.string().min(1).max(64),
  replyTo: messageIdSchema.optional(),
  payload: z.unknown(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** Close codes with reasons an operator can act on (4000–4999 are ours to define). */
export const closeCodes = {
  unauthorized: 4401, // no or unknown credential
  revoked: 4403, // credential revoked
  unsupportedVersion: 4426, // protocol version not accepted
  replaced: 4409, // the same agent connected again elsewhere
  shuttingDown: 1001,
} as const;
