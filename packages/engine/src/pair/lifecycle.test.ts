import { describe, expect, it } from 'vitest';
import {
  configurableStatuses,
  enabledStatuses,
  engagedStatuses,
  failoverStatuses,
  inFlightStatuses,
  isConfigurable,
  lifecycleEvents,
  statusesAllowing,
  transition,
  type LifecycleEvent,
} from './lifecycle.ts';
import { pairStatuses, type PairStatus } from './status.ts';

// The whole lifecycle, written out: one row per event, one column per status (in the order of
// `pairStatuses`). A status in a cell is where the event leads; `no` means the event is refused.
const no = null;
type Row = [unprotected: PairStatus | null, validated: PairStatus | null, mirroring: PairStatus | null, protected_: PairStatus | null, failover_pending: PairStatus | null, failing_over: PairStatus | null, failed_over: PairStatus | null, restoring: PairStatus | null, failing_back: PairStatus | null];

// prettier-ignore
const table: Record<LifecycleEvent, Row> = {
  //                     unprotected    validated      mirroring      protected           failover_pending    failing_over        failed_over     restoring       failing_back
  'validation.passed':   ['validated',  'validated',   no,            no,                 no,                 no,                 no,             no,             no],
  'validation.failed':   ['unprotected','unprotected', no,            no,                 no,                 no,                 no,             no,             no],
  'config.changed':      ['unprotected','unprotected', no,            no,                 no,                 no,                 no,             no,             no],
  'enable.requested':    ['unprotected','validated',   no,            no,                 no,                 no,                 no,             no,             no],
  'replication.started': ['mirroring',  'mirroring',   no,            no,                 no,                 no,                 no,             no,             no],
  'standby.streaming':   ['protected',  'protected',   no,            no,                 no,                 no,                 no,             no,             no],
  'mirror.completed':    [no,           no,            'protected',   no,                 no,                 no,                 no,             no,             no],
  'disable.requested':   [no,           no,            'mirroring',   'protected',        'failover_pending', no,                 no,             no,             no],
  'replication.stopped': [no,           no,            'unprotected', 'unprotected',      'unprotected',      no,                 no,             no,             no],
  'source.lost':         [no,           no,            no,            'failover_pending', no,                 no,                 no,             no,             no],
  'source.back':         [no,           no,            no,            no,                 'protected',        no,                 no,             no,             no],
  'failover.requested':  [no,           no,            no,            'protected',        'failover_pending', no,                 no,             no,             no],
  'failover.started':    [no,           no,            no,            'failing_over',     'failing_over',     no,                 no,             no,             no],
  'failover.succeeded':  [no,           no,            no,            no,                 no,                 'failed_over',      no,             no,             no],
  'failover.failed':     [no,           no,            no,            no,                 no,                 'failover_pending', no,             no,             no],
  'reprotect.started':   [no,           no,            no,            no,                 no,                 no,                 'mirroring',    no,             no],
  'failback.requested':  [no,           no,            no,            no,                 no,                 no,                 'failed_over',  no,             no],
  'restore.started':     [no,           no,            no,            no,                 no,                 no,                 'restoring',    no,             no],
  'restore.completed':   [no,           no,            no,            no,                 no,                 no,                 no,             'failing_back', no],
  'restore.failed':      [no,           no,            no,            no,                 no,                 no,                 no,             'failed_over',  no],
  'failback.started':    [no,           no,            no,            no,                 no,                 no,                 'failing_back', no,             no],
  'failback.succeeded':  [no,           no,            no,            no,                 no,                 no,                 no,             no,             'unprotected'],
  'failback.failed':     [no,           no,            no,            no,                 no,                 no,                 no,             no,             'failed_over'],
};

describe('pair lifecycle', () => {
  it('the table names every event and every status', () => {
    expect(Object.keys(table).sort()).toEqual([...lifecycleEvents].sort());
    expect(pairStatuses).toEqual(['unprotected', 'validated', 'mirroring', 'protected', 'failover_pending', 'failing_over', 'failed_over', 'restoring', 'failing_back']);
  });

  for (const event of lifecycleEvents) {
    describe(event, () => {
      pairStatuses.forEach((status, column) => {
        const expected = table[event][column];
        it(`${status} → ${expected ?? 'refused'}`, () => {
          const result = transition(status, event);
          if (expected === null) {
            expect(Object.keys(result)).toEqual(['refusal']);
            expect((result as { refusal: string }).refusal.length).toBeGreaterThan(10);
          } else {
            expect(result).toEqual({ status: expected });
          }
        });
      });
      it('statusesAllowing lists exactly the allowed columns', () => {
        const allowed = pairStatuses.filter((_, i) => table[event][i] !== null);
        expect([...statusesAllowing(event)].sort()).toEqual([...allowed].sort());
      });
    });
  }

  it('explains refusals in words a user understands', () => {
    expect(transition('protected', 'config.changed')).toEqual({ refusal: 'The pair is protected: disable protection before changing its configuration' });
    expect(transition('failing_over', 'config.changed')).toEqual({ refusal: 'The pair is failing over: changing its configuration must wait until that finishes' });
    expect(transition('mirroring', 'enable.requested')).toEqual({ refusal: 'The pair is already mirroring' });
    expect(transition('failed_over', 'disable.requested')).toEqual({ refusal: 'Protection can only be disabled while mirroring or protected; the pair is failed over' });
  });

  it('says why a lost source leads to no failover, true to each status', () => {
    const why = (s: PairStatus) => (transition(s, 'source.lost') as { refusal: string }).refusal;
    expect(why('mirroring')).toBe('the target copy is not complete, so no failover is offered');
    expect(why('unprotected')).toBe('protection is not enabled, so no failover is offered');
    expect(why('validated')).toBe('protection is not enabled, so no failover is offered');
    expect(why('failover_pending')).toBe('a failover decision is already waiting');
    expect(why('failing_over')).toBe('a failover is already under way');
    expect(why('failed_over')).toBe('the target already serves in place of the source');
    expect(why('restoring')).toBe('a failback is under way');
    expect(why('failing_back')).toBe('a failback is under way');
  });

  it('names the status sets', () => {
    expect(configurableStatuses).toEqual(['unprotected', 'validated']);
    expect(enabledStatuses).toEqual(['mirroring', 'protected', 'failover_pending']);
    expect(inFlightStatuses).toEqual(['failing_over', 'restoring', 'failing_back']);
    expect(failoverStatuses).toEqual(['failover_pending', 'failing_over', 'failed_over', 'restoring', 'failing_back']);
    // Every status is either configurable or engaged, never both.
    expect([...configurableStatuses, ...engagedStatuses].sort()).toEqual([...pairStatuses].sort());
    expect(pairStatuses.filter(isConfigurable)).toEqual(['unprotected', 'validated']);
  });
});
