// Running psql / pg_ctl / pg_basebackup / pg_rewind as the data directory's owner through the
// agent's CommandRunner (argument vectors, never a shell string; SQL goes in on stdin so it never
// shows in the process list). The replication password reaches libpq only through a private
// .pgpass (0600, in a 0700 directory, removed right after the command). Error messages are redacted.
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CommandResult } from '../../exec.ts';
import { type PgContext, PostgresReplicationError, runnerOf } from './context.ts';
import { redact } from './quoting.ts';
import { type OsUser } from './users.ts';

export function pgEnv(owner: OsUser, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: owner.home,
    USER: owner.name,
    LOGNAME: owner.name,
    LANG: 'C.UTF-8',
    PGCONNECT_TIMEOUT: '10',
    PGCLIENTENCODING: 'UTF8',
    PGAPPNAME: 'tandem-agent',
    ...extra,
  };
}

export interface RunAsOptions {
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
  /** Redacted from error messages. */
  secrets?: (string | undefined)[];
}

export async function runAs(ctx: PgContext | undefined, owner: OsUser, cmd: string, args: string[], opts: RunAsOptions = {}): Promise<CommandResult> {
  try {
    return await runnerOf(ctx)(cmd, args, {
      uid: owner.uid,
      gid: owner.gid,
      cwd: '/',
      env: opts.env ?? pgEnv(owner),
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  } catch (e) {
    const msg = redact(e instanceof Error ? e.message : String(e), opts.secrets ?? []);
    throw new PostgresReplicationError(msg, /timed out/.test(msg) ? 'timeout' : 'command-failed');
  }
}

/** Like runAs, but a non-zero exit is an error carrying (redacted) stderr. */
export async function runAsOk(ctx: PgContext | undefined, owner: OsUser, cmd: string, args: string[], opts: RunAsOptions = {}): Promise<CommandResult> {
  const r = await runAs(ctx, owner, cmd, args, opts);
  if (r.code !== 0) {
    // Redacted before it is cut, so no part of a secret is left at the cut.
    const detail = redact(r.stderr.trim() || r.stdout.trim(), opts.secrets ?? []).slice(-1500);
    throw new PostgresReplicationError(`${path.basename(cmd)} failed (exit ${r.code}): ${detail}`, 'command-failed');
  }
  return r;
}

/**
 * Runs a libpq client with a private password file: a 0700 directory owned by `owner` holding a
 * 0600 .pgpass, removed when `fn` settles. Without a password, no file (libpq's defaults apply).
 */
export async function withPassFile<T>(
  owner: OsUser,
  entry: { host: string; port: number; user: string; password?: string | undefined },
  fn: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (entry.password === undefined) return fn(pgEnv(owner));
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-pgpass-'));
  try {
    await chmod(dir, 0o700);
    await chown(dir, owner.uid, owner.gid);
    const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
    const file = path.join(dir, '.pgpass');
    await writeFile(file, `${esc(entry.host)}:${entry.port}:*:${esc(entry.user)}:${esc(entry.password)}\n`, { mode: 0o600, flag: 'wx' });
    await chown(file, owner.uid, owner.gid);
    return await fn(pgEnv(owner, { PGPASSFILE: file }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function pollUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | null>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new PostgresReplicationError(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, 'timeout');
    }
    await sleep(intervalMs);
  }
}
