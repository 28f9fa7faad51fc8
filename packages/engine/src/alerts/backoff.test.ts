import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BASE_MS, nextAttemptAt, RETRY_CAP_MS, RETRY_WINDOW_MS, retryDelayMs } from './backoff.ts';

const low = () => 0;
const high = () => 1;

describe('delivery retry backoff', () => {
  it('doubles from the base with each attempt, jittered between half and all of the delay', () => {
    expect(retryDelayMs(1, { random: low })).toBe(DEFAULT_RETRY_BASE_MS / 2);
    expect(retryDelayMs(1, { random: high })).toBe(DEFAULT_RETRY_BASE_MS);
    expect(retryDelayMs(2, { random: high })).toBe(2 * DEFAULT_RETRY_BASE_MS);
    expect(retryDelayMs(4, { random: high })).toBe(8 * DEFAULT_RETRY_BASE_MS);
    for (let i = 0; i < 50; i++) {
      const d = retryDelayMs(3);
      expect(d).toBeGreaterThanOrEqual(2 * DEFAULT_RETRY_BASE_MS);
      expect(d).toBeLessThanOrEqual(4 * DEFAULT_RETRY_BASE_MS);
    }
  });

  it('never waits more than an hour, however many attempts failed', () => {
    expect(retryDelayMs(8, { random: high })).toBe(RETRY_CAP_MS);
    expect(retryDelayMs(5000, { random: high })).toBe(RETRY_CAP_MS);
    expect(retryDelayMs(5000, { random: low })).toBe(RETRY_CAP_MS / 2);
  });

  it('takes the base as a parameter (tests retry within milliseconds)', () => {
    expect(retryDelayMs(1, { baseMs: 10, random: high })).toBe(10);
    expect(retryDelayMs(3, { baseMs: 10, random: high })).toBe(40);
  });

  it('gives up once the next attempt would be more than a day after the delivery was created', () => {
    const created = new Date('2026-12-07T00:00:00Z');
    const early = new Date(created.getTime() + 60_000);
    expect(nextAttemptAt(2, created, early, { random: high })).toEqual(new Date(early.getTime() + 2 * DEFAULT_RETRY_BASE_MS));
    // 23 h 50 min in, the capped delay (30–60 min) would overshoot the day.
    const late = new Date(created.getTime() + RETRY_WINDOW_MS - 10 * 60_000);
    expect(nextAttemptAt(12, created, late, { random: low })).toBeNull();
    // A short delay still fits just before the end.
    expect(nextAttemptAt(1, created, late, { random: high })).toEqual(new Date(late.getTime() + DEFAULT_RETRY_BASE_MS));
    expect(nextAttemptAt(1, created, new Date(created.getTime() + RETRY_WINDOW_MS + 1))).toBeNull();
  });

  it('a whole day of failures takes a bounded number of attempts', () => {
    const created = new Date(0);
    let now = created;
    let attempts = 0;
    for (;;) {
      attempts++;
      const next = nextAttemptAt(attempts, created, now);
      if (!next) break;
      now = next;
    }
    expect(now.getTime()).toBeLessThanOrEqual(RETRY_WINDOW_MS);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(60);
  });
});
