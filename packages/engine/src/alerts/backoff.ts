// When a failed delivery is tried again. The delay doubles with each attempt from a base (30 s by
// default) up to an hour, with jitter so that many deliveries failing together (a receiver that was
// down) do not all come back in the same second. A delivery is given up once its next attempt would
// fall more than a day after it was created. Pure: the clock and the random source are arguments.

export const DEFAULT_RETRY_BASE_MS = 30_000;
export const RETRY_CAP_MS = 60 * 60_000;
export const RETRY_WINDOW_MS = 24 * 60 * 60_000;

export interface BackoffOptions {
  /** Delay after the first attempt, before jitter (tests pass a small one). */
  baseMs?: number;
  capMs?: number;
  /** How long after its creation a delivery may still be tried. */
  windowMs?: number;
  /** Uniform in [0, 1); defaults to Math.random. */
  random?: () => number;
}

/** The delay before the attempt after `attempt` (1 = the first attempt has just failed). */
export function retryDelayMs(attempt: number, opts: BackoffOptions = {}): number {
  const base = Math.max(1, opts.baseMs ?? DEFAULT_RETRY_BASE_MS);
  const cap = Math.max(base, opts.capMs ?? RETRY_CAP_MS);
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity long before n gets large; min() keeps the cap.
  const full = Math.min(cap, base * 2 ** Math.min(n - 1, 60));
  const random = opts.random ?? Math.random;
  // "Equal jitter": at least half the delay, so retries still spread out exponentially.
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random(), 0), 1));
}

/**
 * When to try a delivery created at `createdAt` again, after attempt number `attempt` failed at
 * `now`; null when that would be past the retry window (the delivery has failed for good).
 */
export function nextAttemptAt(attempt: number, createdAt: Date, now: Date, opts: BackoffOptions = {}): Date | null {
  const next = now.getTime() + retryDelayMs(attempt, opts);
  const windowMs = opts.windowMs ?? RETRY_WINDOW_MS;
  if (next > createdAt.getTime() + windowMs) return null;
  return new Date(next);
}
