import type { CheckDef } from '../model.ts';

// The `services` family (catalogue §2.7): the target must stay passive.

const mustStop = (ctx: Parameters<CheckDef['evaluate']>[0]) => ctx.snap.pair.services.filter((s) => s.mustStopOnTarget).map((s) => s.name);

export const servicesChecks: CheckDef[] = [
  {
    id: 'services.running-on-target',
    family: 'services',
    title: 'Service running on the target',
    detects: 'A service marked “must be stopped on target” is running there and can lock files that replication must write.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['P', 'T.svc'],
    evaluate: (ctx) => {
      const running = new Set(ctx.node!.services!.filter((s) => s.state === 'running' || s.state === 'starting').map((s) => s.name));
      return mustStop(ctx)
        .filter((name) => running.has(name))
        .map((name) => ({ subject: `service=${name}`, message: `${name} is running on the target ${ctx.node!.hostname}; it must be stopped while the pair is protected.`, evidence: { service: name, state: 'running' } }));
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const name = String(f.evidence.service);
        return [{ action: 'service.stop', node: 'target', name, description: `Stop ${name} on ${ctx.node!.hostname} (dependents first)`, before: 'running', after: 'stopped' }];
      },
    },
  },
];
