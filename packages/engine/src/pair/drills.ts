import { z } from 'zod';

// Scheduled drills: a test failover repeated every N days, of one pair or of every protected
// pair of a customer. The worker starts a drill when it is due and moves the due date on; these
// helpers say when the next one is due and whether a schedule is overdue (pure: `now` comes in).

export const dayMs = 24 * 3600 * 1000;

/** A drill that has not produced a passing test this long after its due time is overdue. */
export const drillGraceMs = dayMs;

export const drillEveryDaysSchema = z
  .number({ error: 'Enter a number of days' })
  .int('Enter a whole number of days')
  .min(1, 'At least every day')
  .max(366, 'At most every 366 days');

/**
 * The due time after `dueAt` that is later than `now`: one period on, or more when periods were
 * missed (a worker down for a week does not start a drill per missed day).
 */
export function nextDrillDue(dueAt: Date, everyDays: number, now: Date): Date {
  const period = everyDays * dayMs;
  const missed = Math.max(0, Math.floor((now.getTime() - dueAt.getTime()) / period));
  return new Date(dueAt.getTime() + (missed + 1) * period);
}

/** The first due time of a new schedule: the one asked for, else one period from now. */
export function firstDrillDue(everyDays: number, now: Date, firstDueAt?: Date | null): Date {
  return firstDueAt ?? new Date(now.getTime() + everyDays * dayMs);
}

export interface DrillTiming {
  everyDays: number;
  nextDueAt: Date;
  enabled: boolean;
  createdAt: Date;
}

/** The last test failover that counts for a schedule (for a customer-wide one: the pair tested longest ago). */
export interface DrillLastTest {
  at: Date;
  passed: boolean;
}

export type DrillStatus =
  | { state: 'ok'; /** Whole days until the next drill. */ days: number }
  | { state: 'due'; days: 0 }
  | { state: 'overdue'; /** Whole days since the missed due time. */ days: number };

const creationSlackMs = 60_000;

/**
 * ok: the last due time (if any has passed) was met by a passing test, or none has come yet;
 * due: the due time passed less than a grace period ago (the drill is starting or running);
 * overdue: it passed longer ago and no passing test came since. A disabled schedule is never due.
 */
export function drillStatus(schedule: DrillTiming, lastTest: DrillLastTest | null, now: Date): DrillStatus {
  const t = now.getTime();
  const next = schedule.nextDueAt.getTime();
  const untilNext = { state: 'ok' as const, days: Math.max(0, Math.ceil((next - t) / dayMs)) };
  if (!schedule.enabled) return untilNext;
  // The worker moves nextDueAt on when it starts a drill, so the due time being judged is the
  // current one once it has passed, else the one a period before (if the schedule existed then).
  const lastDue = next <= t ? next : next - schedule.everyDays * dayMs;
  // A due time at the schedule's creation is only the start of its first period. The slack covers
  // clocks: the first due time is set from the app's clock, createdAt by the database's
  // transaction time, which may be a moment earlier.
  if (lastDue > t || lastDue <= schedule.createdAt.getTime() + creationSlackMs) return untilNext;
  // A test that started at the due time finishes after it; one a little before still counts.
  const metBy = lastTest?.passed ? lastTest.at.getTime() : -Infinity;
  if (metBy >= lastDue - drillGraceMs) return untilNext;
  if (t - lastDue < drillGraceMs) return { state: 'due', days: 0 };
  return { state: 'overdue', days: Math.floor((t - lastDue) / dayMs) };
}
