import { z } from 'zod';
import { textSchema } from '../text.ts';
import type { ReplicationMethod } from './settings.ts';

// Test failover settings: the probes that prove a point-in-time copy on the target works. A test
// failover never touches the source or the live replica: it copies the replica (files) or makes a
// temporary promoted copy of the standby (PostgreSQL) and probes that copy.

const sqlIdentifier = z
  .string()
  .trim()
  .min(1, 'Enter a name')
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'Use a plain name such as orders or public.orders');
const absolutePath = textSchema({}, 'A path')
  .trim()
  .min(1)
  .max(4096)
  .refine((p) => /^([/\\]|[A-Za-z]:[/\\])/.test(p), 'Use an absolute path');

/** One check run against the test copy. */
export const probeSchema = z.discriminatedUnion('kind', [
  /** Files: a sample of files in the copy hash (SHA-256) the same as the source's, where the source still has that version. */
  z.object({ kind: z.literal('files-match'), sample: z.number().int().min(1).max(1000).default(20) }),
  /** Files: these source paths exist in the copy. */
  z.object({ kind: z.literal('paths-exist'), paths: z.array(absolutePath).min(1, 'Name at least one path').max(100) }),
  /** Databases: the query returns at least one row on the copy. */
  z.object({ kind: z.literal('sql-rows'), database: sqlIdentifier.default('postgres'), query: textSchema({ multiline: true }, 'The query').trim().min(1, 'Enter a query').max(4000) }),
  /**
   * Databases: the table's row count on the copy lies between the standby's count when the copy
   * was taken and its count when the probe runs (the copy is as current as the lag allows).
   */
  z.object({ kind: z.literal('row-count'), database: sqlIdentifier.default('postgres'), table: sqlIdentifier }),
  /** Any: a TCP port answers. host null: the target itself; port null: the copy's database port. */
  z.object({ kind: z.literal('tcp'), host: z.string().trim().min(1).max(255).regex(/^[A-Za-z0-9.:_-]+$/).nullable().default(null), port: z.number().int().min(1).max(65_535).nullable().default(null) }),
  /** Any: a script run on the target exits 0; it gets the copy's path (files) or port (database) as its first argument. */
  z.object({ kind: z.literal('hook'), script: textSchema({ multiline: true }, 'The script').min(1).max(64 * 1024), timeoutSeconds: z.number().int().min(1).max(3600).default(60) }),
]);
export type Probe = z.infer<typeof probeSchema>;
export type ProbeKind = Probe['kind'];

export const testSettingsSchema = z.object({
  /** Empty: the application's defaults (defaultProbes). */
  probes: z.array(probeSchema).max(32).default([]),
  /** File pairs: auto uses a reflink (copy-on-write) copy where the filesystem has it, else a plain copy. */
  copyMethod: z.enum(['auto', 'copy']).default('auto'),
});
export type TestSettings = z.infer<typeof testSettingsSchema>;

/** Which probes fit which replication method (a row-count probe of a file pair makes no sense). */
export const probeKindsFor: Record<ReplicationMethod, readonly ProbeKind[]> = {
  file: ['files-match', 'paths-exist', 'tcp', 'hook'],
  postgresql_streaming: ['sql-rows', 'row-count', 'tcp', 'hook'],
  mariadb_replication: ['tcp', 'hook'],
  sql_log_shipping: ['tcp', 'hook'],
};

export const probeLabels: Record<ProbeKind, string> = {
  'files-match': 'Sampled files match the source',
  'paths-exist': 'Required paths exist',
  'sql-rows': 'A query returns rows',
  'row-count': 'A table’s row count is within the lag',
  tcp: 'A TCP port answers',
  hook: 'A script exits 0',
};

/** How a row-count probe's table is named to the agent's copy step ("database:table"), whose counts come back under the same key. */
export const rowCountKey = (p: { database: string; table: string }) => `${p.database}:${p.table}`;

/** What a test failover checks when the pair names no probes. */
export function defaultProbes(method: ReplicationMethod): Probe[] {
  if (method === 'postgresql_streaming') {
    return [
      { kind: 'sql-rows', database: 'postgres', query: 'SELECT 1' },
      { kind: 'tcp', host: null, port: null },
    ];
  }
  return [{ kind: 'files-match', sample: 20 }];
}
