import { z } from 'zod';
import type { FactsSnapshot } from '../snapshot.ts';
import { appFacts } from './common.ts';

// MariaDB / MySQL / Percona Server application facts (catalogue §3.3, `app.mariadb`): what the
// agent's collector reports for the instance a pair protects, and what the mariadb checks compare.

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

export const mariadbFactsSchema = z.strictObject({
  flavour: z.enum(['mariadb', 'mysql', 'percona']),
  /** Server version without suffix, e.g. 10.11.6 or 8.0.36. */
  version: str,
  /** mysqld is running over the data directory. */
  running: z.boolean(),
  port: z.number().int().min(1).max(65_535),
  /** SHOW GLOBAL VARIABLES, names in lower case (server_id, server_uuid, log_bin, gtid_mode…). */
  variables: z.record(z.string().max(128), str),
  /** SHOW REPLICA STATUS (SHOW SLAVE STATUS); null when this server replicates from nothing. */
  replicaStatus: z
    .strictObject({
      sourceHost: str,
      sourcePort: z.number().int(),
      ioRunning: z.boolean(),
      sqlRunning: z.boolean(),
      /** MySQL Auto_Position = 1, or MariaDB Using_Gtid other than No. */
      gtidPositioning: z.boolean(),
    })
    .nullable(),
  /** Accounts with a digest of their grants (no password hashes). */
  users: list(z.strictObject({ user: str, host: str, plugin: str.nullable(), privileges: list(str, 200), grantsDigest: str })),
  /** Plugins and components (information_schema.PLUGINS / ALL_PLUGINS, mysql.component). */
  plugins: list(z.strictObject({ name: str, type: str, status: z.enum(['active', 'inactive', 'disabled', 'deleted', 'not-installed']), library: str.nullable() }), 2000),
  /** datadir, innodb_data_home_dir, innodb_log_group_home_dir, the binlog directory, tmpdir (resolved, absolute). */
  paths: list(z.strictObject({ role: z.enum(['datadir', 'innodb-data', 'innodb-redo', 'binlog', 'tmpdir']), path: str }), 32),
  osUser: z.strictObject({ name: str, uid: z.number().int(), gid: z.number().int() }).nullable(),
  /** Galera / Group Replication / InnoDB Cluster membership, or a topology manager seen managing it. */
  cluster: z.strictObject({ kind: z.enum(['galera', 'group-replication', 'innodb-cluster']).nullable(), manager: str.nullable() }),
});
export type MariadbFacts = z.infer<typeof mariadbFactsSchema>;

export const mariadb = (snap: FactsSnapshot, side: 'source' | 'target'): MariadbFacts => appFacts(snap, side, 'mariadb', mariadbFactsSchema, 'MariaDB/MySQL');

/** A variable as a switch: ON/1/TRUE → true. */
export const on = (v: string | undefined) => v !== undefined && /^(on|1|true|yes)$/i.test(v.trim());

/** The release series compared for file copies: 10.11 of 10.11.6, 8.0 of 8.0.36. */
export const seriesOf = (v: string) => v.split('.').slice(0, 2).join('.');

/** Accounts the server creates for itself (never compared). */
export const systemAccount = (user: string, host: string) => user === '' || /^(mysql\.(sys|session|infoschema)|mariadb\.sys)$/.test(user) || (user === 'root' && /^(localhost|127\.0\.0\.1|::1)$/.test(host));
