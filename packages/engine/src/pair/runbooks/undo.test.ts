import { describe, expect, it } from 'vitest';
import type { PlannedStep } from '../plans.ts';
import { planFailover } from './failover.ts';
import { undoPlan, undoSteps } from './undo.ts';
import { A, readBack, rr, settings, source, target } from './test-fixtures.ts';

const dnsSettings = settings({ dns: { records: [{ zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' }] } });
const plan = (over: Partial<Parameters<typeof planFailover>[0]> = {}) =>
  planFailover({
    pairId: 'p',
    pairName: 'n',
    method: 'file',
    settings: dnsSettings,
    source: source(),
    target: target(),
    mode: 'graceful',
    dnsAnswers: [rr('fs01.corp.example.com', 'A', 300, [A('10.0.0.5')])],
    ...over,
  });
const brief = (steps: PlannedStep[]) => steps.map((s) => `${s.kind}${'side' in s.params ? ` ${s.params.side}` : ''}`);
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('undoSteps', () => {
  const graceful = plan({ settings: { ...dnsSettings, hooks: { ...dnsSettings.hooks, beforeFailover: 'exit 0' } } });

  it.each([
    ['nothing ran but the check and the state', 2, []],
    ['the hook ran (nothing to undo)', 3, []],
    ['services stopped', 4, ['services.start source']],
    [
      'fenced: the target listens again before the source reconnects',
      9,
      [
        'monitor.start source',
        'replication.start target',
        'replication.start source',
        'monitor.start target',
        'services.start source',
      ],
    ],
  ])('%s', (_, ran, expected) => {
    const pnr = graceful.pointOfNoReturn;
    expect(brief(undoSteps(graceful.steps, upTo(ran), pnr))).toEqual(expected);
  });

  it('marks every undo step best effort, says what it reverses, and stores like any step', () => {
    const steps = undoSteps(graceful.steps, upTo(9));
    for (const s of steps) {
      expect(s.optional).toBe(true);
      expect(s.description).toMatch(/^Undo: /);
    }
    expect(steps.at(-1)).toEqual({
      kind: 'services.start',
      description:
        'Undo: start the services on the source again (reverses “Stop smbd, nmbd and clamd on fs01 and set them to manual start”)',
      params: { side: 'source', services: ['smbd', 'nmbd', 'clamd'], timeoutSeconds: 120 },
      optional: true,
    });
    expect(readBack({ steps, pointOfNoReturn: null })).toEqual(steps);
  });

  it('never undoes a step at or past the point of no return, nor one that did not succeed', () => {
    const pnr = graceful.pointOfNoReturn!;
    expect(undoSteps(graceful.steps, upTo(graceful.steps.length), pnr)).toEqual(undoSteps(graceful.steps, upTo(pnr), pnr));
    expect(brief(undoSteps(graceful.steps, [3, 7], pnr))).toEqual(['replication.start source', 'services.start source']);
  });

  it('puts DNS records and addresses back (before and after swapped, presence flipped)', () => {
    const dns = graceful.steps.find((s) => s.kind === 'dns.apply')!;
    const [back] = undoSteps([dns], [0]);
    expect(back?.kind === 'dns.apply' && back.params.changes).toEqual([
      {
        zone: 'corp.example.com',
        name: 'fs01.corp.example.com',
        type: 'A',
        before: { ttl: 60, records: [A('10.0.0.6')] },
        after: { ttl: 300, records: [A('10.0.0.5')] },
      },
    ]);
    const identity = plan({
      settings: settings({ failover: { type: 'identity', identity: { addresses: [{ address: '10.0.0.5', prefix: 24 }] } } }),
      dnsAnswers: null,
    });
    const moves = identity.steps.filter((s) => s.kind === 'address.ensure');
    expect(undoSteps(moves, [0, 1]).map((s) => s.params)).toEqual([
      { side: 'target', address: '10.0.0.5', prefix: 24, interface: 'eth0', present: false, force: false },
      { side: 'source', address: '10.0.0.5', prefix: 24, interface: 'eth0', present: true, force: false },
    ]);
  });

  it('starts a stopped old primary again, so a failover that fails before its promotion leaves a database serving', () => {
    const stop: PlannedStep = { kind: 'postgresql.stop', description: 'Stop PostgreSQL on fs01', params: { side: 'source' }, optional: true };
    const u = undoPlan([stop], [0]);
    expect(brief(u.steps)).toEqual(['postgresql.promote source']);
    expect(u.steps[0]!.optional).toBe(true);
    expect(u.cannotUndo).toEqual([]);
  });

  it('says what cannot be undone (a promoted database) instead of pretending', () => {
    const promote: PlannedStep = {
      kind: 'postgresql.promote',
      description: 'Promote the standby on fs02',
      params: { side: 'target' },
    };
    const stop: PlannedStep = { kind: 'monitor.stop', description: 'Stop probing', params: { side: 'target' }, optional: true };
    const u = undoPlan([stop, promote], [0, 1]);
    expect(brief(u.steps)).toEqual(['monitor.start target']);
    expect(u.cannotUndo).toEqual([
      {
        position: 1,
        description: 'Promote the standby on fs02',
        reason: expect.stringMatching(/^PostgreSQL on the target was promoted and accepts writes/) as unknown,
      },
    ]);
  });
});
