import type { RunbookCluster, RunbookServer } from '@tandem/engine';
import { factsSchema, type ClusterFacts } from './facts.ts';

/**
 * The cluster as a runbook needs it. This server's node is the one named like its hostname (or
 * the hostname's first label); in a cluster of one node, that node.
 */
export function runbookCluster(c: ClusterFacts, hostname: string): RunbookCluster {
  const short = (n: string) => n.toLowerCase().split('.')[0]!;
  const node = c.nodes.find((n) => n.name.toLowerCase() === hostname.toLowerCase()) ?? c.nodes.find((n) => short(n.name) === short(hostname)) ?? (c.nodes.length === 1 ? c.nodes[0] : undefined);
  return {
    stack: c.stack,
    name: c.name,
    node: node?.name ?? null,
    resources: c.resources.map((r) => ({ id: r.id, group: r.group, node: r.node })),
    groups: c.groups.map((g) => ({ id: g.id, resources: g.resources, node: g.node })),
  };
}

/**
 * The engine's view of a server for a runbook, from its stored facts and its agent's state (web
 * and worker both plan from it). Facts that no longer fit the schema count as unknown.
 */
export function runbookServer(s: { id: string; hostname: string; osFamily: 'linux' | 'windows'; facts: unknown; agent: { status: string } | null }): RunbookServer {
  const parsed = s.facts ? factsSchema.safeParse(s.facts) : null;
  const f = parsed?.success ? parsed.data : null;
  return {
    id: s.id,
    hostname: s.hostname,
    fqdn: f?.host.status === 'ok' ? f.host.data.fqdn : null,
    osFamily: s.osFamily,
    agentOnline: s.agent?.status === 'online',
    interfaces:
      f?.network.status === 'ok' ? f.network.data.interfaces.map((i) => ({ name: i.name, addresses: i.addresses.map((a) => ({ address: a.address, prefix: a.prefix })) })) : null,
    cluster: f?.cluster.status === 'ok' && f.cluster.data ? runbookCluster(f.cluster.data, s.hostname) : null,
  };
}
