import { z } from 'zod';
import type { PairStatus } from '../status.ts';

// What an operator (or the policy) asks for, stored as Operation.options and read back with these.

export const failoverOptionsSchema = z.strictObject({
  /** graceful: stop the source's services and drain first; immediate: cut over at once. */
  mode: z.enum(['graceful', 'immediate']),
});
export type FailoverOptions = z.infer<typeof failoverOptionsSchema>;

export const failbackOptionsSchema = z.strictObject({
  /**
   * Bring the data written on the target back to the source before it serves again. On by
   * default for every method: without it, what changed while failed over stays on the target only.
   */
  restoreFirst: z.boolean().default(true),
  /** Enable protection source → target again when the failback is done. */
  reprotect: z.boolean().default(true),
});
export type FailbackOptions = z.infer<typeof failbackOptionsSchema>;

export interface AutomaticFailoverInput {
  status: PairStatus;
  failover: { enabled: boolean; manualIntervention: boolean };
}

/**
 * Whether the worker starts a failover by itself: failover enabled, manual intervention off and
 * the pair waiting for a decision. With manual intervention on, a person decides (the approval
 * seam: a later issue lets a customer approver decide too).
 */
export function automaticFailoverDecision(pair: AutomaticFailoverInput): { start: true } | { start: false; reason: string } {
  if (!pair.failover.enabled) return { start: false, reason: 'failover is turned off for this pair' };
  if (pair.failover.manualIntervention)
    return { start: false, reason: 'manual intervention is on: an operator starts the failover' };
  if (pair.status !== 'failover_pending')
    return { start: false, reason: `the pair is ${pair.status.replace(/_/g, ' ')}, not waiting for a failover` };
  return { start: true };
}

export const shouldStartAutomaticFailover = (pair: AutomaticFailoverInput) => automaticFailoverDecision(pair).start;
