// app.postgres facts for the validation catalogue (catalogue §3.2): everything the parity checks
// compare, read from the real instance. psql runs as the data directory's owner over the socket
// (the replication helpers' way); pg_controldata works with the server down too. Passwords in
// conninfo strings are masked before anything leaves this file. Setting names are lower case
// (GUC names are case-insensitive: TimeZone is timezone), as postgresql.set-settings takes them.
import { realpath, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ActionResult } from '@tandem/protocol';
import type { CommandRunner } from '../exec.ts';
import { PostgresReplicationError, type PgContext, runnerOf } from '../replication/postgresql/context.ts';
import { bin, exists, findBinDir, runningPostmaster } from '../replication/postgresql/datadir.ts';
import { type Instance, psql, queryJson } from '../replication/postgresql/instance.ts';
import { runAs } from '../replication/postgresql/run.ts';
import { dataDirOwner, type OsUser } from '../replication/postgresql/users.ts';

type Section = ActionResult<'validate.facts'>['postgres'];
type PostgresFacts = NonNullable<Extract<Section, { status: 'ok' }>['data']>;

/** Masks password=… in a libpq conninfo (key/value or URI form). */
export function maskConninfo(s: string): string {
  return s
    .replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1********')
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1********@');
}

/** Prefix length of a netmask (255.255.255.0 → 24, ffff:ffff:: → 32); null when not contiguous. */
function maskBits(mask: string): number | null {
  let bits = '';
  if (mask.includes(':')) {
    const [head = '', tail = ''] = mask.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = mask.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    bits = groups.map((g) => parseInt(g || '0', 16).toString(2).padStart(16, '0')).join('');
  } else bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  const n = bits.indexOf('0') === -1 ? bits.length : bits.indexOf('0');
  return bits.slice(n).includes('1') ? null : n;
}

const controlField = (cd: Record<string, string>, name: string) => cd[name] ?? null;

export function parseControlData(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!.trim().slice(0, 128)] = m[2]!.trim();
  }
  return out;
}

interface Raw {
  version_num: string;
  version: string;
  in_recovery: boolean;
  primary_conninfo: string | null;
  timeline: number | null;
  tablespaces: { name: string; location: string }[];
  settings: { name: string; setting: string | null; unit: string | null; source: string; context: string; sourcefile: string | null }[];
  hba: { type: string; database: string[] | null; user_name: string[] | null; address: string | null; netmask: string | null; auth_method: string }[];
  roles: { name: string; superuser: boolean; replication: boolean; login: boolean; createrole: boolean; member_of: string[] }[];
  available: { name: string; default_version: string | null }[];
  slots: { name: string; type: 'physical' | 'logical'; active: boolean; wal_status: string | null }[];
  replication: { application_name: string; client_addr: string | null; state: string }[];
  databases: string[];
}

const QUERY = `SELECT json_build_object(
  'version_num', current_setting('server_version_num'),
  'version', current_setting('server_version'),
  'in_recovery', pg_is_in_recovery(),
  'primary_conninfo', nullif(current_setting('primary_conninfo', true), ''),
  'timeline', CASE WHEN pg_is_in_recovery()
      THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))
      ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
  'tablespaces', (SELECT coalesce(json_agg(json_build_object('name', spcname, 'location', pg_tablespace_location(oid)) ORDER BY spcname), '[]'::json)
      FROM pg_tablespace WHERE pg_tablespace_location(oid) <> ''),
  'settings', (SELECT coalesce(json_agg(json_build_object('name', lower(name), 'setting', setting, 'unit', unit, 'source', source, 'context', context, 'sourcefile', sourcefile) ORDER BY name), '[]'::json) FROM pg_settings),
  'hba', (SELECT coalesce(json_agg(json_build_object('type', type, 'database', database, 'user_name', user_name, 'address', address, 'netmask', netmask, 'auth_method', auth_method) ORDER BY line_number), '[]'::json)
      FROM pg_hba_file_rules WHERE error IS NULL),
  'roles', (SELECT coalesce(json_agg(json_build_object('name', r.rolname, 'superuser', r.rolsuper, 'replication', r.rolreplication, 'login', r.rolcanlogin, 'createrole', r.rolcreaterole,
      'member_of', (SELECT coalesce(json_agg(g.rolname ORDER BY g.rolname), '[]'::json) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)) ORDER BY r.rolname), '[]'::json)
      FROM pg_roles r WHERE r.rolname !~ '^pg_'),
  'available', (SELECT coalesce(json_agg(json_build_object('name', name, 'default_version', default_version) ORDER BY name), '[]'::json) FROM pg_available_extensions),
  'slots', (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'type', slot_type, 'active', active, 'wal_status', wal_status) ORDER BY slot_name), '[]'::json) FROM pg_replication_slots),
  'replication', (SELECT coalesce(json_agg(json_build_object('application_name', application_name, 'client_addr', host(client_addr), 'state', state) ORDER BY application_name, pid), '[]'::json) FROM pg_stat_replication),
  'databases', (SELECT coalesce(json_agg(datname ORDER BY datname), '[]'::json) FROM pg_database WHERE datallowconn AND NOT datistemplate)
)`;

const EXTENSIONS = `SELECT coalesce(json_agg(json_build_object('name', extname, 'version', extversion) ORDER BY extname), '[]'::json) FROM pg_extension`;

/** A psql -d value that is always read as a database name (a name holding '=' would otherwise be a conninfo). */
export const dbConninfo = (db: string) => `dbname='${db.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function commandOut(run: CommandRunner, cmd: string, args: string[]): Promise<string | null> {
  try {
    const r = await run(cmd, args, { timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

/** glibc's version ("2.36"), or musl's; null when neither can be told. */
async function libcVersion(run: CommandRunner): Promise<string | null> {
  const g = await commandOut(run, 'getconf', ['GNU_LIBC_VERSION']);
  const m = g === null ? null : /(\d+\.\d+(?:\.\d+)?)/.exec(g);
  if (m) return m[1]!;
  const l = await commandOut(run, 'ldd', ['--version']);
  return l === null ? null : (/(\d+\.\d+(?:\.\d+)?)/.exec(l)?.[1] ?? null);
}

/** The ICU library the server binary is linked with ("72.1"), from ldd; null when built without ICU. */
async function icuVersion(run: CommandRunner, binDir: string | null): Promise<string | null> {
  const out = await commandOut(run, 'ldd', [bin(binDir, 'postgres')]);
  const lib = out === null ? null : /=>\s*(\S*libicuuc\.so\.\d+\S*)/.exec(out)?.[1];
  if (!lib) return null;
  const real = await realpath(lib).catch(() => lib);
  return /libicuuc\.so\.(\d+(?:\.\d+)*)/.exec(real)?.[1] ?? null;
}

async function cmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
}

async function parentOf(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  const ppid = stat === null ? NaN : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) && ppid > 1 ? ppid : null;
}

/**
 * The HA manager running this instance: Patroni or pg_auto_failover as the postmaster's ancestor,
 * repmgrd running for this data directory (its config names it), or a Pacemaker CIB naming it.
 */
async function managedBy(run: CommandRunner, dataDir: string, pid: number | null): Promise<string | null> {
  for (let p = pid === null ? null : await parentOf(pid), depth = 0; p !== null && depth < 8; p = await parentOf(p), depth++) {
    const cmd = await cmdline(p);
    if (/\bpatroni\b/.test(cmd)) return 'patroni';
    if (/\bpg_autoctl\b/.test(cmd)) return 'pg_auto_failover';
  }
  const procs = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  let pacemaker = false;
  for (const d of procs) {
    const cmd = await cmdline(Number(d));
    if (/(^|\/)repmgrd\b/.test(cmd)) {
      const conf = /(?:-f|--config-file)[ =](\S+)/.exec(cmd)?.[1] ?? '/etc/repmgr.conf';
      const text = await readFile(conf, 'utf8').catch(() => '');
      if (text === '' || text.includes(dataDir)) return 'repmgr';
    }
    if (/(^|\/)pacemakerd\b/.test(cmd)) pacemaker = true;
  }
  if (pacemaker) {
    const cib = await commandOut(run, 'cibadmin', ['--query', '--scope', 'resources']);
    if (cib !== null && cib.includes(dataDir)) return 'pacemaker';
  }
  return null;
}

async function walDirOf(dataDir: string): Promise<string | null> {
  const wal = path.join(dataDir, 'pg_wal');
  if (!(await exists(wal))) return null;
  return realpath(wal).catch(() => wal);
}

/** Tablespaces from pg_tblspc's links (the server being down). */
async function tablespacesOnDisk(dataDir: string): Promise<{ name: string; location: string }[]> {
  const dir = path.join(dataDir, 'pg_tblspc');
  const out: { name: string; location: string }[] = [];
  for (const oid of await readdir(dir).catch(() => [] as string[])) out.push({ name: oid, location: await realpath(path.join(dir, oid)).catch(() => '') });
  return out.filter((t) => t.location !== '');
}

const hbaAddress = (r: Raw['hba'][number]): string | null => {
  if (r.address === null) return null;
  const bits = r.netmask === null ? null : maskBits(r.netmask);
  return r.netmask === null ? r.address : bits === null ? `${r.address} ${r.netmask}` : `${r.address}/${bits}`;
};

async function describe(args: { port: number; dataDir: string }, ctx: PgContext | undefined): Promise<PostgresFacts> {
  const run = runnerOf(ctx);
  if (!(await exists(path.join(args.dataDir, 'PG_VERSION')))) throw new PostgresReplicationError(`${args.dataDir} is not a PostgreSQL data directory`, 'invalid-input');
  const owner: OsUser = await dataDirOwner(run, args.dataDir);
  const pm = await runningPostmaster(args.dataDir);
  const binDir = await findBinDir({ pid: pm?.pid, dataDir: args.dataDir });
  const cdOut = await runAs(ctx, owner, bin(binDir, 'pg_controldata'), [args.dataDir], { timeoutMs: 30_000 });
  const controlData = cdOut.code === 0 ? parseControlData(cdOut.stdout) : {};
  const [libc, icu, manager, walDir] = await Promise.all([libcVersion(run), icuVersion(run, binDir), managedBy(run, args.dataDir, pm?.pid ?? null), walDirOf(args.dataDir)]);
  const cdTimeline = controlField(controlData, "Latest checkpoint's TimeLineID");
  const base: PostgresFacts = {
    port: pm?.port ?? args.port,
    running: pm !== null,
    versionNum: null,
    version: null,
    dataDir: args.dataDir,
    walDir,
    tablespaces: await tablespacesOnDisk(args.dataDir),
    controlData,
    systemId: controlField(controlData, 'Database system identifier'),
    timeline: cdTimeline !== null && /^\d+$/.test(cdTimeline) ? Number(cdTimeline) : null,
    inRecovery: null,
    primaryConninfo: null,
    osUser: { name: owner.name, uid: owner.uid, gid: owner.gid },
    settings: [],
    hba: [],
    roles: [],
    extensions: [],
    availableExtensions: [],
    slots: [],
    replication: [],
    managedBy: manager,
    icuVersion: icu,
    libcVersion: libc,
  };
  if (!pm) return base;
  if (pm.socketDir === null) throw new PostgresReplicationError(`the server on ${args.dataDir} has no Unix socket to connect through`, 'unsupported');
  const inst: Instance = { dataDir: args.dataDir, port: pm.port ?? args.port, socketDir: pm.socketDir, pid: pm.pid, owner, dbUser: owner.name, binDir };
  const r = await queryJson<Raw>(inst, QUERY, ctx);
  const extensions: PostgresFacts['extensions'] = [];
  for (const db of r.databases.slice(0, 500)) {
    const out = (await psql(inst, EXTENSIONS, ctx, { database: dbConninfo(db) })).trim();
    for (const e of JSON.parse(out) as { name: string; version: string }[]) extensions.push({ database: db, name: e.name, version: e.version });
  }
  return {
    ...base,
    versionNum: Number(r.version_num),
    version: r.version,
    tablespaces: r.tablespaces,
    timeline: r.timeline ?? base.timeline,
    inRecovery: r.in_recovery,
    primaryConninfo: r.primary_conninfo === null ? null : maskConninfo(r.primary_conninfo),
    settings: r.settings.map((s) => ({
      name: s.name,
      setting: s.name === 'primary_conninfo' ? maskConninfo(s.setting ?? '') : (s.setting ?? ''),
      unit: s.unit,
      source: s.source,
      context: s.context,
      sourcefile: s.sourcefile,
    })),
    hba: r.hba.map((h) => ({ type: h.type, database: h.database ?? [], user: h.user_name ?? [], address: hbaAddress(h), method: h.auth_method })),
    roles: r.roles.map((x) => ({ name: x.name, superuser: x.superuser, replication: x.replication, canLogin: x.login, createRole: x.createrole, memberOf: x.member_of })),
    extensions,
    availableExtensions: r.available.map((a) => ({ name: a.name, defaultVersion: a.default_version })),
    slots: r.slots.map((s) => ({ name: s.name, type: s.type, active: s.active, walStatus: s.wal_status })),
    replication: r.replication.map((x) => ({ applicationName: x.application_name, clientAddress: x.client_addr, state: x.state })),
  };
}

/** The `postgres` section of `validate.facts`: null args → none asked for; a failure → unknown with the reason. */
export async function collectPostgresFacts(args: { port: number; dataDir: string } | null, ctx?: PgContext): Promise<Section> {
  if (args === null) return { status: 'ok', data: null };
  try {
    return { status: 'ok', data: await describe(args, ctx) };
  } catch (e) {
    return { status: 'unknown', reason: maskConninfo(e instanceof Error ? e.message : String(e)).slice(0, 2000) };
  }
}
