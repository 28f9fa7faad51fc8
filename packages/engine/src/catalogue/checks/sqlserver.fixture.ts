import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CatalogueMethod } from '../model.ts';
import type { DirectoryFacts, FactsSnapshot } from '../snapshot.ts';
import type { SqlDatabase, SqlInstance, SqlserverFacts } from '../apps/sqlserver.ts';

// Test data: a healthy SQL Server pair (default instance, one user database Sales) on which every
// sqlserver check is good, for each method. Tests bend one fact at a time.

const ROOT = 'C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL';

export function sqlDb(name: string, over: Partial<SqlDatabase> = {}): SqlDatabase {
  const system = ['master', 'model', 'msdb', 'tempdb'].includes(name);
  return {
    name,
    state: 'online',
    recoveryModel: system ? 'simple' : 'full',
    files: system
      ? [{ name: `${name}dev`, type: 'data', path: `${ROOT}\\DATA\\${name}.mdf` }]
      : [
          { name, type: 'data', path: `D:\\Data\\${name}.mdf` },
          { name: `${name}_log`, type: 'log', path: `L:\\Logs\\${name}_log.ldf` },
        ],
    tde: null,
    availabilityGroup: null,
    principals: system ? [] : [{ name: 'app_rw', sid: '0x0A1B', roles: ['db_datareader', 'db_datawriter'] }],
    ...over,
  };
}

export function sqlInstance(side: 'source' | 'target', method: CatalogueMethod = 'instance', over: Partial<SqlInstance> = {}): SqlInstance {
  const system = ['master', 'model', 'msdb', 'tempdb'].map((n) => sqlDb(n));
  const userDbs =
    side === 'source' ? [sqlDb('Sales')] : method === 'instance' ? [sqlDb('Sales', { state: 'offline' })] : method === 'log-shipping' ? [sqlDb('Sales', { state: 'restoring' })] : [];
  return {
    name: 'MSSQLSERVER',
    serviceName: 'MSSQLSERVER',
    version: '16.0.4135.4',
    servicingLevel: 'CU14',
    edition: 'Enterprise Edition (64-bit)',
    installPath: ROOT,
    serviceAccount: 'CORP\\svc-sql',
    startupParams: [`-d${ROOT}\\DATA\\master.mdf`, `-e${ROOT}\\Log\\ERRORLOG`, `-l${ROOT}\\DATA\\mastlog.ldf`, '-T1117'],
    registry: [
      { key: 'SuperSocketNetLib\\Tcp', name: 'Enabled', value: 1 },
      { key: 'SuperSocketNetLib\\Np', name: 'Enabled', value: 0 },
      { key: 'MSSQLServer', name: 'DefaultData', value: 'D:\\Data' },
      { key: 'MSSQLServer', name: 'DefaultLog', value: 'L:\\Logs' },
      { key: 'MSSQLServer', name: 'AuditLevel', value: 2 },
      { key: 'MSSQLServer', name: 'LoginMode', value: 2 },
      { key: 'MSSQLServer\\Parameters', name: 'SQLArg0', value: `-d${ROOT}\\DATA\\master.mdf` },
    ],
    authMode: 'mixed',
    fulltext: { serviceAccountMode: 'virtual', defaultPath: `${ROOT}\\FTData`, loadOsResources: false },
    agent: { settings: { mailProfile: 'DBA', jobHistoryMaxRows: 1000, autoRestart: true }, jobs: ['Nightly backup'], operators: ['DBA team'], alerts: ['Severity 17'] },
    databases: [...system, ...userDbs],
    config: [
      { name: 'max degree of parallelism', value: 4 },
      { name: 'cost threshold for parallelism', value: 50 },
      { name: 'default language', value: 0 },
    ],
    logins: [
      { name: 'sa', type: 'sql', sid: '0x01', passwordHashDigest: 'pwd-digest-sa', defaultDatabase: 'master', defaultLanguage: 'us_english', disabled: true, serverPermissions: [] },
      { name: 'app_rw', type: 'sql', sid: '0x0A1B', passwordHashDigest: 'pwd-digest-app', defaultDatabase: 'Sales', defaultLanguage: 'us_english', disabled: false, serverPermissions: ['GRANT VIEW SERVER STATE'] },
      { name: 'CORP\\dba', type: 'windows-group', sid: '0x0105000000000005150000', passwordHashDigest: null, defaultDatabase: 'master', defaultLanguage: 'Deutsch', disabled: false, serverPermissions: [] },
      { name: '##MS_PolicyEventProcessingLogin##', type: 'sql', sid: side === 'source' ? '0xAA' : '0xBB', passwordHashDigest: side, defaultDatabase: 'master', defaultLanguage: null, disabled: true, serverPermissions: [] },
    ],
    serverRoles: [
      { name: 'sysadmin', fixed: true, members: ['sa', 'CORP\\dba'] },
      { name: 'monitoring', fixed: false, members: ['app_rw'] },
    ],
    linkedServers: [{ name: 'REPORTS', product: 'SQL Server', provider: 'MSOLEDBSQL', dataSource: 'reports.corp.example.com', catalog: null, remoteLogins: [{ localLogin: null, remoteUser: null }] }],
    backupDevices: [{ name: 'nightly', type: 'disk', path: 'D:\\Backup\\nightly.bak' }],
    languages: { default: 'us_english', available: ['us_english', 'Deutsch', 'Français'] },
    replication: null,
    certificates: [],
    masterKey: null,
    logShipping:
      method === 'log-shipping'
        ? side === 'source'
          ? {
              primaries: [
                {
                  database: 'Sales',
                  backupShare: '\\\\files-a\\logship',
                  backups: [
                    { file: 'Sales_1.trn', firstLsn: '1000', lastLsn: '2000' },
                    { file: 'Sales_2.trn', firstLsn: '2000', lastLsn: '3000' },
                  ],
                },
              ],
              secondaries: [],
            }
          : { primaries: [], secondaries: [{ database: 'Sales', copyDirectory: 'D:\\LogShip', lastRestoredFile: 'Sales_1.trn', lastRestoredLsn: '2000' }] }
        : { primaries: [], secondaries: [] },
    ...over,
  };
}

export const sqlFacts = (side: 'source' | 'target', method: CatalogueMethod = 'instance', over: Partial<SqlInstance> = {}): SqlserverFacts => ({
  domain: 'corp.example.com',
  instances: [sqlInstance(side, method, over)],
});

/** A reachable directory in which the executor may move the service account's SPNs. */
export const sqlDirectory = (): DirectoryFacts => ({
  reachable: true,
  error: null,
  domain: 'corp.example.com',
  singleLabel: false,
  forestRoot: 'corp.example.com',
  gcByDomain: { 'corp.example.com': true },
  rights: ['read SPN', 'write SPN', 'validated write SPN'].map((right) => ({ principal: 'CORP\\sql-b$', object: 'CORP\\svc-sql', right, allowed: true })),
  exchangeOrg: null,
  keytabs: [],
  passwordPolicy: null,
});

/** A healthy SQL Server pair using `method`; `src`/`tgt` replace the app facts. */
export function sqlSnapshot(method: CatalogueMethod = 'instance', src?: unknown, tgt?: unknown): FactsSnapshot {
  const base = snapshotFixture();
  const node = (side: 'source' | 'target', facts: unknown) =>
    withFacts(base[side]!, {
      hostname: side === 'source' ? 'sql-a' : 'sql-b',
      os: { family: 'windows', name: 'Windows Server 2022 Datacenter', version: '10.0.20348', major: '2022', kernel: '10.0.20348', arch: 'x64', domainController: false, libc: null },
      services: [{ name: 'MSSQLSERVER', state: side === 'source' ? 'running' : 'stopped', startMode: side === 'source' ? 'auto' : 'manual', account: 'CORP\\svc-sql', definitionDigest: 'mssql', definition: null, dependencies: [] }],
      paths: [
        { path: 'D:\\Backup', exists: true, type: 'dir', owner: 'CORP\\svc-sql', uid: null, gid: null, mode: null, usedBytes: null, volume: 'D:\\' },
        { path: '\\\\files-a\\logship', exists: true, type: 'dir', owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume: null },
      ],
      apps: { sqlserver: facts },
    });
  return withFacts(base, {
    pair: { app: 'sqlserver', application: 'sql_server', method, replicationMethod: method === 'log-shipping' ? 'sql_log_shipping' : 'file', rules: null, selection: { databases: null }, services: [{ name: 'MSSQLSERVER', mustStopOnTarget: true }] },
    source: node('source', src === undefined ? sqlFacts('source', method) : src),
    target: node('target', tgt === undefined ? sqlFacts('target', method) : tgt),
    directory: sqlDirectory(),
  });
}
