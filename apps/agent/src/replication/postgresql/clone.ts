// cloneTarget: make a local data directory a streaming standby of a source, by base backup.
// 1. A server running on the directory is stopped (pg_ctl stop -m fast). The directory, unless it
//    is missing or empty, is renamed to `<dir>.tandem-old-<UTC timestamp>` — never deleted. A mount
//    point cannot be renamed: that is an error (move its contents yourself).
// 2. `pg_basebackup -R -X stream -S <slot> -c fast` as the owner (the directory's, else osUser)
//    into a fresh 0700 directory, the password through a private .pgpass removed afterwards. On
//    failure the partial copy is removed and the old directory put back (not restarted). It is
//    bounded by timeoutMs (default and at most 50 min, so the whole clone ends inside one agent
//    command of at most 1 h: see postgresqlCommandTimeoutMs in the protocol).
// 3. Standby configuration: standby.signal, and in postgresql.auto.conf (0600) primary_conninfo
//    (written by us, with application_name = the slot name), primary_slot_name, hot_standby=on,
//    port, and unix_socket_directories / listen_addresses when given. The rest of the configuration
//    is the source's (pg_basebackup copies it); the old directory keeps the previous files.
// 4. Started with pg_ctl, with the options the old server was started with (postmaster.opts: on
//    Debian that carries config_file=…) or startOptions, plus -p/-k; output to
//    <dir>/log/tandem-pg_ctl.log. Then it waits for recovery mode and, up to waitForStreamingMs,
//    for the WAL receiver to stream.
// Limits: tablespaces and a pg_wal symlink are copied to the same paths as on the source (so they
// must be free on this host); a cluster managed by systemd is started outside its unit.
import { mkdir, readdir, rename, rm, chown, chmod } from 'node:fs/promises';
import path from 'node:path';
import { pgCloneStandbyArgsSchema, type PgCloneStandbyArgs, type PgCloneStandbyResult, type PgStandbyStartResult } from '@tandem/protocol';
import { type z } from 'zod';
import { parseInput, type PgContext, PostgresReplicationError, runnerOf } from './context.ts';
import { bin, exists, findBinDir, readPostmasterOpts, runningPostmaster, timestampSuffix, updateAutoConf, writeOwnedFile } from './datadir.ts';
import { psql, resolveInstance } from './instance.ts';
import { conninfo, isLoopback } from './quoting.ts';
import { pollUntil, runAsOk, withPassFile } from './run.ts';
import { defaultLogFile, startServer, stopServer, withPortAndSocket } from './server.ts';
import { dataDirOwner, type OsUser, userByName } from './users.ts';

export type CloneTargetInput = PgCloneStandbyArgs;
type StandbyArgs = z.output<typeof pgCloneStandbyArgsSchema>;
export type StandbyStartResult = PgStandbyStartResult;
export type CloneTargetResult = PgCloneStandbyResult;

/** The primary_conninfo Tandem writes (the password only when given). */
export function primaryConninfo(a: Pick<StandbyArgs, 'source' | 'replicationUser' | 'password' | 'slotName' | 'sslmode'>): string {
  return conninfo({
    host: a.source.host,
    port: a.source.port,
    user: a.replicationUser,
    password: a.password,
    application_name: a.slotName,
    sslmode: a.sslmode,
    connect_timeout: 10,
  });
}

export function assertNotSource(a: Pick<StandbyArgs, 'source' | 'port'>, what: string): void {
  if (isLoopback(a.source.host) && a.source.port === a.port) throw new PostgresReplicationError(`${what}: the source is this very server (${a.source.host}:${a.port})`, 'unsafe');
}

/** Writes the standby configuration into a stopped data directory, starts it and waits for it. */
export async function configureAndStartStandby(a: StandbyArgs, owner: OsUser, baseOptions: string[], ctx?: PgContext): Promise<StandbyStartResult> {
  const warnings: string[] = [];
  await writeOwnedFile(path.join(a.dataDir, 'standby.signal'), '', owner, 0o600);
  await updateAutoConf(a.dataDir, owner, {
    primary_conninfo: primaryConninfo(a),
    primary_slot_name: a.slotName,
    hot_standby: 'on',
    port: String(a.port),
    ...(a.socketDir !== undefined ? { unix_socket_directories: a.socketDir } : {}),
    ...(a.listenAddresses !== undefined ? { listen_addresses: a.listenAddresses } : {}),
  });
  const binDir = await findBinDir({ hint: a.binDir, dataDir: a.dataDir });
  const logFile = a.logFile ?? defaultLogFile(a.dataDir);
  await startServer(ctx, owner, binDir, a.dataDir, withPortAndSocket(a.startOptions ?? baseOptions, a.port, a.socketDir), logFile);
  const inst = await resolveInstance({ dataDir: a.dataDir, binDir: binDir ?? undefined }, ctx);
  const inRecovery = (await psql(inst, 'SELECT pg_is_in_recovery()', ctx)).trim() === 't';
  if (!inRecovery) throw new PostgresReplicationError(`${a.dataDir} started but is not in recovery (standby.signal ignored?)`, 'command-failed');
  let streaming = false;
  try {
    await pollUntil('the WAL receiver to stream', a.waitForStreamingMs, async () =>
      (await psql(inst, `SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'`, ctx)).trim() === '1' ? true : null,
    );
    streaming = true;
  } catch {
    warnings.push(`the standby is up but not streaming yet; see ${logFile}`);
  }
  return { dataDir: a.dataDir, port: inst.port, inRecovery, streaming, logFile, warnings };
}

export async function cloneTarget(input: CloneTargetInput, ctx?: PgContext): Promise<CloneTargetResult> {
  const a = parseInput(pgCloneStandbyArgsSchema, input, 'cloneTarget');
  return cloneParsed(a, ctx);
}

export async function cloneParsed(a: StandbyArgs, ctx?: PgContext): Promise<CloneTargetResult> {
  const started = Date.now();
  assertNotSource(a, 'cloneTarget');
  const run = runnerOf(ctx);
  const present = await exists(a.dataDir);
  const owner = present ? await dataDirOwner(run, a.dataDir) : await userByName(run, a.osUser);
  if (owner.uid === 0) throw new PostgresReplicationError('refusing to run PostgreSQL as root', 'unsafe');

  // 1. Stop and move aside.
  let stoppedPreviousServer = false;
  let movedAsideTo: string | null = null;
  let oldOptions: string[] = [];
  if (present) {
    const pm = await runningPostmaster(a.dataDir);
    if (pm) {
      await stopServer(ctx, owner, await findBinDir({ hint: a.binDir, pid: pm.pid, dataDir: a.dataDir }), a.dataDir);
      stoppedPreviousServer = true;
    }
    oldOptions = (await readPostmasterOpts(a.dataDir)) ?? [];
    if ((await readdir(a.dataDir)).length > 0) {
      movedAsideTo = `${a.dataDir}.tandem-old-${timestampSuffix()}`;
      try {
        await rename(a.dataDir, movedAsideTo);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new PostgresReplicationError(
          `cannot move ${a.dataDir} aside (${code}${code === 'EBUSY' ? ': it is a mount point' : ''}); move or empty it, then clone again`,
          'unsafe',
        );
      }
    }
  }
  if (!(await exists(a.dataDir))) await mkdir(a.dataDir, { mode: 0o700 });
  await chown(a.dataDir, owner.uid, owner.gid);
  await chmod(a.dataDir, 0o700);

  // 2. Base backup.
  try {
    const binDir = await findBinDir({ hint: a.binDir, dataDir: movedAsideTo ?? undefined });
    await withPassFile(owner, { host: a.source.host, port: a.source.port, user: a.replicationUser, password: a.password }, (env) =>
      runAsOk(
        ctx,
        owner,
        bin(binDir, 'pg_basebackup'),
        ['-D', a.dataDir, '-h', a.source.host, '-p', String(a.source.port), '-U', a.replicationUser, '-w', '-R', '-X', 'stream', '-S', a.slotName, '-c', 'fast'],
        { env: { ...env, PGAPPNAME: 'tandem-clone' }, timeoutMs: a.timeoutMs, secrets: [a.password] },
      ),
    );
  } catch (e) {
    await rm(a.dataDir, { recursive: true, force: true });
    let note = '';
    if (movedAsideTo) {
      await rename(movedAsideTo, a.dataDir).catch(() => undefined);
      note = ' (the previous data directory was put back, not started)';
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new PostgresReplicationError(`cloneTarget: base backup from ${a.source.host}:${a.source.port} failed${note}: ${msg}`, e instanceof PostgresReplicationError ? e.code : 'command-failed');
  }

  // 3-4. Standby configuration, start, wait.
  const res = await configureAndStartStandby(a, owner, oldOptions, ctx);
  return { ...res, movedAsideTo, stoppedPreviousServer, durationMs: Date.now() - started };
}
