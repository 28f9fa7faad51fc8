import type { CheckDef, FindingDraft } from '../model.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';
import type { ReplicationRule } from '../../pair/replication-set.ts';
import { joinPath, nodeOf, pathUnder, pathsOverlap, targetPathOf, where } from './core-util.ts';

// The `repset` family (catalogue §2.5, §4.4): what the pair replicates, and what it must not.

/** Glob segment → RegExp (`*` within a segment, `?` one character). */
const segRe = (seg: string) => new RegExp(`^${seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`, 'i');

/** Whether a rule pattern (relative to a root) matches a relative path or one of its parents. */
function ruleMatches(rule: ReplicationRule, rel: string[]): boolean {
  const pat = rule.pattern.split('/').filter(Boolean);
  if (pat.length > rel.length) return false;
  if (!pat.every((seg, i) => segRe(seg).test(rel[i]!))) return false;
  return rule.recursive || pat.length === rel.length;
}

/** Is a source path covered by the pair's roots and rules (the last matching rule wins)? */
export function covered(snap: FactsSnapshot, path: string): boolean {
  const set = snap.pair.rules;
  if (!set) return false;
  const root = set.roots.find((r) => pathUnder(path, r));
  if (!root) return false;
  const rel = path.slice(root.length).split(/[\\/]/).filter(Boolean);
  let included = true;
  for (const rule of set.rules) if (ruleMatches(rule, rel)) included = rule.include;
  return included;
}

/** Paths the application module reports the pair needs (PostgreSQL file method: data, WAL, tablespaces). */
function requiredPaths(snap: FactsSnapshot): string[] {
  const source = nodeOf(snap, 'source');
  const app = snap.pair.app;
  if (app === 'postgres') {
    if (snap.pair.method !== 'file') return [];
    const pg = source.apps.postgres;
    if (pg === undefined) throw new Error(`postgres facts of ${source.hostname} were not collected`);
    return pg ? [pg.dataDir, ...(pg.walDir ? [pg.walDir] : []), ...pg.tablespaces.map((t) => t.location)] : [];
  }
  const key = app === 'generic-service' ? 'generic' : app;
  const facts = source.apps[key];
  if (facts === undefined) {
    // File servers and generic services are selected by path: the roots are the selection.
    if (app === 'fileserver' || app === 'generic-service') return [];
    throw new Error(`${app} facts of ${source.hostname} were not collected`);
  }
  if (!facts || typeof facts !== 'object') return [];
  const f = facts as { requiredPaths?: unknown; shares?: unknown };
  const out: string[] = [];
  if (Array.isArray(f.requiredPaths)) out.push(...f.requiredPaths.filter((p): p is string => typeof p === 'string'));
  if (Array.isArray(f.shares)) for (const s of f.shares as { path?: unknown }[]) if (typeof s?.path === 'string') out.push(s.path);
  return out;
}

/** Database engines recognised by process name or file pattern, by catalogue app name. */
const engines: { app: string; process: RegExp; file: RegExp }[] = [
  { app: 'sqlserver', process: /^sqlservr(\.exe)?$/i, file: /\.(mdf|ldf|ndf)$/i },
  { app: 'exchange', process: /^(store\.exe|Microsoft\.Exchange\.Store\.Worker(\.exe)?)$/i, file: /\.edb$/i },
  { app: 'postgres', process: /^(postgres|postmaster)$/i, file: /[\\/](pg_wal|pg_xlog|base[\\/]\d+)[\\/]/ },
  { app: 'mariadb', process: /^(mysqld|mariadbd)(\.exe)?$/i, file: /([\\/]ibdata\d+|[\\/]ib_logfile\d+|\.ibd)$/i },
];

const procBase = (p: string) => p.replace(/\.exe$/i, '').toLowerCase();
/** A process belongs to a listed service when the names match (postgres ↔ postgresql@16-main, smbd ↔ smbd). */
const isListedService = (process: string, services: string[]) => services.some((s) => procBase(s) === procBase(process) || procBase(s).startsWith(procBase(process)));
const AGENT_PROCESSES = /^tandem(-agent)?(\.exe)?$/i;

const sourceRoots = (snap: FactsSnapshot) => snap.pair.rules?.roots ?? [];

export const repsetChecks: CheckDef[] = [
  {
    id: 'repset.incomplete',
    family: 'repset',
    title: 'Rules miss required paths',
    detects: 'Paths the application module now reports as required (a new database, moved logs, a new share) are not covered by the pair’s replication rules.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['P', 'S.agent'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      if (!snap.pair.rules) return [];
      return [...new Set(requiredPaths(snap))]
        .filter((p) => !covered(snap, p))
        .map((p) => ({ subject: `path=${p}`, message: `${p} is needed by ${snap.pair.app} on the source but is not covered by the pair’s rules.`, evidence: { path: p, roots: snap.pair.rules!.roots } }));
    },
    fix: {
      kind: 'auto',
      phase: 8,
      blockedWhileProtected: false,
      plan: (ctx, f) => [{ action: 'repset.regenerate', description: `Rebuild the rules of ${ctx.snap.pair.name} from the application’s facts; ${String(f.evidence.path)} is then mirrored incrementally`, before: `${String(f.evidence.path)} not covered`, after: `${String(f.evidence.path)} covered` }],
    },
    legacy: ['EX-49'],
  },
  {
    id: 'repset.empty',
    family: 'repset',
    title: 'Nothing selected',
    detects: 'The selection resolves to no data: no database, share or path is selected.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P'],
    evaluate: (ctx) => {
      const p = ctx.snap.pair;
      const noPaths = (p.method === 'files' || p.method === 'file') && (!p.rules || p.rules.roots.length === 0);
      const noDatabases = p.selection.databases !== null && p.selection.databases.length === 0;
      if (!noPaths && !noDatabases) return [];
      return [{ subject: `pair=${p.name}`, message: `${p.name} selects no ${noDatabases ? 'database' : 'path'} to protect.`, evidence: { roots: p.rules?.roots ?? null, databases: p.selection.databases } }];
    },
    fix: { kind: 'manual', guidance: 'Select the data to protect (databases, shares or paths) in the pair settings, or change the method.' },
    legacy: ['SQL-45'],
  },
  {
    id: 'repset.foreign-overlap',
    family: 'repset',
    title: 'Another connection replicates the same paths',
    detects: 'A connection this pair does not own replicates overlapping paths from the same source to the same target; after a failover or failback one may overwrite the other.',
    scope: ['pair'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['R.connections', 'P', 'S.agent', 'T.agent'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const s = nodeOf(snap, 'source').serverId;
      const t = nodeOf(snap, 'target').serverId;
      const roots = sourceRoots(snap);
      return snap.replication.connections
        .filter((c) => c.pairId !== snap.pair.id && c.sourceServerId === s && c.targetServerId === t && c.paths.some((x) => roots.some((r) => pathsOverlap(x, r))))
        .map((c) => ({ subject: `connection=${c.id}`, message: `Connection ${c.id} (${c.pairId ? `pair ${c.pairId}` : 'outside Tandem'}) also replicates ${c.paths.filter((x) => roots.some((r) => pathsOverlap(x, r))).join(', ')} to the same target.`, evidence: { connection: c.id, pairId: c.pairId, paths: c.paths } }));
    },
    fix: { kind: 'manual', guidance: 'Fold those paths into this pair and remove the other connection in its owner, so one pair owns each path.' },
    legacy: ['EX-50', 'SQL-44'],
  },
  {
    id: 'repset.block-checksum-off',
    family: 'repset',
    title: 'Difference mirrors compare by size and time',
    detects: 'Difference mirrors from the source compare files by size and timestamp only; transactional stores change blocks in place and need block-level comparison.',
    scope: ['source'],
    appliesTo: ['exchange', 'sqlserver', 'sharepoint', 'postgres', 'mariadb'],
    severity: 'warning',
    facts: ['R.checksumOption', 'P'],
    evaluate: (ctx) => {
      const opt = ctx.snap.replication.checksumOption;
      if (opt !== 'size-time') return [];
      return [{ subject: 'option=differenceMirror', message: `Difference mirrors of ${ctx.snap.pair.name} compare files by size and time only.`, evidence: { differenceMirror: opt } }];
    },
    fix: {
      kind: 'auto',
      phase: 5,
      blockedWhileProtected: false,
      plan: () => [{ action: 'replication.set-option', key: 'differenceMirror', value: 'block-checksum', description: 'Compare blocks by checksum in difference mirrors from the source', before: 'size-time', after: 'block-checksum' }],
    },
    legacy: ['EX-51', 'SQL-46'],
  },
  {
    id: 'repset.rule-path-missing',
    family: 'repset',
    title: 'Rule names a missing path',
    detects: 'A root or a user-added include rule names a path that does not exist on the source.',
    scope: ['source'],
    appliesTo: ['any'],
    severity: 'warning',
    facts: ['P', 'S.paths'],
    evaluate: (ctx) => {
      const set = ctx.snap.pair.rules;
      if (!set) return [];
      const paths = ctx.node!.paths!;
      const named = [...set.roots, ...set.rules.filter((r) => r.include && !/[*?[]/.test(r.pattern)).flatMap((r) => set.roots.map((root) => joinPath(root, r.pattern)))];
      // Only paths the worker asked about can be judged; an unasked path is not reported.
      return named
        .filter((p) => paths.some((x) => x.path === p && !x.exists))
        .map((p) => ({ subject: `path=${p}`, message: `The rule path ${p} does not exist on ${where(ctx)}.`, evidence: { path: p } }));
    },
    fix: { kind: 'manual', guidance: 'Correct the rule’s path, or remove the rule, in the pair’s replication set.' },
  },
  {
    id: 'repset.live-database-files',
    family: 'repset',
    title: 'Live database files in a file pair',
    detects: 'File-level rules include live files of a running database engine that no application module manages for this pair (.mdf/.ldf/.ndf, a PostgreSQL data directory, InnoDB files, Exchange .edb). Replicated file by file without the engine’s ordering, the copy is not even crash-consistent.',
    scope: ['source'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['S.svc', 'S.proc.openFiles', 'P'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const n = ctx.node!;
      const byKey = new Map<string, FindingDraft>();
      for (const f of n.openFiles!) {
        const root = sourceRoots(snap).find((r) => pathUnder(f.path, r));
        if (!root || !covered(snap, f.path)) continue;
        const engine = engines.find((e) => e.process.test(f.process) || e.file.test(f.path));
        // The pair's own application module orders that engine's files (consistency mechanism).
        if (!engine || engine.app === snap.pair.app) continue;
        const key = `${root}\n${engine.app}`;
        const prev = byKey.get(key);
        const files = [...((prev?.evidence.files as string[] | undefined) ?? []), f.path].slice(0, 10);
        byKey.set(key, {
          subject: `path=${root}`,
          message: `${root} on ${where(ctx)} holds live ${engine.app} files (${f.process} has ${files[0]} open) that this pair would copy file by file.`,
          evidence: { engine: engine.app, process: f.process, files, service: runningService(n, engine.app) },
        });
      }
      return [...byKey.values()];
    },
    fix: { kind: 'manual', guidance: 'Protect the database with its own application pair (which orders or snapshots its files), or exclude its files from this pair’s rules.' },
  },
  {
    id: 'repset.target-files-open',
    family: 'repset',
    title: 'Process writing in replicated target paths',
    detects: 'A process on the target that is not one of the pair’s listed services holds files open for writing under the replicated target paths.',
    scope: ['target'],
    appliesTo: ['any'],
    severity: 'error',
    facts: ['T.proc.openFiles', 'P'],
    evaluate: (ctx) => {
      const snap = ctx.snap;
      const targetRoots = sourceRoots(snap).map((r) => targetPathOf(snap, r));
      const services = snap.pair.services.map((s) => s.name);
      const byProc = new Map<string, FindingDraft>();
      for (const f of ctx.node!.openFiles!) {
        if (!targetRoots.some((r) => pathUnder(f.path, r)) || AGENT_PROCESSES.test(f.process) || isListedService(f.process, services)) continue;
        const prev = byProc.get(f.process);
        const paths = [...((prev?.evidence.paths as string[] | undefined) ?? []), f.path].slice(0, 10);
        byProc.set(f.process, { subject: `process=${f.process}`, message: `${f.process} (pid ${f.pid}) writes under replicated paths on ${where(ctx)}, e.g. ${paths[0]}.`, evidence: { process: f.process, pid: f.pid, paths } });
      }
      return [...byProc.values()];
    },
    fix: { kind: 'manual', guidance: 'Find and stop the process, or add its service to the pair’s service list so it is kept stopped on the target.' },
  },
];

function runningService(n: NodeFacts, app: string): string | null {
  const re = { sqlserver: /^(MSSQL|SQLServer)/i, exchange: /^MSExchange/i, postgres: /^postgres/i, mariadb: /^(mysql|mariadb)/i }[app];
  return n.services!.find((s) => re?.test(s.name) && s.state === 'running')?.name ?? null;
}
