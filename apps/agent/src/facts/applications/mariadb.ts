// MariaDB and MySQL (Linux).
// Running instances: processes whose executable is `mariadbd` or `mysqld`. The data directory is
// the server's working directory (it chdirs there), else --datadir; the port and socket come from
// --port/--socket, else from the sockets the process has open, else the defaults (3306 and
// /run/mysqld/mysqld.sock). Three queries through the `mariadb` (or `mysql`) client over the
// socket as root (unix_socket authentication, as the agent runs as root; on Debian
// /etc/mysql/debian.cnf is tried when that fails): version, server_id, log_bin, binlog_format and
// port; users (mysql.user); databases (SHOW DATABASES). When the queries fail the instance is
// still reported with what the command line says. Stopped instances are not reported.
import path from 'node:path';
import type { ApplicationFacts } from '@tandem/protocol';
import { exists, which, type FactsIO } from '../io.ts';
import { findProcesses, longOption, processCwd, processSockets } from '../linux-proc.ts';
import { clip, firstLine, mapLimit } from '../util.ts';

type MariadbFacts = Extract<ApplicationFacts, { kind: 'mariadb' }>;

/** Decodes one field of the client's batch (-B) output: \t \n \\ \0 escapes; NULL is null. */
export function decodeBatchField(field: string): string | null {
  if (field === 'NULL') return null;
  return field.replace(/\\([tn0\\])/g, (_, c: string) => ({ t: '\t', n: '\n', '0': '\0', '\\': '\\' })[c]!);
}

export function parseBatchRows(stdout: string): (string | null)[][] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t').map(decodeBatchField));
}

interface Server {
  pid: number;
  binary: string;
  dataDirectory: string;
  port: number | null;
  socket: string | null;
}

async function findServers(io: FactsIO): Promise<Server[]> {
  const procs = await findProcesses(io, ['mariadbd', 'mysqld']);
  return mapLimit(procs, 4, async (p) => {
    const cwd = await processCwd(io, p.pid);
    const datadirOpt = longOption(p.argv, 'datadir');
    const portOpt = longOption(p.argv, 'port');
    let socket = longOption(p.argv, 'socket');
    let port = portOpt !== null && /^\d+$/.test(portOpt) ? Number(portOpt) : null;
    if (socket === null || port === null) {
      const sockets = await processSockets(io, p.pid);
      socket ??= sockets.unixPaths.find((s) => !s.includes('mysqlx')) ?? null;
      if (port === null && sockets.tcpPorts.length > 0) port = sockets.tcpPorts.includes(3306) ? 3306 : sockets.tcpPorts[0]!;
    }
    if (socket === null) {
      for (const s of [
        '/run/mysqld/mysqld.sock',
        '/var/run/mysqld/mysqld.sock',
        '/var/lib/mysql/mysql.sock',
        '/tmp/mysql.sock',
      ]) {
        if (await exists(io, s)) {
          socket = s;
          break;
        }
      }
    }
    const dataDirectory = cwd ?? (datadirOpt ? path.resolve(datadirOpt) : '/var/lib/mysql');
    return { pid: p.pid, binary: p.argv[0] ?? '', dataDirectory, port, socket };
  });
}

async function clientCommand(io: FactsIO): Promise<string | null> {
  return (await which(io, 'mariadb')) ?? (await which(io, 'mysql'));
}

async function query(
  io: FactsIO,
  client: string,
  server: Server,
  sql: string,
  defaultsFile: string | null,
): Promise<(string | null)[][]> {
  const args = [
    ...(defaultsFile ? [`--defaults-file=${defaultsFile}`] : []),
    '--protocol=socket',
    `--socket=${server.socket}`,
    ...(defaultsFile ? [] : ['--user=root']),
    '--connect-timeout=5',
    '-N',
    '-B',
    '-e',
    sql,
  ];
  const r = await io.run(client, args, { timeoutMs: 15_000, env: { ...process.env, LANG: 'C.UTF-8' }, cwd: '/' });
  if (r.code !== 0) throw new Error(`${path.basename(client)} failed (exit ${r.code}): ${clip(r.stderr.trim(), 300)}`);
  return parseBatchRows(r.stdout);
}

async function describe(io: FactsIO, client: string | null, server: Server): Promise<MariadbFacts> {
  const facts: MariadbFacts = {
    kind: 'mariadb',
    flavor: path.basename(server.binary) === 'mariadbd' ? 'mariadb' : 'mysql',
    version: null,
    dataDirectory: clip(server.dataDirectory),
    port: server.port,
    running: true,
  };
  if (client && server.socket) {
    let defaultsFile: string | null = null;
    const q = async (sql: string) => {
      try {
        return await query(io, client, server, sql, defaultsFile);
      } catch (e) {
        if (defaultsFile !== null || !(await exists(io, '/etc/mysql/debian.cnf'))) throw e;
        defaultsFile = '/etc/mysql/debian.cnf';
        return query(io, client, server, sql, defaultsFile);
      }
    };
    try {
      const [row] = await q('SELECT VERSION(), @@server_id, @@log_bin, @@binlog_format, @@port');
      if (row) {
        const [version, serverId, logBin, format, port] = row;
        facts.version = version ? clip(version) : null;
        facts.serverId = serverId !== null && serverId !== undefined && /^\d+$/.test(serverId) ? Number(serverId) : null;
        facts.binlog = { enabled: logBin === '1' || logBin?.toUpperCase() === 'ON', format: format ? clip(format) : null };
        if (port && /^\d+$/.test(port) && Number(port) > 0) facts.port = Number(port);
      }
      const [users, databases] = await Promise.all([q('SELECT user, host FROM mysql.user'), q('SHOW DATABASES')]);
      facts.users = users.map(([user, host]) => ({ user: clip(user ?? ''), host: clip(host ?? '') })).slice(0, 10_000);
      facts.databases = databases.map(([name]) => clip(name ?? '')).slice(0, 10_000);
    } catch {
      // Reported with what the command line says.
    }
  }
  if (facts.version === null) {
    // `mysqld --version` is cheap and tells MariaDB from MySQL.
    try {
      const r = await io.run(server.binary, ['--version'], { timeoutMs: 5_000 });
      const m = /Ver\s+(\S+)/.exec(firstLine(r.stdout));
      if (r.code === 0 && m) facts.version = clip(m[1]!);
    } catch {
      // Unknown version.
    }
  }
  if (facts.version && /mariadb/i.test(facts.version)) facts.flavor = 'mariadb';
  return facts;
}

export async function collectMariadb(io: FactsIO): Promise<MariadbFacts[]> {
  const servers = await findServers(io);
  if (servers.length === 0) return [];
  const client = await clientCommand(io);
  return mapLimit(servers, 4, (s) => describe(io, client, s));
}
