import type { DnsChange, DnsRRset } from '../../dns/records.ts';
import type { PairSettings, ReplicationMethod } from '../settings.ts';
import { dnsTtlLowering, planEnable, type PlannedStep, type Runbook } from '../plans.ts';
import { hookStep, interfaceHolding, interfaceInSubnet, listWords, refuse, type RunbookServer } from './common.ts';
import { clusterKindOf, clusterResourceSteps, clusterSnapshotSteps, namedClusterResources, plainServices } from './cluster-steps.ts';
import { dnsApplyStep, planDnsRevert } from './dns-plan.ts';

// The failback runbook: the source takes its role back from the target, from the state the
// failover recorded (so exactly what the failover changed is reverted, nothing else). Optional:
// restore first (data written on the target flows back), re-protect when done.

/** An address the failover moved: the target interface it went to, and the source's it came from. */
export interface MovedAddress {
  address: string;
  prefix: number;
  /** The target interface it was added to (null: the one in its subnet). */
  interface: string | null;
  /** The source interface it was removed from, when known. */
  sourceInterface?: string | null;
}

/** What a failover did, as its stored steps record it (see recordedFailoverState). */
export interface RecordedFailover {
  dnsChanges: DnsChange[];
  addresses: MovedAddress[];
}

export interface FailbackPlanInput {
  pairId: string;
  pairName: string;
  method: ReplicationMethod;
  settings: PairSettings;
  source: RunbookServer;
  target: RunbookServer;
  restoreFirst: boolean;
  reprotect: boolean;
  /** The failover this failback reverses (null: none recorded, e.g. a failover from before runbooks). */
  failover: RecordedFailover | null;
  /** The current answers of failbackDnsQuestions(failover.dnsChanges); null when nothing moved in DNS. */
  dnsAnswers: DnsRRset[] | null;
  /** Re-protect with failure monitoring on (default true). */
  monitoring?: boolean;
}

/**
 * The state a failover left, read from its steps (the ones that ran): the DNS changes it applied
 * and the addresses it moved. A failback reverts exactly this.
 */
export function recordedFailoverState(steps: readonly PlannedStep[]): RecordedFailover {
  const dnsChanges = steps.flatMap((s) => (s.kind === 'dns.apply' ? s.params.changes : []));
  const addresses: MovedAddress[] = [];
  for (const s of steps) {
    if (s.kind !== 'address.ensure' || s.params.side !== 'target' || !s.params.present) continue;
    const { address, prefix } = s.params;
    const from = steps.find(
      (x) => x.kind === 'address.ensure' && x.params.side === 'source' && !x.params.present && x.params.address === address,
    );
    addresses.push({
      address,
      prefix,
      interface: s.params.interface,
      sourceInterface: from?.kind === 'address.ensure' ? from.params.interface : null,
    });
  }
  return { dnsChanges, addresses };
}

function revertSteps(i: FailbackPlanInput): PlannedStep[] {
  const { settings, source, target } = i;
  const recorded: RecordedFailover | null =
    i.failover ??
    // Identity needs no recorded before-state: the addresses simply go back. DNS does (exactly what was there).
    (settings.failover.type === 'identity'
      ? {
          dnsChanges: [],
          addresses: settings.failover.identity.addresses.map((a) => ({
            address: a.address,
            prefix: a.prefix,
            interface: a.targetInterface,
          })),
        }
      : null);
  if (!recorded)
    throw refuse(
      'No recorded failover to reverse: the DNS records as they were before the failover are unknown, so Tandem cannot restore them. Restore them by hand, then disable and enable protection',
    );
  const steps: PlannedStep[] = [];
  if (recorded.dnsChanges.length > 0) {
    if (!i.dnsAnswers) throw refuse('The DNS records were not read before planning; try again');
    const changes = planDnsRevert(recorded.dnsChanges, i.dnsAnswers);
    if (changes.length > 0) steps.push(dnsApplyStep(settings, changes, `clients reach ${source.hostname} again`));
  }
  for (const a of recorded.addresses) {
    const back = a.sourceInterface ?? interfaceInSubnet(source, a.address, a.prefix) ?? interfaceHolding(source, a.address);
    const force = settings.failover.identity.force;
    // Checked before anything moves: once the target lets go, the source must be able to take it.
    if (!back && source.interfaces !== null && !force) {
      throw refuse(
        `${source.hostname} has no interface in the subnet of ${a.address}/${a.prefix}: it could not take the address back. Connect it to that network, or turn on “Move even without a matching interface”`,
      );
    }
    steps.push(
      {
        kind: 'address.ensure',
        description: `Remove ${a.address}/${a.prefix} from ${target.hostname}${a.interface ? ` (${a.interface})` : ''}`,
        params: { side: 'target', address: a.address, prefix: a.prefix, interface: a.interface, present: false, force: false },
      },
      {
        kind: 'address.ensure',
        description: `Add ${a.address}/${a.prefix} back to ${source.hostname}${back ? ` on ${back}` : ''} and announce it`,
        params: { side: 'source', address: a.address, prefix: a.prefix, interface: back, present: true, force: !back && force },
      },
    );
  }
  return steps;
}

export function planFailback(i: FailbackPlanInput): Runbook {
  const { settings, source, target, method } = i;
  const pg = method === 'postgresql_streaming';
  const services = plainServices(settings);
  const timeout = settings.failover.serviceTimeoutSeconds;
  const mirror = settings.connection.mirror;
  checkFailbackClusterResources(i);
  let pointOfNoReturn: number | null = null;
  const steps: PlannedStep[] = [
    {
      kind: 'agents.check',
      description: `Check that the agents on ${source.hostname} and ${target.hostname} are online`,
      params: { sides: ['source', 'target'] },
    },
    // Before anything changes, the configuration of the cluster whose resources move first.
    ...(target.cluster ? clusterSnapshotSteps('target', target, 'failback') : clusterSnapshotSteps('source', source, 'failback')),
    i.restoreFirst
      ? {
          kind: 'pair.set-state',
          description: `Mark “${i.pairName}” as restoring: data flows back from ${target.hostname} to ${source.hostname}`,
          params: { event: 'restore.started' },
        }
      : {
          kind: 'pair.set-state',
          description: `Mark “${i.pairName}” as failing back (without restoring first: what changed on ${target.hostname} stays there)`,
          params: { event: 'failback.started' },
        },
    ...hookStep(settings, 'beforeFailback', 'source', source, false),
  ];

  if (i.restoreFirst && pg) {
    // A controlled switchover: the old primary catches up as a standby, writes stop on the
    // target, the old primary is promoted and the target follows it. Once writes stop on the
    // target and the source is promoted there is no way back without losing writes, so the
    // point of no return is the stop.
    const wait = Math.max(settings.failover.drainTimeoutSeconds, 300);
    steps.push(
      {
        kind: 'postgresql.follow',
        description: `Make PostgreSQL on ${source.hostname} a standby of ${target.hostname} (pg_rewind, else a fresh base backup)`,
        params: { side: 'source' },
      },
      {
        kind: 'postgresql.wait-caught-up',
        description: `Wait until ${source.hostname} has replayed everything ${target.hostname} wrote (up to ${wait} s)`,
        params: { side: 'source', timeoutSeconds: wait },
      },
    );
    pointOfNoReturn = steps.length;
    steps.push(
      {
        kind: 'postgresql.stop',
        description: `Stop PostgreSQL on ${target.hostname}: writes stop for the switchover`,
        params: { side: 'target' },
      },
      {
        kind: 'postgresql.promote',
        description: `Promote PostgreSQL on ${source.hostname}: it accepts writes again`,
        params: { side: 'source' },
      },
      {
        kind: 'postgresql.follow',
        description: `Make PostgreSQL on ${target.hostname} a standby of ${source.hostname}`,
        params: { side: 'target' },
      },
      {
        kind: 'pair.set-state',
        description: `Mark the restore as done: ${source.hostname} holds the data again`,
        params: { event: 'restore.completed' },
      },
    );
  } else if (i.restoreFirst) {
    steps.push(
      {
        kind: 'replication.restore',
        description: `Copy what changed on ${target.hostname} while failed over back to ${source.hostname} (${mirror}: only what differs travels)`,
        params: { mode: mirror },
      },
      {
        kind: 'pair.set-state',
        description: `Mark the restore as done: ${source.hostname} holds the data again`,
        params: { event: 'restore.completed' },
      },
    );
  }

  // The database service on a PostgreSQL target now runs the new standby: only the other services stop there.
  const stopOnTarget = pg && i.restoreFirst ? plainServices(settings, settings.failover.extraServices) : services;
  if (stopOnTarget.length > 0) {
    steps.push({
      kind: 'services.stop',
      description: `Stop ${listWords(stopOnTarget)} on ${target.hostname} and set ${stopOnTarget.length === 1 ? 'it' : 'them'} to manual start`,
      params: { side: 'target', services: stopOnTarget, startMode: 'manual', timeoutSeconds: timeout },
    });
  }
  // The reverse of the failover's start order: the services that use them stop first.
  steps.push(...clusterResourceSteps(settings, 'target', target, 'offline'));
  if (i.restoreFirst && !pg) {
    // Changes written between the restore and the services stopping: a second, short pass.
    steps.push({
      kind: 'replication.restore',
      description: `Copy the last changes from ${target.hostname} to ${source.hostname} now that its services are stopped`,
      params: { mode: mirror },
    });
  }
  if (pg && !i.restoreFirst) {
    // The target's writes are given up: it stops for good, and the old primary serves again as it was.
    pointOfNoReturn = steps.length;
    steps.push(
      {
        kind: 'postgresql.stop',
        description: `Stop PostgreSQL on ${target.hostname} (its writes since the failover are not restored)`,
        params: { side: 'target' },
      },
      {
        // Fencing stopped the old primary; it starts again as it last ran (a primary).
        kind: 'postgresql.promote',
        description: `Start PostgreSQL on ${source.hostname} again as the primary, with the data it held before the failover`,
        params: { side: 'source' },
      },
    );
  }

  // Clients go back to the source: from here a failure is no longer undone.
  const revert = revertSteps(i);
  pointOfNoReturn ??= steps.length;
  steps.push(...revert);
  steps.push(...clusterResourceSteps(settings, 'source', source, 'online'));
  if (services.length > 0) {
    steps.push({
      kind: 'services.start',
      description: `Start ${listWords(services)} on ${source.hostname}, in this order, and set ${services.length === 1 ? 'it' : 'them'} to start automatically`,
      params: { side: 'source', services, timeoutSeconds: timeout },
    });
  }
  steps.push(...hookStep(settings, 'afterFailback', 'source', source, true));
  steps.push({
    kind: 'pair.set-state',
    description: `Mark “${i.pairName}” as failed back: ${source.hostname} serves again`,
    params: { event: 'failback.succeeded', monitoringStatus: 'off' },
  });

  if (i.reprotect) steps.push(...reprotectSteps(i));
  return { steps, pointOfNoReturn: Math.min(pointOfNoReturn, steps.length - 1) };
}

/**
 * Failback: every named resource must be known to one side's cluster, and a source that brings
 * them online must know its node name. Throws a refusal that says what to change.
 */
function checkFailbackClusterResources(i: FailbackPlanInput): void {
  const named = namedClusterResources(i.settings);
  if (named.length === 0) return;
  const { source, target } = i;
  const unknown = named.filter((n) => !(source.cluster && clusterKindOf(source.cluster, n)) && !(target.cluster && clusterKindOf(target.cluster, n)));
  if (unknown.length > 0) {
    throw refuse(
      `Neither ${source.hostname} nor ${target.hostname} reports a cluster resource or group named ${listWords(unknown)}: correct the pair’s cluster resources, or wait for the agents to report their clusters`,
    );
  }
  if (source.cluster && !source.cluster.node && named.some((n) => clusterKindOf(source.cluster!, n))) {
    throw refuse(`Tandem cannot tell which cluster node ${source.hostname} is: the resources could not be placed on it`);
  }
}

/**
 * Protection source → target again, as enabling plans it (the agents were checked at the start).
 * A PostgreSQL target that already follows the source after a restore needs no new base backup.
 */
function reprotectSteps(i: FailbackPlanInput): PlannedStep[] {
  const { settings, source, target, method } = i;
  const monitoring = i.monitoring ?? true;
  const enable = planEnable({
    method,
    sourceHostname: source.hostname,
    targetHostname: target.hostname,
    route: settings.connection.route,
    port: settings.connection.port,
    routeMode: settings.connection.routeMode,
    monitoring,
    lowerTtl: dnsTtlLowering(settings),
  }).filter((s) => s.kind !== 'agents.check');
  if (method === 'postgresql_streaming' && i.restoreFirst)
    return enable.filter((s) => s.kind !== 'postgresql.prepare-source' && s.kind !== 'postgresql.clone-standby');
  return enable;
}
