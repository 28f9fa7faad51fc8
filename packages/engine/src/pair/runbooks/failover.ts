import type { DnsRRset } from '../../dns/records.ts';
import type { PairSettings, ReplicationMethod } from '../settings.ts';
import type { PlannedStep, Runbook } from '../plans.ts';
import { hookStep, interfaceHolding, listWords, refuse, sameSubnet, type RunbookServer } from './common.ts';
import { checkClusterResources, clusterResourceSteps, clusterSnapshotSteps, plainServices } from './cluster-steps.ts';
import { dnsApplyStep, planDnsFailover } from './dns-plan.ts';

// The failover runbook: the target takes over from the source. Everything before the cut-over
// can be undone (undoSteps); from the cut-over on, clients may already reach the target, so a
// failure stops the operation there instead of moving them back.

export interface FailoverPlanInput {
  pairId: string;
  pairName: string;
  method: ReplicationMethod;
  settings: PairSettings;
  source: RunbookServer;
  target: RunbookServer;
  mode: 'graceful' | 'immediate';
  /** The current answers of dnsQuestions (DNS failover); null for identity failover. */
  dnsAnswers: DnsRRset[] | null;
}

/** The address steps of an identity failover: each source address leaves the source, then joins the target. */
function identitySteps(i: FailoverPlanInput): PlannedStep[] {
  const { settings, source, target } = i;
  const { addresses, force } = settings.failover.identity;
  if (addresses.length === 0)
    throw refuse('Identity failover needs at least one source address to move: add it in the pair’s failover settings');
  const steps: PlannedStep[] = [];
  for (const a of addresses) {
    const named = a.targetInterface;
    // A named interface must sit in the subnet too; no interface in it means the address would not route.
    const candidates = (target.interfaces ?? []).filter((x) => !named || x.name === named);
    const inSubnet = candidates.find((x) => x.addresses.some((y) => sameSubnet(y.address, a.address, a.prefix)))?.name ?? null;
    const fits = inSubnet !== null;
    if (!fits && !force) {
      throw refuse(
        target.interfaces === null
          ? `${target.hostname} has not reported its network interfaces, so Tandem cannot check that ${a.address}/${a.prefix} would be reachable there: wait for its agent to report, or turn on “Move even without a matching interface”`
          : `${target.hostname} has no interface in the subnet of ${a.address}/${a.prefix}${named ? ` (${named} is not in it)` : ''}: the address would not be reachable there. Connect the target to that network, or turn on “Move even without a matching interface”`,
      );
    }
    // Forced without a match: the named interface, else the first one that is not loopback.
    const iface =
      named ??
      inSubnet ??
      target.interfaces?.find((x) => x.name !== 'lo' && !x.name.toLowerCase().startsWith('loopback'))?.name ??
      null;
    const fromIface = interfaceHolding(source, a.address);
    steps.push({
      kind: 'address.ensure',
      description: `Remove ${a.address}/${a.prefix} from ${source.hostname}${fromIface ? ` (${fromIface})` : ''}${source.agentOnline ? '' : ' (best effort: its agent is offline)'}`,
      params: { side: 'source', address: a.address, prefix: a.prefix, interface: fromIface, present: false, force: false },
      // A source that is gone cannot be told; one that answers must let go first (no duplicate address).
      ...(source.agentOnline ? {} : { optional: true as const }),
    });
    steps.push({
      kind: 'address.ensure',
      description: `Add ${a.address}/${a.prefix} to ${target.hostname}${iface ? ` on ${iface}` : ''} and announce it${fits ? '' : ' (forced: no interface in its subnet)'}`,
      params: { side: 'target', address: a.address, prefix: a.prefix, interface: iface, present: true, force: !fits },
    });
  }
  return steps;
}

export function planFailover(i: FailoverPlanInput): Runbook {
  const { settings, source, target, method } = i;
  if (!settings.failover.enabled) throw refuse('Failover is turned off for this pair: turn it on in its failover settings first');
  const pg = method === 'postgresql_streaming';
  // Resources the cluster manages move through it, not as plain services.
  const services = plainServices(settings);
  const timeout = settings.failover.serviceTimeoutSeconds;
  checkClusterResources(settings, target);
  // Only the target must answer: failing over from a source that is gone is the point.
  const steps: PlannedStep[] = [
    {
      kind: 'agents.check',
      description: `Check that the agent on ${target.hostname} is online (${source.hostname} may be gone)`,
      params: { sides: ['target'] },
    },
    // Before anything changes: the configuration a failed failover might have to go back to.
    ...clusterSnapshotSteps('target', target, 'failover'),
    { kind: 'pair.set-state', description: `Mark “${i.pairName}” as failing over`, params: { event: 'failover.started' } },
    ...hookStep(settings, 'beforeFailover', 'target', target, false),
  ];

  // Graceful: writes stop on the source, then what is queued reaches the target. A source whose
  // agent is offline can neither stop nor drain (waiting would only time out), so the plan cuts
  // over at once and the worker records the lag, as for an immediate failover.
  if (i.mode === 'graceful' && source.agentOnline) {
    if (services.length > 0) {
      steps.push({
        kind: 'services.stop',
        description: `Stop ${listWords(services)} on ${source.hostname} and set ${services.length === 1 ? 'it' : 'them'} to manual start`,
        params: { side: 'source', services, startMode: 'manual', timeoutSeconds: timeout },
      });
    }
    steps.push(...clusterResourceSteps(settings, 'source', source, 'offline'));
    const { drainTimeoutSeconds: t, onDrainTimeout: onTimeout } = settings.failover;
    steps.push({
      kind: 'replication.drain',
      description: `${pg ? `Wait until the standby on ${target.hostname} has replayed everything` : `Wait until every queued change from ${source.hostname} has reached ${target.hostname}`} (up to ${t} s; then ${onTimeout === 'abort' ? 'abort the failover' : 'proceed and record the lag'})`,
      params: { timeoutSeconds: t, onTimeout },
    });
  }

  // Fencing: the target stops taking the source's data (a source that comes back cannot
  // overwrite what the target now serves) and both monitors stop (no second failover).
  if (pg) {
    // A standby has no data channel to close: promotion itself ends it. The old primary is
    // stopped (best effort) so it cannot keep taking writes.
    steps.push(
      {
        kind: 'monitor.stop',
        description: `Stop probing ${source.hostname} from ${target.hostname}`,
        params: { side: 'target' },
        optional: true,
      },
      {
        kind: 'monitor.stop',
        description: `Stop answering probes on ${source.hostname} (best effort)`,
        params: { side: 'source' },
        optional: true,
      },
      {
        kind: 'postgresql.stop',
        description: `Stop PostgreSQL on ${source.hostname} so the old primary takes no more writes (best effort)`,
        params: { side: 'source' },
        optional: true,
      },
      {
        kind: 'postgresql.promote',
        description: `Promote the standby on ${target.hostname}: it leaves recovery and accepts writes`,
        params: { side: 'target' },
      },
    );
  } else {
    steps.push(
      {
        kind: 'replication.stop',
        description: `Close the data channel on ${target.hostname}: it no longer accepts data from ${source.hostname}`,
        params: { side: 'target' },
      },
      {
        kind: 'monitor.stop',
        description: `Stop probing ${source.hostname} from ${target.hostname}`,
        params: { side: 'target' },
        optional: true,
      },
      {
        kind: 'replication.stop',
        description: `Stop replication on ${source.hostname} (best effort)`,
        params: { side: 'source' },
        optional: true,
      },
      {
        kind: 'monitor.stop',
        description: `Stop answering probes on ${source.hostname} (best effort)`,
        params: { side: 'source' },
        optional: true,
      },
    );
  }

  // A source that did not stop gracefully: its clustered resources are taken offline now, best
  // effort when its agent is gone (the cluster cannot be told through it).
  if (!(i.mode === 'graceful' && source.agentOnline)) {
    steps.push(...clusterResourceSteps(settings, 'source', source, 'offline', { optional: !source.agentOnline }));
  }

  // The cut-over: from here clients may reach the target, so nothing before is undone any more.
  const pointOfNoReturn = steps.length;
  if (settings.failover.type === 'dns') {
    if (!i.dnsAnswers) throw refuse('The DNS records were not read before planning; try again');
    const changes = planDnsFailover(settings, source, target, i.dnsAnswers);
    if (changes.length > 0) steps.push(dnsApplyStep(settings, changes, `clients reach ${target.hostname}`));
  } else {
    steps.push(...identitySteps(i));
  }

  // Cluster resources first (addresses, file systems), then the plain services that use them.
  steps.push(...clusterResourceSteps(settings, 'target', target, 'online'));
  if (services.length > 0) {
    steps.push({
      kind: 'services.start',
      description: `Start ${listWords(services)} on ${target.hostname}, in this order, and set ${services.length === 1 ? 'it' : 'them'} to start automatically`,
      params: { side: 'target', services, timeoutSeconds: timeout },
    });
  }
  steps.push(...hookStep(settings, 'afterFailover', 'target', target, true));
  steps.push({
    kind: 'pair.set-state',
    description: `Mark “${i.pairName}” as failed over: ${target.hostname} serves in place of ${source.hostname}`,
    params: { event: 'failover.succeeded', monitoringStatus: 'off' },
  });
  // A cut-over that changes nothing (DNS already at the target) leaves the first later step as the point of no return.
  return { steps, pointOfNoReturn: Math.min(pointOfNoReturn, steps.length - 1) };
}
