// Temporary PostgreSQL 15 clusters for the streaming replication tests: initdb'd and started as
// the postgres OS user on loopback, each with a free port and its own socket directory
// (--auth-host=scram-sha-256, local trust). stopAll() stops every postmaster found under the root
// (including re-cloned and moved-aside directories) and removes the root.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../ports.ts';

export { freePort };

export const PG_BIN = '/usr/lib/postgresql/15/bin';


export const postgresUid = () => Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
export const postgresGid = () => Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));

/** Runs a command as the postgres OS user. */
export function asPostgres(cmd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface TempCluster {
  name: string;
  dataDir: string;
  socketDir: string;
  port: number;
  logFile: string;
  /** psql over the socket as postgres (trust); returns unaligned tuples-only output. */
  psql(sql: string): string;
  /** psql over TCP as a role with a password (PGPASSWORD, test only). */
  psqlTcp(user: string, password: string, sql: string, database?: string): string;
}

export class ClusterRoot {
  readonly root = mkdtempSync(path.join(tmpdir(), 'tandem-pgrepl-'));
  constructor() {
    chmodSync(this.root, 0o755);
    chownSync(this.root, postgresUid(), postgresGid());
  }

  async create(name: string, initdbArgs: string[] = []): Promise<TempCluster> {
    const dataDir = path.join(this.root, name);
    const socketDir = path.join(this.root, `${name}-run`);
    const logFile = path.join(this.root, `${name}.log`);
    mkdirSync(socketDir, { mode: 0o700 });
    chownSync(socketDir, postgresUid(), postgresGid());
    const port = await freePort();
    asPostgres(`${PG_BIN}/initdb`, [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
      '--no-instructions',
      ...initdbArgs,
    ]);
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o', `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
    return clusterHandle(name, dataDir, socketDir, port, logFile);
  }

  /** Stops every postmaster under the root and removes it. */
  stopAll(): void {
    for (const dir of readdirSync(this.root)) {
      const dataDir = path.join(this.root, dir);
      const pidFile = path.join(dataDir, 'postmaster.pid');
      if (!existsSync(pidFile)) continue;
      try {
        asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        try {
          if (pid > 0) process.kill(pid, 'SIGKILL');
        } catch {
          // Gone.
        }
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function clusterHandle(name: string, dataDir: string, socketDir: string, port: number, logFile: string): TempCluster {
  return {
    name,
    dataDir,
    socketDir,
    port,
    logFile,
    psql: (sql) => asPostgres(`${PG_BIN}/psql`, ['-X', '-A', '-t', '-q', '-h', socketDir, '-p', String(port), '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql]).trim(),
    psqlTcp: (user, password, sql, database = 'postgres') =>
      asPostgres(`${PG_BIN}/psql`, ['-X', '-A', '-t', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-c', sql], {
        PGPASSWORD: password,
      }).trim(),
  };
}

/** Polls until fn returns a value other than null/false (or throws the last error). */
export async function waitFor<T>(what: string, fn: () => T | null | false | Promise<T | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Files under dir whose bytes contain needle (binary-safe). */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const bytes = Buffer.from(needle, 'utf8');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          if (readFileSync(p).includes(bytes)) hits.push(p);
        } catch {
          // Vanished (a server is running).
        }
      }
    }
  };
  walk(dir);
  return hits;
}
