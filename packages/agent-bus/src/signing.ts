// Signed gateway orders. Anyone who can publish on Redis could otherwise order a gateway to run
// any command on any agent (hook.write + hook.run), so every order carries an HMAC-SHA256 with a
// key only web, worker and gateway hold (TANDEM_BUS_KEY), a timestamp and a nonce: the gateway
// drops orders that are unsigned, badly signed, too old or from the future, or seen before.
//
// On the wire: {"v":1,"ts":<ms>,"nonce":"<hex>","body":"<the order's JSON>","sig":"<hex>"}, the
// signature covering `v1.<ts>.<nonce>.<body>` (the body as sent: nothing is re-serialised).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** How far an order's timestamp may be from the gateway's clock (same host or NTP-synced hosts). */
export const ORDER_MAX_SKEW_MS = 30_000;

const envelopeSchema = z.strictObject({
  v: z.literal(1),
  ts: z.number().int(),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  body: z.string().max(4 * 1024 * 1024),
  sig: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The bus key as configured: at least 32 bytes' worth of text (infra generates 32 random bytes). */
export const busKeySchema = z.string().min(40, 'TANDEM_BUS_KEY must be at least 32 bytes, base64');

function mac(key: string, ts: number, nonce: string, body: string): Buffer {
  return createHmac('sha256', key).update(`v1.${ts}.${nonce}.${body}`).digest();
}

/** The message to publish for an order (any JSON value). */
export function signOrder(key: string, order: unknown, now = Date.now()): string {
  const body = JSON.stringify(order);
  const nonce = randomBytes(16).toString('hex');
  return JSON.stringify({ v: 1, ts: now, nonce, body, sig: mac(key, now, nonce, body).toString('hex') });
}

export type VerifiedOrder = { ok: true; order: unknown } | { ok: false; reason: string };

/**
 * Checks signed orders for one receiver. Nonces are remembered for twice the allowed skew, so a
 * replayed message is refused as long as its timestamp would still be accepted.
 */
export class OrderVerifier {
  private readonly seen = new Map<string, number>();

  constructor(private readonly key: string) {}

  verify(raw: string, now = Date.now()): VerifiedOrder {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    const env = envelopeSchema.safeParse(json);
    if (!env.success) return { ok: false, reason: 'not a signed order' };
    const { ts, nonce, body, sig } = env.data;
    const expected = mac(this.key, ts, nonce, body);
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return { ok: false, reason: 'bad signature' };
    if (Math.abs(now - ts) > ORDER_MAX_SKEW_MS) return { ok: false, reason: 'timestamp outside the allowed window' };
    this.forgetOld(now);
    if (this.seen.has(nonce)) return { ok: false, reason: 'replayed' };
    this.seen.set(nonce, ts);
    try {
      return { ok: true, order: JSON.parse(body) };
    } catch {
      return { ok: false, reason: 'body is not JSON' };
    }
  }

  private forgetOld(now: number) {
    // Insertion order is roughly timestamp order; stop at the first nonce still in its window.
    for (const [nonce, ts] of this.seen) {
      if (now - ts <= 2 * ORDER_MAX_SKEW_MS) break;
      this.seen.delete(nonce);
    }
  }
}
