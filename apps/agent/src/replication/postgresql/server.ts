// Starting and stopping a server with pg_ctl as the owner, and the postgres arguments that go with it.
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type PgContext, PostgresReplicationError } from './context.ts';
import { bin, exists } from './datadir.ts';
import { runAsOk } from './run.ts';
import { type OsUser } from './users.ts';

export async function stopServer(ctx: PgContext | undefined, owner: OsUser, binDir: string | null, dataDir: string, mode: 'fast' | 'immediate' = 'fast', timeoutS = 120): Promise<void> {
  await runAsOk(ctx, owner, bin(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', mode, '-w', '-t', String(timeoutS)], { timeoutMs: (timeoutS + 10) * 1000 });
}

/** Creates the server log file (and its directory inside the data directory) owned by the owner. */
export async function prepareLogFile(owner: OsUser, dataDir: string, logFile: string): Promise<void> {
  const dir = path.dirname(logFile);
  if (!(await exists(dir))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (dir.startsWith(`${dataDir}/`)) await chown(dir, owner.uid, owner.gid);
  }
  if (!(await exists(logFile))) {
    await writeFile(logFile, '', { mode: 0o600 });
    await chown(logFile, owner.uid, owner.gid);
  }
}

export const defaultLogFile = (dataDir: string) => path.join(dataDir, 'log', 'tandem-pg_ctl.log');

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Starts a server with pg_ctl (it waits until the server accepts connections, for a hot standby
 * until it is consistent). `options` are postgres arguments (pg_ctl hands them to /bin/sh, so each
 * is quoted); the server's output goes to `logFile` (created, owned by the owner).
 */
export async function startServer(
  ctx: PgContext | undefined,
  owner: OsUser,
  binDir: string | null,
  dataDir: string,
  options: string[],
  logFile: string,
  timeoutS = 120,
): Promise<void> {
  await prepareLogFile(owner, dataDir, logFile);
  const args = ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(timeoutS)];
  if (options.length > 0) args.push('-o', options.map(shellQuote).join(' '));
  try {
    await runAsOk(ctx, owner, bin(binDir, 'pg_ctl'), args, { timeoutMs: (timeoutS + 10) * 1000 });
  } catch (e) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-8).join('\n');
    throw new PostgresReplicationError(`${e instanceof Error ? e.message : String(e)}\nserver log (${logFile}):\n${tail}`, 'command-failed');
  }
}

/** Replaces or appends `-p`/`-k` in postgres arguments. */
export function withPortAndSocket(options: string[], port: number, socketDir?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o === '-p' || (o === '-k' && socketDir !== undefined)) i++;
    else if (/^-p\d+$/.test(o) || (socketDir !== undefined && o.startsWith('-k') && o.length > 2)) continue;
    else out.push(o);
  }
  out.push('-p', String(port));
  if (socketDir !== undefined) out.push('-k', socketDir);
  return out;
}

/** The `-p` in postgres arguments, if any. */
export function portInOptions(options: string[]): number | null {
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    const v = o === '-p' ? options[i + 1] : /^-p(\d+)$/.exec(o)?.[1];
    if (v && /^\d+$/.test(v)) return Number(v);
  }
  return null;
}
