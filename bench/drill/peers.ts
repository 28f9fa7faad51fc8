// The drill benchmark's data and its peers: the 2 GiB file tree (the replication benchmark's mixed
// tree), a pgbench database of about 1 GiB, and the commands a person would run to get the same
// copy by hand: `cp -a` of the replica, `pg_basebackup` from the standby. Each peer is timed as one
// command and its output removed afterwards (untimed).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PG_BIN, type TempCluster } from '../../tests/integration/support/postgresql/cluster.ts';

export const GiB = 2 ** 30;

/**
 * Runs a command (as postgres when asked), throwing with its output when it fails. Asynchronous:
 * the worker in this process must keep renewing its job locks while a long command runs.
 */
export function run(cmd: string, args: string[], opts: { asPostgres?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const [file, argv] = opts.asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 900_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}): ${(err || out).slice(-2000)}`))));
  });
}

/** Seconds a piece of work takes. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Flushes dirty pages, so write-back of one timed run does not land in the next. */
export const sync = () => run('sync', []);

/** Removes a directory tree (asynchronously, see run). */
export const remove = (dir: string) => fs.promises.rm(dir, { recursive: true, force: true });

/** Bytes and regular files under dir (du's apparent size would count directories too). */
export function treeSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += fs.statSync(p).size;
        files++;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

/** Free bytes on the filesystem holding dir. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * The peer of the file test's copy: `cp -a` of the replica into a fresh directory on the same
 * filesystem (coreutils 9 cp uses a reflink there where it can, as the agent's auto method does).
 */
export async function cpPeer(replica: string, dest: string): Promise<number> {
  await remove(dest);
  await sync();
  const s = await timed(() => run('cp', ['-a', replica, dest]));
  await remove(dest);
  return s;
}

/**
 * A pgbench database in `postgres` of the cluster: `pgbench -i` with server-side data generation
 * (logged tables, so they replicate and are in a base backup). Scale 68 is about 1 GiB.
 */
export async function pgbenchInit(c: TempCluster, scale: number): Promise<{ bytes: number }> {
  await run(`${PG_BIN}/pgbench`, ['-i', '-q', '-s', String(scale), '-I', 'dtGvp', '-h', c.socketDir, '-p', String(c.port), '-U', 'postgres', 'postgres'], { asPostgres: true, timeoutMs: 900_000 });
  return { bytes: Number(c.psql("SELECT pg_database_size('postgres')")) };
}

/**
 * The peer of the PostgreSQL test's copy: `pg_basebackup` alone from the standby into a fresh
 * directory, WAL streamed alongside, fast checkpoint (a restartpoint on a standby). It gets the
 * same flags the agent's throwaway copy uses (no fsync, no manifest), so the ratio shows what the
 * test adds around the copy (start, promote, probes, teardown) rather than a different copy.
 */
export async function basebackupPeer(standby: TempCluster, dest: string): Promise<number> {
  await run('rm', ['-rf', dest]);
  await sync();
  const args = ['-D', dest, '-h', standby.socketDir, '-p', String(standby.port), '-U', 'postgres', '-w', '-X', 'stream', '-c', 'fast', '--no-sync', '--no-manifest'];
  const s = await timed(() => run(`${PG_BIN}/pg_basebackup`, args, { asPostgres: true }));
  await run('rm', ['-rf', dest]);
  return s;
}
