import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { ClusterSideFacts, FactsSnapshot } from '../snapshot.ts';
import { clustered, sameAddress, versionOrder } from './failover-util.ts';

// The `cluster` family (catalogue §2.12, §4.9): clustered sources and targets. Every row applies
// only when at least one side is clustered (C). Findings name the cluster side in their evidence;
// fixes run on the pair's node of that side (the agent that manages its cluster).

const base = { family: 'cluster', scope: ['cluster'] as CheckDef['scope'], appliesTo: ['any'] as CheckDef['appliesTo'], when: clustered };
const sides = ['source', 'target'] as const;
type Side = (typeof sides)[number];
const clusters = (snap: FactsSnapshot) =>
  sides.flatMap((side) => {
    const c = snap.cluster?.[side];
    return c ? [{ side, c }] : [];
  });
const label = (side: Side, c: ClusterSideFacts) => `the ${side} cluster${c.name ? ` ${c.name}` : ''}`;
const short = (h: string) => h.toLowerCase().split('.')[0]!;
/** The pair side whose server is this cluster node, if it is one. */
const pairSideOf = (snap: FactsSnapshot, node: string): Side | null => sides.find((s) => short(snap[s]?.hostname ?? '') === short(node)) ?? null;
const listed = (ctx: CheckContext) => new Set(ctx.snap.pair.resources);
const isOnline = (state: string | null) => !!state && /^(online|started|running|promoted|master)$/i.test(state);
const isNetworkName = (type: string) => /network ?name/i.test(type);

export const clusterChecks: CheckDef[] = [
  {
    ...base,
    id: 'cluster.node-not-authorized',
    title: 'Cluster node without an agent',
    detects: 'A node that may own the protected role has no enrolled agent, or the cluster’s service identity has no rights on it; replication breaks when that node takes the role.',
    severity: 'error',
    facts: ['C'],
    evaluate: (ctx) =>
      clusters(ctx.snap).flatMap(({ side, c }) =>
        c.nodes
          .filter((n) => !n.enrolled || !n.authorized)
          .map((n) => ({ subject: `node=${n.name}`, message: `${n.name} in ${label(side, c)} ${n.enrolled ? 'has an agent without rights from the cluster’s service identity' : 'has no enrolled agent'}.`, evidence: { cluster: side, node: n.name, enrolled: n.enrolled, authorized: n.authorized } })),
      ),
    fix: { kind: 'manual', guidance: 'Enrol an agent on every node that may own the role, and grant the cluster’s service identity its rights there.' },
    legacy: ['EX-74'],
  },
  {
    ...base,
    id: 'cluster.node-agents-inconsistent',
    title: 'Cluster nodes run different agents',
    detects: 'The agents on the nodes that may own the role differ in release, or in their install or hook path.',
    severity: 'error',
    facts: ['C', 'X'],
    evaluate: (ctx) =>
      clusters(ctx.snap).flatMap(({ side, c }) => {
        const out: FindingDraft[] = [];
        const versions = c.nodes.map((n) => n.agentVersion).filter((v): v is string => !!v);
        const newest = versions.reduce<string | null>((m, v) => (!m || versionOrder(v, m) > 0 ? v : m), null);
        for (const n of c.nodes) {
          if (n.agentVersion && newest && versionOrder(n.agentVersion, newest) < 0) out.push({ subject: `node=${n.name}`, message: `${n.name} in ${label(side, c)} runs agent ${n.agentVersion}; other nodes run ${newest}.`, evidence: { cluster: side, node: n.name, kind: 'version', version: n.agentVersion, newest } });
        }
        const dirs = c.nodes.map((n) => n.hooksDir).filter((d): d is string => !!d);
        const counts = new Map<string, number>();
        for (const d of dirs) counts.set(d, (counts.get(d) ?? 0) + 1);
        // The pair's own server in this cluster sets the reference; otherwise the most common path.
        const own = c.nodes.find((n) => pairSideOf(ctx.snap, n.name) === side)?.hooksDir;
        const usual = own ?? [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
        for (const n of c.nodes) {
          if (n.hooksDir && usual && n.hooksDir !== usual) out.push({ subject: `hooks=${n.name}`, message: `${n.name} in ${label(side, c)} keeps its hooks in ${n.hooksDir}; the other nodes use ${usual}.`, evidence: { cluster: side, node: n.name, kind: 'path', hooksDir: n.hooksDir, usual } });
        }
        return out;
      }),
    fix: {
      kind: 'conditional',
      phase: 2,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        const e = f.evidence as { node: string; kind: 'version' | 'path'; version?: string; newest?: string };
        if (e.kind === 'path') return { guidance: `Reinstall the agent on ${e.node} with the default install path, so every node keeps its hooks in the same place.` };
        const side = pairSideOf(ctx.snap, e.node);
        const floor = ctx.snap.reference.agent.selfUpdateFloor;
        if (versionOrder(e.version!, floor) < 0) return { guidance: `Agent ${e.version} on ${e.node} is older than ${floor}, the oldest release that can update itself: reinstall it at ${e.newest}.` };
        if (!side) return { guidance: `Upgrade the agent on ${e.node} to ${e.newest} from that node (it is not one of the pair’s servers, so Tandem does not address it directly), one node at a time.` };
        return { plan: [{ action: 'agent.upgrade', node: side, version: e.newest!, description: `Upgrade the agent on ${e.node} to ${e.newest}`, before: e.version!, after: e.newest! }] };
      },
    },
    legacy: ['EX-75'],
  },
  {
    ...base,
    id: 'cluster.resource-missing',
    title: 'Listed resource missing on the target cluster',
    detects: 'A resource in the pair’s resource list does not exist on the target cluster.',
    severity: 'error',
    facts: ['P', 'C.tgt'],
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!.target;
      if (!c) return [];
      return ctx.snap.pair.resources.filter((r) => !c.resources.some((x) => x.id === r)).map((r) => ({ subject: `resource=${r}`, message: `The resource ${r} does not exist on ${label('target', c)}.`, evidence: { resource: r } }));
    },
    fix: { kind: 'manual', guidance: 'Create the resource on the target cluster, or remove it from the pair’s resource list.' },
    legacy: ['EX-78'],
  },
  {
    ...base,
    id: 'cluster.resource-online-on-target',
    title: 'Listed resource online on the target cluster',
    detects: 'A resource in the pair’s list is online on the target cluster, where it can hold replicated files open.',
    severity: 'error',
    facts: ['P', 'C.tgt'],
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!.target;
      if (!c) return [];
      const names = listed(ctx);
      return c.resources.filter((r) => names.has(r.id) && isOnline(r.state)).map((r) => ({ subject: `resource=${r.id}`, message: `${r.id} is ${r.state} on ${label('target', c)}${r.node ? ` (node ${r.node})` : ''}.`, evidence: { resource: r.id, state: r.state, node: r.node } }));
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (_ctx, f) => [{ action: 'cluster.resource.offline', node: 'target', resource: String(f.evidence.resource), description: `Take ${String(f.evidence.resource)} offline on the target cluster`, before: String(f.evidence.state), after: 'offline' }],
    },
    legacy: ['EX-79'],
  },
  {
    ...base,
    id: 'cluster.resource-auto-online',
    title: 'Listed resource starts by itself',
    detects: 'A resource in the pair’s list on the target cluster would come online by itself after a restart or a node move.',
    severity: 'warning',
    facts: ['P', 'C.tgt'],
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!.target;
      if (!c) return [];
      const names = listed(ctx);
      return c.resources.filter((r) => names.has(r.id) && r.autoStart === true).map((r) => ({ subject: `resource=${r.id}`, message: `${r.id} on ${label('target', c)} starts automatically.`, evidence: { resource: r.id, kind: c.kind, autoStart: true } }));
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const res = String(f.evidence.resource);
        const after = f.evidence.kind === 'pacemaker' ? 'target-role=Stopped' : 'persistent state offline, no automatic start';
        return [{ action: 'cluster.resource.set-autostart', node: 'target', resource: res, autoStart: false, description: `Keep ${res} from starting by itself on the target cluster (${after})`, before: 'starts automatically', after }];
      },
    },
    legacy: ['EX-80'],
  },
  {
    ...base,
    id: 'cluster.network-name-dns-optional',
    title: 'Network name comes online without DNS',
    detects: 'A Windows cluster network-name resource comes online even when its DNS registration fails, so fencing its DNS record cannot keep it down.',
    severity: 'warning',
    facts: ['C'],
    evaluate: (ctx) =>
      clusters(ctx.snap)
        .filter(({ c }) => c.kind === 'wsfc')
        .flatMap(({ side, c }) =>
          c.resources
            .filter((r) => isNetworkName(r.type) && r.properties.RequireDNS !== '1')
            .map((r) => ({ subject: `resource=${r.id}`, message: `The network name ${r.id} on ${label(side, c)} comes online without its DNS registration (RequireDNS ${r.properties.RequireDNS ?? 'unset'}).`, evidence: { cluster: side, resource: r.id, requireDns: r.properties.RequireDNS ?? null } })),
        ),
    fix: {
      kind: 'auto',
      // A DNS-registration setting, with the other DNS fixes.
      phase: 4,
      blockedWhileProtected: 'target',
      plan: (_ctx, f) => {
        const { cluster, resource, requireDns } = f.evidence as { cluster: Side; resource: string; requireDns: string | null };
        return [{ action: 'cluster.resource.set-property', node: cluster, resource, key: 'RequireDNS', value: '1', description: `Require DNS registration for ${resource} on the ${cluster} cluster`, before: requireDns ?? 'unset', after: '1' }];
      },
    },
    legacy: ['EX-81'],
  },
  {
    ...base,
    id: 'cluster.topology-unsupported',
    title: 'Unsupported cluster pairing',
    detects: 'The pairing of clustered and standalone servers is not supported for the application: a standalone source into a cluster, clusters of different kinds, or a clustered SharePoint.',
    severity: 'error',
    facts: ['P', 'C'],
    evaluate: (ctx) => {
      const { source, target } = ctx.snap.cluster!;
      const app = ctx.snap.pair.app;
      const shape = `${source ? `${source.kind} cluster` : 'standalone'} to ${target ? `${target.kind} cluster` : 'standalone'}`;
      let why: string | null = null;
      if (!source && target) why = 'a standalone source cannot fail over into a cluster role';
      else if (source && target && source.kind !== target.kind) why = 'both clusters must be of the same kind';
      else if (app === 'sharepoint') why = 'SharePoint farms are protected standalone only';
      if (!why) return [];
      return [{ subject: `topology=${shape}`, message: `${shape} is not supported for ${app}: ${why}.`, evidence: { app, source: source?.kind ?? 'standalone', target: target?.kind ?? 'standalone' } }];
    },
    fix: { kind: 'manual', guidance: 'Choose a supported pairing: cluster to cluster of the same kind, or cluster to standalone, and standalone servers only for SharePoint.' },
    legacy: ['HP: support matrices'],
  },
  {
    ...base,
    id: 'cluster.route-not-role-address',
    title: 'Replication routed to a node address',
    detects: 'The replication route targets a node’s own address instead of the clustered role’s address, so replication breaks when the role moves.',
    scope: ['pair'],
    severity: 'warning',
    facts: ['P', 'C.tgt'],
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!.target;
      const route = ctx.snap.pair.route;
      if (!c || route.mode !== 'direct') return [];
      const names = listed(ctx);
      const roles = c.roles.filter((r) => r.address);
      const role = roles.find((r) => r.resources.some((x) => names.has(x))) ?? (roles.length === 1 ? roles[0] : undefined);
      if (!role || sameAddress(role.address!, route.address)) return [];
      return [{ subject: `route=${route.address}`, message: `Replication goes to ${route.address}, not to the address ${role.address} of the clustered role ${role.name}.`, evidence: { route: route.address, role: role.name, roleAddress: role.address } }];
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: true,
      plan: (_ctx, f) => [{ action: 'pair.set', key: 'connection.route', value: String(f.evidence.roleAddress), description: `Route replication to the role address ${String(f.evidence.roleAddress)} (the stream reconnects)`, before: String(f.evidence.route), after: String(f.evidence.roleAddress) }],
    },
    legacy: ['HP: route to the clustered role’s address'],
  },
  {
    ...base,
    id: 'cluster.owner-changed-during-failover',
    title: 'Role moved while failed over',
    detects: 'While the pair is failed over, the role on the target cluster moved to another node, so failback steps bound to the old owner would run in the wrong place.',
    severity: 'warning',
    facts: ['P', 'C.tgt'],
    evaluate: (ctx) => {
      const c = ctx.snap.cluster!.target;
      if (!c || !ctx.snap.pair.failedOver || !c.ownerAtFailover) return [];
      const names = listed(ctx);
      const role = c.roles.find((r) => r.resources.some((x) => names.has(x))) ?? (c.roles.length === 1 ? c.roles[0] : undefined);
      if (!role?.owner || short(role.owner) === short(c.ownerAtFailover)) return [];
      return [{ subject: `role=${role.name}`, message: `The role ${role.name} moved from ${c.ownerAtFailover} to ${role.owner} after the failover.`, evidence: { role: role.name, ownerAtFailover: c.ownerAtFailover, owner: role.owner } }];
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: false,
      plan: (_ctx, f) => [{ action: 'pair.set', key: 'failback.executor', value: String(f.evidence.owner), description: `Run the failback steps on ${String(f.evidence.owner)}, the role’s current owner (its hook bundle is deployed there before they run)`, before: String(f.evidence.ownerAtFailover), after: String(f.evidence.owner) }],
    },
  },
  {
    ...base,
    id: 'cluster.fencing-disabled',
    title: 'Cluster without fencing or witness',
    detects: 'A Pacemaker cluster on either side runs with fencing disabled, or a Windows cluster with an even number of votes has no witness.',
    severity: 'error',
    facts: ['C'],
    evaluate: (ctx) =>
      clusters(ctx.snap).flatMap(({ side, c }): FindingDraft[] => {
        if (c.kind === 'pacemaker' && c.fencing.enabled === false) return [{ subject: `cluster=${c.name ?? side}`, message: `Fencing is disabled on ${label(side, c)}.`, evidence: { cluster: side, kind: c.kind, fencing: false } }];
        if (c.kind === 'wsfc' && c.quorum.votes !== null && c.quorum.votes % 2 === 0 && c.quorum.witness === false) return [{ subject: `cluster=${c.name ?? side}`, message: `${label(side, c)} has ${c.quorum.votes} votes and no witness.`, evidence: { cluster: side, kind: c.kind, votes: c.quorum.votes, witness: false } }];
        return [];
      }),
    fix: { kind: 'manual', guidance: 'Enable fencing (STONITH) on the Pacemaker cluster, or add a disk, file-share or cloud witness to the Windows cluster.' },
  },
];
