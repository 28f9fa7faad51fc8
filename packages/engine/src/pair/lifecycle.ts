import { pairStatusInfo, type PairStatus } from './status.ts';

// The pair lifecycle: the one place that says which status follows which event. Web, worker and
// gateway ask `transition` and write the answer conditionally on the status it was computed from
// (so two processes cannot both move the same pair); nobody sets a status by hand.
//
//   unprotected ─validate─> validated ─enable─> mirroring ─> protected ─(source lost)─> failover_pending
//        ▲                                          │   ▲            │ (approval or auto)     │
//        └───────────────── disable ────────────────┘   └ re-protect ┴──> failing_over ─> failed_over
//   failed_over ─failback (optionally restore target→source first)─> restoring ─> failing_back ─> unprotected

export const lifecycleEvents = [
  /** A validation run passed (or passed with warnings). */
  'validation.passed',
  /** A validation run failed. */
  'validation.failed',
  /** The pair's settings were changed (a passed validation no longer holds). */
  'config.changed',
  /** Someone asked to enable protection (the status changes once replication runs). */
  'enable.requested',
  /** File replication started: the initial mirror runs. */
  'replication.started',
  /** Native replication started with the copy already complete (a streaming standby). */
  'standby.streaming',
  /** The initial mirror finished: the target holds a current copy. */
  'mirror.completed',
  /** Someone asked to disable protection. */
  'disable.requested',
  /** Replication and monitoring were stopped on both sides (disabling finished). */
  'replication.stopped',
  /** Both observers (or the target alone, where trusted) lost the source. */
  'source.lost',
  /** The source answers again. */
  'source.back',
  /** Someone (or the policy) asked for a failover. */
  'failover.requested',
  /** The failover runbook began. */
  'failover.started',
  /** The failover runbook finished: the target serves. */
  'failover.succeeded',
  /** The failover runbook stopped on a failed step. */
  'failover.failed',
  /** After a failover, replication starts again (the old source is the new target). */
  'reprotect.started',
  /** Someone asked to fail back. */
  'failback.requested',
  /** Data started flowing back from the target to the source, before failing back. */
  'restore.started',
  /** The data is back on the source; failing back continues. */
  'restore.completed',
  /** Restoring stopped on an error; the target still serves. */
  'restore.failed',
  /** The failback runbook began (without a restore first). */
  'failback.started',
  /** The source serves again; protection must be enabled again. */
  'failback.succeeded',
  /** The failback runbook stopped on a failed step; the target still serves. */
  'failback.failed',
] as const;
export type LifecycleEvent = (typeof lifecycleEvents)[number];

export type Transition = { status: PairStatus } | { refusal: string };

/** Protection is off: the configuration may change and protection may be enabled. */
export const configurableStatuses: readonly PairStatus[] = ['unprotected', 'validated'];
/** Protection is on and replication runs from the source to the target (disable, monitoring, verify apply). */
export const enabledStatuses: readonly PairStatus[] = ['mirroring', 'protected', 'failover_pending'];
/** Replication (in either direction) or a runbook is in use: agents may report and relay for the pair. */
export const engagedStatuses: readonly PairStatus[] = ['mirroring', 'protected', 'failover_pending', 'failing_over', 'failed_over', 'restoring', 'failing_back'];
/** A runbook is moving the pair from one side to the other; nothing else may start. */
export const inFlightStatuses: readonly PairStatus[] = ['failing_over', 'restoring', 'failing_back'];
/** The failover part of the lifecycle: from a lost source to the source serving again. */
export const failoverStatuses: readonly PairStatus[] = ['failover_pending', 'failing_over', 'failed_over', 'restoring', 'failing_back'];
/** Statuses that have a replication lag worth showing. */
export const lagStatuses: readonly PairStatus[] = enabledStatuses;

/** Operation states during which the pair's status is in flux (an operation holds the pair). */
export const operationInFlightStatuses = ['pending', 'running', 'awaiting_approval'] as const;

export const isConfigurable = (status: PairStatus) => configurableStatuses.includes(status);
export const isEnabled = (status: PairStatus) => enabledStatuses.includes(status);

// A status read from an older row or a page may be unknown here: say it as it is rather than fail.
const label = (s: PairStatus) => (pairStatusInfo[s] as { label: string } | undefined)?.label.toLowerCase() ?? String(s).replace(/_/g, ' ');
const idle = ['unprotected', 'validated'] as const;

interface Rule {
  /** Status before → status after, for the statuses this event is allowed in. */
  from: Partial<Record<PairStatus, PairStatus>>;
  /** Why the event is refused in any other status. */
  refuse: (status: PairStatus) => string;
}

const same = (...statuses: PairStatus[]) => Object.fromEntries(statuses.map((s) => [s, s])) as Partial<Record<PairStatus, PairStatus>>;
const to = (target: PairStatus, ...statuses: PairStatus[]) => Object.fromEntries(statuses.map((s) => [s, target])) as Partial<Record<PairStatus, PairStatus>>;

const locked = (what: string) => (s: PairStatus) =>
  inFlightStatuses.includes(s) ? `The pair is ${label(s)}: ${what} must wait until that finishes` : `The pair is ${label(s)}: disable protection before ${what}`;

const rules: Record<LifecycleEvent, Rule> = {
  'validation.passed': { from: to('validated', ...idle), refuse: locked('validating it') },
  'validation.failed': { from: to('unprotected', ...idle), refuse: locked('validating it') },
  'config.changed': { from: to('unprotected', ...idle), refuse: locked('changing its configuration') },
  'enable.requested': { from: same(...idle), refuse: (s) => `The pair is already ${label(s)}` },
  'replication.started': { from: to('mirroring', ...idle), refuse: (s) => `Replication cannot start: the pair is ${label(s)}` },
  'standby.streaming': { from: to('protected', ...idle), refuse: (s) => `Replication cannot start: the pair is ${label(s)}` },
  'mirror.completed': { from: { mirroring: 'protected' }, refuse: (s) => `Only a mirroring pair becomes protected; the pair is ${label(s)}` },
  'disable.requested': { from: same(...enabledStatuses), refuse: (s) => `Protection can only be disabled while mirroring or protected; the pair is ${label(s)}` },
  'replication.stopped': { from: to('unprotected', ...enabledStatuses), refuse: (s) => `Protection can only be disabled while mirroring or protected; the pair is ${label(s)}` },
  'source.lost': {
    from: { protected: 'failover_pending' },
    refuse: (s) =>
      s === 'mirroring'
        ? 'the target copy is not complete, so no failover is offered'
        : s === 'failover_pending'
          ? 'a failover decision is already waiting'
          : s === 'failing_over'
            ? 'a failover is already under way'
            : s === 'failed_over'
              ? 'the target already serves in place of the source'
              : s === 'restoring' || s === 'failing_back'
                ? 'a failback is under way'
                : 'protection is not enabled, so no failover is offered',
  },
  'source.back': { from: { failover_pending: 'protected' }, refuse: (s) => `Only a pending failover is called off when the source returns; the pair is ${label(s)}` },
  'failover.requested': { from: same('protected', 'failover_pending'), refuse: (s) => `A failover needs a protected pair; the pair is ${label(s)}` },
  'failover.started': { from: to('failing_over', 'protected', 'failover_pending'), refuse: (s) => `A failover needs a protected pair; the pair is ${label(s)}` },
  'failover.succeeded': { from: { failing_over: 'failed_over' }, refuse: (s) => `No failover is under way; the pair is ${label(s)}` },
  // The source is still gone (or was never checked), so the decision goes back to a person.
  'failover.failed': { from: { failing_over: 'failover_pending' }, refuse: (s) => `No failover is under way; the pair is ${label(s)}` },
  'reprotect.started': { from: { failed_over: 'mirroring' }, refuse: (s) => `Only a failed-over pair can be protected again in reverse; the pair is ${label(s)}` },
  'failback.requested': { from: same('failed_over'), refuse: (s) => `Only a failed-over pair can fail back; the pair is ${label(s)}` },
  'restore.started': { from: { failed_over: 'restoring' }, refuse: (s) => `Only a failed-over pair can restore to its source; the pair is ${label(s)}` },
  'restore.completed': { from: { restoring: 'failing_back' }, refuse: (s) => `No restore is under way; the pair is ${label(s)}` },
  'restore.failed': { from: { restoring: 'failed_over' }, refuse: (s) => `No restore is under way; the pair is ${label(s)}` },
  'failback.started': { from: { failed_over: 'failing_back' }, refuse: (s) => `Only a failed-over pair can fail back; the pair is ${label(s)}` },
  'failback.succeeded': { from: { failing_back: 'unprotected' }, refuse: (s) => `No failback is under way; the pair is ${label(s)}` },
  'failback.failed': { from: { failing_back: 'failed_over' }, refuse: (s) => `No failback is under way; the pair is ${label(s)}` },
};

/** What `event` does to a pair in `status`: its next status, or why the event is refused. */
export function transition(status: PairStatus, event: LifecycleEvent): Transition {
  const rule = rules[event];
  const next = rule.from[status];
  return next ? { status: next } : { refusal: rule.refuse(status) };
}

/** The statuses in which `event` is allowed (for a conditional update: `status in …`). */
export function statusesAllowing(event: LifecycleEvent): PairStatus[] {
  return Object.keys(rules[event].from) as PairStatus[];
}
