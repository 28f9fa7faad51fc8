// promote and rewindOrReclone: the two actions a failover / failback runbook needs.
//
// promote: `SELECT pg_promote(true, <s>)` on a standby, waits until pg_is_in_recovery() is false,
// then runs CHECKPOINT (the control file then names the new timeline, which pg_rewind reads). A server that is already a primary is reported as such (promoted: false), not an error.
// A stopped server given by its data directory is started first, as it last ran (started: true).
//
// rewindOrReclone: turn a former primary (local data directory) into a standby of the new primary.
// 1. If it runs, it is stopped (pg_ctl stop -m fast): it must not keep accepting writes.
// 2. With createSlot (default), the slot is created on the new primary over a replication
//    connection (`pg_receivewal --create-slot --if-not-exists`); the new primary must otherwise
//    accept the role from this host (run prepareSource there first, with this host as target).
// 3. pg_rewind is possible when the control file says data checksums are on or wal_log_hints was
//    on (pg_controldata); otherwise `rewindSkipped` says why. It connects as the replication role
//    to database `postgres` (prepareSource grants what it needs and adds the pg_hba entry); a
//    server not shut down cleanly is crash-recovered by pg_rewind itself first. A CHECKPOINT is
//    requested on the new primary first (see promote). pg_rewind needs this server's WAL back to
//    the last checkpoint before the divergence: keep some (prepareSource walKeepSizeMB) or the
//    rewind fails and, in mode auto, a re-clone follows.
//    pg_rewind copies the source's configuration files: this server's own postgresql.conf,
//    postgresql.auto.conf, pg_hba.conf and pg_ident.conf are saved before and restored after, then
//    the standby settings are written (as cloneTarget does) and it is started as before.
// 4. When rewind is impossible or fails and mode is 'auto', it is re-cloned with cloneTarget (the
//    data directory is moved aside, not deleted). mode 'rewind' makes that an error instead;
//    mode 'reclone' skips pg_rewind.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  pgPromoteArgsSchema,
  pgRewindOrRecloneArgsSchema,
  type PgPromoteArgs,
  type PgPromoteResult,
  type PgRewindOrRecloneArgs,
  type PgRewindOrRecloneResult,
} from '@tandem/protocol';
import { type z } from 'zod';
import { assertNotSource, cloneParsed, configureAndStartStandby } from './clone.ts';
import { parseInput, type PgContext, PostgresReplicationError, runnerOf } from './context.ts';
import { bin, exists, findBinDir, readPostmasterOpts, runningPostmaster, writeOwnedFile } from './datadir.ts';
import { psql, resolveInstance } from './instance.ts';
import { conninfo, redact, sqlLiteral } from './quoting.ts';
import { pollUntil, runAs, runAsOk, withPassFile } from './run.ts';
import { defaultLogFile, portInOptions, startServer, stopServer, withPortAndSocket } from './server.ts';
import { dataDirOwner, type OsUser } from './users.ts';

// ---------------------------------------------------------------------------------------------
// promote

export type PromoteInput = PgPromoteArgs;
export type PromoteResult = PgPromoteResult;

const TIMELINE_SQL = `SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int`;

/**
 * A stopped server (given by its data directory) is started as it last ran (postmaster.opts), so
 * that promote means "this instance serves as the primary" whatever state it was left in.
 */
async function startIfStopped(spec: z.output<typeof pgPromoteArgsSchema>['instance'], ctx?: PgContext): Promise<boolean> {
  if (spec.dataDir === undefined || !(await exists(path.join(spec.dataDir, 'PG_VERSION')))) return false;
  if (await runningPostmaster(spec.dataDir)) return false;
  const owner = await dataDirOwner(runnerOf(ctx), spec.dataDir);
  const binDir = await findBinDir({ hint: spec.binDir, dataDir: spec.dataDir });
  const options = (await readPostmasterOpts(spec.dataDir)) ?? [];
  await startServer(ctx, owner, binDir, spec.dataDir, spec.port !== undefined ? withPortAndSocket(options, spec.port, spec.socketDir) : options, defaultLogFile(spec.dataDir));
  return true;
}

export async function promote(input: PromoteInput, ctx?: PgContext): Promise<PromoteResult> {
  const a = parseInput(pgPromoteArgsSchema, input, 'promote');
  const started = Date.now();
  const wasStarted = await startIfStopped(a.instance, ctx);
  const inst = await resolveInstance(a.instance, ctx);
  if ((await psql(inst, 'SELECT pg_is_in_recovery()', ctx)).trim() !== 't') {
    return { promoted: false, alreadyPrimary: true, started: wasStarted, timeline: Number((await psql(inst, TIMELINE_SQL, ctx)).trim()), durationMs: Date.now() - started };
  }
  const waitS = Math.max(1, Math.floor(a.timeoutMs / 1000));
  await psql(inst, `SELECT pg_promote(true, ${waitS})`, ctx, { timeoutMs: a.timeoutMs + 10_000 });
  await pollUntil('the promoted server to leave recovery', a.timeoutMs, async () => ((await psql(inst, 'SELECT pg_is_in_recovery()', ctx)).trim() === 'f' ? true : null));
  // The control file gets the new timeline at the next checkpoint; pg_rewind reads it from there.
  await psql(inst, 'CHECKPOINT', ctx, { timeoutMs: a.timeoutMs });
  const timeline = Number((await psql(inst, TIMELINE_SQL, ctx)).trim());
  return { promoted: true, alreadyPrimary: false, started: wasStarted, timeline: Number.isFinite(timeline) ? timeline : null, durationMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// rewind capability

export interface RewindCapability {
  possible: boolean;
  dataChecksums: boolean;
  walLogHints: boolean;
  clusterState: string | null;
  reason: string | null;
}

/** From pg_controldata output: pg_rewind needs data checksums or wal_log_hints. */
export function rewindCapability(controldata: string): RewindCapability {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(controldata)?.[1]?.trim() ?? null;
  const checksumVersion = field('Data page checksum version');
  const dataChecksums = checksumVersion !== null && checksumVersion !== '0';
  const walLogHints = field('wal_log_hints setting') === 'on';
  const possible = dataChecksums || walLogHints;
  return {
    possible,
    dataChecksums,
    walLogHints,
    clusterState: field('Database cluster state'),
    reason: possible ? null : 'pg_rewind needs data checksums or wal_log_hints=on on the old primary, and both are off (prepareSource with walLogHints: true turns it on)',
  };
}

// ---------------------------------------------------------------------------------------------
// rewindOrReclone

export type RewindOrRecloneInput = PgRewindOrRecloneArgs;
export type RewindOrRecloneResult = PgRewindOrRecloneResult;

const OWN_CONFIG = ['postgresql.conf', 'postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf'];

async function saveConfig(dataDir: string): Promise<{ name: string; content: Buffer; mode: number }[]> {
  const out: { name: string; content: Buffer; mode: number }[] = [];
  for (const name of OWN_CONFIG) {
    const file = path.join(dataDir, name);
    if (!(await exists(file))) continue;
    out.push({ name, content: await readFile(file), mode: (await stat(file)).mode & 0o7777 });
  }
  return out;
}

async function restoreConfig(dataDir: string, owner: OsUser, saved: { name: string; content: Buffer; mode: number }[]): Promise<void> {
  for (const f of saved) await writeOwnedFile(path.join(dataDir, f.name), f.content, owner, f.mode);
}

async function createSlotRemotely(a: z.output<typeof pgRewindOrRecloneArgsSchema>, owner: OsUser, binDir: string | null, ctx?: PgContext): Promise<void> {
  await withPassFile(owner, { host: a.source.host, port: a.source.port, user: a.replicationUser, password: a.password }, (env) =>
    runAsOk(
      ctx,
      owner,
      bin(binDir, 'pg_receivewal'),
      ['--create-slot', '--if-not-exists', '-S', a.slotName, '-h', a.source.host, '-p', String(a.source.port), '-U', a.replicationUser, '-w'],
      { env, timeoutMs: 60_000, secrets: [a.password] },
    ),
  );
}

export async function rewindOrReclone(input: RewindOrRecloneInput, ctx?: PgContext): Promise<RewindOrRecloneResult> {
  const a = parseInput(pgRewindOrRecloneArgsSchema, input, 'rewindOrReclone');
  const started = Date.now();
  const run = runnerOf(ctx);
  if (!(await exists(path.join(a.dataDir, 'PG_VERSION')))) throw new PostgresReplicationError(`${a.dataDir} is not a PostgreSQL data directory`, 'invalid-input');
  const owner = await dataDirOwner(run, a.dataDir);
  const pm = await runningPostmaster(a.dataDir);
  const binDir = await findBinDir({ hint: a.binDir, pid: pm?.pid, dataDir: a.dataDir });
  const options = a.startOptions ?? (await readPostmasterOpts(a.dataDir)) ?? [];
  const port = a.port ?? pm?.port ?? portInOptions(options);
  if (port === null) throw new PostgresReplicationError(`cannot tell which port ${a.dataDir} uses; give port`, 'invalid-input');
  const args = { ...a, port, startOptions: options };
  assertNotSource(args, 'rewindOrReclone');

  // 1. Stop the old primary.
  let stoppedPreviousServer = false;
  if (pm) {
    await stopServer(ctx, owner, binDir, a.dataDir);
    stoppedPreviousServer = true;
  }

  // 2. The slot on the new primary.
  let slotCreated: boolean | null = null;
  if (a.createSlot) {
    await createSlotRemotely(a, owner, binDir, ctx);
    slotCreated = true;
  }

  // 3. pg_rewind.
  let rewindSkipped: string | null = null;
  let rewindError: string | null = null;
  if (a.mode === 'reclone') rewindSkipped = 'mode reclone';
  else {
    const cd = await runAsOk(ctx, owner, bin(binDir, 'pg_controldata'), [a.dataDir], { timeoutMs: 30_000 });
    const cap = rewindCapability(cd.stdout);
    if (!cap.possible) rewindSkipped = cap.reason;
  }
  const warnings: string[] = [];
  if (rewindSkipped === null) {
    const saved = await saveConfig(a.dataDir);
    const user = a.rewindUser ?? a.replicationUser;
    const password = a.rewindPassword ?? a.password;
    try {
      const server = conninfo({ host: a.source.host, port: a.source.port, user, dbname: 'postgres', sslmode: a.sslmode, connect_timeout: 10 });
      await withPassFile(owner, { host: a.source.host, port: a.source.port, user, password }, async (env) => {
        // pg_rewind reads the source's timeline from its control file, which a just-promoted server
        // updates only at its next checkpoint: ask for one (pg_checkpoint, granted by prepareSource).
        const cp = await runAs(ctx, owner, bin(binDir, 'psql'), ['-X', '-w', '-q', '-d', server, '-c', 'CHECKPOINT'], { env, timeoutMs: 120_000 });
        if (cp.code !== 0) warnings.push(`CHECKPOINT on the new primary failed (${redact(cp.stderr.trim(), [password, a.password]).slice(0, 300)}); if it was just promoted, pg_rewind may see no divergence`);
        return runAsOk(ctx, owner, bin(binDir, 'pg_rewind'), [`--target-pgdata=${a.dataDir}`, `--source-server=${server}`, '--write-recovery-conf'], {
          env: { ...env, PGAPPNAME: 'tandem-rewind' },
          timeoutMs: a.timeoutMs,
          secrets: [password, a.password],
        });
      });
      await restoreConfig(a.dataDir, owner, saved);
      const res = await configureAndStartStandby(args, owner, options, ctx);
      res.warnings.unshift(...warnings);
      const stale = await staleSlots(a.dataDir, ctx);
      const droppedSlots = await dropSlots(a.dataDir, stale.filter((s) => a.dropSlots.includes(s)), ctx, res.warnings);
      const left = stale.filter((s) => !droppedSlots.includes(s));
      if (left.length > 0) res.warnings.push(`this standby still has replication slots from its time as primary (${left.join(', ')}); drop them if unused, they hold WAL`);
      return { ...res, method: 'rewind', rewindSkipped: null, rewindError: null, stoppedPreviousServer, movedAsideTo: null, slotCreated, droppedSlots, durationMs: Date.now() - started };
    } catch (e) {
      rewindError = e instanceof Error ? e.message : String(e);
      if (a.mode === 'rewind') throw new PostgresReplicationError(`rewindOrReclone: pg_rewind failed: ${rewindError}`, e instanceof PostgresReplicationError ? e.code : 'command-failed');
      // Leave the directory stopped for the re-clone (it moves it aside).
      if (await runningPostmaster(a.dataDir)) await stopServer(ctx, owner, binDir, a.dataDir, 'fast').catch(() => undefined);
    }
  } else if (a.mode === 'rewind') {
    throw new PostgresReplicationError(`rewindOrReclone: ${rewindSkipped}`, 'unsupported');
  }

  // 4. Re-clone.
  const res = await cloneParsed(args, ctx);
  res.warnings.unshift(...warnings);
  return {
    ...res,
    method: 'reclone',
    rewindSkipped,
    rewindError,
    stoppedPreviousServer: stoppedPreviousServer || res.stoppedPreviousServer,
    slotCreated,
    // A base backup brings no slots.
    droppedSlots: [],
    durationMs: Date.now() - started,
  };
}

/** Drops the named (inactive) slots on the running standby; a failure is a warning, not an error. */
async function dropSlots(dataDir: string, names: string[], ctx: PgContext | undefined, warnings: string[]): Promise<string[]> {
  const dropped: string[] = [];
  if (names.length === 0) return dropped;
  try {
    const inst = await resolveInstance({ dataDir }, ctx);
    for (const name of names) {
      await psql(inst, `SELECT pg_drop_replication_slot(${sqlLiteral(name)}) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(name)} AND NOT active`, ctx);
      dropped.push(name);
    }
  } catch (e) {
    warnings.push(`could not drop the old replication slots (${names.join(', ')}): ${e instanceof Error ? e.message : String(e)}`);
  }
  return dropped;
}

async function staleSlots(dataDir: string, ctx?: PgContext): Promise<string[]> {
  try {
    const inst = await resolveInstance({ dataDir }, ctx);
    const out = (await psql(inst, 'SELECT slot_name FROM pg_replication_slots WHERE NOT active ORDER BY 1', ctx)).trim();
    return out === '' ? [] : out.split('\n');
  } catch {
    return [];
  }
}
