import type { CheckDef } from '../model.ts';

// The `services` family (catalogue §2.7): the target must stay passive.

const mustStop = (ctx: Parameters<CheckDef['evaluate']>[0]) => ctx.snap.pair.services.filter((s) => s.mustStopOnTarget).map((s) => s.name);

export const servicesChecks: CheckDef[] = [
  {
    id: 'services.inventory-unavailable',
    family: 'services',
    title: 'Services cannot be listed',
    detects: 'The agent cannot list the node’s services (Service Control Manager access denied, systemd D-Bus unavailable). Gate check: one finding per node, and the service checks of that node show unknown.',
    scope: ['source', 'target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['N.svc'],
    gate: true,
    evaluate: (ctx) => {
      const n = ctx.node;
      // A node that did not answer at all is agent.unreachable's finding, not this one.
      if (!n || n.services !== undefined) return [];
      const why = n.failures.services ?? 'the inventory was not collected';
      return [{ subject: `node=${n.hostname}`, message: `The agent on the ${ctx.side} ${n.hostname} cannot list services: ${why}.`, evidence: { error: why } }];
    },
    fix: { kind: 'manual', guidance: 'Give the agent back its service-control access (Service Control Manager rights on Windows, the systemd D-Bus socket on Linux); see *Agent lacks rights*. Then re-validate.' },
    legacy: ['EX-46', 'SQL-39', 'SQL-40'],
  },
  {
    id: 'services.missing-on-target',
    family: 'services',
    title: 'Service missing on the target',
    detects: 'A service or unit in the pair’s service list, including hand-added add-ons such as mobility or antivirus services, does not exist on the target.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['P', 'T.svc'],
    evaluate: (ctx) => {
      const present = new Set(ctx.node!.services!.filter((s) => s.state !== 'not-found').map((s) => s.name.toLowerCase()));
      return ctx.snap.pair.services
        .filter((s) => !present.has(s.name.toLowerCase()))
        .map((s) => ({ subject: `service=${s.name}`, message: `${s.name} is in the pair’s service list but does not exist on the target ${ctx.node!.hostname}.`, evidence: { service: s.name } }));
    },
    fix: { kind: 'manual', guidance: 'Install the component on the target, add a name mapping when it is installed under another name (e.g. `postgresql-16` ↔ `postgresql@16-main`), or remove the entry from the pair’s service list.' },
    legacy: ['EX-45', 'SQL-43'],
  },
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
    legacy: ['EX-47', 'SQL-41'],
  },
  {
    id: 'services.autostart-on-target',
    family: 'services',
    title: 'Service starts by itself on the target',
    detects: 'A service marked “must be stopped on target” is set to start automatically, so it would start after a target reboot.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P', 'T.svc', 'T.os'],
    evaluate: (ctx) => {
      const byName = new Map(ctx.node!.services!.map((s) => [s.name, s]));
      return mustStop(ctx)
        .filter((name) => byName.get(name)?.startMode === 'auto')
        .map((name) => ({ subject: `service=${name}`, message: `${name} starts automatically on the target ${ctx.node!.hostname}; after a reboot it would run against the replica.`, evidence: { service: name, startMode: 'auto' } }));
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const name = String(f.evidence.service);
        // Windows: manual; systemd: disabled. Units are never masked, so the failover runbook can start them.
        const mode = ctx.node!.os!.family === 'windows' ? 'manual' : 'disabled';
        return [{ action: 'service.set-startup', node: 'target', name, mode, description: `Set ${name} on ${ctx.node!.hostname} to start ${mode === 'manual' ? 'manually' : 'only when asked (disabled, not masked)'}`, before: 'auto', after: mode }];
      },
    },
    legacy: ['EX-48', 'SQL-42'],
  },
];
