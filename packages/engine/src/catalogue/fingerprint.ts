import { stableDigest } from './evaluate.ts';
import type { PairFacts } from './snapshot.ts';

// A validation run's facts fingerprint (catalogue §1.3): it covers what the control plane holds
// without asking an agent (the pair's configuration and the agents' standing facts), so the web
// can recompute it at enable time from the database alone and the gate can compare.

/** Standing facts that move all the time and say nothing about readiness. */
const volatileKeys = new Set(['collectedAt', 'uptimeSeconds', 'clockOffsetMs', 'freeBytes', 'lastHeartbeatAt', 'lastSeenAt', 'usedBytes',
  // Whether a service or an instance runs right now: every run reads it afresh; it is not configuration.
  'state', 'running']);
/** Sizes that grow with the data (a database's size), unlike a volume's, which stays put. */
const growing = (key: string, holder: Record<string, unknown>) => key === 'sizeBytes' && !('mountPoint' in holder);
/** Pair facts that change with the pair's status or the clock, not with its configuration. */
const pairVolatile = new Set<keyof PairFacts>(['state', 'protected', 'failedOver', 'lastChangeAt']);

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    const holder = value as Record<string, unknown>;
    return Object.fromEntries(Object.entries(holder).filter(([k]) => !volatileKeys.has(k) && !growing(k, holder)).map(([k, v]) => [k, strip(v)]));
  }
  return value;
}

/** Digest of the pair's configuration and both agents' standing facts (Server.facts), volatile parts left out. */
export function factsFingerprint(input: { pair: PairFacts; source: unknown; target: unknown }): string {
  const pair = Object.fromEntries(Object.entries(input.pair).filter(([k]) => !pairVolatile.has(k as keyof PairFacts)));
  return stableDigest({ pair, source: strip(input.source ?? null), target: strip(input.target ?? null) });
}

