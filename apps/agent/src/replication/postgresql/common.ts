// Shared plumbing for PostgreSQL streaming replication (Linux, the agent runs as root):
// - input validation (the schemas are the protocol's; names need no quoting anywhere: SQL, pg_hba.conf, conninfo),
// - finding a running instance (its data directory, port, socket directory, owner and binaries),
// - running psql / pg_ctl / pg_basebackup / pg_rewind as the data directory's owner through the
//   agent's CommandRunner (argument vectors, never a shell string; SQL goes in on stdin so it never
//   shows in the process list),
// - secrets: the replication password only ever reaches (a) libpq through a private .pgpass (0600,
//   in a 0700 directory, removed right after the command) and (b) primary_conninfo in
//   postgresql.auto.conf (0600). To the server it is sent as a SCRAM-SHA-256 verifier computed here,
//   so it never appears in a statement the server could log. Error messages are redacted.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { pgInstanceSchema, PgInstanceSpec } from '@tandem/protocol';
import { z } from 'zod';
import { runCommand, type CommandResult, type CommandRunner } from '../../exec.ts';

export type PgErrorCode = 'invalid-input' | 'not-running' | 'command-failed' | 'timeout' | 'unsupported' | 'unsafe' | 'settings';

export class PostgresReplicationError extends Error {
  override name = 'PostgresReplicationError';
  constructor(
    message: string,
    readonly code: PgErrorCode,
  ) {
    super(message);
  }
}

/** Injectable I/O for tests; the agent uses the defaults. */
export interface PgContext {
  run?: CommandRunner;
}

export const runnerOf = (ctx: PgContext | undefined): CommandRunner => ctx?.run ?? runCommand;

// ---------------------------------------------------------------------------------------------
// Input (the schemas are the protocol's: packages/protocol/src/postgresql.ts)

export type InstanceSpec = PgInstanceSpec;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  // zod's messages name the path and the rule, never the value, so no secret is echoed.
  if (!r.success) throw new PostgresReplicationError(`${what}: invalid input: ${z.prettifyError(r.error)}`, 'invalid-input');
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Quoting, redaction, SCRAM

export const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const sqlIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** A value in postgresql.conf / postgresql.auto.conf (as ALTER SYSTEM writes it). */
export const confString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
/** A libpq connection string from key/value pairs (undefined values left out). */
export function conninfo(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** SASLprep (RFC 4013), enough for PostgreSQL's behaviour: map, NFKC; prohibited output → raw password. */
export function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const mapToNothing = (c: number) => c === 0xad || c === 0x34f || c === 0x1806 || (c >= 0x180b && c <= 0x180d) || (c >= 0x200b && c <= 0x200d) || c === 0x2060 || (c >= 0xfe00 && c <= 0xfe0f) || c === 0xfeff;
  const space = (c: number) => c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000;
  const mapped = [...password]
    .filter((ch) => !mapToNothing(ch.codePointAt(0)!))
    .map((ch) => (space(ch.codePointAt(0)!) ? ' ' : ch))
    .join('')
    .normalize('NFKC');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u06dd\u070f\u180e\u200e\u200f\u2028-\u202e\u206a-\u206f\ufff9-\ufffd\ue000-\uf8ff]/.test(mapped)) return password;
  return mapped;
}

/** The SCRAM-SHA-256 verifier PostgreSQL stores for a password (what `\password` sends). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(saslprep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether a stored rolpassword is the SCRAM verifier of `password`. */
export function verifierMatches(stored: string | null, password: string): boolean {
  const m = stored ? /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$/.exec(stored) : null;
  if (!m) return false;
  return scramVerifier(password, Buffer.from(m[2]!, 'base64'), Number(m[1])) === stored;
}

// ---------------------------------------------------------------------------------------------
// OS users

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

async function lookupUser(run: CommandRunner, key: string | number): Promise<OsUser | null> {
  const parse = (line: string): OsUser | null => {
    const f = line.split(':');
    if (f.length < 7) return null;
    if (typeof key === 'number' ? Number(f[2]) !== key : f[0] !== key) return null;
    return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! || '/' };
  };
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const u = parse(line);
    if (u) return u;
  }
  try {
    const r = await run('getent', ['passwd', String(key)], { timeoutMs: 5_000 });
    if (r.code === 0) return parse(r.stdout.trim());
  } catch {
    // No getent.
  }
  return null;
}

export async function userByUid(run: CommandRunner, uid: number): Promise<OsUser> {
  const u = await lookupUser(run, uid);
  if (u) return u;
  return { name: String(uid), uid, gid: uid, home: '/' };
}

export async function userByName(run: CommandRunner, name: string): Promise<OsUser> {
  const u = await lookupUser(run, name);
  if (!u) throw new PostgresReplicationError(`no OS user named ${name}`, 'invalid-input');
  return u;
}

/** The owner of a data directory, refusing root (PostgreSQL never runs as root). */
export async function dataDirOwner(run: CommandRunner, dataDir: string): Promise<OsUser> {
  const st = await stat(dataDir);
  if (st.uid === 0) throw new PostgresReplicationError(`${dataDir} is owned by root; PostgreSQL data directories belong to the postgres user`, 'unsafe');
  return userByUid(run, st.uid);
}

// ---------------------------------------------------------------------------------------------
// Files

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes a file atomically (temp file + rename) with the given owner and mode. */
export async function writeOwnedFile(file: string, content: string | Buffer, owner: { uid: number; gid: number }, mode: number): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tandem-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, content, { mode, flag: 'wx' });
    await chown(tmp, owner.uid, owner.gid);
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Sets (or, with null, removes) settings in postgresql.auto.conf's text; later lines win in PostgreSQL, ours are last. */
export function upsertAutoConf(text: string, settings: Record<string, string | null>): string {
  const keys = new Set(Object.keys(settings).map((k) => k.toLowerCase()));
  const kept = text.split('\n').filter((line) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=|\s)/.exec(line);
    return !(m && keys.has(m[1]!.toLowerCase()));
  });
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  if (kept.length === 0) kept.push('# Do not edit this file manually!', '# It will be overwritten by the ALTER SYSTEM command.');
  for (const [k, v] of Object.entries(settings)) if (v !== null) kept.push(`${k} = ${confString(v)}`);
  return `${kept.join('\n')}\n`;
}

/** Reads `name = value` from a postgresql.conf-style text (last occurrence wins; quotes removed). */
export function confValue(text: string, name: string): string | null {
  let value: string | null = null;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^\\s*${name}\\s*=?\\s*('(?:[^'\\\\]|''|\\\\.)*'|[^\\s#]+)`).exec(line);
    if (m) value = m[1]!.startsWith("'") ? m[1]!.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1') : m[1]!;
  }
  return value;
}

export async function updateAutoConf(dataDir: string, owner: OsUser, settings: Record<string, string | null>): Promise<void> {
  const file = path.join(dataDir, 'postgresql.auto.conf');
  const text = await readFile(file, 'utf8').catch(() => '');
  // PostgreSQL creates it 0600; it holds primary_conninfo (the password) so keep it that way.
  await writeOwnedFile(file, upsertAutoConf(text, settings), owner, 0o600);
}

/** Arguments a postmaster was last started with (postmaster.opts), without the binary and -D. */
export async function readPostmasterOpts(dataDir: string): Promise<string[] | null> {
  const text = await readFile(path.join(dataDir, 'postmaster.opts'), 'utf8').catch(() => null);
  if (text === null) return null;
  const args = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-D') i++;
    else if (args[i]!.startsWith('-D') || args[i]!.startsWith('--data-directory')) continue;
    else out.push(args[i]!);
  }
  return out;
}

export interface PostmasterPid {
  pid: number;
  port: number | null;
  socketDir: string | null;
}

/** The running postmaster of a data directory (postmaster.pid naming a live postgres process), or null. */
export async function runningPostmaster(dataDir: string): Promise<PostmasterPid | null> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => null);
  if (text === null) return null;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  const exe = await readlink(`/proc/${pid}/exe`).catch(() => null);
  if (exe !== null && !/\/(postgres|postmaster)( \(deleted\))?$/.test(exe)) return null; // A stale file; the pid was reused.
  const port = Number(lines[3]);
  return { pid, port: Number.isInteger(port) && port > 0 ? port : null, socketDir: lines[4]?.trim() || null };
}

// ---------------------------------------------------------------------------------------------
// Binaries

async function binDirHas(dir: string): Promise<boolean> {
  return exists(path.join(dir, 'pg_ctl'));
}

/** Where the PostgreSQL binaries for a data directory are: the hint, the running postmaster's, by major version, else PATH. */
export async function findBinDir(opts: { hint?: string; pid?: number; dataDir?: string }): Promise<string | null> {
  if (opts.hint) {
    if (!(await binDirHas(opts.hint))) throw new PostgresReplicationError(`no pg_ctl in ${opts.hint}`, 'invalid-input');
    return opts.hint;
  }
  if (opts.pid) {
    const exe = await readlink(`/proc/${opts.pid}/exe`).catch(() => null);
    if (exe && (await binDirHas(path.dirname(exe)))) return path.dirname(exe);
  }
  const major = opts.dataDir ? (await readFile(path.join(opts.dataDir, 'PG_VERSION'), 'utf8').catch(() => '')).trim() : '';
  if (/^\d+(\.\d+)?$/.test(major)) {
    for (const dir of [`/usr/lib/postgresql/${major}/bin`, `/usr/pgsql-${major}/bin`, `/usr/local/pgsql-${major}/bin`]) if (await binDirHas(dir)) return dir;
  }
  return null;
}

export const bin = (binDir: string | null, name: string) => (binDir ? path.join(binDir, name) : name);

// ---------------------------------------------------------------------------------------------
// Running commands as the owner

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

// ---------------------------------------------------------------------------------------------
// Instances

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

// ---------------------------------------------------------------------------------------------
// Starting and stopping (pg_ctl as the owner)

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

export function timestampSuffix(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

