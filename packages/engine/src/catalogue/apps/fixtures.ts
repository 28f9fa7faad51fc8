import type { PostgresFacts } from '../node-facts.ts';
import type { FactsSnapshot, NodeFacts } from '../snapshot.ts';
import { nodeFixture, snapshotFixture, withFacts } from '../fixtures.ts';
import { pairSlotName } from './postgres.ts';
import type { MariadbFacts } from './mariadb.ts';
import type { FileserverFacts } from './fileserver.ts';
import type { GenericFacts } from './generic.ts';

// Healthy, fully collected snapshots for the application families (postgres streaming, mariadb
// replication, a Samba file server, a generic systemd service): every check of the family is
// good on them. Tests bend one fact at a time with withFacts.

const PAIR_ID = '00000000-0000-4000-8000-0000000000aa';
const PG_CONF = '/etc/postgresql/16/main';
const PG_DATA = '/var/lib/postgresql/16/main';

type PgSetting = PostgresFacts['settings'][number];
const conf = (name: string, setting: string, unit: string | null = null, context = 'sighup'): PgSetting => ({ name, setting, unit, source: 'configuration file', context, sourcefile: `${PG_CONF}/postgresql.conf` });
const dflt = (name: string, setting: string, unit: string | null = null, context = 'user'): PgSetting => ({ name, setting, unit, source: 'default', context, sourcefile: null });

/** pg_settings of a Debian PostgreSQL 16 with 16 GiB of RAM (values as pg_settings reports them). */
export function pgSettings(over: Record<string, string> = {}): PgSetting[] {
  const list: PgSetting[] = [
    conf('port', '5432', null, 'postmaster'),
    conf('listen_addresses', '*', null, 'postmaster'),
    conf('max_connections', '100', null, 'postmaster'),
    dflt('max_worker_processes', '8', null, 'postmaster'),
    conf('max_wal_senders', '10', null, 'postmaster'),
    dflt('max_replication_slots', '10', null, 'postmaster'),
    dflt('max_prepared_transactions', '0', null, 'postmaster'),
    dflt('max_locks_per_transaction', '64', null, 'postmaster'),
    dflt('wal_level', 'replica', null, 'postmaster'),
    conf('shared_buffers', '524288', '8kB', 'postmaster'),
    conf('effective_cache_size', '1048576', '8kB'),
    conf('maintenance_work_mem', '262144', 'kB'),
    conf('work_mem', '16384', 'kB'),
    conf('timezone', 'Etc/UTC'),
    conf('lc_messages', 'C.UTF-8'),
    conf('lc_monetary', 'C.UTF-8'),
    conf('lc_numeric', 'C.UTF-8'),
    conf('lc_time', 'C.UTF-8'),
    dflt('password_encryption', 'scram-sha-256'),
    conf('ssl', 'on', null, 'sighup'),
    conf('ssl_cert_file', '/etc/ssl/certs/ssl-cert-snakeoil.pem', null, 'sighup'),
    conf('ssl_key_file', '/etc/ssl/private/ssl-cert-snakeoil.key', null, 'sighup'),
    dflt('ssl_ca_file', '', null, 'sighup'),
    dflt('ssl_crl_file', '', null, 'sighup'),
    dflt('ssl_crl_dir', '', null, 'sighup'),
    { name: 'hba_file', setting: `${PG_CONF}/pg_hba.conf`, unit: null, source: 'override', context: 'postmaster', sourcefile: null },
    { name: 'ident_file', setting: `${PG_CONF}/pg_ident.conf`, unit: null, source: 'override', context: 'postmaster', sourcefile: null },
    { name: 'config_file', setting: `${PG_CONF}/postgresql.conf`, unit: null, source: 'override', context: 'postmaster', sourcefile: null },
    { name: 'data_directory', setting: PG_DATA, unit: null, source: 'override', context: 'postmaster', sourcefile: null },
    conf('shared_preload_libraries', 'pg_stat_statements', null, 'postmaster'),
    dflt('archive_mode', 'off', null, 'postmaster'),
    dflt('archive_command', '', null, 'sighup'),
    dflt('restore_command', '', null, 'postmaster'),
    dflt('statement_timeout', '0', 'ms'),
    dflt('idle_in_transaction_session_timeout', '0', 'ms'),
    dflt('idle_session_timeout', '0', 'ms'),
    { name: 'max_slot_wal_keep_size', setting: '10240', unit: 'MB', source: 'configuration file', context: 'sighup', sourcefile: `${PG_DATA}/postgresql.auto.conf` },
  ];
  return list.map((s) => (over[s.name] !== undefined ? { ...s, setting: over[s.name]! } : s));
}

const controlData = {
  'pg_control version number': '1300',
  'Database block size': '8192',
  'Blocks per segment of large relation': '131072',
  'WAL block size': '8192',
  'Bytes per WAL segment': '16777216',
  'Maximum length of identifiers': '64',
  'Maximum columns in an index': '32',
  'Maximum size of a TOAST chunk': '1996',
  'Size of a large-object chunk': '2048',
  'Date/time type storage': '64-bit integers',
  'Float8 argument passing': 'by value',
  'Data page checksum version': '1',
};

export function postgresFacts(side: 'source' | 'target'): PostgresFacts {
  const source = side === 'source';
  return {
    port: 5432,
    running: true,
    versionNum: 160004,
    version: 'PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2)',
    dataDir: PG_DATA,
    walDir: null,
    tablespaces: [],
    controlData,
    systemId: '7301234567890123456',
    timeline: 1,
    inRecovery: !source,
    primaryConninfo: source ? null : "user=tandem_replication passfile=/var/lib/postgresql/.pgpass host=10.0.0.10 port=5432 application_name=tandem sslmode=prefer",
    osUser: { name: 'postgres', uid: 110, gid: 118 },
    settings: pgSettings(),
    hba: [
      { type: 'local', database: ['all'], user: ['postgres'], address: null, method: 'peer' },
      { type: 'host', database: ['replication'], user: ['tandem_replication'], address: '10.0.0.20/32', method: 'scram-sha-256' },
      { type: 'host', database: ['all'], user: ['all'], address: '10.0.0.0/24', method: 'scram-sha-256' },
    ],
    roles: [
      { name: 'postgres', superuser: true, replication: true, canLogin: true, createRole: true, memberOf: [] },
      { name: 'tandem_replication', superuser: false, replication: true, canLogin: true, createRole: false, memberOf: [] },
      { name: 'app', superuser: false, replication: false, canLogin: true, createRole: false, memberOf: [] },
    ],
    extensions: [
      { database: 'app', name: 'plpgsql', version: '1.0' },
      { database: 'app', name: 'pg_stat_statements', version: '1.10' },
      { database: 'postgres', name: 'plpgsql', version: '1.0' },
    ],
    availableExtensions: [
      { name: 'plpgsql', defaultVersion: '1.0' },
      { name: 'pg_stat_statements', defaultVersion: '1.10' },
      { name: 'pgcrypto', defaultVersion: '1.3' },
    ],
    slots: source ? [{ name: pairSlotName(PAIR_ID), type: 'physical', active: true, walStatus: 'reserved' }] : [],
    replication: source ? [{ applicationName: 'tandem', clientAddress: '10.0.0.20', state: 'streaming' }] : [],
    managedBy: null,
    icuVersion: '72.1',
    libcVersion: '2.36',
  };
}

const file = (path: string, owner = 'root', mode = 0o644) => ({ path, exists: true, type: 'file' as const, owner, uid: owner === 'root' ? 0 : 110, gid: owner === 'root' ? 0 : 118, mode, usedBytes: 4096, volume: '/' });

function postgresNode(side: 'source' | 'target'): NodeFacts {
  const n = nodeFixture(side);
  return {
    ...n,
    hostname: side === 'source' ? 'db-a' : 'db-b',
    services: [{ name: 'postgresql@16-main', state: 'running', startMode: 'auto', account: 'postgres', definitionDigest: 'pg1', definition: { ExecStart: '/usr/bin/pg_ctlcluster --skip-systemctl-redirect 16-main start' }, dependencies: [] }],
    paths: [
      { path: PG_DATA, exists: true, type: 'dir', owner: 'postgres', uid: 110, gid: 118, mode: 0o700, usedBytes: 30 * 2 ** 30, volume: '/' },
      file(`${PG_CONF}/postgresql.conf`, 'postgres'),
      file(`${PG_CONF}/pg_hba.conf`, 'postgres', 0o640),
      file(`${PG_CONF}/pg_ident.conf`, 'postgres', 0o640),
      file('/etc/ssl/certs/ssl-cert-snakeoil.pem'),
      file('/etc/ssl/private/ssl-cert-snakeoil.key', 'root', 0o640),
    ],
    apps: { postgres: postgresFacts(side) },
  };
}

/** A healthy PostgreSQL streaming pair (db-a → db-b) failing over by DNS. */
export function postgresSnapshot(): FactsSnapshot {
  const s = snapshotFixture();
  return withFacts(s, {
    pair: {
      name: 'Orders database',
      app: 'postgres',
      application: 'postgresql',
      method: 'streaming',
      replicationMethod: 'postgresql_streaming',
      rules: null,
      services: [],
      database: { sourceDataDir: PG_DATA, sourcePort: 5432, targetDataDir: PG_DATA, targetPort: 5432, sourceAddress: '10.0.0.10' },
    },
    source: postgresNode('source'),
    target: postgresNode('target'),
  });
}

export function mariadbFacts(side: 'source' | 'target'): MariadbFacts {
  const source = side === 'source';
  return {
    flavour: 'mariadb',
    version: '10.11.6',
    running: true,
    port: 3306,
    variables: {
      server_id: source ? '1' : '2',
      log_bin: 'ON',
      binlog_format: 'ROW',
      log_slave_updates: 'OFF',
      gtid_strict_mode: 'ON',
      binlog_expire_logs_seconds: '864000',
      expire_logs_days: '10',
      read_only: source ? 'OFF' : 'ON',
      sql_mode: 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION',
      character_set_server: 'utf8mb4',
      collation_server: 'utf8mb4_general_ci',
      time_zone: 'SYSTEM',
      max_allowed_packet: '16777216',
      max_connections: '151',
      event_scheduler: 'OFF',
      explicit_defaults_for_timestamp: 'ON',
      lower_case_table_names: '0',
      innodb_page_size: '16384',
      innodb_buffer_pool_size: String(8 * 2 ** 30),
    },
    replicaStatus: source ? null : { sourceHost: '10.0.0.10', sourcePort: 3306, ioRunning: true, sqlRunning: true, gtidPositioning: true },
    users: [
      { user: 'root', host: 'localhost', plugin: 'unix_socket', privileges: ['ALL PRIVILEGES'], grantsDigest: 'g-root' },
      { user: 'mariadb.sys', host: 'localhost', plugin: 'mysql_native_password', privileges: ['USAGE'], grantsDigest: 'g-sys' },
      { user: 'app', host: '10.0.0.%', plugin: 'mysql_native_password', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], grantsDigest: 'g-app' },
      ...(source ? [{ user: 'tandem_replication', host: '10.0.0.20', plugin: 'mysql_native_password', privileges: ['REPLICATION SLAVE'], grantsDigest: 'g-repl' }] : []),
    ],
    plugins: [
      { name: 'InnoDB', type: 'STORAGE ENGINE', status: 'active', library: null },
      { name: 'unix_socket', type: 'AUTHENTICATION', status: 'active', library: null },
      { name: 'ed25519', type: 'AUTHENTICATION', status: 'not-installed', library: 'auth_ed25519.so' },
    ],
    paths: [
      { role: 'datadir', path: '/var/lib/mysql' },
      { role: 'binlog', path: '/var/lib/mysql' },
      { role: 'tmpdir', path: '/tmp' },
    ],
    osUser: { name: 'mysql', uid: 106, gid: 112 },
    cluster: { kind: null, manager: null },
  };
}

function mariadbNode(side: 'source' | 'target'): NodeFacts {
  const n = nodeFixture(side);
  return {
    ...n,
    hostname: side === 'source' ? 'shop-db-a' : 'shop-db-b',
    services: [{ name: 'mariadb', state: 'running', startMode: 'auto', account: 'mysql', definitionDigest: 'm1', definition: { ExecStart: '/usr/sbin/mariadbd $MYSQLD_OPTS' }, dependencies: [] }],
    paths: [
      { path: '/var/lib/mysql', exists: true, type: 'dir', owner: 'mysql', uid: 106, gid: 112, mode: 0o750, usedBytes: 12 * 2 ** 30, volume: '/' },
      { path: '/tmp', exists: true, type: 'dir', owner: 'mysql', uid: 0, gid: 0, mode: 0o700, usedBytes: 0, volume: '/' },
    ],
    apps: { mariadb: mariadbFacts(side) },
  };
}

/** A healthy MariaDB replication pair (shop-db-a → shop-db-b). */
export function mariadbSnapshot(): FactsSnapshot {
  return withFacts(snapshotFixture(), {
    pair: { name: 'Shop database', app: 'mariadb', application: 'mariadb', method: 'replication', replicationMethod: 'mariadb_replication', rules: null, services: [] },
    source: mariadbNode('source'),
    target: mariadbNode('target'),
  });
}

export function fileserverFacts(side: 'source' | 'target'): FileserverFacts {
  const source = side === 'source';
  return {
    // The target publishes nothing until failover: Tandem publishes the source's definitions then.
    shares: source
      ? [
          {
            name: 'files',
            protocol: 'smb',
            path: '/srv/files',
            readOnly: false,
            options: { 'read only': 'no', 'vfs objects': 'acl_xattr', 'inherit acls': 'yes' },
            acl: [{ principal: 'CORP\\Domain Users', access: 'change' }],
            nestedMounts: [],
          },
        ]
      : [],
    servers: { smb: { installed: true, service: 'smbd' }, nfs: { installed: false, service: null } },
    serverConfig: { 'smb.signing': 'mandatory', 'smb.smb1': 'disabled', 'samba.global.server min protocol': 'SMB2_10', 'samba.global.security': 'ads' },
    dfsLinks: [],
    aclModes: source ? [{ path: '/srv/files', modes: ['posix-acl', 'xattr'] }] : [],
    principals: [
      { id: 'uid:1001', name: 'scanner', local: true },
      { id: 'gid:1001', name: 'scans', local: true },
      { id: 'S-1-5-21-3623811015-3361044348-30300820-1105', name: 'CORP\\bob', local: false },
    ],
  };
}

/** The healthy Samba file server pair of fixtures.ts, with its file server facts. */
export function fileserverSnapshot(): FactsSnapshot {
  const s = snapshotFixture();
  return { ...s, source: { ...s.source!, apps: { fileserver: fileserverFacts('source') } }, target: { ...s.target!, apps: { fileserver: fileserverFacts('target') } } };
}

export function genericFacts(side: 'source' | 'target'): GenericFacts {
  void side;
  return {
    service: 'inventory-api',
    definition: {
      ExecStart: '/opt/inventory/bin/inventory-api --config /srv/app/config.yaml',
      User: 'inventory',
      EnvironmentFile: '/etc/inventory/env',
      WorkingDirectory: '/srv/app',
      LimitNOFILE: '65536',
      After: 'network-online.target',
      Wants: 'network-online.target',
    },
    digest: 'unit-3f2a',
    executable: '/opt/inventory/bin/inventory-api',
    installPath: '/opt/inventory',
    account: 'inventory',
    dependencies: ['network-online.target'],
    ports: [{ protocol: 'tcp', port: 8080 }],
    referencedFiles: [
      { path: '/etc/inventory/env', kind: 'file', digest: 'env-91c0' },
      { path: '/srv/app/config.yaml', kind: 'file', digest: 'cfg-77aa' },
      { path: '/srv/app', kind: 'dir', digest: null },
    ],
    accounts: { inventory: true },
  };
}

function genericNode(side: 'source' | 'target'): NodeFacts {
  const n = nodeFixture(side);
  const source = side === 'source';
  const f = (path: string, type: 'file' | 'dir' = 'file') => ({ path, exists: true, type, owner: 'root', uid: 0, gid: 0, mode: type === 'dir' ? 0o755 : 0o644, usedBytes: 1024, volume: path.startsWith('/srv') ? '/srv' : '/' });
  return {
    ...n,
    hostname: source ? 'app-a' : 'app-b',
    services: [
      { name: 'inventory-api', state: source ? 'running' : 'stopped', startMode: source ? 'auto' : 'disabled', account: 'inventory', definitionDigest: 'unit-3f2a', definition: genericFacts(side).definition, dependencies: ['network-online.target'] },
      { name: 'network-online.target', state: 'running', startMode: 'auto', account: null, definitionDigest: null, definition: null, dependencies: [] },
    ],
    paths: [f('/srv/app', 'dir'), f('/opt/inventory/bin/inventory-api'), f('/etc/inventory/env')],
    listening: source ? [{ protocol: 'tcp', address: '0.0.0.0', port: 8080, process: 'inventory-api' }] : [{ protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd' }],
    apps: { generic: genericFacts(side) },
  };
}

/** A healthy generic systemd service pair (app-a → app-b) replicating /srv/app, with a TCP probe. */
export function genericSnapshot(): FactsSnapshot {
  const s = withFacts(snapshotFixture(), {
    pair: { name: 'Inventory API', app: 'generic-service', application: 'generic_service', method: 'files', replicationMethod: 'file', rules: { roots: ['/srv/app'], rules: [] }, services: [{ name: 'inventory-api', mustStopOnTarget: true }] },
    source: genericNode('source'),
    target: genericNode('target'),
  });
  // Declared probes travel with the pair (see pairProbes in generic.ts).
  return { ...s, pair: Object.assign(s.pair, { probes: [{ kind: 'tcp' }] }) };
}
