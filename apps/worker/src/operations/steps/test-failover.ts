// Executors of a test failover's steps. Everything happens on the target, on a copy named after
// the operation (the agent's scratch area); the source is only ever read (replication status,
// file hashes), and the live replica or standby is never written. A probe answers a
// probeResultSchema; one that did not pass throws a StepError carrying that result, so the
// runner records it failed and goes on with the next probe.
import { replicationMethodFor, rowCountKey, type Probe, type ProbeResult, type StepParams } from '@tandem/engine';
import { MAX_COMMAND_TIMEOUT_MS, postgresqlCommandTimeoutMs, type ActionResult } from '@tandem/protocol';
import { command, StepError, type StepContext } from './context.ts';
import { hookFileName, lastSampledLag } from './failover.ts';

const COPY_TIMEOUT_MS = 55 * 60_000;
const PG_COPY_TIMEOUT_MS = 30 * 60_000;
const QUERY_TIMEOUT_MS = 30_000;
/** Times of the same file version agree within this (the replica keeps whole microseconds). */
const MTIME_TOLERANCE_MS = 1;
const DETAIL_MAX = 16_000;

const isPostgresql = (ctx: StepContext) => replicationMethodFor[ctx.settings.application] === 'postgresql_streaming';
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function operationId(ctx: StepContext): string {
  if (!ctx.step) throw new StepError('A test step runs only inside its operation');
  return ctx.step.operationId;
}

function database(ctx: StepContext) {
  const db = ctx.settings.connection.database;
  if (!db) throw new StepError('This pair does not say which PostgreSQL instances to use; edit its configuration');
  return db;
}

/** The replication lag now: the standby's (PostgreSQL) or the source's replication status (files), else the last sample. */
async function testLag(ctx: StepContext, _params: StepParams['test.lag']) {
  const at = ctx.now().toISOString();
  if (isPostgresql(ctx)) {
    const args = { instance: { dataDir: database(ctx).targetDataDir } };
    const st = await command(ctx, 'target', 'postgresql.status', args, { timeoutMs: postgresqlCommandTimeoutMs('postgresql.status', args), fresh: true, deadlineMs: 0 });
    return { lagSeconds: st.standby?.lagSeconds ?? null, at };
  }
  try {
    const st = await command(ctx, 'source', 'replication.status', { pairId: ctx.pair.id }, { timeoutMs: 10_000, fresh: true, deadlineMs: 0 });
    return { lagSeconds: st.lagSeconds, at };
  } catch {
    // The source's agent is away: the lag its last sample recorded is the best there is.
    const sampled = await lastSampledLag(ctx);
    return { lagSeconds: sampled.lagSeconds, at: sampled.at ?? at };
  }
}

async function testCopy(ctx: StepContext, params: StepParams['test.copy']) {
  const args = { id: operationId(ctx), roots: params.roots, targetRoot: params.targetRoot, method: params.method };
  return command(ctx, 'target', 'test.copy-create', args, { timeoutMs: COPY_TIMEOUT_MS });
}

async function testPostgresqlCopy(ctx: StepContext, params: StepParams['test.postgresql-copy']) {
  const db = database(ctx);
  const args = { id: operationId(ctx), standbyDataDir: db.targetDataDir, standbyPort: db.targetPort, port: 0, countTables: params.countTables, timeoutMs: PG_COPY_TIMEOUT_MS };
  return command(ctx, 'target', 'postgresql.test-copy-create', args, { timeoutMs: Math.min(MAX_COMMAND_TIMEOUT_MS, postgresqlCommandTimeoutMs('postgresql.test-copy-create', args)) });
}

async function testTeardown(ctx: StepContext) {
  // Idempotent on the agent: nothing left is answered as nothing removed.
  return command(ctx, 'target', 'test.copy-remove', { id: operationId(ctx) });
}

type FilesCopy = ActionResult<'test.copy-create'>;
type PgCopy = ActionResult<'postgresql.test-copy-create'>;

/** What the copy step of this operation answered. */
async function copyOutput(ctx: StepContext): Promise<{ files: FilesCopy } | { pg: PgCopy }> {
  const opId = operationId(ctx);
  const row = await ctx.tx((db) =>
    db.operationStep.findFirst({ where: { operationId: opId, kind: { in: ['test.copy', 'test.postgresql-copy'] }, status: 'succeeded' }, select: { kind: true, output: true } }),
  );
  if (!row) throw new StepError('The test copy was not made');
  return row.kind === 'test.copy' ? { files: row.output as FilesCopy } : { pg: row.output as PgCopy };
}

const result = (passed: boolean, summary: string, detail: string): ProbeResult => ({ passed, summary: clip(summary, 500), detail: clip(detail, DETAIL_MAX) });

/** A probe that did not pass fails its step with its result kept. */
function outcome(r: ProbeResult): ProbeResult {
  if (!r.passed) throw new StepError(r.summary, r);
  return r;
}

/** Maps an absolute source path into the copy (null: not under any replicated root). */
export function pathInCopy(copies: FilesCopy['copies'], sourcePath: string): string | null {
  const norm = (p: string) => p.replace(/[/\\]+$/, '');
  for (const c of copies) {
    const root = norm(c.root);
    if (sourcePath === root) return c.copy;
    if (sourcePath.startsWith(`${root}/`) || sourcePath.startsWith(`${root}\\`)) return `${norm(c.copy)}${sourcePath.slice(root.length)}`;
  }
  return null;
}

/**
 * Sampled files of the copy against the source. Only files the source still holds in the same
 * version (same size and modification time) are compared; those changed or deleted since the
 * copy are listed as not compared, since replication carries them later.
 */
async function filesMatch(ctx: StepContext, copy: FilesCopy, sample: number) {
  const perRoot = Math.max(1, Math.ceil(sample / Math.max(1, copy.copies.length)));
  let compared = 0;
  const mismatched: string[] = [];
  const changed: string[] = [];
  let sampled = 0;
  for (const c of copy.copies) {
    const inCopy = await command(ctx, 'target', 'test.files-hash', { root: c.copy, paths: null, sample: perRoot }, { timeoutMs: 10 * 60_000 });
    if (inCopy.files.length === 0) continue;
    sampled += inCopy.files.length;
    // Read only on the source: hashing these same relative paths under the source root.
    const onSource = await command(ctx, 'source', 'test.files-hash', { root: c.root, paths: inCopy.files.map((f) => f.path), sample: perRoot }, { timeoutMs: 10 * 60_000 });
    const source = new Map(onSource.files.map((f) => [f.path, f]));
    for (const f of inCopy.files) {
      const s = source.get(f.path);
      const where = `${c.root.replace(/[/\\]+$/, '')}/${f.path}`;
      if (!s) {
        changed.push(`${where} (deleted on the source since the copy)`);
        continue;
      }
      if (s.size !== f.size || Math.abs(s.mtimeMs - f.mtimeMs) > MTIME_TOLERANCE_MS) {
        changed.push(`${where} (changed on the source since the copy)`);
        continue;
      }
      compared++;
      if (s.sha256 !== f.sha256) mismatched.push(`${where}: copy ${f.sha256.slice(0, 16)}…, source ${s.sha256.slice(0, 16)}…`);
    }
  }
  const notCompared = changed.length ? ` (${changed.length} changed on the source since the copy, not compared)` : '';
  const detail = [
    ...(mismatched.length ? ['Different content at the same version:', ...mismatched] : []),
    ...(changed.length ? ['Not compared:', ...changed] : []),
  ].join('\n');
  if (sampled === 0) return result(false, 'The copy holds no files to compare', detail);
  if (compared === 0) return result(false, `None of the ${sampled} sampled files could be compared: all changed on the source since the copy`, detail);
  if (mismatched.length) return result(false, `${mismatched.length} of ${compared} compared files differ from the source${notCompared}`, detail);
  return result(true, `${compared} of ${compared} compared files have the same SHA-256 as on the source${notCompared}`, detail);
}

async function pathsExist(ctx: StepContext, copy: FilesCopy, paths: string[]) {
  const mapped = paths.map((p) => ({ source: p, copy: pathInCopy(copy.copies, p) }));
  const outside = mapped.filter((m) => m.copy === null).map((m) => m.source);
  const inside = mapped.filter((m): m is { source: string; copy: string } => m.copy !== null);
  const missing: string[] = [...outside.map((p) => `${p} (not in the replication set)`)];
  if (inside.length) {
    const found = await command(ctx, 'target', 'test.paths-exist', { paths: inside.map((m) => m.copy) });
    const gone = new Set(found.missing);
    for (const m of inside) if (gone.has(m.copy)) missing.push(m.source);
  }
  const present = paths.length - missing.length;
  const detail = missing.length ? `Missing in the copy:\n${missing.join('\n')}` : `Present:\n${paths.join('\n')}`;
  return result(missing.length === 0, missing.length ? `${missing.length} of ${paths.length} paths are missing in the copy` : `All ${present} paths exist in the copy`, detail);
}

function table(res: ActionResult<'postgresql.test-copy-query'>) {
  return [res.columns.join(' | '), ...res.rows.map((r) => r.map((v) => v ?? 'NULL').join(' | '))].join('\n');
}

async function query(ctx: StepContext, on: 'copy' | 'standby', databaseName: string, sql: string, maxRows = 10) {
  const db = database(ctx);
  const args = {
    id: operationId(ctx),
    on,
    ...(on === 'standby' ? { standbyDataDir: db.targetDataDir, standbyPort: db.targetPort } : {}),
    database: databaseName,
    query: sql,
    maxRows,
    timeoutMs: QUERY_TIMEOUT_MS,
  };
  return command(ctx, 'target', 'postgresql.test-copy-query', args, { timeoutMs: postgresqlCommandTimeoutMs('postgresql.test-copy-query', args) });
}

async function sqlRows(ctx: StepContext, probe: Extract<Probe, { kind: 'sql-rows' }>) {
  const res = await query(ctx, 'copy', probe.database, probe.query);
  return result(res.rowCount > 0, res.rowCount > 0 ? `The query returned ${res.rowCount} row${res.rowCount === 1 ? '' : 's'} on the copy` : 'The query returned no rows on the copy', table(res));
}

async function rowCount(ctx: StepContext, copy: PgCopy, probe: Extract<Probe, { kind: 'row-count' }>) {
  const atCopy = copy.standbyCounts[rowCountKey(probe)] ?? null;
  // The table name passed the settings' identifier check (letters, digits, _ and $, one dot).
  const sql = `SELECT count(*) FROM ${probe.table}`;
  const count = async (on: 'copy' | 'standby') => Number((await query(ctx, on, probe.database, sql, 1)).rows[0]?.[0] ?? NaN);
  const inCopy = await count('copy');
  const now = await count('standby');
  const detail = `Standby when the copy was taken: ${atCopy ?? 'not counted'}\nCopy: ${inCopy}\nStandby now: ${now}`;
  if (atCopy === null) return result(false, `${probe.table} could not be counted on the standby when the copy was taken`, detail);
  const passed = atCopy <= inCopy && inCopy <= now;
  return result(passed, passed ? `${probe.table} has ${inCopy} rows in the copy, within the standby's ${atCopy}–${now}` : `${probe.table} has ${inCopy} rows in the copy, outside the standby's ${atCopy}–${now}`, detail);
}

async function tcp(ctx: StepContext, copy: { files: FilesCopy } | { pg: PgCopy }, probe: Extract<Probe, { kind: 'tcp' }>) {
  const port = probe.port ?? ('pg' in copy ? copy.pg.port : null);
  if (port === null) return result(false, 'No port to probe: a file pair’s TCP probe needs a port', '');
  const host = probe.host ?? '127.0.0.1';
  const res = await command(ctx, 'target', 'test.tcp-probe', { host, port, timeoutMs: 5_000 }, { fresh: true });
  return result(res.ok, res.ok ? `${host}:${port} answered in ${Math.round(res.ms)} ms` : `${host}:${port} did not answer: ${res.error ?? 'no connection'}`, res.error ?? '');
}

async function hook(ctx: StepContext, copy: { files: FilesCopy } | { pg: PgCopy }, index: number, probe: Extract<Probe, { kind: 'hook' }>) {
  const name = hookFileName(ctx.pair.id, `test-probe-${index}`);
  // The script gets the copy: its scratch directory then each root's copy (files), or the port (PostgreSQL).
  const args = 'pg' in copy ? [String(copy.pg.port), copy.pg.dataDir] : [copy.files.path, ...copy.files.copies.map((c) => c.copy)];
  await command(ctx, 'target', 'hook.write', { name, content: probe.script });
  const timeoutMs = probe.timeoutSeconds * 1000;
  const res = await command(ctx, 'target', 'hook.run', { name, args, timeoutMs }, { timeoutMs: timeoutMs + 10_000 });
  const passed = res.exitCode === 0 && !res.timedOut;
  const how = res.timedOut ? `timed out after ${probe.timeoutSeconds} s` : res.signal ? `was killed by ${res.signal}` : `exited with code ${res.exitCode}`;
  const detail = [res.stdout.trim() && `stdout:\n${res.stdout.trim()}`, res.stderr.trim() && `stderr:\n${res.stderr.trim()}`].filter(Boolean).join('\n');
  return result(passed, `The test script ${how}`, detail);
}

async function testProbe(ctx: StepContext, params: StepParams['test.probe']) {
  const copy = await copyOutput(ctx);
  const p = params.probe;
  switch (p.kind) {
    case 'files-match':
      if (!('files' in copy)) throw new StepError('A files probe needs a file copy');
      return outcome(await filesMatch(ctx, copy.files, p.sample));
    case 'paths-exist':
      if (!('files' in copy)) throw new StepError('A files probe needs a file copy');
      return outcome(await pathsExist(ctx, copy.files, p.paths));
    case 'sql-rows':
      if (!('pg' in copy)) throw new StepError('A database probe needs a database copy');
      return outcome(await sqlRows(ctx, p));
    case 'row-count':
      if (!('pg' in copy)) throw new StepError('A database probe needs a database copy');
      return outcome(await rowCount(ctx, copy.pg, p));
    case 'tcp':
      return outcome(await tcp(ctx, copy, p));
    case 'hook':
      return outcome(await hook(ctx, copy, params.index, p));
  }
}

export const testFailoverExecutors = {
  'test.lag': testLag,
  'test.copy': testCopy,
  'test.postgresql-copy': testPostgresqlCopy,
  'test.probe': testProbe,
  'test.teardown': testTeardown,
};
