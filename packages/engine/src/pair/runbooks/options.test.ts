import { describe, expect, it } from 'vitest';
import {
  automaticFailoverDecision,
  failbackOptionsSchema,
  failoverOptionsSchema,
  shouldStartAutomaticFailover,
} from './options.ts';
import type { PairStatus } from '../status.ts';

describe('operation options', () => {
  it('reads failover and failback options, with failback defaults', () => {
    expect(failoverOptionsSchema.parse({ mode: 'immediate' })).toEqual({ mode: 'immediate' });
    expect(failoverOptionsSchema.safeParse({ mode: 'fast' }).success).toBe(false);
    expect(failoverOptionsSchema.safeParse({ mode: 'graceful', extra: 1 }).success).toBe(false);
    expect(failbackOptionsSchema.parse({})).toEqual({ restoreFirst: true, reprotect: true });
    expect(failbackOptionsSchema.parse({ restoreFirst: false })).toEqual({ restoreFirst: false, reprotect: true });
  });
});

describe('automatic failover', () => {
  const pair = (status: PairStatus, enabled: boolean, manualIntervention: boolean) => ({
    status,
    failover: { enabled, manualIntervention },
  });
  it.each([
    [pair('failover_pending', true, false), true, null],
    [pair('failover_pending', true, true), false, /manual intervention is on/],
    [pair('failover_pending', false, false), false, /failover is turned off/],
    [pair('protected', true, false), false, /the pair is protected, not waiting/],
    [pair('failing_over', true, false), false, /failing over/],
  ])('%o → %s', (p, start, reason) => {
    expect(shouldStartAutomaticFailover(p)).toBe(start);
    const d = automaticFailoverDecision(p);
    if (reason) expect(d).toEqual({ start: false, reason: expect.stringMatching(reason) as unknown });
    else expect(d).toEqual({ start: true });
  });
});
