import type { CheckContext } from '../model.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';

// Small pure helpers shared by the platform-level families (agent, hooks, platform, topology,
// repset, provisioning, services, monitor): version order, path containment and mapping.

/**
 * Compares two dotted versions numerically (`1.10.0` > `1.9.2`; `2022` > `2019`); missing parts
 * count as 0 and a pre-release suffix (`1.4.0-rc.1`) sorts before its release. -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = '', pre] = v.trim().replace(/^v/i, '').split(/-(.*)/s, 2);
    return { parts: core.split(/[.+]/).map((p) => Number.parseInt(p, 10) || 0), pre: pre ?? null };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === null) return 1;
  if (y.pre === null) return -1;
  return x.pre < y.pre ? -1 : 1;
}

const isWindowsPath = (p: string) => /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
const norm = (path: string) => {
  // A bare drive (`C:`, as volumes are often named) is its root.
  const p = /^[A-Za-z]:$/.test(path) ? `${path}\\` : path;
  const win = isWindowsPath(p);
  let s = win ? p.replace(/\//g, '\\').toLowerCase() : p;
  const sep = win ? '\\' : '/';
  while (s.length > 1 && s.endsWith(sep) && !(win && /^[a-z]:\\$/.test(s))) s = s.slice(0, -1);
  return { s, sep };
};

/** `path` is `root` or lies below it (Windows paths compare case-insensitively). */
export function pathUnder(path: string, root: string): boolean {
  const p = norm(path);
  const r = norm(root);
  if (p.s === r.s) return true;
  return p.s.startsWith(r.s.endsWith(r.sep) ? r.s : r.s + r.sep);
}

/** Two paths overlap when one contains the other. */
export const pathsOverlap = (a: string, b: string) => pathUnder(a, b) || pathUnder(b, a);

/** A source path as it lands on the target (longest path-map prefix wins; unmapped: same path). */
export function targetPathOf(snap: FactsSnapshot, sourcePath: string): string {
  const entry = [...snap.pair.pathMap].sort((a, b) => b.from.length - a.from.length).find((m) => pathUnder(sourcePath, m.from));
  if (!entry) return sourcePath;
  const rest = norm(sourcePath).s.slice(norm(entry.from).s.length).replace(/^[\\/]+/, '');
  if (!rest) return entry.to;
  const sep = isWindowsPath(entry.to) ? '\\' : '/';
  return entry.to.replace(/[\\/]+$/, '') + sep + rest.replace(/[\\/]/g, sep);
}

/** The path-map entry covering a source path, if any. */
export const pathMapEntryOf = (snap: FactsSnapshot, sourcePath: string) => snap.pair.pathMap.find((m) => pathUnder(sourcePath, m.from)) ?? null;

/** Joins a relative rule pattern to a root with the root's separator. */
export function joinPath(root: string, rel: string): string {
  const sep = isWindowsPath(root) ? '\\' : '/';
  return root.replace(/[\\/]+$/, '') + sep + rel.replace(/[\\/]/g, sep);
}

/** The volume holding a path: the longest mount point (or drive) containing it. */
export function volumeOf<V extends { mountPoint: string }>(volumes: readonly V[], path: string): V | null {
  let best: V | null = null;
  for (const v of volumes) if (pathUnder(path, v.mountPoint) && (!best || norm(v.mountPoint).s.length > norm(best.mountPoint).s.length)) best = v;
  return best;
}

/** Node label for messages: "the target files-b". */
export const where = (ctx: CheckContext) => `the ${ctx.side} ${ctx.node?.hostname ?? ''}`.trimEnd();

/** The node of a side, for pair checks that have declared S./T. facts. */
export const nodeOf = (snap: FactsSnapshot, side: 'source' | 'target'): NodeFacts => {
  const n = snap[side];
  if (!n) throw new Error(`the ${side} node is not known`);
  return n;
};

/**
 * An application's facts on a node, by catalogue app name. App facts are typed by their own
 * families; these checks read only a few conventional fields, so the object is returned loosely.
 * Throws (→ unknown) when the app's facts were not collected.
 */
export function appFactsOf(node: NodeFacts, app: keyof NodeFacts['apps']): Record<string, unknown> | null {
  const v = node.apps[app];
  if (v === undefined) throw new Error(`${app} facts of ${node.hostname} were not collected`);
  if (v === null) return null;
  return typeof v === 'object' ? (v as Record<string, unknown>) : null;
}

/** The apps key of a pair's application (generic-service → generic). */
export const appKeyOf = (app: FactsSnapshot['pair']['app']): keyof NodeFacts['apps'] => (app === 'generic-service' ? 'generic' : app);

export const stringOr = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
