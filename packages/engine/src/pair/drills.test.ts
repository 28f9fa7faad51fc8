import { describe, expect, it } from 'vitest';
import { dayMs, drillEveryDaysSchema, drillStatus, firstDrillDue, nextDrillDue } from './drills.ts';

const at = (iso: string) => new Date(iso);

describe('nextDrillDue', () => {
  it('moves one period on from the due time, not from now', () => {
    expect(nextDrillDue(at('2026-12-01T09:00:00Z'), 7, at('2026-12-01T09:00:30Z'))).toEqual(at('2026-12-08T09:00:00Z'));
  });

  it('skips missed periods: the next due time is the first one after now', () => {
    // Due on the 1st, every 7 days; the worker was down until the 20th.
    expect(nextDrillDue(at('2026-12-01T09:00:00Z'), 7, at('2026-12-20T12:00:00Z'))).toEqual(at('2026-12-22T09:00:00Z'));
  });

  it('is always later than now, even exactly on a period boundary', () => {
    expect(nextDrillDue(at('2026-12-01T00:00:00Z'), 1, at('2026-12-03T00:00:00Z'))).toEqual(at('2026-12-04T00:00:00Z'));
  });
});

describe('firstDrillDue', () => {
  it('takes the time asked for, else one period from now', () => {
    const now = at('2026-12-07T10:00:00Z');
    expect(firstDrillDue(30, now, at('2026-12-09T02:00:00Z'))).toEqual(at('2026-12-09T02:00:00Z'));
    expect(firstDrillDue(30, now)).toEqual(new Date(now.getTime() + 30 * dayMs));
  });
});

describe('drillEveryDaysSchema', () => {
  it('takes whole days from 1 to 366', () => {
    expect(drillEveryDaysSchema.safeParse(1).success).toBe(true);
    expect(drillEveryDaysSchema.safeParse(366).success).toBe(true);
    for (const bad of [0, 367, 1.5, -3, '7']) expect(drillEveryDaysSchema.safeParse(bad).success, String(bad)).toBe(false);
  });
});

describe('drillStatus', () => {
  const createdAt = at('2026-11-01T00:00:00Z');
  const schedule = (nextDueAt: string, extra: Partial<{ enabled: boolean; everyDays: number }> = {}) => ({
    everyDays: 30,
    enabled: true,
    createdAt,
    nextDueAt: at(nextDueAt),
    ...extra,
  });

  it('is ok with the days left before the first due time', () => {
    expect(drillStatus(schedule('2026-11-20T00:00:00Z'), null, at('2026-11-10T12:00:00Z'))).toEqual({ state: 'ok', days: 10 });
  });

  it('is due right after the due time, then overdue after a day without a passing test', () => {
    const s = schedule('2026-12-01T00:00:00Z');
    expect(drillStatus(s, null, at('2026-12-01T03:00:00Z'))).toEqual({ state: 'due', days: 0 });
    expect(drillStatus(s, null, at('2026-12-04T03:00:00Z'))).toEqual({ state: 'overdue', days: 3 });
  });

  it('after the worker moved the due time on, the passed due time still needs a passing test', () => {
    // Due on Dec 1, started then (nextDueAt is now Dec 31).
    const s = schedule('2026-12-31T00:00:00Z');
    const now = at('2026-12-05T00:00:00Z');
    expect(drillStatus(s, { at: at('2026-12-01T00:20:00Z'), passed: true }, now)).toEqual({ state: 'ok', days: 26 });
    expect(drillStatus(s, { at: at('2026-12-01T00:20:00Z'), passed: false }, now)).toEqual({ state: 'overdue', days: 4 });
    expect(drillStatus(s, null, now)).toEqual({ state: 'overdue', days: 4 });
    // A pass from a month before does not cover this due time.
    expect(drillStatus(s, { at: at('2026-11-01T00:00:00Z'), passed: true }, now)).toEqual({ state: 'overdue', days: 4 });
  });

  it('a schedule created after the previous period would have been due is not overdue', () => {
    const s = { ...schedule('2026-11-20T00:00:00Z'), createdAt: at('2026-11-05T00:00:00Z') };
    expect(drillStatus(s, null, at('2026-11-06T00:00:00Z'))).toEqual({ state: 'ok', days: 14 });
  });

  it('a schedule just created is on schedule, though its first due time came from a clock a moment ahead of its creation', () => {
    // First due 30 days from the app's "now", 40 ms after the database stamped createdAt.
    const s = { ...schedule('2026-12-01T00:00:00.040Z'), createdAt: at('2026-11-01T00:00:00Z') };
    expect(drillStatus(s, null, at('2026-11-01T00:00:01Z'))).toEqual({ state: 'ok', days: 30 });
  });

  it('a disabled schedule is never due', () => {
    expect(drillStatus(schedule('2026-11-02T00:00:00Z', { enabled: false }), null, at('2026-11-20T00:00:00Z'))).toEqual({
      state: 'ok',
      days: 0,
    });
  });
});
