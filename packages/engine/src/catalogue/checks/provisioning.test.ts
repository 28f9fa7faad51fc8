import { describe, expect, it } from 'vitest';
import { provisioningChecks } from './provisioning.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;

const provisioningCases: Case[] = [
  { name: 'repset-disabled: on', id: 'provisioning.repset-disabled', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'repset-disabled: off → pair.set', id: 'provisioning.repset-disabled', snap: withFacts(base(), { pair: { options: { createReplicationSet: false } } }), side: 'none', expected: { status: 'warning-fixable', findings: [{ subject: 'option=createReplicationSet', plan: [{ action: 'pair.set', key: 'options.createReplicationSet', value: true, before: 'false', after: 'true' }] }] } },
  { name: 'hooks-disabled: off with failover', id: 'provisioning.hooks-disabled', snap: withFacts(base(), { pair: { options: { createHooks: false } } }), side: 'none', expected: { status: 'warning-fixable', findings: [{ subject: 'option=createHooks', plan: [{ action: 'pair.set', key: 'options.createHooks', value: true }] }] } },
  { name: 'hooks-disabled: hidden without failover', id: 'provisioning.hooks-disabled', snap: withFacts(base(), { pair: { options: { createHooks: false }, failover: { enabled: false } } }), side: 'none', expected: { status: 'hidden' } },
  { name: 'connection-disabled: off (also while protected)', id: 'provisioning.connection-disabled', snap: withFacts(base(), { pair: { protected: true, state: 'protected', options: { createConnection: false } } }), side: 'none', expected: { status: 'warning-fixable', findings: [{ subject: 'option=createConnection', blocked: false }] } },
  { name: 'monitor-disabled: on', id: 'provisioning.monitor-disabled', snap: base(), side: 'none', expected: { status: 'good' } },
  { name: 'monitor-disabled: off with failover', id: 'provisioning.monitor-disabled', snap: withFacts(base(), { pair: { options: { createMonitor: false } } }), side: 'none', expected: { status: 'warning-fixable', findings: [{ subject: 'option=createMonitor', actions: ['pair.set'] }] } },
];

describe('provisioning checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(provisioningChecks, snapshotFixture())).toEqual([]);
  });

  it.each(provisioningCases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(provisioningChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('reads only the pair configuration, so a lost node leaves it evaluated (never unknown)', () => {
    const snap = withFacts(base(), { source: null, target: null, gatherers: { source: { ok: false, error: 'offline', ms: 0 } } });
    expect(outcomeOf(provisioningChecks, 'provisioning.connection-disabled', withFacts(snap, { pair: { options: { createConnection: false } } }), 'none').status).toBe('warning-fixable');
  });
});
