import { z } from 'zod';
import { textSchema } from '@tandem/engine';

/** A window may last at most this long (a longer mute hides real trouble). */
export const MAX_WINDOW_MS = 30 * 24 * 3600 * 1000;

export const windowReasonSchema = textSchema({}, 'The reason').trim().min(1, 'Say why alerts are muted (such as "SAN firmware upgrade")').max(500, 'Keep the reason under 500 characters');

export const windowOutput = z.object({
  id: z.string(),
  customerId: z.string(),
  pairId: z.string().nullable(),
  pairName: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string(),
  reason: z.string(),
  createdAt: z.string(),
  /** upcoming, active or ended, at the time of the answer. */
  state: z.enum(['upcoming', 'active', 'ended']),
});
export type WindowOutput = z.infer<typeof windowOutput>;

export function toWindowOutput(w: { id: string; customerId: string; pairId: string | null; startsAt: Date; endsAt: Date; reason: string; createdAt: Date }, pairName: string | null, now: Date): WindowOutput {
  const state = w.endsAt <= now ? 'ended' : w.startsAt > now ? 'upcoming' : 'active';
  return {
    id: w.id,
    customerId: w.customerId,
    pairId: w.pairId,
    pairName,
    startsAt: w.startsAt.toISOString(),
    endsAt: w.endsAt.toISOString(),
    reason: w.reason,
    createdAt: w.createdAt.toISOString(),
    state,
  };
}
