// A running instance, found from its data directory or its port and socket directory, and SQL
// against it with psql over the socket as the owner.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { pgInstanceSchema } from '@tandem/protocol';
import { type z } from 'zod';
import { type PgContext, PostgresReplicationError, runnerOf } from './context.ts';
import { bin, exists, findBinDir, runningPostmaster } from './datadir.ts';
import { redact } from './quoting.ts';
import { runAs } from './run.ts';
import { dataDirOwner, type OsUser, userByUid } from './users.ts';

export interface Instance {
  dataDir: string;
  port: number;
  socketDir: string;
  pid: number;
  owner: OsUser;
  dbUser: string;
  binDir: string | null;
}

/** Finds a running instance from its data directory or its port and socket directory. */
export async function resolveInstance(spec: z.output<typeof pgInstanceSchema>, ctx?: PgContext): Promise<Instance> {
  const run = runnerOf(ctx);
  if (spec.dataDir !== undefined) {
    if (!(await exists(path.join(spec.dataDir, 'PG_VERSION')))) throw new PostgresReplicationError(`${spec.dataDir} is not a PostgreSQL data directory`, 'invalid-input');
    const pm = await runningPostmaster(spec.dataDir);
    if (!pm) throw new PostgresReplicationError(`no PostgreSQL server is running on ${spec.dataDir}`, 'not-running');
    const port = spec.port ?? pm.port;
    const socketDir = spec.socketDir ?? pm.socketDir;
    if (port === null || socketDir === null)
      throw new PostgresReplicationError(`the server on ${spec.dataDir} has no Unix socket (unix_socket_directories is empty); give port and socketDir`, 'unsupported');
    const owner = await dataDirOwner(run, spec.dataDir);
    return { dataDir: spec.dataDir, port, socketDir, pid: pm.pid, owner, dbUser: spec.dbUser ?? owner.name, binDir: await findBinDir({ hint: spec.binDir, pid: pm.pid, dataDir: spec.dataDir }) };
  }
  const port = spec.port!;
  const socketDir = spec.socketDir!;
  const sock = path.join(socketDir, `.s.PGSQL.${port}`);
  const st = await stat(sock).catch(() => null);
  if (!st) throw new PostgresReplicationError(`no PostgreSQL socket at ${sock}`, 'not-running');
  const owner = await userByUid(run, st.uid);
  const probe: Instance = { dataDir: '', port, socketDir, pid: 0, owner, dbUser: spec.dbUser ?? owner.name, binDir: spec.binDir ?? null };
  const dataDir = (await psql(probe, 'SHOW data_directory', ctx)).trim();
  const pm = await runningPostmaster(dataDir);
  return { ...probe, dataDir, pid: pm?.pid ?? 0, binDir: await findBinDir({ hint: spec.binDir, pid: pm?.pid, dataDir }) };
}

/** Runs SQL (on stdin) with psql over the socket as the owner; returns the unaligned, tuples-only output. */
export async function psql(
  inst: Instance,
  sql: string,
  ctx?: PgContext,
  opts: { timeoutMs?: number; database?: string; /** Redacted from error messages (psql may quote the statement). */ secrets?: (string | undefined)[] } = {},
): Promise<string> {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', inst.socketDir, '-p', String(inst.port), '-U', inst.dbUser, '-d', opts.database ?? 'postgres', '-f', '-'];
  const secrets = opts.secrets ?? [];
  const r = await runAs(ctx, inst.owner, bin(inst.binDir, 'psql'), args, { input: `SET standard_conforming_strings = on;\n${sql};\n`, timeoutMs: opts.timeoutMs ?? 30_000, secrets });
  if (r.code !== 0) throw new PostgresReplicationError(`psql on port ${inst.port} failed (exit ${r.code}): ${redact(r.stderr.trim(), secrets).slice(-1500)}`, 'command-failed');
  return r.stdout;
}

export async function queryJson<T>(inst: Instance, sql: string, ctx?: PgContext): Promise<T> {
  const out = (await psql(inst, sql, ctx)).trim();
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new PostgresReplicationError(`unexpected psql output: ${out.slice(0, 300)}`, 'command-failed');
  }
}
