import { describe, expect, it } from 'vitest';
import { servicesChecks } from './services.ts';
import { notGood, outcomeOf, project, type Expected } from './core-cases.ts';
import { nodeFixture, snapshotFixture, withFacts } from '../fixtures.ts';
import { evaluateChecks } from '../evaluate.ts';
import type { CheckId } from '../ids.ts';
import type { FindingSide } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';

type Case = { name: string; id: CheckId; snap: FactsSnapshot; side: FindingSide; expected: Expected };
const base = snapshotFixture;
const smbd = (patch: { state?: 'running' | 'stopped' | 'not-found'; startMode?: 'auto' | 'manual' | 'disabled' }) => [{ ...nodeFixture('target').services![0]!, ...patch }];
const noInventory = () => withFacts(base(), { target: { services: undefined, failures: { services: 'systemd D-Bus unavailable' } } });

const cases: Case[] = [
  { name: 'inventory-unavailable: listed', id: 'services.inventory-unavailable', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'inventory-unavailable: D-Bus down', id: 'services.inventory-unavailable', snap: noInventory(), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'node=files-b', guidance: /service-control access/ }] } },
  { name: 'inventory-unavailable: a node that did not answer is the agent gate’s', id: 'services.inventory-unavailable', snap: withFacts(base(), { target: null }), side: 'target', expected: { status: 'good' } },

  { name: 'missing-on-target: smbd installed', id: 'services.missing-on-target', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'missing-on-target: an add-on not installed', id: 'services.missing-on-target', snap: withFacts(base(), { pair: { services: [{ name: 'smbd', mustStopOnTarget: true }, { name: 'clamav-daemon', mustStopOnTarget: true }] } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'service=clamav-daemon', guidance: /name mapping/ }] } },
  { name: 'missing-on-target: reported not-found', id: 'services.missing-on-target', snap: withFacts(base(), { target: { services: smbd({ state: 'not-found' }) } }), side: 'target', expected: { status: 'error-manual', findings: [{ subject: 'service=smbd' }] } },

  { name: 'running-on-target: stopped', id: 'services.running-on-target', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'running-on-target: running → stop', id: 'services.running-on-target', snap: withFacts(base(), { target: { services: smbd({ state: 'running' }) } }), side: 'target', expected: { status: 'error-fixable', findings: [{ subject: 'service=smbd', plan: [{ action: 'service.stop', node: 'target', name: 'smbd', before: 'running', after: 'stopped' }], blocked: false }] } },
  { name: 'running-on-target: blocked while protected', id: 'services.running-on-target', snap: withFacts(base(), { pair: { protected: true, state: 'protected' }, target: { services: smbd({ state: 'running' }) } }), side: 'target', expected: { status: 'error-fixable', findings: [{ blocked: true }] } },

  { name: 'autostart-on-target: disabled', id: 'services.autostart-on-target', snap: base(), side: 'target', expected: { status: 'good' } },
  { name: 'autostart-on-target: systemd auto → disabled', id: 'services.autostart-on-target', snap: withFacts(base(), { target: { services: smbd({ startMode: 'auto' }) } }), side: 'target', expected: { status: 'warning-fixable', findings: [{ subject: 'service=smbd', plan: [{ action: 'service.set-startup', name: 'smbd', mode: 'disabled', before: 'auto', after: 'disabled' }] }] } },
  { name: 'autostart-on-target: Windows auto → manual', id: 'services.autostart-on-target', snap: withFacts(base(), { target: { os: { family: 'windows', name: 'Windows Server 2022 Standard' }, services: smbd({ startMode: 'auto' }) } }), side: 'target', expected: { status: 'warning-fixable', findings: [{ plan: [{ mode: 'manual' }] }] } },
];

describe('services checks', () => {
  it('are all good on the healthy fixture', () => {
    expect(notGood(servicesChecks, snapshotFixture())).toEqual([]);
  });

  it.each(cases)('$name', ({ id, snap, side, expected }) => {
    expect(project(outcomeOf(servicesChecks, id, snap, side), expected)).toEqual(expected);
  });

  it('a missing inventory makes the service checks unknown, linked to the gate', () => {
    const results = evaluateChecks(servicesChecks, noInventory()).filter((r) => r.side === 'target');
    expect(results.find((r) => r.checkId === 'services.inventory-unavailable')?.status).toBe('error-manual');
    const dependants = results.filter((r) => r.checkId !== 'services.inventory-unavailable');
    expect(dependants.map((r) => r.checkId).sort()).toEqual(['services.autostart-on-target', 'services.missing-on-target', 'services.running-on-target']);
    for (const r of dependants) expect(r, r.checkId).toMatchObject({ status: 'unknown', unknown: { gate: 'services.inventory-unavailable' } });
  });
});
