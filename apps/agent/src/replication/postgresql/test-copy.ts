// Test failover of a PostgreSQL pair: a temporary, promoted copy of the standby in the agent's
// scratch area (`<scratch>/<id>/pgdata`, socket in `<scratch>/<id>/run`, log in
// `<scratch>/<id>/postgresql.log`). The standby is only read: it keeps streaming throughout.
// 1. Row counts of `countTables` on the standby (read only; each null when it cannot be counted).
//    A name is `table`, `schema.table`, or `database:table` (database default postgres).
// 2. pg_basebackup FROM THE STANDBY over its Unix socket, as the data directory's owner (the OS
//    user PostgreSQL runs as), with -X stream (a temporary slot on the standby holds the WAL the
//    copy needs while the backup runs). What the standby needs: pg_hba.conf letting that OS user
//    make a local replication connection (initdb's `local replication all trust` or Debian's
//    `local replication all peer`), a free WAL sender (max_wal_senders), and the owner's role
//    having REPLICATION (the postgres superuser has it).
// 3. The copy's settings (postgresql.auto.conf of the copy, read last) cut every tie to production:
//    no primary_conninfo / primary_slot_name / restore_command, archive_mode off (never push WAL
//    into the production archive), no synchronous standbys (a write would wait for ever), no
//    external pid file, loopback only, its own port and socket directory, small shared_buffers.
//    A configuration kept outside the data directory (Debian's /etc/postgresql) is included from
//    a postgresql.conf written into the copy, with data_directory pointing at the copy.
// 4. Started in recovery (standby.signal), then promoted (pg_ctl promote) and waited for until
//    pg_is_in_recovery() is false. `pg.done.json` (written last) makes a create idempotent: a
//    running complete copy is answered as is; anything else is stopped, removed and made again.
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { ActionArgs, ActionResult } from '@tandem/protocol';
import { ensureCopyDir, isCopyDir, copyPath, readJson, removeNoFollow, treeSize, withCopyLock, writeJsonAtomic } from '../../actions/test/scratch.ts';
import { type PgContext, PostgresReplicationError, runnerOf } from './context.ts';
import { bin, exists, findBinDir, runningPostmaster, updateAutoConf, writeOwnedFile } from './datadir.ts';
import { psql, resolveInstance, type Instance } from './instance.ts';
import { confString } from './quoting.ts';
import { pollUntil, pgEnv, runAs, runAsOk } from './run.ts';
import { startServer, stopServer } from './server.ts';
import { dataDirOwner, type OsUser } from './users.ts';

const DONE = 'pg.done.json';
const TABLE = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
const DATABASE = /^[A-Za-z_][A-Za-z0-9_$-]*$/;

export interface PgTestCopyContext extends PgContext {
  scratchDir: string;
}

interface Done {
  dataDir: string;
  port: number;
  bytes: number;
  durationMs: number;
  standbyCounts: Record<string, number | null>;
}

const layout = (dir: string) => ({ pgdata: path.join(dir, 'pgdata'), runDir: path.join(dir, 'run'), logFile: path.join(dir, 'postgresql.log'), done: path.join(dir, DONE) });

/** `database:schema.table` → where and what to count, or null for a name we will not put in SQL. */
export function parseCountTable(name: string): { database: string; table: string } | null {
  const m = /^(?:([^:]+):)?(.+)$/.exec(name);
  const database = m?.[1] ?? 'postgres';
  const table = m?.[2] ?? '';
  return DATABASE.test(database) && TABLE.test(table) ? { database, table } : null;
}

/** Counts on the standby within one budget (the command's timeout leaves about a minute for them). */
async function countTables(standby: Instance, names: string[], ctx?: PgContext, budgetMs = 60_000): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  const deadline = Date.now() + budgetMs;
  for (const name of names) {
    const t = parseCountTable(name);
    out[name] = null;
    const left = deadline - Date.now();
    if (!t || left < 1000) continue;
    try {
      // Unquoted on purpose: the names were checked above and fold to lower case as typed SQL does.
      const v = (await psql(standby, `BEGIN READ ONLY; SELECT count(*) FROM ${t.table}; COMMIT`, ctx, { database: t.database, timeoutMs: Math.min(30_000, left) })).trim();
      if (/^\d+$/.test(v)) out[name] = Number(v);
    } catch {
      // Stays null: the probe reports it.
    }
  }
  return out;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** From `wanted` upwards (100 ports), or with 0 a random port below the usual ephemeral range. */
async function pickPort(wanted: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = wanted > 0 ? wanted + i : randomInt(20_000, 32_000);
    if (port <= 65_535 && (await portFree(port))) return port;
  }
  throw new PostgresReplicationError(wanted > 0 ? `no free port from ${wanted} to ${wanted + 99}` : 'no free port found for the test copy', 'settings');
}

/**
 * The owner must pass through every directory above the copy. The scratch area and copy directory
 * are 0711 already; the agent's own configuration directory right above it gets o+x (no listing:
 * its files stay 0600). Any other blocking directory is an error naming it.
 */
async function ensureReachable(copyDir: string, owner: OsUser): Promise<void> {
  const scratch = path.dirname(copyDir);
  const configDir = path.dirname(scratch);
  for (let d = configDir; ; d = path.dirname(d)) {
    const st = await stat(d);
    const x = st.uid === owner.uid ? st.mode & 0o100 : st.gid === owner.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!x) {
      if (d === configDir && st.uid === process.getuid?.()) await chmod(d, (st.mode & 0o7777) | 0o001);
      else throw new PostgresReplicationError(`the PostgreSQL owner ${owner.name} cannot reach ${copyDir}: ${d} is not searchable for it`, 'settings');
    }
    if (d === path.dirname(d)) break;
  }
}

/** Stops a copy's server (immediate: nothing in it needs to survive) and waits for it to be gone. */
async function stopCopyServer(pgdata: string, ctx?: PgContext): Promise<void> {
  const pm = await runningPostmaster(pgdata);
  if (!pm) return;
  try {
    const owner = await dataDirOwner(runnerOf(ctx), pgdata);
    await stopServer(ctx, owner, await findBinDir({ pid: pm.pid, dataDir: pgdata }), pgdata, 'immediate', 60);
  } catch {
    try {
      process.kill(pm.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await pollUntil('the test copy server to exit', 30_000, async () => ((await runningPostmaster(pgdata)) ? null : true));
}

/** Removes a PostgreSQL test copy in `dir` (stopping its server first); false when there was none. */
export async function removePostgresTestCopy(dir: string, ctx?: PgContext): Promise<boolean> {
  const l = layout(dir);
  const present = (await exists(l.pgdata)) || (await exists(l.done));
  if (!present) return false;
  if (await isCopyDir(l.pgdata)) await stopCopyServer(l.pgdata, ctx);
  await removeNoFollow(l.done);
  await removeNoFollow(l.pgdata);
  await removeNoFollow(l.runDir);
  await removeNoFollow(l.logFile);
  return true;
}

/** Settings of the copy (postgresql.auto.conf, read last) that cut every tie to production. */
export function copyOverrides(port: number, runDir: string): Record<string, string> {
  return {
    primary_conninfo: '',
    primary_slot_name: '',
    restore_command: '',
    archive_mode: 'off',
    synchronous_standby_names: '',
    recovery_min_apply_delay: '0',
    hot_standby: 'on',
    external_pid_file: '',
    logging_collector: 'off',
    cluster_name: 'tandem-test-copy',
    shared_buffers: '128MB',
    // The copy is thrown away after the test: no flushing. Above all, with fsync off the start-up
    // after the base backup skips syncing the whole data directory (seconds per GiB).
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    huge_pages: 'try',
    // Loopback only: nothing on the network can mistake the copy for production, and the TCP probe
    // (127.0.0.1 by default) reaches it whatever addresses the standby listens on.
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: runDir,
  };
}

/**
 * The copy's postgresql.conf: its own (copied) one when the standby keeps its configuration in the
 * data directory, else an include of the standby's outside file (and its hba/ident files); either
 * way data_directory last, since an included file may name the standby's directory.
 */
export function copyPostgresqlConf(
  own: string | null,
  standby: { dataDir: string; configFile: string; hbaFile: string; identFile: string },
  pgdata: string,
): string {
  const inside = (f: string) => path.resolve(f).startsWith(`${path.resolve(standby.dataDir)}/`);
  let text = own;
  if (text === null || !inside(standby.configFile)) {
    const lines = ["# Written by Tandem for a test copy: the standby's configuration, then this copy's own paths.", `include ${confString(standby.configFile)}`];
    if (standby.hbaFile && !inside(standby.hbaFile)) lines.push(`hba_file = ${confString(standby.hbaFile)}`);
    if (standby.identFile && !inside(standby.identFile)) lines.push(`ident_file = ${confString(standby.identFile)}`);
    text = lines.join('\n');
  }
  return `${text.replace(/\n?$/, '\n')}data_directory = ${confString(pgdata)}\n`;
}

async function configureCopy(standby: Instance, pgdata: string, runDir: string, port: number, ctx?: PgContext): Promise<void> {
  const owner = standby.owner;
  const sql = `SELECT current_setting('config_file') || E'\\n' || current_setting('hba_file') || E'\\n' || current_setting('ident_file')`;
  const [configFile = '', hbaFile = '', identFile = ''] = (await psql(standby, sql, ctx)).trim().split('\n');
  const confFile = path.join(pgdata, 'postgresql.conf');
  const own = await readFile(confFile, 'utf8').catch(() => null);
  await writeOwnedFile(confFile, copyPostgresqlConf(own, { dataDir: standby.dataDir, configFile, hbaFile, identFile }, pgdata), owner, 0o600);
  await rm(path.join(pgdata, 'recovery.signal'), { force: true });
  // Started in recovery first, then promoted: it replays what the backup streamed, then leaves recovery on a new timeline.
  await writeOwnedFile(path.join(pgdata, 'standby.signal'), '', owner, 0o600);
  await updateAutoConf(pgdata, owner, copyOverrides(port, runDir));
}

async function ownedDir(dir: string, owner: OsUser): Promise<void> {
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, owner.uid, owner.gid);
  await chmod(dir, 0o700);
}

export async function createPostgresTestCopy(args: ActionArgs<'postgresql.test-copy-create'>, ctx: PgTestCopyContext): Promise<ActionResult<'postgresql.test-copy-create'>> {
  return withCopyLock(args.id, async () => {
    const started = Date.now();
    const dir = await ensureCopyDir(ctx.scratchDir, args.id, 'postgresql');
    const l = layout(dir);
    const done = await readJson<Done>(l.done);
    if (done) {
      const pm = await runningPostmaster(l.pgdata);
      if (pm) return { ...done, port: pm.port ?? done.port };
    }
    await removePostgresTestCopy(dir, ctx); // A partial or stopped copy is made again.

    const standby = await resolveInstance({ dataDir: args.standbyDataDir, port: args.standbyPort }, ctx);
    const owner = standby.owner;
    await ensureReachable(dir, owner);
    const standbyCounts = await countTables(standby, args.countTables, ctx);
    try {
      await ownedDir(l.pgdata, owner);
      await ownedDir(l.runDir, owner);
      await runAsOk(
        ctx,
        owner,
        bin(standby.binDir, 'pg_basebackup'),
        ['-D', l.pgdata, '-h', standby.socketDir, '-p', String(standby.port), '-U', standby.dbUser, '-w', '-X', 'stream', '-c', 'fast', '--no-sync', '--no-manifest'],
        { env: pgEnv(owner, { PGAPPNAME: 'tandem-test-copy' }), timeoutMs: args.timeoutMs },
      );
      const port = await pickPort(args.port);
      await configureCopy(standby, l.pgdata, l.runDir, port, ctx);
      await startServer(ctx, owner, standby.binDir, l.pgdata, ['-p', String(port), '-k', l.runDir], l.logFile, 90);
      const copy: Instance = { ...standby, dataDir: l.pgdata, port, socketDir: l.runDir, pid: 0 };
      await runAsOk(ctx, owner, bin(standby.binDir, 'pg_ctl'), ['promote', '-D', l.pgdata, '-w', '-t', '60'], { timeoutMs: 70_000 });
      await pollUntil('the test copy to leave recovery', 30_000, async () => ((await psql(copy, 'SELECT pg_is_in_recovery()', ctx)).trim() === 'f' ? true : null));
      const result: Done = { dataDir: l.pgdata, port, bytes: (await treeSize(l.pgdata)).bytes, durationMs: Date.now() - started, standbyCounts };
      await writeJsonAtomic(l.done, result);
      return result;
    } catch (e) {
      // Nothing half-made stays running; the directory goes too (the teardown would remove it anyway).
      await removePostgresTestCopy(dir, ctx).catch(() => undefined);
      const msg = e instanceof Error ? e.message : String(e);
      throw new PostgresReplicationError(`test copy of the standby on port ${standby.port} failed: ${msg}`, e instanceof PostgresReplicationError ? e.code : 'command-failed');
    }
  });
}

/** Splits psql's unaligned output (header then rows) with our separators; the null marker becomes null. */
export function parseUnaligned(text: string, fs: string, rs: string, nullMark: string): { columns: string[]; rows: (string | null)[][] } {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const records = body === '' ? [] : body.split(rs);
  const [header, ...rest] = records;
  const columns = header === undefined ? [] : header.split(fs);
  const rows = rest.map((r) => r.split(fs).map((v) => (v === nullMark ? null : v)));
  return { columns, rows };
}

/** One query in a read-only transaction with a statement timeout, on the copy or the live standby. */
export async function queryPostgresTestCopy(args: ActionArgs<'postgresql.test-copy-query'>, ctx: PgTestCopyContext): Promise<ActionResult<'postgresql.test-copy-query'>> {
  if (!DATABASE.test(args.database)) throw new PostgresReplicationError(`invalid database name "${args.database.slice(0, 60)}"`, 'invalid-input');
  let inst: Instance;
  if (args.on === 'copy') {
    const pgdata = layout(copyPath(ctx.scratchDir, args.id)).pgdata;
    if (!(await runningPostmaster(pgdata))) throw new PostgresReplicationError(`no test copy ${args.id} is running on this agent`, 'not-running');
    inst = await resolveInstance({ dataDir: pgdata }, ctx);
  } else {
    if (args.standbyDataDir === undefined) throw new PostgresReplicationError('a query on the standby needs standbyDataDir', 'invalid-input');
    inst = await resolveInstance({ dataDir: args.standbyDataDir, ...(args.standbyPort !== undefined ? { port: args.standbyPort } : {}) }, ctx);
  }
  const query = args.query.trim().replace(/;+\s*$/, '');
  const nonce = randomBytes(8).toString('hex');
  const fs = `\x1f${nonce}\x1f`;
  const rs = `\x1e${nonce}\x1e`;
  const nullMark = `\x1d${nonce}\x1d`;
  const countMark = `TANDEM-ROWS-${nonce}`;
  // The query travels as a psql variable quoted as a literal (:'q'), so psql never reads it as
  // script (no backslash commands), and is opened as a cursor by a DO block: FETCH gives the first
  // rows, MOVE counts the rest.
  const script = [
    'BEGIN READ ONLY;',
    `SET LOCAL statement_timeout = ${Math.floor(args.timeoutMs)};`,
    `SELECT set_config('tandem.probe_query', :'q', true) AS ignored \\gset tandem_`,
    `DO $tandem$DECLARE c refcursor := 'tandem_probe'; BEGIN OPEN c FOR EXECUTE current_setting('tandem.probe_query'); END$tandem$;`,
    `FETCH FORWARD ${args.maxRows} FROM tandem_probe;`,
    'MOVE FORWARD ALL IN tandem_probe;',
    `\\echo ${countMark} :ROW_COUNT`,
    'ROLLBACK;',
    '',
  ].join('\n');
  const psqlArgs = ['-X', '-A', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `q=${query}`, '-P', 'footer=off', '-P', `null=${nullMark}`, '-F', fs, '-R', rs];
  psqlArgs.push('-h', inst.socketDir, '-p', String(inst.port), '-U', inst.dbUser, '-d', args.database, '-f', '-');
  const r = await runAs(ctx, inst.owner, bin(inst.binDir, 'psql'), psqlArgs, {
    input: script,
    timeoutMs: args.timeoutMs + 15_000,
    env: pgEnv(inst.owner, { PGOPTIONS: '-c default_transaction_read_only=on' }),
  });
  if (r.code !== 0) {
    const err = r.stderr.replace(/^psql:<stdin>:\d+: /gm, '').trim().slice(-1500);
    throw new PostgresReplicationError(`the query failed on the ${args.on === 'copy' ? 'test copy' : 'standby'}: ${err || `psql exit ${r.code}`}`, 'command-failed');
  }
  const at = r.stdout.lastIndexOf(`${countMark} `);
  if (at < 0) throw new PostgresReplicationError(`unexpected psql output: ${r.stdout.slice(0, 300)}`, 'command-failed');
  const moved = Number(r.stdout.slice(at + countMark.length + 1).trim());
  const { columns, rows } = parseUnaligned(r.stdout.slice(0, at), fs, rs, nullMark);
  return { columns: columns.slice(0, 100), rows: rows.map((row) => row.slice(0, 100)), rowCount: rows.length + (Number.isInteger(moved) ? moved : 0) };
}
