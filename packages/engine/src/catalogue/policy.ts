import type { ReferenceFacts } from './snapshot.ts';

/**
 * The default thresholds of catalogue §1.10, in one place: the worker's reference facts and the
 * test fixture both start from these. A copy per caller (callers override fields, e.g. the
 * organization's privilegedFixesInFixAll), so nobody mutates the shared defaults.
 */
export function defaultPolicy(): ReferenceFacts['policy'] {
  return {
    ttlMaxSeconds: 300,
    clockSkewWarnMs: 2_000,
    clockSkewUnknownMs: 30_000,
    credentialExpiryDays: 14,
    spaceErrorRatio: 1.1,
    spaceHeadroomRatio: 0.2,
    spaceFullDays: 30,
    capacityMemoryRatio: 0.9,
    testMaxAgeDays: 90,
    binlogRetentionDays: 7,
    privilegedFixesInFixAll: false,
    autoScheduleDrills: false,
    siteResolvers: [],
  };
}
