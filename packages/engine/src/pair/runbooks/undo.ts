import type { PlannedStep, Side } from '../plans.ts';
import { clip } from './common.ts';

// Undoing a runbook that failed before its point of no return: for each step that ran, newest
// first, the step that puts back what it changed. Undo steps are best effort (optional): one that
// fails is recorded and the rest still run, so as much as possible is put back.

export interface UndoPlan {
  steps: PlannedStep[];
  /** Steps that ran and cannot be undone, with what that means for the operator. */
  cannotUndo: { position: number; description: string; reason: string }[];
}

const on = (side: Side) => (side === 'source' ? 'the source' : 'the target');
type Bare = PlannedStep extends infer S ? (S extends PlannedStep ? Omit<S, 'description' | 'optional'> : never) : never;
const undo = (original: PlannedStep, what: string, step: Bare): PlannedStep => ({
  ...step,
  description: clip(`Undo: ${what} (reverses “${original.description}”)`),
  optional: true,
});

function reverse(s: PlannedStep): PlannedStep | { reason: string } | null {
  switch (s.kind) {
    case 'services.stop':
      return undo(s, `start the services on ${on(s.params.side)} again`, {
        kind: 'services.start',
        params: { side: s.params.side, services: s.params.services, timeoutSeconds: s.params.timeoutSeconds },
      });
    case 'services.start':
      return undo(s, `stop the services on ${on(s.params.side)} again`, {
        kind: 'services.stop',
        params: {
          side: s.params.side,
          services: [...s.params.services].reverse(),
          startMode: 'manual',
          timeoutSeconds: s.params.timeoutSeconds,
        },
      });
    case 'replication.stop':
      return undo(s, `start replication on ${on(s.params.side)} again`, {
        kind: 'replication.start',
        params: { side: s.params.side },
      });
    case 'replication.start':
      return undo(s, `stop replication on ${on(s.params.side)}`, { kind: 'replication.stop', params: { side: s.params.side } });
    case 'monitor.stop':
      return undo(s, `start the failure monitor on ${on(s.params.side)} again`, {
        kind: 'monitor.start',
        params: { side: s.params.side },
      });
    case 'monitor.start':
      return undo(s, `stop the failure monitor on ${on(s.params.side)}`, {
        kind: 'monitor.stop',
        params: { side: s.params.side },
      });
    case 'dns.apply':
      return undo(s, `put the DNS records back as they were`, {
        kind: 'dns.apply',
        params: {
          ...s.params,
          changes: [...s.params.changes].reverse().map((c) => ({ ...c, before: c.after, after: c.before })),
        },
      });
    case 'address.ensure':
      return undo(
        s,
        `${s.params.present ? 'remove' : 'add'} ${s.params.address}/${s.params.prefix} ${s.params.present ? 'from' : 'on'} ${on(s.params.side)} again`,
        {
          kind: 'address.ensure',
          params: { ...s.params, present: !s.params.present },
        },
      );
    case 'postgresql.promote':
      return {
        reason: `PostgreSQL on ${on(s.params.side)} was promoted and accepts writes; a promoted server cannot become a standby again without a new base backup. Check which server clients write to before failing over again`,
      };
    case 'postgresql.follow':
      return {
        reason: `PostgreSQL on ${on(s.params.side)} was made a standby; it stays one until it is promoted or protection is enabled again`,
      };
    case 'postgresql.stop':
      // promote starts a stopped instance as it last ran (a primary stays a primary): the old
      // primary serves again instead of both databases being down.
      return undo(s, `start PostgreSQL on ${on(s.params.side)} again`, { kind: 'postgresql.promote', params: { side: s.params.side } });
    // Checks, waits and hooks change nothing to put back; a copy restored onto the (not serving)
    // source is harmless; a lower TTL harms nothing; the worker applies the runbook's failed event itself.
    case 'agents.check':
    case 'replication.check-set':
    case 'replication.drain':
    case 'replication.restore':
    case 'dns.lower-ttl':
    case 'replication.verify':
    case 'hook.run':
    case 'pair.set-state':
    case 'pair.set-monitoring':
    case 'postgresql.wait-caught-up':
    case 'postgresql.prepare-source':
    case 'postgresql.clone-standby':
    case 'cluster.snapshot':
    case 'test.lag':
    case 'test.probe':
    case 'test.teardown':
      return null;
    case 'test.copy':
    case 'test.postgresql-copy':
      return undo(s, 'remove the test copy', { kind: 'test.teardown', params: {} });
    case 'cluster.resource':
      // Taken offline: online again wherever the cluster places it (its own placement rules);
      // brought online on a node: offline again.
      return s.params.state === 'offline'
        ? undo(s, `bring ${s.params.resource} online again on ${on(s.params.side)}`, {
            kind: 'cluster.resource',
            params: { ...s.params, state: 'online', node: null },
          })
        : undo(s, `take ${s.params.resource} offline again on ${on(s.params.side)}`, {
            kind: 'cluster.resource',
            params: { ...s.params, state: 'offline', node: null },
          });
  }
}

/**
 * What undoes the steps that succeeded (positions into `steps`), newest first, only for steps
 * before the point of no return (null: every step). The target's data channel opens before the
 * source reconnects to it, as enabling does.
 */
export function undoPlan(
  steps: readonly PlannedStep[],
  succeeded: readonly number[],
  pointOfNoReturn: number | null = null,
): UndoPlan {
  const done = [...new Set(succeeded)]
    .filter((p) => p >= 0 && p < steps.length && (pointOfNoReturn === null || p < pointOfNoReturn))
    .sort((a, b) => b - a);
  const out: PlannedStep[] = [];
  const cannotUndo: UndoPlan['cannotUndo'] = [];
  for (const position of done) {
    const r = reverse(steps[position]!);
    if (r === null) continue;
    if ('reason' in r) cannotUndo.push({ position, description: steps[position]!.description, reason: r.reason });
    else out.push(r);
  }
  const startsOn = (side: Side) => out.findIndex((s) => s.kind === 'replication.start' && s.params.side === side);
  const src = startsOn('source');
  const tgt = startsOn('target');
  if (src !== -1 && tgt > src) out.splice(src, 0, ...out.splice(tgt, 1));
  return { steps: out, cannotUndo };
}

/** The undo steps alone (see undoPlan for what cannot be undone). */
export function undoSteps(
  steps: readonly PlannedStep[],
  succeeded: readonly number[],
  pointOfNoReturn: number | null = null,
): PlannedStep[] {
  return undoPlan(steps, succeeded, pointOfNoReturn).steps;
}
