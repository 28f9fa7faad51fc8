import type { CheckDef } from '../model.ts';
import type { FactsSnapshot, PairFacts } from '../snapshot.ts';

// The `provisioning` family (catalogue §2.6): the four generation options, which exist for testing
// and debugging; left off, a pair can be enabled without its generated artefacts.

type Option = keyof PairFacts['options'];

function optionCheck(def: { id: CheckDef['id']; option: Option; title: string; detects: string; needsFailover: boolean; effect: string; legacy: string[] }): CheckDef {
  return {
    id: def.id,
    family: 'provisioning',
    title: def.title,
    detects: def.detects,
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P'],
    // Hooks and monitors matter only when the pair may fail over.
    ...(def.needsFailover ? { when: (snap: FactsSnapshot) => snap.pair.failover.enabled } : {}),
    evaluate: (ctx) => {
      if (ctx.snap.pair.options[def.option]) return [];
      return [{ subject: `option=${def.option}`, message: `${def.title} for ${ctx.snap.pair.name}: ${def.effect}.`, evidence: { option: def.option, value: false } }];
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: false,
      plan: () => [{ action: 'pair.set', key: `options.${def.option}`, value: true, description: `Turn ${def.option} back on (takes effect at the next enable or reconcile)`, before: 'false', after: 'true' }],
    },
    legacy: def.legacy,
  };
}

export const provisioningChecks: CheckDef[] = [
  optionCheck({
    id: 'provisioning.repset-disabled',
    option: 'createReplicationSet',
    title: 'Rule generation is off',
    detects: 'Replication rules are not generated from the application, so changes to the application (new databases, moved logs) will not reach the rules.',
    needsFailover: false,
    effect: 'application changes will not reach the replication rules',
    legacy: ['EX-43', 'SQL-35'],
  }),
  optionCheck({
    id: 'provisioning.hooks-disabled',
    option: 'createHooks',
    title: 'Hook generation is off',
    detects: 'Runbook hooks are not generated although failover is enabled, so the failover runs without the pair’s hooks.',
    needsFailover: true,
    effect: 'failover would run without the generated hooks',
    legacy: ['EX-42', 'SQL-38'],
  }),
  optionCheck({
    id: 'provisioning.connection-disabled',
    option: 'createConnection',
    title: 'Connection creation is off',
    detects: 'Enabling protection creates no replication connection, so nothing is replicated.',
    needsFailover: false,
    effect: 'enabling protection would start no replication',
    legacy: ['EX-44', 'SQL-36'],
  }),
  optionCheck({
    id: 'provisioning.monitor-disabled',
    option: 'createMonitor',
    title: 'Monitor creation is off',
    detects: 'No failover monitor is created although failover is enabled, so a lost source is never detected.',
    needsFailover: true,
    effect: 'a lost source would never be detected',
    legacy: ['EX-41', 'SQL-37'],
  }),
];
