import type { CatalogueMethod, CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FactsSnapshot, ReplicationFacts } from '../snapshot.ts';
import { appFactsOf, appKeyOf, compareVersions, nodeOf, pathsOverlap, stringOr } from './core-util.ts';

// The `topology` family (catalogue §2.4): connections, monitors and the pair's relations to others.

type Connection = ReplicationFacts['connections'][number];

const ids = (snap: FactsSnapshot) => ({ s: nodeOf(snap, 'source').serverId, t: nodeOf(snap, 'target').serverId });
/** Connections with no paths replicate the whole instance, so they overlap everything. */
const overlaps = (a: string[], b: string[]) => a.length === 0 || b.length === 0 || a.some((x) => b.some((y) => pathsOverlap(x, y)));
const pairPaths = (snap: FactsSnapshot) => snap.pair.rules?.roots ?? [];
const owner = (c: Connection, snap: FactsSnapshot) => (c.pairId === snap.pair.id ? 'this pair' : c.pairId ? `pair ${c.pairId}` : 'a foreign tool');

/** Methods that may cascade (A→B→C) and fan out (A→B, A→C). */
const chainable: CatalogueMethod[] = ['files', 'file', 'streaming'];
/** Methods that may share a target with other pairs (file methods only with disjoint paths). */
const shareable: CatalogueMethod[] = ['database', 'log-shipping', 'logical'];

const replicates = (snap: FactsSnapshot) => ['mirroring', 'protected', 'failover_pending'].includes(snap.pair.state) || snap.replication.connections.some((c) => c.pairId === snap.pair.id && c.active);

export const topologyChecks: CheckDef[] = [
  {
    id: 'topology.reverse-connection',
    family: 'topology',
    title: 'Connection back to the source',
    detects: 'A connection from the target back to the source covers paths that overlap this pair’s; together they would replicate in a loop.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['R.connections', 'P', 'S.agent', 'T.agent'],
    evaluate: (ctx) => {
      const { s, t } = ids(ctx.snap);
      return ctx.snap.replication.connections
        .filter((c) => c.sourceServerId === t && c.targetServerId === s && overlaps(c.paths, pairPaths(ctx.snap)))
        .map((c) => ({ subject: `connection=${c.id}`, message: `Connection ${c.id}, owned by ${owner(c, ctx.snap)}, replicates from the target back to the source over overlapping paths.`, evidence: { connection: c.id, pairId: c.pairId, active: c.active, paths: c.paths } }));
    },
    fix: {
      kind: 'conditional',
      phase: 3,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        if (f.evidence.pairId === ctx.snap.pair.id && f.evidence.active === false) {
          const id = String(f.evidence.connection);
          return { plan: [{ action: 'replication.connection.remove', connectionId: id, description: `Remove the finished reverse connection ${id} of this pair`, before: 'present (finished)', after: 'removed' }] };
        }
        return { guidance: 'Another pair or a tool outside Tandem owns this connection, or it is still running. Stop it and remove it in its owner (Tandem never removes connections it did not create), or choose another target.' };
      },
    },
    legacy: ['EX-21', 'SQL-20'],
  },
  {
    id: 'topology.duplicate-monitor',
    family: 'topology',
    title: 'Second failover monitor',
    detects: 'The target already runs another failover monitor watching this source; only one monitor per source and target is allowed.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['R.monitors', 'P', 'S.agent', 'T.agent'],
    evaluate: (ctx) => {
      const { s, t } = ids(ctx.snap);
      const same = ctx.snap.replication.monitors.filter((m) => m.sourceServerId === s && m.targetServerId === t);
      if (same.length <= 1) return [];
      // The pair keeps its active monitor (else its first); every other one is a duplicate.
      const mine = same.filter((m) => m.pairId === ctx.snap.pair.id);
      const keep = mine.find((m) => m.active) ?? mine[0] ?? same.find((m) => m.active) ?? same[0]!;
      return same
        .filter((m) => m !== keep)
        .map((m) => ({ subject: `monitor=${m.id}`, message: `Monitor ${m.id}${m.pairId === ctx.snap.pair.id ? ' (an older monitor of this pair)' : m.pairId ? ` of pair ${m.pairId}` : ' from outside Tandem'} also watches this source from the target.`, evidence: { monitor: m.id, pairId: m.pairId, active: m.active } }));
    },
    fix: {
      kind: 'conditional',
      phase: 3,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        if (f.evidence.pairId !== ctx.snap.pair.id) return { guidance: 'This monitor belongs to another pair or to a tool outside Tandem. Remove it there, or protect this source from another target.' };
        const id = String(f.evidence.monitor);
        return { plan: [{ action: 'replication.monitor.remove', monitorId: id, description: `Remove the stale monitor ${id} of this pair`, before: f.evidence.active ? 'present (active)' : 'present (stopped)', after: 'removed' }] };
      },
    },
    legacy: ['EX-22', 'SQL-18'],
  },
  {
    id: 'topology.monitor-missing',
    family: 'topology',
    title: 'No failover monitor',
    detects: 'The pair replicates but no failover monitor watches its source.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['R.monitors', 'R.connections', 'P'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      if (!replicates(snap) || snap.replication.monitors.some((m) => m.pairId === snap.pair.id && m.active)) return [];
      return [{ subject: `pair=${snap.pair.name}`, message: `${snap.pair.name} replicates, but no failover monitor watches its source.`, evidence: { state: snap.pair.state, failoverEnabled: snap.pair.failover.enabled, createMonitor: snap.pair.options.createMonitor } }];
    },
    fix: {
      kind: 'conditional',
      phase: 3,
      blockedWhileProtected: false,
      decide: (ctx) => {
        if (!ctx.snap.pair.failover.enabled) return { guidance: 'Failover is turned off for this pair, so nothing watches the source. If that is on purpose, acknowledge this warning; otherwise enable failover in the pair settings.' };
        return { plan: [{ action: 'replication.monitor.create', description: `Create the failover monitor of ${ctx.snap.pair.name}`, before: 'no monitor', after: 'monitor watching the source' }] };
      },
    },
    legacy: ['EX-23', 'SQL-19'],
  },
  {
    id: 'topology.restore-required',
    family: 'topology',
    title: 'Target changes not restored',
    detects: 'An earlier failover left changes on the target that the source lacks; enabling protection would overwrite them with the source’s data.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['R.restoreRequired', 'P'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      if (!snap.replication.restoreRequired || ['failed_over', 'restoring', 'failing_back'].includes(snap.pair.state)) return [];
      return [{ subject: `pair=${snap.pair.name}`, message: `The target of ${snap.pair.name} holds changes from an earlier failover that were never restored to the source.`, evidence: { restoreRequired: true, state: snap.pair.state } }];
    },
    fix: { kind: 'manual', guidance: 'Run the restore (target → source) first. If the target’s changes are not wanted, confirm discarding them by typing the pair name when you enable protection. Tandem never discards them on its own.' },
    legacy: ['EX-24', 'SQL-21'],
  },
  {
    id: 'topology.unsupported-chain',
    family: 'topology',
    title: 'Chain or fan-out the method cannot carry',
    detects: 'The pair forms a chain its method cannot carry: a loop back to the source, a cascade (the source is itself a target) or fan-out for a method other than file replication or PostgreSQL streaming, or a target shared with another pair whose method forbids sharing.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['R.connections', 'P', 'S.agent', 'T.agent'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const { s, t } = ids(snap);
      const method = snap.pair.method;
      const out: FindingDraft[] = [];
      const add = (c: Connection, shape: string, why: string) => out.push({ subject: `connection=${c.id}`, message: `Connection ${c.id} (${owner(c, snap)}) makes a ${shape}: ${why}.`, evidence: { connection: c.id, pairId: c.pairId, shape, method } });
      for (const c of snap.replication.connections) {
        if (c.pairId === snap.pair.id) continue;
        if (c.sourceServerId === t && c.targetServerId === s) add(c, 'loop', 'it replicates from the target back to the source');
        else if (c.targetServerId === s && !chainable.includes(method)) add(c, 'cascade', `the source is itself a target, which the ${method} method cannot cascade`);
        else if (c.sourceServerId === s && c.targetServerId !== t && !chainable.includes(method)) add(c, 'fan-out', `the source also replicates elsewhere, which the ${method} method cannot carry`);
        else if (c.targetServerId === t && c.sourceServerId !== s) {
          const fileMethod = method === 'files' || method === 'file';
          const ok = shareable.includes(method) || (fileMethod && !overlaps(c.paths, pairPaths(snap)));
          if (!ok) add(c, 'shared target', fileMethod ? 'another source replicates overlapping paths to the same target' : `the ${method} method cannot share its target`);
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Choose another target, or change the method. Cascades and fan-outs work for file replication and PostgreSQL streaming; only SQL Server database and log-shipping pairs, PostgreSQL logical pairs and file pairs with disjoint paths may share a target.' },
    legacy: ['A server that is already a target can’t also be a protected source'],
  },
  {
    id: 'topology.stale-addresses',
    family: 'topology',
    title: 'Saved addresses no longer on the nodes',
    detects: 'The saved configuration references source or target addresses that are no longer configured on those nodes, typically after staging in one network and moving to production.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['P', 'S.net', 'T.net'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const onNodes = new Set([...snap.source!.interfaces!, ...snap.target!.interfaces!].flatMap((i) => i.addresses.map((a) => a.address.toLowerCase())));
      // Identity addresses move between the nodes at failover: they need not be on either now.
      const moving = new Set(snap.pair.identity.addresses.map((a) => a.address.toLowerCase()));
      // Host names (a route given by name) are resolved elsewhere, and loopback is on every node
      // (agents report no loopback interface): only other literal addresses are compared.
      return snap.pair.savedAddresses
        .filter((a) => isIpLiteral(a) && !isLoopback(a) && !onNodes.has(a.toLowerCase()) && !moving.has(a.toLowerCase()))
        .map((a) => ({ subject: `address=${a}`, message: `The pair configuration uses ${a}, which is no longer configured on the source or the target.`, evidence: { address: a } }));
    },
    fix: { kind: 'manual', guidance: 'Redo the address step of the pair configuration: the IP map, the monitored addresses and the route.' },
    legacy: ['Previous configuration invalid after an IP change'],
  },
  {
    id: 'topology.failback-impossible',
    family: 'topology',
    title: 'Failback to the older source impossible',
    detects: 'The method lets the target run a newer application release than the source, and the releases differ: failover works, but failing back to the older source will not.',
    scope: ['pair'],
    appliesTo: ['sqlserver', 'postgres', 'mariadb'],
    methods: ['database', 'log-shipping', 'logical', 'replication'],
    severity: 'warning',
    facts: ['P', 'S.agent', 'T.agent'],
    evaluate: (ctx: CheckContext) => {
      const snap = ctx.snap;
      const key = appKeyOf(snap.pair.app);
      const a = appVersion(appFactsOf(nodeOf(snap, 'source'), key));
      const b = appVersion(appFactsOf(nodeOf(snap, 'target'), key));
      if (!a || !b || compareVersions(a, b) === 0) return [];
      return [{ subject: `app=${snap.pair.app}`, message: `The source runs ${snap.pair.app} ${a} and the target ${b}; after a failover, failing back to the source needs a fresh seed.`, evidence: { source: a, target: b } }];
    },
    fix: { kind: 'manual', guidance: 'Treat the pair as a one-way migration, or align the versions. A later failback needs a fresh seed in the reverse direction.' },
    legacy: ['Newer target allowed, but failback impossible'],
  },
];

const isIpLiteral = (a: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(a) || (a.includes(':') && /^[0-9a-f:.]+$/i.test(a));

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

/** An application's release from its facts: `versionNum` (PostgreSQL's server_version_num) or `version`. */
function appVersion(facts: Record<string, unknown> | null): string | null {
  if (!facts) return null;
  if (typeof facts.versionNum === 'number') {
    const n = facts.versionNum;
    return n >= 100_000 ? `${Math.floor(n / 10_000)}.${n % 10_000}` : `${Math.floor(n / 10_000)}.${Math.floor(n / 100) % 100}.${n % 100}`;
  }
  return stringOr(facts.version);
}
