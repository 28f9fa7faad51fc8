import { z } from 'zod';

// Test failover actions on the target (and read-only probes on the source). Copies live in the
// agent's own scratch area, named after the operation, so a restarted worker can list and remove
// leftovers. Nothing here writes to the live replica, the standby or the source.

const copyId = z.uuid();
const absPath = z.string().min(1).max(4096);

/** `test.copy-create`: a point-in-time copy of the replica of each source root (targetPathFor(targetRoot, root)). Idempotent: an existing complete copy of this id is answered as is. */
export const testCopyCreateArgsSchema = z.strictObject({
  id: copyId,
  roots: z.array(absPath).min(1).max(64),
  targetRoot: absPath,
  method: z.enum(['auto', 'copy']).default('auto'),
});
export const testCopyCreateResultSchema = z.strictObject({
  /** The scratch directory of this copy. */
  path: z.string(),
  /** reflink: copy-on-write clones; copy: bytes copied. */
  method: z.enum(['reflink', 'copy']),
  /** Where each source root's replica was copied to. */
  copies: z.array(z.strictObject({ root: z.string(), copy: z.string() })).max(64),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  durationMs: z.number().min(0),
});

/** `test.copy-remove`: removes every copy (files and database) of this id; answers what was removed. */
export const testCopyRemoveArgsSchema = z.strictObject({ id: copyId });
export const testCopyRemoveResultSchema = z.strictObject({ removed: z.array(z.enum(['files', 'postgresql'])).max(2) });

/** `test.copy-list`: the copies in the scratch area (a restarted worker removes those of finished operations). */
export const testCopyListArgsSchema = z.strictObject({});
export const testCopyListResultSchema = z.strictObject({
  copies: z.array(z.strictObject({ id: z.string(), kind: z.enum(['files', 'postgresql']), path: z.string(), createdAt: z.string().nullable() })).max(1000),
});

/**
 * `test.files-hash`: SHA-256 of files under `root` (read only). With `paths` (relative): those
 * files; else a sample of `sample` regular files chosen evenly over the sorted tree.
 */
export const testFilesHashArgsSchema = z.strictObject({
  root: absPath,
  paths: z.array(z.string().min(1).max(4096)).max(1000).nullable().default(null),
  sample: z.number().int().min(1).max(1000).default(20),
});
export const testFilesHashResultSchema = z.strictObject({
  files: z.array(z.strictObject({ path: z.string(), sha256: z.string(), size: z.number().int().min(0), mtimeMs: z.number() })).max(1000),
  /** Asked-for paths that are not regular files there. */
  missing: z.array(z.string()).max(1000),
  /** Regular files under root in all (with `paths`: those found; the tree is not walked then). */
  total: z.number().int().min(0),
});

/** `test.paths-exist`: which of these absolute paths exist. */
export const testPathsExistArgsSchema = z.strictObject({ paths: z.array(absPath).min(1).max(100) });
export const testPathsExistResultSchema = z.strictObject({ present: z.array(z.string()).max(100), missing: z.array(z.string()).max(100) });

/** `test.tcp-probe`: a TCP connection to host:port from this agent. */
export const testTcpProbeArgsSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65_535),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});
export const testTcpProbeResultSchema = z.strictObject({ ok: z.boolean(), ms: z.number().min(0), error: z.string().nullable() });

/**
 * `postgresql.test-copy-create`: pg_basebackup from the standby (which keeps streaming) into the
 * scratch area, started on a free port (from `port`, 0: any), promoted. `countTables` are counted
 * on the standby right before the backup. Idempotent per id: a running copy is answered as is.
 */
export const pgTestCopyCreateArgsSchema = z.strictObject({
  id: copyId,
  standbyDataDir: absPath,
  standbyPort: z.number().int().min(1).max(65_535),
  port: z.number().int().min(0).max(65_535).default(0),
  countTables: z.array(z.string().min(1).max(260)).max(32).default([]),
  timeoutMs: z.number().int().min(1000).max(3_000_000).default(1_800_000),
});
export const pgTestCopyCreateResultSchema = z.strictObject({
  dataDir: z.string(),
  port: z.number().int(),
  bytes: z.number().int().min(0),
  durationMs: z.number().min(0),
  /** Row counts on the standby at copy time (null: the table could not be counted). */
  standbyCounts: z.record(z.string(), z.number().int().nullable()),
});

/** `postgresql.test-copy-query`: one read query on the copy of this id (or the live standby: read only). */
export const pgTestCopyQueryArgsSchema = z.strictObject({
  id: copyId,
  /** copy: the test copy; standby: the live standby (read-only transaction). */
  on: z.enum(['copy', 'standby']).default('copy'),
  standbyDataDir: absPath.optional(),
  standbyPort: z.number().int().min(1).max(65_535).optional(),
  database: z.string().min(1).max(128),
  query: z.string().min(1).max(4000),
  maxRows: z.number().int().min(1).max(100).default(10),
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
});
export const pgTestCopyQueryResultSchema = z.strictObject({
  columns: z.array(z.string()).max(100),
  rows: z.array(z.array(z.string().nullable()).max(100)).max(100),
  rowCount: z.number().int().min(0),
});
