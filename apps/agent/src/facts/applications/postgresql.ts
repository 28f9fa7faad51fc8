// PostgreSQL (Linux).
// Running instances: processes whose executable is `postgres`/`postmaster` and whose pid is the
// one in their data directory's postmaster.pid (the postmaster; backends rewrite their titles and
// are dropped). The data directory is the postmaster's working directory (it chdirs there), else
// its -D argument. postmaster.pid gives the port and the first Unix socket directory. One psql
// query, run as the data directory's owner over that socket (peer authentication), reads the
// version, key settings, whether it is in recovery, roles (without the built-in pg_* roles) and
// databases with their sizes. When the query fails the instance is still reported (running,
// port, major version from PG_VERSION) without settings, roles or databases.
// Stopped clusters: Debian's /etc/postgresql/<version>/<cluster>/postgresql.conf (data_directory,
// port) whose data directory holds a PG_VERSION and no running postmaster; running: false.
import path from 'node:path';
import type { ApplicationFacts } from '@tandem/protocol';
import { exists, readFileOrNull, type FactsIO } from '../io.ts';
import { findProcesses, processCwd, processSockets, shortOption, userByUid } from '../linux-proc.ts';
import { clip, isRecord, mapLimit } from '../util.ts';

type PostgresqlFacts = Extract<ApplicationFacts, { kind: 'postgresql' }>;

/** Settings reported (never ones that may carry secrets, such as primary_conninfo or archive_command). */
export const POSTGRES_SETTINGS = [
  'server_version',
  'server_version_num',
  'data_directory',
  'port',
  'listen_addresses',
  'unix_socket_directories',
  'cluster_name',
  'max_connections',
  'wal_level',
  'max_wal_senders',
  'max_replication_slots',
  'wal_keep_size',
  'wal_keep_segments',
  'archive_mode',
  'hot_standby',
  'synchronous_commit',
  'synchronous_standby_names',
  'primary_slot_name',
  'wal_log_hints',
  'data_checksums',
  'shared_buffers',
];

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One round trip: a JSON object with settings, roles and databases (PostgreSQL 9.4 or later). */
export const POSTGRES_QUERY = `SELECT json_build_object(
  'settings', (SELECT json_object_agg(name, current_setting(name)) FROM pg_settings WHERE name IN (${POSTGRES_SETTINGS.map(quoteLiteral).join(', ')})),
  'in_recovery', pg_is_in_recovery(),
  'roles', (SELECT coalesce(json_agg(json_build_object('name', rolname, 'superuser', rolsuper, 'replication', rolreplication, 'canLogin', rolcanlogin) ORDER BY rolname), '[]'::json)
            FROM pg_roles WHERE rolname !~ '^pg_'),
  'databases', (SELECT coalesce(json_agg(json_build_object('name', datname, 'size',
                  CASE WHEN has_database_privilege(datname, 'CONNECT') THEN pg_database_size(datname) END) ORDER BY datname), '[]'::json)
                FROM pg_database)
)`;

export interface PostmasterPid {
  pid: number | null;
  dataDirectory: string | null;
  port: number | null;
  socketDir: string | null;
  listenAddresses: string | null;
}

/** postmaster.pid: pid, data directory, start time, port, first socket directory, listen address, shmem key, status. */
export function parsePostmasterPid(text: string): PostmasterPid {
  const lines = text.split('\n');
  const n = (s: string | undefined) => (s && /^\s*\d+\s*$/.test(s) ? Number(s) : null);
  const s = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : null);
  return {
    pid: n(lines[0]),
    dataDirectory: s(lines[1]),
    port: n(lines[3]),
    socketDir: s(lines[4]),
    listenAddresses: s(lines[5]),
  };
}

interface QueryResult {
  settings: Record<string, string>;
  roles: NonNullable<PostgresqlFacts['roles']>;
  databases: NonNullable<PostgresqlFacts['databases']>;
}

/** Parses the JSON printed by POSTGRES_QUERY. */
export function parsePostgresQueryOutput(stdout: string): QueryResult {
  const value = JSON.parse(stdout.trim()) as unknown;
  if (!isRecord(value)) throw new Error('unexpected psql output');
  const settings: Record<string, string> = {};
  if (isRecord(value.settings)) {
    for (const [k, v] of Object.entries(value.settings)) if (typeof v === 'string') settings[k.slice(0, 128)] = clip(v);
  }
  if (typeof value.in_recovery === 'boolean') settings.in_recovery = value.in_recovery ? 'on' : 'off';
  const roles = (Array.isArray(value.roles) ? value.roles : []).filter(isRecord).map((r) => ({
    name: clip(String(r.name)),
    superuser: r.superuser === true,
    replication: r.replication === true,
    canLogin: r.canLogin === true,
  }));
  const databases = (Array.isArray(value.databases) ? value.databases : []).filter(isRecord).map((d) => ({
    name: clip(String(d.name)),
    sizeBytes: typeof d.size === 'number' ? d.size : null,
  }));
  return { settings, roles: roles.slice(0, 10_000), databases: databases.slice(0, 10_000) };
}

interface Postmaster {
  pid: number;
  binDir: string | null;
  dataDirectory: string;
  pidFile: PostmasterPid | null;
}

async function findPostmasters(io: FactsIO): Promise<Postmaster[]> {
  const procs = await findProcesses(io, ['postgres', 'postmaster']);
  const byDir = new Map<string, Postmaster>();
  for (const p of procs.sort((a, b) => a.pid - b.pid)) {
    const cwd = await processCwd(io, p.pid);
    const dashD = shortOption(p.argv, 'D');
    const dataDirectory = cwd ?? (dashD ? path.resolve(dashD) : null);
    if (!dataDirectory) continue;
    // Read through /proc/PID/cwd so a postmaster in another mount namespace (a container) works too.
    const pidText =
      (await readFileOrNull(io, `/proc/${p.pid}/cwd/postmaster.pid`)) ??
      (await readFileOrNull(io, path.join(dataDirectory, 'postmaster.pid')));
    const pidFile = pidText ? parsePostmasterPid(pidText) : null;
    const argv0 = p.argv[0] ?? '';
    const candidate = { pid: p.pid, binDir: argv0.includes('/') ? path.dirname(argv0) : null, dataDirectory, pidFile };
    // The postmaster is the process named in postmaster.pid (in a container's pid namespace that
    // pid differs from ours, so otherwise the oldest process of the data directory).
    const prev = byDir.get(dataDirectory);
    if (!prev || (pidFile?.pid === p.pid && prev.pidFile?.pid !== prev.pid)) byDir.set(dataDirectory, candidate);
  }
  return [...byDir.values()];
}

async function queryPostmaster(io: FactsIO, pm: Postmaster, port: number | null): Promise<QueryResult> {
  const socketDir = pm.pidFile?.socketDir ?? (await processSockets(io, pm.pid)).unixPaths.map((p) => path.dirname(p))[0] ?? null;
  if (!socketDir) throw new Error('no Unix socket directory');
  const owner = await io.stat(pm.dataDirectory);
  const user = await userByUid(io, owner.uid);
  const psqlCandidates = [pm.binDir ? path.join(pm.binDir, 'psql') : null, 'psql'].filter((p): p is string => p !== null);
  const psql = (await firstExisting(io, psqlCandidates)) ?? 'psql';
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: user?.home ?? '/',
    USER: user?.name ?? 'postgres',
    LOGNAME: user?.name ?? 'postgres',
    LANG: 'C.UTF-8',
    PGCONNECT_TIMEOUT: '5',
    PGCLIENTENCODING: 'UTF8',
    PGAPPNAME: 'tandem-agent',
  };
  const run = (database: string) =>
    io.run(
      psql,
      [
        '-X',
        '-A',
        '-t',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        socketDir,
        '-p',
        String(port ?? 5432),
        '-U',
        user?.name ?? 'postgres',
        '-d',
        database,
        '-c',
        POSTGRES_QUERY,
      ],
      { timeoutMs: 20_000, env, cwd: '/', uid: owner.uid, gid: user?.gid ?? owner.gid },
    );
  let r = await run('postgres');
  if (r.code !== 0 && /database "postgres" does not exist/.test(r.stderr)) r = await run('template1');
  if (r.code !== 0) throw new Error(`psql failed (exit ${r.code}): ${clip(r.stderr.trim(), 300)}`);
  return parsePostgresQueryOutput(r.stdout);
}

async function firstExisting(io: FactsIO, candidates: string[]): Promise<string | null> {
  for (const c of candidates) {
    if (!c.includes('/')) return c;
    if (await exists(io, c)) return c;
  }
  return null;
}

async function majorVersion(io: FactsIO, dataDirectory: string): Promise<string | null> {
  return (await readFileOrNull(io, path.join(dataDirectory, 'PG_VERSION')))?.trim() || null;
}

async function describeRunning(io: FactsIO, pm: Postmaster): Promise<PostgresqlFacts> {
  const port = pm.pidFile?.port ?? (await processSockets(io, pm.pid)).tcpPorts[0] ?? null;
  const facts: PostgresqlFacts = {
    kind: 'postgresql',
    version: null,
    dataDirectory: clip(pm.dataDirectory),
    port,
    running: true,
  };
  try {
    const q = await queryPostmaster(io, pm, port);
    facts.version = q.settings.server_version ?? null;
    facts.settings = q.settings;
    facts.roles = q.roles;
    facts.databases = q.databases;
    if (facts.port === null && q.settings.port) facts.port = Number(q.settings.port);
  } catch {
    // The contract has no place for the reason: the instance is reported without the query's data.
  }
  facts.version ??= await majorVersion(io, pm.dataDirectory);
  return facts;
}

/** Reads `name = value` from postgresql.conf (last occurrence wins; quotes removed). */
export function postgresqlConfValue(text: string, name: string): string | null {
  let value: string | null = null;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^\\s*${name}\\s*=?\\s*('(?:[^']|'')*'|[^\\s#]+)`).exec(line);
    if (m) value = m[1]!.startsWith("'") ? m[1]!.slice(1, -1).replace(/''/g, "'") : m[1]!;
  }
  return value;
}

async function stoppedDebianClusters(io: FactsIO, running: Set<string>): Promise<PostgresqlFacts[]> {
  const out: PostgresqlFacts[] = [];
  let versions: string[];
  try {
    versions = await io.readDir('/etc/postgresql');
  } catch {
    return out;
  }
  for (const version of versions) {
    let clusters: string[];
    try {
      clusters = await io.readDir(`/etc/postgresql/${version}`);
    } catch {
      continue;
    }
    for (const cluster of clusters) {
      const conf = await readFileOrNull(io, `/etc/postgresql/${version}/${cluster}/postgresql.conf`);
      if (conf === null) continue;
      const dataDirectory = postgresqlConfValue(conf, 'data_directory') ?? `/var/lib/postgresql/${version}/${cluster}`;
      if (running.has(dataDirectory) || !(await exists(io, path.join(dataDirectory, 'PG_VERSION')))) continue;
      const port = Number(postgresqlConfValue(conf, 'port') ?? '5432');
      out.push({
        kind: 'postgresql',
        version: (await majorVersion(io, dataDirectory)) ?? version,
        dataDirectory: clip(dataDirectory),
        port: Number.isInteger(port) ? port : null,
        running: false,
      });
    }
  }
  return out;
}

export async function collectPostgresql(io: FactsIO): Promise<PostgresqlFacts[]> {
  const postmasters = await findPostmasters(io);
  const running = await mapLimit(postmasters, 4, (pm) => describeRunning(io, pm));
  const runningDirs = new Set(running.map((r) => r.dataDirectory));
  for (const pm of postmasters) if (pm.pidFile?.dataDirectory) runningDirs.add(pm.pidFile.dataDirectory);
  return [...running, ...(await stoppedDebianClusters(io, runningDirs))];
}
