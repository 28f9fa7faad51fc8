// postgresql.set-settings: the instance holds the asked settings. ALTER SYSTEM for each one whose
// running value differs, then pg_reload_conf(); a postmaster-context change needs a restart, made
// with pg_ctl only when the caller allows it (never a surprise restart). Values are compared the
// way PostgreSQL reads them (units, booleans, enum case), and read back afterwards.
import type { ActionArgs, ActionResult } from '@tandem/protocol';
import { type PgContext, PostgresReplicationError } from '../replication/postgresql/context.ts';
import { bin } from '../replication/postgresql/datadir.ts';
import { type Instance, psql, queryJson, resolveInstance } from '../replication/postgresql/instance.ts';
import { sqlLiteral } from '../replication/postgresql/quoting.ts';
import { runAsOk } from '../replication/postgresql/run.ts';
import { defaultLogFile, prepareLogFile } from '../replication/postgresql/server.ts';

type Args = ActionArgs<'postgresql.set-settings'>;
type Result = ActionResult<'postgresql.set-settings'>;

export interface SettingRow {
  name: string;
  setting: string;
  unit: string | null;
  vartype: string;
  context: string;
  source: string;
}

const MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** What one unit of the setting is worth in bytes or ms ('8kB' → 8192); null for unitless. */
function unitValue(unit: string | null): { scale: Record<string, number>; base: number } | null {
  if (!unit) return null;
  const m = /^(\d*)\s*([a-zA-Z]+)$/.exec(unit);
  if (!m) return null;
  const mult = m[1] ? Number(m[1]) : 1;
  if (m[2]! in MEMORY) return { scale: MEMORY, base: mult * MEMORY[m[2]!]! };
  if (m[2]! in TIME) return { scale: TIME, base: mult * TIME[m[2]!]! };
  return null;
}

const TRUE = ['on', 'true', 'yes', '1', 't', 'y'];
const FALSE = ['off', 'false', 'no', '0', 'f', 'n'];

/** A value as PostgreSQL would hold it, for comparison (numbers in the base unit); null when unreadable. */
export function normalizeSetting(value: string, row: Pick<SettingRow, 'name' | 'unit' | 'vartype'>): string | null {
  const v = value.trim();
  switch (row.vartype) {
    case 'bool': {
      const l = v.toLowerCase();
      return TRUE.includes(l) ? 'on' : FALSE.includes(l) ? 'off' : null;
    }
    case 'integer':
    case 'real': {
      const m = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([a-zA-Z]*)$/i.exec(v);
      if (!m) return null;
      const n = Number(m[1]);
      const u = unitValue(row.unit);
      if (!m[2]) return String(u ? n * u.base : n);
      if (!u || !(m[2] in u.scale)) return null;
      return String(n * u.scale[m[2]]!);
    }
    case 'enum':
      return v.toLowerCase();
    default:
      // Time zone names are looked up case-insensitively and shown as the zone file spells them.
      return /timezone$/.test(row.name) ? v.toLowerCase() : v;
  }
}

const holds = (row: SettingRow, asked: string) => {
  const want = normalizeSetting(asked, row);
  return want !== null && want === normalizeSetting(row.setting, row);
};

const show = (r: SettingRow) => (r.unit ? `${r.setting} ${r.unit}` : r.setting);

async function readSettings(inst: Instance, names: string[], ctx: PgContext | undefined): Promise<Map<string, SettingRow>> {
  const rows = await queryJson<SettingRow[]>(
    inst,
    `SELECT coalesce(json_agg(json_build_object('name', lower(name), 'setting', coalesce(setting, ''), 'unit', unit, 'vartype', vartype, 'context', context, 'source', source)), '[]'::json)
     FROM pg_settings WHERE lower(name) IN (${names.map(sqlLiteral).join(', ')})`,
    ctx,
  );
  return new Map(rows.map((r) => [r.name, r]));
}

async function restart(inst: Instance, ctx: PgContext | undefined): Promise<void> {
  // pg_ctl restart reuses postmaster.opts: the same port, socket directory and -c options.
  const logFile = defaultLogFile(inst.dataDir);
  await prepareLogFile(inst.owner, inst.dataDir, logFile);
  await runAsOk(ctx, inst.owner, bin(inst.binDir, 'pg_ctl'), ['restart', '-D', inst.dataDir, '-m', 'fast', '-w', '-t', '120', '-l', logFile], { timeoutMs: 140_000 });
}

export async function setSettings(args: Args, ctx?: PgContext): Promise<Result> {
  const names = Object.keys(args.settings);
  let inst = await resolveInstance({ dataDir: args.dataDir, port: args.port }, ctx);
  const current = await readSettings(inst, names, ctx);
  const unknown = names.filter((n) => !current.has(n));
  if (unknown.length > 0) throw new PostgresReplicationError(`unknown settings: ${unknown.join(', ')}`, 'invalid-input');
  const unreadable = names.filter((n) => normalizeSetting(args.settings[n]!, current.get(n)!) === null);
  if (unreadable.length > 0)
    throw new PostgresReplicationError(`values PostgreSQL would not accept: ${unreadable.map((n) => `${n} = ${args.settings[n]!} (${current.get(n)!.vartype}${current.get(n)!.unit ? `, unit ${current.get(n)!.unit}` : ''})`).join(', ')}`, 'invalid-input');

  const changed = names.filter((n) => !holds(current.get(n)!, args.settings[n]!));
  if (changed.length === 0) return { outcome: 'already-satisfied', changed: [], restarted: false, detail: null };

  // Checked before anything is written, so a refusal changes nothing.
  const fixed = changed.filter((n) => ['command line', 'environment variable'].includes(current.get(n)!.source));
  if (fixed.length > 0)
    throw new PostgresReplicationError(`set on the server's command line, which ALTER SYSTEM cannot override: ${fixed.join(', ')}`, 'settings');
  const internal = changed.filter((n) => current.get(n)!.context === 'internal');
  if (internal.length > 0) throw new PostgresReplicationError(`fixed when the cluster was created (initdb): ${internal.join(', ')}`, 'settings');
  const needRestart = changed.filter((n) => current.get(n)!.context === 'postmaster');
  if (needRestart.length > 0 && !args.allowRestart)
    throw new PostgresReplicationError(`a restart is needed for ${needRestart.join(', ')} and was not allowed; nothing was changed`, 'settings');

  // ALTER SYSTEM cannot run inside a transaction block: one statement per line, psql autocommit.
  await psql(inst, changed.map((n) => `ALTER SYSTEM SET ${n} = ${sqlLiteral(args.settings[n]!)}`).join(';\n'), ctx);
  await psql(inst, 'SELECT pg_reload_conf()', ctx);
  let restarted = false;
  if (needRestart.length > 0) {
    await restart(inst, ctx);
    restarted = true;
    inst = await resolveInstance({ dataDir: args.dataDir, port: args.port }, ctx);
  }

  // The reload is asynchronous: backends pick it up at their next command, so poll briefly.
  let after = await readSettings(inst, changed, ctx);
  for (let i = 0; i < 50 && changed.some((n) => !holds(after.get(n)!, args.settings[n]!)); i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await readSettings(inst, changed, ctx);
  }
  const off = changed.filter((n) => !holds(after.get(n)!, args.settings[n]!));
  if (off.length > 0)
    throw new PostgresReplicationError(`after ${restarted ? 'the restart' : 'the reload'} these settings still differ: ${off.map((n) => `${n} is ${show(after.get(n)!)}, asked ${args.settings[n]!}`).join(', ')}`, 'settings');
  return {
    outcome: 'changed',
    changed,
    restarted,
    detail: `${changed.map((n) => `${n}: ${show(current.get(n)!)} → ${args.settings[n]!}`).join('; ')}${restarted ? ' (restarted)' : ''}`.slice(0, 2000),
  };
}
