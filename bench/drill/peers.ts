// The drill benchmark's data and its peers: the 2 GiB file tree (the replication benchmark's mixed
// tree), a pgbench database of about 1 GiB, and the commands a person would run to get the same
// copy by hand: `cp -a` of the replica, `pg_basebackup` from the standby. Each peer is timed as one
// command and its output removed afterwards (untimed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PG_BIN, type TempCluster } from '../../tests/integration/support/postgresql/cluster.ts';

export const GiB = 2 ** 30;

/** Runs a command (as postgres when asked), throwing with its output when it fails. */
export function run(cmd: string, args: string[], opts: { asPostgres?: boolean; timeoutMs?: number } = {}): string {
  const [file, argv] = opts.asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', cwd: '/', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).slice(-2000)}`);
  return r.stdout;
}

/** Seconds a synchronous piece of work takes. */
export function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Flushes dirty pages, so write-back of one timed run does not land in the next. */
export const sync = () => run('sync', []);

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
export function cpPeer(replica: string, dest: string): number {
  fs.rmSync(dest, { recursive: true, force: true });
  sync();
  const s = timed(() => run('cp', ['-a', replica, dest]));
  fs.rmSync(dest, { recursive: true, force: true });
  return s;
}

/**
 * A pgbench database in `postgres` of the cluster: `pgbench -i` with server-side data generation
 * (logged tables, so they replicate and are in a base backup). Scale 68 is about 1 GiB.
 */
export function pgbenchInit(c: TempCluster, scale: number): { bytes: number } {
  run(`${PG_BIN}/pgbench`, ['-i', '-q', '-s', String(scale), '-I', 'dtGvp', '-h', c.socketDir, '-p', String(c.port), '-U', 'postgres', 'postgres'], { asPostgres: true, timeoutMs: 900_000 });
  return { bytes: Number(c.psql("SELECT pg_database_size('postgres')")) };
}

/**
 * The peer of the PostgreSQL test's copy: `pg_basebackup` alone from the standby into a fresh
 * directory, WAL streamed alongside, fast checkpoint (a restartpoint on a standby). It gets the
 * same flags the agent's throwaway copy uses (no fsync, no manifest), so the ratio shows what the
 * test adds around the copy (start, promote, probes, teardown) rather than a different copy.
 */
export function basebackupPeer(standby: TempCluster, dest: string): number {
  run('rm', ['-rf', dest]);
  sync();
  const args = ['-D', dest, '-h', standby.socketDir, '-p', String(standby.port), '-U', 'postgres', '-w', '-X', 'stream', '-c', 'fast', '--no-sync', '--no-manifest'];
  const s = timed(() => run(`${PG_BIN}/pg_basebackup`, args, { asPostgres: true }));
  run('rm', ['-rf', dest]);
  return s;
}
