import { z } from 'zod';
import type { PostgresFacts } from '../node-facts.ts';
import type { FactsSnapshot } from '../snapshot.ts';

// Reading PostgreSQL facts (`app.postgres`, schema in node-facts.ts) for the postgres checks:
// versions, pg_settings with units normalised, and the instance each side of the pair names.

/**
 * A side's PostgreSQL facts. The agent's `validate.facts` answer was parsed against
 * postgresFactsSchema at the protocol boundary, so only the shape the checks lean on is confirmed
 * here (a full parse of ~350 pg_settings rows per side would dominate a 1,000-pair evaluation).
 * A value that is not that shape throws, which the evaluator turns into unknown.
 */
export function pg(snap: FactsSnapshot, side: 'source' | 'target'): PostgresFacts {
  const node = snap[side];
  if (!node) throw new Error(`the ${side} agent did not answer`);
  const f = node.apps.postgres;
  if (f === undefined) throw new Error(`PostgreSQL facts of the ${side} were not collected`);
  if (f === null) throw new Error(`no PostgreSQL was found on the ${side} ${node.hostname}`);
  const lists = ['settings', 'hba', 'roles', 'extensions', 'availableExtensions', 'slots', 'replication', 'tablespaces'] as const;
  const bad = typeof f !== 'object' ? 'value' : typeof f.dataDir !== 'string' ? 'dataDir' : typeof f.port !== 'number' ? 'port' : lists.find((k) => !Array.isArray(f[k])) ?? (typeof f.controlData !== 'object' || f.controlData === null ? 'controlData' : null);
  if (bad) throw new Error(`PostgreSQL facts of the ${side} are not in the expected form (${bad})`);
  return f;
}

/** The major release: 16 for 160004, 9.6 for 90624. */
export function majorOf(versionNum: number): string {
  return versionNum >= 100_000 ? String(Math.floor(versionNum / 10_000)) : `${Math.floor(versionNum / 10_000)}.${Math.floor(versionNum / 100) % 100}`;
}
export const minorOf = (versionNum: number) => versionNum % 100;

/**
 * server_version_num, or (the server being down) the version string the collector read from the
 * installed binaries or PG_VERSION: "PostgreSQL 16.4 (Debian…)", "16.4", "9.6.24", "16".
 */
export function versionOf(facts: PostgresFacts, side: string): number {
  if (facts.versionNum !== null) return facts.versionNum;
  const m = facts.version?.match(/(\d+)(?:\.(\d+))?(?:\.(\d+))?/);
  if (!m) throw new Error(`the PostgreSQL version of the ${side} is unknown (the server is not running)`);
  const [a, b, c] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  return a >= 10 ? a * 10_000 + b : a * 10_000 + b * 100 + c;
}

/** The slot Tandem's enable creates for a pair (as the worker names it). */
export const pairSlotName = (pairId: string) => `tandem_${pairId.replace(/-/g, '').slice(0, 24)}`;
/** The role Tandem's enable creates on the source for the standby. */
export const replicationRole = 'tandem_replication';

/** The instance a side runs for this pair: the pair's configuration first, else what the facts say. */
export function instanceOf(snap: FactsSnapshot, side: 'source' | 'target', facts: PostgresFacts) {
  const db = snap.pair.database;
  if (db) return side === 'source' ? { port: db.sourcePort, dataDir: db.sourceDataDir } : { port: db.targetPort, dataDir: db.targetDataDir };
  return { port: facts.port, dataDir: facts.dataDir };
}

type Setting = PostgresFacts['settings'][number];
const settingsCache = new WeakMap<PostgresFacts, Map<string, Setting>>();
/** pg_settings by name (built once per facts object: several checks read the same ~350 rows). */
export function settingsOf(facts: PostgresFacts): Map<string, Setting> {
  let m = settingsCache.get(facts);
  if (!m) {
    m = new Map(facts.settings.map((s) => [s.name, s]));
    settingsCache.set(facts, m);
  }
  return m;
}

const memoryBase: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const timeBase: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A unit column such as `8kB`, `16MB`, `ms`, `min` → kind and multiplier. */
function unitOf(unit: string | null): { kind: 'bytes' | 'ms'; factor: number } | null {
  const m = unit?.match(/^(\d*)\s*([a-zA-Z]+)$/);
  if (!m) return null;
  const n = m[1] ? Number(m[1]) : 1;
  if (memoryBase[m[2]!] !== undefined) return { kind: 'bytes', factor: n * memoryBase[m[2]!]! };
  if (timeBase[m[2]!] !== undefined) return { kind: 'ms', factor: n * timeBase[m[2]!]! };
  return null;
}

/**
 * A setting's effective value in base units (bytes, ms) when it has a unit; negative values
 * (-1: "disabled" or "use the default") stay as they are. null for non-numeric settings.
 */
export function numericValue(s: Setting): { kind: 'bytes' | 'ms' | 'number'; value: number } | null {
  const n = Number(s.setting);
  if (s.setting.trim() === '' || !Number.isFinite(n)) return null;
  const u = unitOf(s.unit);
  if (!u || n < 0) return { kind: u?.kind ?? 'number', value: n };
  return { kind: u.kind, value: n * u.factor };
}

/** The comparable form of a setting (units normalised; list settings compared as sets). */
export function comparable(s: Setting): string {
  const num = numericValue(s);
  if (num) return `${num.kind}:${num.value}`;
  if (s.name === 'shared_preload_libraries' || s.name === 'listen_addresses') return listOf(s.setting).sort().join(',');
  const v = s.setting.trim();
  // en_US.UTF-8 and en_US.utf8 name the same locale.
  if (s.name.startsWith('lc_')) return v.replace(/\.utf-?8$/i, '.utf8');
  return v.toLowerCase() === 'true' ? 'on' : v.toLowerCase() === 'false' ? 'off' : v;
}

/** A comma-separated setting (listen_addresses, shared_preload_libraries) as its items. */
export const listOf = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim().replace(/^"|"$/g, ''))
    .filter(Boolean);

/** An absolute value to write with ALTER SYSTEM: explicit units, so the block size cannot change its meaning. */
export function writable(s: Setting): string {
  const num = numericValue(s);
  if (!num || num.kind === 'number' || num.value < 0) return s.setting;
  return num.kind === 'bytes' ? formatBytes(num.value) : formatMs(num.value);
}
export function formatBytes(b: number): string {
  if (b % 1024 ** 2 === 0) return `${b / 1024 ** 2}MB`;
  if (b % 1024 === 0) return `${b / 1024}kB`;
  return `${b}B`;
}
export const formatMs = (ms: number) => (Number.isInteger(ms) ? `${ms}ms` : `${Math.round(ms * 1000)}us`);

/** Human form of a setting for messages and plans: `128MB`, `30000ms`, `on`. */
export const shown = (s: Setting | undefined) => (s ? writable(s) : '(not set)');

/**
 * Facts the logical method needs beyond `app.postgres` (catalogue §3.2 logical-method-gaps).
 * Tandem does not run the logical method yet, so no collector fills them; a pair using it shows
 * the check unknown until one does. Read from `app.postgres.logical` when present.
 */
export const postgresLogicalFactsSchema = z.strictObject({
  /** Tables without a primary key or replica identity (schema.table). */
  tablesWithoutIdentity: z.array(z.string().max(512)).max(100_000),
  /** Sequences and their last values. */
  sequences: z.array(z.strictObject({ name: z.string().max(512), lastValue: z.string().max(64).nullable() })).max(100_000),
  /** Digest of the schema (DDL) per database. */
  schemaDigests: z.record(z.string().max(128), z.string().max(128)),
  /** The failover runbook carries a sequence synchronisation step. */
  sequenceSyncStep: z.boolean(),
});
export type PostgresLogicalFacts = z.infer<typeof postgresLogicalFactsSchema>;

export function logicalFacts(snap: FactsSnapshot, side: 'source' | 'target'): PostgresLogicalFacts {
  const facts: (PostgresFacts & { logical?: unknown }) | null | undefined = snap[side]?.apps.postgres;
  const raw = facts?.logical;
  if (raw === undefined) throw new Error(`the logical-replication facts of the ${side} (sequences, tables, schema digests) were not collected`);
  const parsed = postgresLogicalFactsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the logical-replication facts of the ${side} are not in the expected form`);
  return parsed.data;
}
