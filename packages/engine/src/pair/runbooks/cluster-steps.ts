import type { PairSettings } from '../settings.ts';
import type { PlannedStep, Side } from '../plans.ts';
import { listWords, refuse, roleServices, type RunbookCluster, type RunbookServer } from './common.ts';

// Cluster resources in the failover and failback runbooks: the resources and groups a pair names
// (settings.failover.clusterResources) move with clustered applications through the cluster
// (cluster.resource steps) instead of as plain services, and the cluster's configuration is kept
// as a version before anything changes (cluster.snapshot).

/** The resources and groups the pair names, without repeats. */
export const namedClusterResources = (settings: PairSettings) => [...new Set(settings.failover.clusterResources)];

/** The services started and stopped as plain services: a name the cluster manages is left to the cluster. */
export function plainServices(settings: PairSettings, services: readonly string[] = roleServices(settings)): string[] {
  const named = new Set(namedClusterResources(settings));
  return services.filter((s) => !named.has(s));
}

/** Whether a cluster knows a name as a group or a resource (a group first: moving it moves its members). */
export function clusterKindOf(cluster: RunbookCluster, name: string): 'resource' | 'group' | null {
  if (cluster.groups.some((g) => g.id === name)) return 'group';
  if (cluster.resources.some((r) => r.id === name)) return 'resource';
  return null;
}

const clusterLabel = (c: RunbookCluster) => (c.name ? `cluster ${c.name}` : `its ${c.stack === 'pacemaker' ? 'Pacemaker' : 'Windows failover'} cluster`);

/** An optional snapshot of the configuration of the side's cluster (nothing when that side is not a member). */
export function clusterSnapshotSteps(side: Side, server: RunbookServer, before: 'failover' | 'failback'): PlannedStep[] {
  const c = server.cluster;
  if (!c) return [];
  return [
    {
      kind: 'cluster.snapshot',
      description: `Keep a copy of the configuration of ${clusterLabel(c)} (read on ${server.hostname}) before the ${before} (best effort)`,
      params: { side, reason: before === 'failover' ? 'before_failover' : 'before_failback' },
      optional: true,
    },
  ];
}

/**
 * The side that must bring the named resources online: it must be a cluster member that knows
 * every one of them and whose node name is known. Throws a refusal that says what to change.
 */
export function checkClusterResources(settings: PairSettings, server: RunbookServer): void {
  const named = namedClusterResources(settings);
  if (named.length === 0) return;
  const c = server.cluster;
  if (!c) {
    throw refuse(
      `The pair names cluster resources (${listWords(named)}) but ${server.hostname} is not a cluster member, or its agent has not reported its cluster: remove them from the pair’s failover settings, or wait for the agent to report`,
    );
  }
  const unknown = named.filter((n) => clusterKindOf(c, n) === null);
  if (unknown.length > 0) {
    throw refuse(
      `${clusterLabel(c)} on ${server.hostname} has no resource or group named ${listWords(unknown)}: correct the pair’s cluster resources (names are case-sensitive)`,
    );
  }
  if (!c.node) {
    throw refuse(`Tandem cannot tell which node of ${clusterLabel(c)} ${server.hostname} is (no node of that name): the resources could not be placed on it`);
  }
}

/**
 * One cluster.resource step per named resource the side's cluster knows. online: on the side's
 * own node (checkClusterResources first); offline: wherever it runs. Optional steps are best effort.
 */
export function clusterResourceSteps(
  settings: PairSettings,
  side: Side,
  server: RunbookServer,
  state: 'online' | 'offline',
  opts: { optional?: boolean } = {},
): PlannedStep[] {
  const c = server.cluster;
  if (!c) return [];
  const timeoutSeconds = settings.failover.serviceTimeoutSeconds;
  const steps: PlannedStep[] = [];
  for (const resource of namedClusterResources(settings)) {
    const kind = clusterKindOf(c, resource);
    if (!kind) continue;
    const what = `the ${kind === 'group' ? 'group' : 'resource'} ${resource} of ${clusterLabel(c)}`;
    const node = state === 'online' ? c.node : null;
    steps.push({
      kind: 'cluster.resource',
      description:
        state === 'online'
          ? `Bring ${what} online on ${node ?? server.hostname}${node && node !== server.hostname ? ` (${server.hostname})` : ''} and wait until it runs there (up to ${timeoutSeconds} s)`
          : `Take ${what} offline on ${server.hostname} and wait until it has stopped (up to ${timeoutSeconds} s)${opts.optional ? ' (best effort: its agent is offline)' : ''}`,
      params: { side, stack: c.stack, resource, kind, state, node, timeoutSeconds },
      ...(opts.optional ? { optional: true as const } : {}),
    });
  }
  return steps;
}
