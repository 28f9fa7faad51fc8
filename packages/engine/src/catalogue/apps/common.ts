import type { z } from 'zod';
import type { ReplicationRule } from '../../pair/replication-set.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';

// Pure helpers shared by the application families (fileserver, postgres, mariadb,
// generic-service): reading an app's facts through its schema, versions, paths, path mapping
// and replication-rule coverage.

type AppKey = keyof NodeFacts['apps'];
const parsedCache = new WeakMap<object, Map<z.ZodType, unknown>>();

/**
 * An application's facts on a side, parsed with the app's schema. The evaluator has already made
 * the check unknown when they were not collected; a value that does not parse (an older agent,
 * a collector bug) throws, which the evaluator also turns into unknown with this message.
 */
export function appFacts<T extends z.ZodType>(snap: FactsSnapshot, side: 'source' | 'target', key: AppKey, schema: T, label: string): z.infer<T> {
  const node = snap[side];
  if (!node) throw new Error(`the ${side} agent did not answer`);
  const raw = node.apps[key];
  if (raw === undefined) throw new Error(`${label} facts of the ${side} were not collected`);
  if (raw === null) throw new Error(`no ${label} was found on the ${side} ${node.hostname}`);
  if (typeof raw !== 'object') throw new Error(`${label} facts of the ${side} are not an object`);
  // Parsed once per facts object and schema: a snapshot is immutable, and a run evaluates many
  // checks over the same facts (the benchmark evaluates 1,000 pairs).
  let bySchema = parsedCache.get(raw);
  if (!bySchema) {
    bySchema = new Map<z.ZodType, unknown>();
    parsedCache.set(raw, bySchema);
  }
  let parsed = bySchema.get(schema) as z.ZodSafeParseResult<z.infer<T>> | undefined;
  if (!parsed) bySchema.set(schema, (parsed = schema.safeParse(raw)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${label} facts of the ${side} are not in the expected form (${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'})`);
  }
  return parsed.data;
}

/** The node of a side, for pair-scoped checks that declared its facts. */
export function sideNode(snap: FactsSnapshot, side: 'source' | 'target'): NodeFacts {
  const n = snap[side];
  if (!n) throw new Error(`the ${side} agent did not answer`);
  return n;
}

/** Numeric parts of a dotted version (`10.11.6-MariaDB` → [10, 11, 6]). */
export const versionParts = (v: string) => (v.match(/\d+(?:\.\d+)*/)?.[0] ?? '0').split('.').map((p) => Number.parseInt(p, 10));

/** -1, 0 or 1; missing parts count as 0. */
export function compareVersion(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

const isWin = (p: string) => /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
function norm(p: string) {
  const win = isWin(p);
  const sep = win ? '\\' : '/';
  let s = win ? p.replace(/\//g, '\\').toLowerCase() : p;
  while (s.length > 1 && s.endsWith(sep) && !/^[a-z]:\\$/.test(s)) s = s.slice(0, -1);
  return { s, sep };
}

/** `path` is `root` or below it (Windows paths case-insensitively). */
export function under(path: string, root: string): boolean {
  const p = norm(path);
  const r = norm(root);
  return p.s === r.s || p.s.startsWith(r.s.endsWith(r.sep) ? r.s : r.s + r.sep);
}

/** `path` relative to `root` with forward slashes ('' for the root itself); null when outside. */
export function relativeTo(path: string, root: string): string | null {
  if (!under(path, root)) return null;
  return norm(path).s.slice(norm(root).s.length).replace(/^[\\/]+/, '').replace(/\\/g, '/');
}

/** A source path as it lands on the target: the longest path-map prefix wins; unmapped paths stay. */
export function mapToTarget(snap: FactsSnapshot, sourcePath: string, extra: { from: string; to: string }[] = []): string {
  const entry = [...extra, ...snap.pair.pathMap].sort((a, b) => b.from.length - a.from.length).find((m) => under(sourcePath, m.from));
  if (!entry) return sourcePath;
  const rest = relativeTo(sourcePath, entry.from) ?? '';
  if (!rest) return entry.to;
  const sep = isWin(entry.to) ? '\\' : '/';
  return entry.to.replace(/[\\/]+$/, '') + sep + rest.replace(/\//g, sep);
}

/** The volume holding a path: the longest mount point containing it. */
export function volumeHolding<V extends { mountPoint: string }>(volumes: readonly V[], path: string): V | null {
  let best: V | null = null;
  for (const v of volumes) if (under(path, v.mountPoint) && (!best || norm(v.mountPoint).s.length > norm(best.mountPoint).s.length)) best = v;
  return best;
}

/** The target's facts about one path; throws (→ unknown) when the agent was not asked about it. */
export function targetPath(node: NodeFacts, path: string) {
  const found = node.paths?.find((p) => norm(p.path).s === norm(path).s);
  if (!found) throw new Error(`the ${node.hostname} path facts do not describe ${path}`);
  return found;
}

/**
 * A posix glob as the agent reads replication rules: `*` within a segment, `**` across
 * segments (`**` followed by `/` also matches nothing), `?` one character, `[…]` classes,
 * `{a,b}` alternatives.
 */
function globRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      const cls = glob.slice(i + 1, end);
      re += `[${cls.startsWith('!') ? `^${cls.slice(1)}` : cls}]`.replace(/\\/g, '\\\\');
      i = end;
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\/[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u');
}

function ruleHits(rule: ReplicationRule, rel: string): boolean {
  const re = globRegExp(rule.pattern);
  if (re.test(rel)) return true;
  if (!rule.recursive) return false;
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) if (re.test(rel.slice(0, i))) return true;
  return false;
}

/**
 * Whether the pair's replication set carries a source path: it lies under a root, and the last
 * rule matching it (relative to that root) includes it; no matching rule means included.
 */
export function replicated(snap: FactsSnapshot, path: string): boolean {
  const set = snap.pair.rules;
  if (!set) return false;
  for (const root of set.roots) {
    const rel = relativeTo(path, root);
    if (rel === null) continue;
    if (rel === '') return true;
    let included = true;
    for (let i = set.rules.length - 1; i >= 0; i--) {
      if (ruleHits(set.rules[i]!, rel)) {
        included = set.rules[i]!.include;
        break;
      }
    }
    if (included) return true;
  }
  return false;
}

/** Memory sized for the target: the source's value scaled by the ratio of RAM, down to whole MiB. */
export function scaleToTarget(sourceBytes: number, sourceRam: number, targetRam: number): number {
  const MiB = 1024 * 1024;
  if (sourceRam <= 0) return sourceBytes;
  return Math.max(MiB, Math.floor((sourceBytes * targetRam) / sourceRam / MiB) * MiB);
}

/** Two sizes agree when they are within 10 % of the wanted one (RAM rarely matches to the byte). */
export const closeEnough = (actual: number, wanted: number) => Math.abs(actual - wanted) <= wanted * 0.1;

/**
 * Why a missing target directory must not simply be created: the source keeps the path on a
 * dedicated file system and the target has no matching mount (creating it on the root file
 * system would fill that instead). null when creating it is fine.
 */
export function missingMount(snap: FactsSnapshot, sourcePath: string, targetPathName: string): string | null {
  const sVol = volumeHolding(snap.source?.volumes ?? [], sourcePath);
  const tVol = volumeHolding(snap.target?.volumes ?? [], targetPathName);
  if (!sVol || sVol.system) return null;
  const wanted = mapToTarget(snap, sVol.mountPoint);
  if (tVol && tVol.mountPoint === wanted) return null;
  return `The source keeps this path on its own file system (${sVol.mountPoint}); the target has no matching mount (${wanted}). Add and mount storage there, then validate again.`;
}
