// The Windows application collectors of validate.facts (SQL Server, Exchange, SharePoint) against
// recorded outputs: a runner stands in for powershell.exe and answers what the scripts printed
// (ConvertTo-Json of the cmdlets' and catalogue views' rows). Windows-only, so tested this way.
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../exec.ts';
import { defaultIO } from '../../facts/io.ts';
import { decodePowerShellScript, powerShellScriptName } from '../../facts/util.ts';
import { collectWindowsApps } from './index.ts';
import { exchangeBuild, parseExchangeValidation } from './exchange.ts';
import { parseSharepointValidation } from './sharepoint.ts';
import { parseSqlserverValidation, SQL_QUERIES, SQLSERVER_VALIDATION_SCRIPT } from './sqlserver.ts';

const ROOT = 'C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL';

/** What sqlserver-validation printed on a node with a running default instance and a stopped named one. */
const sqlRecorded = {
  Domain: 'corp.example.com',
  Instances: [
    {
      Instance: 'MSSQLSERVER',
      ServiceName: 'MSSQLSERVER',
      Status: 'Running',
      ServiceAccount: 'CORP\\svc-sql',
      Setup: { Version: '16.0.1000.6', PatchLevel: '16.0.4135.4', Edition: 'Enterprise Edition', SqlPath: ROOT },
      Registry: [
        { Key: 'MSSQLServer', Name: 'LoginMode', Value: 2 },
        { Key: 'MSSQLServer', Name: 'DefaultData', Value: 'D:\\Data' },
        { Key: 'MSSQLServer', Name: 'FullTextDefaultPath', Value: `${ROOT}\\FTData` },
        { Key: 'MSSQLServer\\Parameters', Name: 'SQLArg1', Value: `-e${ROOT}\\Log\\ERRORLOG` },
        { Key: 'MSSQLServer\\Parameters', Name: 'SQLArg0', Value: `-d${ROOT}\\DATA\\master.mdf` },
        { Key: 'MSSQLServer\\Parameters', Name: 'SQLArg2', Value: `-l${ROOT}\\DATA\\mastlog.ldf` },
        { Key: 'MSSQLServer\\SuperSocketNetLib\\Tcp', Name: 'Enabled', Value: 1 },
        { Key: 'MSSQLServer\\SuperSocketNetLib\\Np', Name: 'Enabled', Value: 0 },
        { Key: 'SQLServerAgent', Name: 'JobHistoryMaxRows', Value: 1000 },
      ],
      Rows: {
        props: [{ version: '16.0.4135.4', update_level: 'CU14', product_level: 'RTM', edition: 'Enterprise Edition (64-bit)', fulltext: 1, ft_load_os: 0, ft_verify: 1 }],
        databases: [
          { name: 'master', state_desc: 'ONLINE', is_in_standby: false, recovery_model_desc: 'SIMPLE', encryptor_type: null, thumbprint: null, ag: null },
          { name: 'Sales', state_desc: 'ONLINE', is_in_standby: false, recovery_model_desc: 'FULL', encryptor_type: 'CERTIFICATE', thumbprint: '0xAB12CD', ag: 'AG1' },
          { name: 'Archive', state_desc: 'RESTORING', is_in_standby: true, recovery_model_desc: 'BULK_LOGGED', encryptor_type: null, thumbprint: null, ag: null },
        ],
        files: [
          { db: 'master', name: 'master', type_desc: 'ROWS', physical_name: `${ROOT}\\DATA\\master.mdf` },
          { db: 'Sales', name: 'Sales', type_desc: 'ROWS', physical_name: 'D:\\Data\\Sales.mdf' },
          { db: 'Sales', name: 'Sales_log', type_desc: 'LOG', physical_name: 'L:\\Logs\\Sales_log.ldf' },
        ],
        config: [{ name: 'max degree of parallelism', value: 4 }],
        logins: [
          { name: 'app_rw', type: 'S ', sid: '0x0A1B', default_database_name: 'Sales', default_language_name: 'us_english', is_disabled: false, hash: '3f0a9c2b7e' },
          { name: 'CORP\\dba', type: 'G ', sid: '0x0105', default_database_name: 'master', default_language_name: 'Deutsch', is_disabled: false, hash: null },
        ],
        permissions: [
          { name: 'app_rw', state_desc: 'GRANT', permission_name: 'CONNECT SQL' },
          { name: 'app_rw', state_desc: 'GRANT', permission_name: 'VIEW SERVER STATE' },
        ],
        roles: [
          { role: 'sysadmin', is_fixed_role: true, member: 'CORP\\dba' },
          { role: 'monitoring', is_fixed_role: false, member: 'app_rw' },
          { role: 'auditors', is_fixed_role: false, member: null },
        ],
        linked: [
          { name: 'REPORTS', product: 'SQL Server', provider: 'MSOLEDBSQL', data_source: 'reports.corp.example.com', catalog: null, local_login: null, remote_name: null, uses_self_credential: true },
          { name: 'REPORTS', product: 'SQL Server', provider: 'MSOLEDBSQL', data_source: 'reports.corp.example.com', catalog: null, local_login: 'app_rw', remote_name: 'report_reader', uses_self_credential: false },
        ],
        devices: [{ name: 'nightly', type_desc: 'DISK', physical_name: 'D:\\Backup\\nightly.bak' }],
        languages: [
          { name: 'us_english', is_default: 1 },
          { name: 'Deutsch', is_default: 0 },
        ],
        replication: [{ name: 'Sales', is_published: true, is_merge_published: false, is_subscribed: false, is_distributor: false }],
        certificates: [{ name: 'TDECert', thumbprint: '0xAB12CD', pvt_key_encryption_type: 'MK' }],
        masterKey: [{ has_key: 1, by_password: 0 }],
        lsPrimary: [{ primary_database: 'Sales', backup_share: '\\\\files-a\\logship' }],
        lsBackups: [
          { database_name: 'Sales', physical_device_name: '\\\\files-a\\logship\\Sales_1.trn', first_lsn: '1000', last_lsn: '2000' },
          { database_name: 'Sales', physical_device_name: '\\\\files-a\\logship\\Sales_2.trn', first_lsn: '2000', last_lsn: '3000' },
        ],
        lsSecondary: [],
        agent: [
          { kind: 'job', name: 'Nightly backup' },
          { kind: 'operator', name: 'DBA team' },
        ],
      },
      Errors: {},
      Principals: [{ db: 'Sales', name: 'app_rw', sid: '0x0A1B' }],
    },
    {
      Instance: 'REPORTING',
      ServiceName: 'MSSQL$REPORTING',
      Status: 'Stopped',
      ServiceAccount: 'NT Service\\MSSQL$REPORTING',
      Setup: { Version: '16.0.1000.6', PatchLevel: '16.0.4135.4', Edition: 'Standard Edition', SqlPath: 'C:\\Program Files\\Microsoft SQL Server\\MSSQL16.REPORTING\\MSSQL' },
      Registry: [{ Key: 'MSSQLServer', Name: 'LoginMode', Value: 1 }],
      Rows: {},
      Errors: {},
      Principals: [],
    },
  ],
};

const exRecorded = {
  AdminDisplayVersion: 'Version 15.2 (Build 1544.4)',
  ServerRole: 'Mailbox, ClientAccess',
  Edition: 'Enterprise',
  ExchangeLegacyDN: '/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=EX-A',
  Organization: 'Contoso',
  PageZeroing: 1,
  Databases: [{ Name: 'DB01', Mounted: true, EdbFilePath: 'E:\\Databases\\DB01\\DB01.edb', LogFolderPath: 'F:\\Logs\\DB01', LogFilePrefix: 'E00', CircularLoggingEnabled: false }],
  Transport: { QueueDatabasePath: 'D:\\Queue', PickupDirectoryPath: 'D:\\Pickup', ReplayDirectoryPath: 'D:\\Replay' },
  Bindings: [
    { Connector: 'Default Frontend EX-A', Binding: '0.0.0.0:25' },
    { Connector: 'Default Frontend EX-A', Binding: '[::]:25' },
    { Connector: 'Internet', Binding: '10.0.0.11:2525' },
  ],
};

const spRecorded = {
  BuildVersion: '16.0.17328.20000',
  LanguagePacks: ['en-US', 'de-DE'],
  ConfigDsn: 'Data Source=SPSQL;Initial Catalog=SharePoint_Config;Integrated Security=True;Enlist=False;Pooling=True',
  Services: [
    { Name: 'SPTimerV4', DisplayName: 'SharePoint Timer Service' },
    { Name: 'W3SVC', DisplayName: 'World Wide Web Publishing Service' },
  ],
  WebServicePorts: ['32843', '32844'],
  Aliases: { SPSQL: 'DBMSSOCN,sql-a.corp.example.com,14330' },
  Urls: [{ Zone: 'Default', Url: 'https://portal.corp.example.com' }],
};

/** A powershell.exe that answers each named script with its recorded output. */
function recorded(outputs: Record<string, { stdout?: string; stderr?: string; code?: number }>): { run: CommandRunner; scripts: string[] } {
  const scripts: string[] = [];
  const run: CommandRunner = (cmd, args) => {
    expect(cmd).toBe('powershell.exe');
    const name = powerShellScriptName(args) ?? '';
    scripts.push(decodePowerShellScript(args) ?? '');
    const out = outputs[name];
    if (!out) throw new Error(`unexpected script ${name}`);
    return Promise.resolve({ code: out.code ?? 0, stdout: out.stdout ?? '', stderr: out.stderr ?? '' });
  };
  return { run, scripts };
}

describe('Windows application facts for validation (recorded outputs)', () => {
  it('SQL Server (recorded outputs): instances, registry, startup parameters, databases, logins and log shipping', () => {
    const f = parseSqlserverValidation(sqlRecorded);
    expect(f.domain).toBe('corp.example.com');
    const [main, stopped] = f.instances;
    expect(main).toMatchObject({ name: 'MSSQLSERVER', version: '16.0.4135.4', servicingLevel: 'CU14', edition: 'Enterprise Edition (64-bit)', installPath: ROOT, serviceAccount: 'CORP\\svc-sql', authMode: 'mixed' });
    expect(main!.startupParams).toEqual([`-d${ROOT}\\DATA\\master.mdf`, `-e${ROOT}\\Log\\ERRORLOG`, `-l${ROOT}\\DATA\\mastlog.ldf`]);
    expect(main!.registry).toContainEqual({ key: 'SuperSocketNetLib\\Tcp', name: 'Enabled', value: 1 });
    expect(main!.registry).toContainEqual({ key: 'MSSQLServer', name: 'DefaultData', value: 'D:\\Data' });
    expect(main!.registry.some((r) => r.name.startsWith('SQLArg'))).toBe(false);
    expect(main!.fulltext).toEqual({ defaultPath: `${ROOT}\\FTData`, loadOsResources: 0, verifySignature: 1 });
    expect(main!.agent).toEqual({ settings: { JobHistoryMaxRows: 1000 }, jobs: ['Nightly backup'], operators: ['DBA team'], alerts: [] });
    const sales = main!.databases.find((d) => d.name === 'Sales')!;
    expect(sales).toMatchObject({ state: 'online', recoveryModel: 'full', tde: { encryptorType: 'certificate', encryptorThumbprint: '0xAB12CD' }, availabilityGroup: 'AG1', principals: [{ name: 'app_rw', sid: '0x0A1B', roles: [] }] });
    expect(sales.files).toEqual([
      { name: 'Sales', type: 'data', path: 'D:\\Data\\Sales.mdf' },
      { name: 'Sales_log', type: 'log', path: 'L:\\Logs\\Sales_log.ldf' },
    ]);
    expect(main!.databases.find((d) => d.name === 'Archive')).toMatchObject({ state: 'standby', recoveryModel: 'bulk-logged' });
    expect(main!.logins[0]).toEqual({ name: 'app_rw', type: 'sql', sid: '0x0A1B', passwordHashDigest: '3f0a9c2b7e', defaultDatabase: 'Sales', defaultLanguage: 'us_english', disabled: false, serverPermissions: ['GRANT CONNECT SQL', 'GRANT VIEW SERVER STATE'] });
    expect(main!.logins[1]!.type).toBe('windows-group');
    expect(main!.serverRoles).toEqual([
      { name: 'sysadmin', fixed: true, members: ['CORP\\dba'] },
      { name: 'monitoring', fixed: false, members: ['app_rw'] },
      { name: 'auditors', fixed: false, members: [] },
    ]);
    expect(main!.linkedServers).toEqual([{ name: 'REPORTS', product: 'SQL Server', provider: 'MSOLEDBSQL', dataSource: 'reports.corp.example.com', catalog: null, remoteLogins: [{ localLogin: null, remoteUser: null }, { localLogin: 'app_rw', remoteUser: 'report_reader' }] }]);
    expect(main!.languages).toEqual({ default: 'us_english', available: ['us_english', 'Deutsch'] });
    expect(main!.replication).toEqual({ publisher: true, distributor: false, subscriber: false, publications: ['Sales'] });
    expect(main!.certificates).toEqual([{ name: 'TDECert', thumbprint: '0xAB12CD', hasPrivateKey: true }]);
    expect(main!.masterKey).toEqual({ passwordProtected: false });
    expect(main!.logShipping.primaries[0]!.backups.map((b) => [b.firstLsn, b.lastLsn])).toEqual([
      ['1000', '2000'],
      ['2000', '3000'],
    ]);
    // The stopped instance: what the registry and the service manager know.
    expect(stopped).toMatchObject({ name: 'REPORTING', serviceName: 'MSSQL$REPORTING', version: '16.0.4135.4', servicingLevel: null, edition: 'Standard Edition', authMode: 'windows', databases: [], logins: [], fulltext: null, agent: null, masterKey: null });
  });

  it('SQL Server (recorded outputs): the script digests password hashes before printing and runs each catalogue query', () => {
    expect(SQLSERVER_VALIDATION_SCRIPT).toContain("$l.hash = [BitConverter]::ToString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes([string]$l.hash))).Replace('-', '').ToLower()");
    for (const [key, sql] of Object.entries(SQL_QUERIES)) expect(SQLSERVER_VALIDATION_SCRIPT).toContain(`  ${key} = '${sql.replace(/'/g, "''")}'`);
  });

  it('SQL Server (recorded outputs): an instance the agent cannot sign in to makes the facts unknown, not empty', () => {
    const refused = { ...sqlRecorded, Instances: [{ ...sqlRecorded.Instances[0], Rows: {}, Errors: { connect: "Login failed for user 'NT AUTHORITY\\SYSTEM'." } }] };
    expect(() => parseSqlserverValidation(refused)).toThrow(/cannot sign in to SQL Server MSSQLSERVER: Login failed/);
  });

  it('Exchange (recorded outputs): build, roles, administrative group, databases, transport and bindings', () => {
    expect(exchangeBuild('Version 15.1 (Build 2507.6)')).toBe('15.1.2507.6');
    const f = parseExchangeValidation(exRecorded);
    expect(f).toMatchObject({ version: '15.2.1544.4', roles: ['Mailbox', 'ClientAccess'], edition: 'enterprise', organization: 'Contoso', adminGroup: 'Exchange Administrative Group (FYDIBOHF23SPDLT)' });
    expect(f.databases).toEqual([{ name: 'DB01', publicFolder: false, mounted: true, edbFilePath: 'E:\\Databases\\DB01\\DB01.edb', logFolderPath: 'F:\\Logs\\DB01', logPrefix: 'E00', circularLogging: false, pageZeroing: true, systemPath: null, streamingPath: null }]);
    expect(f.transport).toEqual({ queueDatabasePath: 'D:\\Queue', pickupDirectory: 'D:\\Pickup', replayDirectory: 'D:\\Replay' });
    expect(f.receiveBindings).toEqual([
      { connector: 'Default Frontend EX-A', address: '0.0.0.0', port: 25 },
      { connector: 'Default Frontend EX-A', address: '::', port: 25 },
      { connector: 'Internet', address: '10.0.0.11', port: 2525 },
    ]);
  });

  it('SharePoint (recorded outputs): a farm member and an unconfigured server', () => {
    const f = parseSharepointValidation(spRecorded);
    expect(f).toEqual({
      build: { version: '16.0.17328.20000', cu: null, languagePacks: ['en-US', 'de-DE'] },
      farm: { configDatabase: 'SharePoint_Config', databaseServer: 'SPSQL' },
      services: [
        { name: 'SPTimerV4', displayName: 'SharePoint Timer Service', ports: [] },
        { name: 'W3SVC', displayName: 'World Wide Web Publishing Service', ports: [32843, 32844] },
      ],
      sqlPort: 14330,
      urls: [{ zone: 'Default', url: 'https://portal.corp.example.com' }],
    });
    const bare = parseSharepointValidation({ ...spRecorded, ConfigDsn: null, Aliases: null, Urls: [] });
    expect(bare.farm).toBeNull();
    expect(bare.sqlPort).toBe(1433);
  });

  it('runs the asked-for collectors on Windows only; one that fails is unknown without hiding the others (recorded outputs)', async () => {
    const { run, scripts } = recorded({
      'sqlserver-validation': { stdout: JSON.stringify(sqlRecorded) },
      'exchange-validation': { code: 1, stderr: 'the Exchange Management Shell is not installed on this server' },
    });
    const io = defaultIO({ platform: 'win32', run });
    const out = await collectWindowsApps(io, ['sqlserver', 'exchange', 'mariadb'], 10_000);
    expect(Object.keys(out).sort()).toEqual(['exchange', 'sqlserver']);
    expect(out.sqlserver!.status).toBe('ok');
    expect(out.exchange).toEqual({ status: 'unknown', reason: expect.stringMatching(/Exchange Management Shell is not installed/) as unknown });
    expect(scripts).toHaveLength(2);
    expect(await collectWindowsApps(defaultIO({ platform: 'linux', run }), ['sqlserver'], 10_000)).toEqual({});
  });
});
