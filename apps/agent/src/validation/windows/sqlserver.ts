// app.sqlserver for validate.facts on a Windows agent (catalogue §2.15). One PowerShell script
// reads, per instance (the MSSQLSERVER and MSSQL$<name> services): the service account (CIM), the
// instance registry key (setup, network protocols, default directories, login mode, startup
// arguments, Agent), and, when the instance runs, its catalogue views through .NET's SqlClient with
// the agent's Windows identity. Each query fails on its own (its error is kept, its rows empty).
// Password hashes are reduced to a SHA-256 digest inside PowerShell: the hash never leaves it.
// A stopped instance (the target of the instance method) reports what the registry holds; its
// server-level lists are empty.
import { sqlserverFactsSchema, type SqlserverFacts } from '@tandem/engine';
import type { FactsIO } from '../../facts/io.ts';
import { sqlSession } from '../../facts/applications/sqlserver.ts';
import { isRecord, num, powerShellJson, str, toArray, bool } from '../../facts/util.ts';

/** The T-SQL the script runs on a running instance, by result key. */
export const SQL_QUERIES: Record<string, string> = {
  props:
    "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version, CAST(SERVERPROPERTY('ProductUpdateLevel') AS nvarchar(128)) AS update_level, CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS product_level, CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition, CAST(SERVERPROPERTY('IsFullTextInstalled') AS int) AS fulltext, FULLTEXTSERVICEPROPERTY('LoadOSResources') AS ft_load_os, FULLTEXTSERVICEPROPERTY('VerifySignature') AS ft_verify",
  databases:
    'SELECT d.name, d.state_desc, d.is_in_standby, d.recovery_model_desc, k.encryptor_type, CONVERT(varchar(200), k.encryptor_thumbprint, 1) AS thumbprint, ag.name AS ag FROM sys.databases d LEFT JOIN sys.dm_database_encryption_keys k ON k.database_id = d.database_id AND d.is_encrypted = 1 LEFT JOIN sys.availability_databases_cluster adc ON adc.database_name = d.name LEFT JOIN sys.availability_groups ag ON ag.group_id = adc.group_id',
  files: 'SELECT DB_NAME(database_id) AS db, name, type_desc, physical_name FROM sys.master_files',
  config: 'SELECT name, CONVERT(bigint, value_in_use) AS value FROM sys.configurations',
  logins:
    "SELECT p.name, p.type, CONVERT(varchar(200), p.sid, 1) AS sid, p.default_database_name, p.default_language_name, p.is_disabled, CONVERT(varchar(max), l.password_hash, 1) AS hash FROM sys.server_principals p LEFT JOIN sys.sql_logins l ON l.principal_id = p.principal_id WHERE p.type IN ('S','U','G','C','K')",
  permissions: 'SELECT pr.name, pe.state_desc, pe.permission_name FROM sys.server_permissions pe JOIN sys.server_principals pr ON pr.principal_id = pe.grantee_principal_id WHERE pe.class = 100',
  roles:
    "SELECT r.name AS role, r.is_fixed_role, m.name AS member FROM sys.server_principals r LEFT JOIN sys.server_role_members rm ON rm.role_principal_id = r.principal_id LEFT JOIN sys.server_principals m ON m.principal_id = rm.member_principal_id WHERE r.type = 'R'",
  linked:
    'SELECT s.name, s.product, s.provider, s.data_source, s.catalog, lp.name AS local_login, ll.remote_name, ll.uses_self_credential FROM sys.servers s LEFT JOIN sys.linked_logins ll ON ll.server_id = s.server_id LEFT JOIN sys.server_principals lp ON lp.principal_id = ll.local_principal_id WHERE s.server_id > 0',
  devices: 'SELECT name, type_desc, physical_name FROM sys.backup_devices',
  languages: "SELECT l.name, CASE WHEN l.langid = (SELECT CONVERT(int, value_in_use) FROM sys.configurations WHERE name = 'default language') THEN 1 ELSE 0 END AS is_default FROM sys.syslanguages l",
  replication: 'SELECT name, is_published, is_merge_published, is_subscribed, is_distributor FROM sys.databases WHERE is_published = 1 OR is_merge_published = 1 OR is_subscribed = 1 OR is_distributor = 1',
  certificates: 'SELECT name, CONVERT(varchar(200), thumbprint, 1) AS thumbprint, pvt_key_encryption_type FROM master.sys.certificates',
  masterKey:
    "SELECT COUNT(k.symmetric_key_id) AS has_key, SUM(CASE WHEN ke.crypt_type = 'ESKP' THEN 1 ELSE 0 END) AS by_password FROM master.sys.symmetric_keys k LEFT JOIN master.sys.key_encryptions ke ON ke.key_id = k.symmetric_key_id WHERE k.name = '##MS_DatabaseMasterKey##'",
  lsPrimary: 'SELECT primary_database, backup_share FROM msdb.dbo.log_shipping_primary_databases',
  lsBackups:
    "SELECT b.database_name, f.physical_device_name, CONVERT(varchar(40), b.first_lsn) AS first_lsn, CONVERT(varchar(40), b.last_lsn) AS last_lsn FROM msdb.dbo.backupset b JOIN msdb.dbo.backupmediafamily f ON f.media_set_id = b.media_set_id WHERE b.type = 'L' AND b.backup_finish_date > DATEADD(day, -2, GETDATE()) ORDER BY b.first_lsn",
  lsSecondary:
    'SELECT sd.secondary_database, sec.backup_destination_directory, sd.last_restored_file, (SELECT TOP 1 CONVERT(varchar(40), b.last_lsn) FROM msdb.dbo.restorehistory rh JOIN msdb.dbo.backupset b ON b.backup_set_id = rh.backup_set_id WHERE rh.destination_database_name = sd.secondary_database ORDER BY rh.restore_date DESC) AS last_lsn FROM msdb.dbo.log_shipping_secondary_databases sd JOIN msdb.dbo.log_shipping_secondary sec ON sec.secondary_id = sd.secondary_id',
  agent: "SELECT 'job' AS kind, name FROM msdb.dbo.sysjobs UNION ALL SELECT 'operator', name FROM msdb.dbo.sysoperators UNION ALL SELECT 'alert', name FROM msdb.dbo.sysalerts",
};

const psString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const SQLSERVER_VALIDATION_SCRIPT = `
$root = 'HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server'
$names = Get-ItemProperty -Path "$root\\Instance Names\\SQL" -ErrorAction SilentlyContinue
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
$queries = [ordered]@{
${Object.entries(SQL_QUERIES)
  .map(([k, q]) => `  ${k} = ${psString(q)}`)
  .join('\n')}
}
$sha = [System.Security.Cryptography.SHA256]::Create()
$result = foreach ($svc in @(Get-Service -Name 'MSSQLSERVER', 'MSSQL$*' -ErrorAction SilentlyContinue)) {
  $instance = if ($svc.Name -eq 'MSSQLSERVER') { 'MSSQLSERVER' } else { $svc.Name.Substring(6) }
  $cim = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($svc.Name)'"
  $e = [ordered]@{ Instance = $instance; ServiceName = $svc.Name; Status = [string]$svc.Status; ServiceAccount = [string]$cim.StartName; Setup = $null; Registry = @(); Rows = [ordered]@{}; Errors = [ordered]@{}; Principals = @() }
  if ($names -and $names.$instance) {
    $key = "$root\\$($names.$instance)"
    $setup = Get-ItemProperty -Path "$key\\Setup" -ErrorAction SilentlyContinue
    if ($setup) { $e.Setup = [ordered]@{ Version = $setup.Version; PatchLevel = $setup.PatchLevel; Edition = $setup.Edition; SqlPath = $setup.SQLPath } }
    $e.Registry = @(foreach ($sub in 'MSSQLServer', 'MSSQLServer\\Parameters', 'MSSQLServer\\SuperSocketNetLib\\Tcp', 'MSSQLServer\\SuperSocketNetLib\\Np', 'MSSQLServer\\SuperSocketNetLib\\Sm', 'SQLServerAgent') {
      $item = Get-Item -Path "$key\\$sub" -ErrorAction SilentlyContinue
      if ($item) { foreach ($n in $item.GetValueNames()) { $v = $item.GetValue($n); if ($v -is [string] -or $v -is [int]) { [pscustomobject]@{ Key = $sub; Name = $n; Value = $v } } } }
    })
  }
  if ($svc.Status -eq 'Running') {
${sqlSession(
  `        foreach ($q in $queries.Keys) {
          try { $e.Rows[$q] = Invoke-Query $queries[$q] } catch { $e.Errors[$q] = $_.Exception.Message; $e.Rows[$q] = @() }
        }
        foreach ($l in $e.Rows['logins']) {
          if ($l.hash) { $l.hash = [BitConverter]::ToString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes([string]$l.hash))).Replace('-', '').ToLower() }
        }
        $e.Principals = @(foreach ($d in $e.Rows['databases']) {
          if ($d.state_desc -ne 'ONLINE') { continue }
          $db = ([string]$d.name).Replace(']', ']]')
          try {
            foreach ($p in (Invoke-Query "SELECT name, CONVERT(varchar(200), sid, 1) AS sid FROM [$db].sys.database_principals WHERE type IN ('S','U','G') AND principal_id > 4")) { [pscustomobject]@{ db = $d.name; name = $p.name; sid = $p.sid } }
          } catch { $e.Errors["principals:$($d.name)"] = $_.Exception.Message }
        })
`,
  "$e.Errors['connect'] = $_.Exception.Message",
)}
  }
  [pscustomobject]$e
}
$domain = if ($cs.PartOfDomain) { [string]$cs.Domain } else { $null }
[pscustomobject]@{ Domain = $domain; Instances = @($result) } | ConvertTo-Json -Depth 6 -Compress`;

const rowsOf = (i: Record<string, unknown>, key: string) => (isRecord(i.Rows) ? toArray(i.Rows[key]).filter(isRecord) : []);
const s = (v: unknown) => str(v) ?? '';
const lower = (v: unknown) => s(v).toLowerCase();

const STATES: Record<string, SqlserverFacts['instances'][number]['databases'][number]['state']> = {
  online: 'online',
  restoring: 'restoring',
  recovering: 'recovering',
  recovery_pending: 'recovery-pending',
  suspect: 'suspect',
  emergency: 'emergency',
  offline: 'offline',
  offline_secondary: 'offline',
};
const FILE_TYPES: Record<string, 'data' | 'log' | 'filestream' | 'fulltext'> = { rows: 'data', log: 'log', filestream: 'filestream', fulltext: 'fulltext' };
const LOGIN_TYPES: Record<string, SqlserverFacts['instances'][number]['logins'][number]['type']> = { s: 'sql', u: 'windows-user', g: 'windows-group', c: 'certificate', k: 'asymmetric-key' };

function instanceOf(i: Record<string, unknown>): SqlserverFacts['instances'][number] {
  const name = s(i.Instance);
  const setup = isRecord(i.Setup) ? i.Setup : {};
  const reg = toArray(i.Registry).filter(isRecord);
  const regValue = (key: string, n: string) => reg.find((r) => lower(r.Key) === key.toLowerCase() && lower(r.Name) === n.toLowerCase())?.Value;
  const props = rowsOf(i, 'props')[0] ?? {};
  const files = rowsOf(i, 'files');
  const principals = toArray(i.Principals).filter(isRecord);
  const perms = rowsOf(i, 'permissions');
  const agentRows = rowsOf(i, 'agent');
  const agentReg = reg.filter((r) => lower(r.Key) === 'sqlserveragent');
  const repl = rowsOf(i, 'replication');
  const mk = rowsOf(i, 'masterKey')[0];
  const lsBackups = rowsOf(i, 'lsBackups');
  const languages = rowsOf(i, 'languages');
  const roles = new Map<string, { name: string; fixed: boolean; members: string[] }>();
  for (const r of rowsOf(i, 'roles')) {
    const cur = roles.get(s(r.role)) ?? { name: s(r.role), fixed: bool(r.is_fixed_role) === true, members: [] };
    if (str(r.member)) cur.members.push(s(r.member));
    roles.set(cur.name, cur);
  }
  const linked = new Map<string, SqlserverFacts['instances'][number]['linkedServers'][number]>();
  for (const r of rowsOf(i, 'linked')) {
    const cur = linked.get(s(r.name)) ?? { name: s(r.name), product: s(r.product), provider: s(r.provider), dataSource: str(r.data_source), catalog: str(r.catalog), remoteLogins: [] };
    if (r.uses_self_credential !== null && r.uses_self_credential !== undefined) cur.remoteLogins.push({ localLogin: str(r.local_login), remoteUser: bool(r.uses_self_credential) ? null : str(r.remote_name) });
    linked.set(cur.name, cur);
  }
  const loginMode = num(regValue('MSSQLServer', 'LoginMode'));
  const ftInstalled = num(props.fulltext) === 1;
  return {
    name,
    serviceName: s(i.ServiceName),
    version: str(props.version) ?? s(setup.PatchLevel ?? setup.Version),
    servicingLevel: str(props.update_level) ?? str(props.product_level),
    edition: str(props.edition) ?? s(setup.Edition),
    installPath: s(setup.SqlPath),
    serviceAccount: s(i.ServiceAccount),
    startupParams: reg
      .filter((r) => lower(r.Key) === 'mssqlserver\\parameters' && /^SQLArg\d+$/i.test(s(r.Name)))
      .sort((a, b) => Number(s(a.Name).slice(6)) - Number(s(b.Name).slice(6)))
      .map((r) => s(r.Value)),
    registry: reg
      .filter((r) => !['mssqlserver\\parameters', 'sqlserveragent'].includes(lower(r.Key)))
      .map((r) => ({ key: s(r.Key).replace(/^MSSQLServer\\(?=SuperSocketNetLib)/i, ''), name: s(r.Name), value: typeof r.Value === 'number' ? r.Value : s(r.Value) })),
    authMode: loginMode === 2 ? 'mixed' : 'windows',
    fulltext: ftInstalled ? { defaultPath: s(regValue('MSSQLServer', 'FullTextDefaultPath')), loadOsResources: num(props.ft_load_os) ?? 0, verifySignature: num(props.ft_verify) ?? 0 } : null,
    agent: agentReg.length || agentRows.length
      ? {
          settings: Object.fromEntries(agentReg.map((r) => [s(r.Name), typeof r.Value === 'number' ? r.Value : s(r.Value)])),
          jobs: agentRows.filter((r) => r.kind === 'job').map((r) => s(r.name)),
          operators: agentRows.filter((r) => r.kind === 'operator').map((r) => s(r.name)),
          alerts: agentRows.filter((r) => r.kind === 'alert').map((r) => s(r.name)),
        }
      : null,
    databases: rowsOf(i, 'databases').map((d) => ({
      name: s(d.name),
      state: bool(d.is_in_standby) ? 'standby' : (STATES[lower(d.state_desc)] ?? 'offline'),
      recoveryModel: lower(d.recovery_model_desc) === 'simple' ? 'simple' : lower(d.recovery_model_desc) === 'bulk_logged' ? 'bulk-logged' : 'full',
      files: files.filter((f) => s(f.db) === s(d.name)).map((f) => ({ name: s(f.name), type: FILE_TYPES[lower(f.type_desc)] ?? 'data', path: s(f.physical_name) })),
      tde: str(d.thumbprint) ? { encryptorType: lower(d.encryptor_type) === 'asymmetric key' ? 'asymmetric-key' : 'certificate', encryptorThumbprint: s(d.thumbprint) } : null,
      availabilityGroup: str(d.ag),
      principals: principals.filter((p) => s(p.db) === s(d.name)).map((p) => ({ name: s(p.name), sid: str(p.sid), roles: [] })),
    })),
    config: rowsOf(i, 'config').map((c) => ({ name: s(c.name), value: num(c.value) ?? 0 })),
    logins: rowsOf(i, 'logins').map((l) => ({
      name: s(l.name),
      type: LOGIN_TYPES[lower(l.type).trim()] ?? 'sql',
      sid: s(l.sid),
      passwordHashDigest: str(l.hash),
      defaultDatabase: s(l.default_database_name),
      defaultLanguage: str(l.default_language_name),
      disabled: bool(l.is_disabled) === true,
      serverPermissions: perms.filter((p) => s(p.name) === s(l.name)).map((p) => `${s(p.state_desc)} ${s(p.permission_name)}`),
    })),
    serverRoles: [...roles.values()],
    linkedServers: [...linked.values()],
    backupDevices: rowsOf(i, 'devices').map((d) => ({ name: s(d.name), type: lower(d.type_desc) === 'tape' ? 'tape' : lower(d.type_desc) === 'url' ? 'url' : 'disk', path: s(d.physical_name) })),
    languages: { default: s(languages.find((l) => num(l.is_default) === 1)?.name), available: languages.map((l) => s(l.name)) },
    replication: repl.length ? { publisher: repl.some((r) => bool(r.is_published) || bool(r.is_merge_published)), distributor: repl.some((r) => bool(r.is_distributor)), subscriber: repl.some((r) => bool(r.is_subscribed)), publications: repl.filter((r) => bool(r.is_published) || bool(r.is_merge_published)).map((r) => s(r.name)) } : null,
    certificates: rowsOf(i, 'certificates').map((c) => ({ name: s(c.name), thumbprint: s(c.thumbprint), hasPrivateKey: s(c.pvt_key_encryption_type) !== 'NA' && str(c.pvt_key_encryption_type) !== null })),
    masterKey: mk && (num(mk.has_key) ?? 0) > 0 ? { passwordProtected: (num(mk.by_password) ?? 0) > 0 } : null,
    logShipping: {
      primaries: rowsOf(i, 'lsPrimary').map((p) => ({
        database: s(p.primary_database),
        backupShare: s(p.backup_share),
        backups: lsBackups.filter((b) => s(b.database_name) === s(p.primary_database)).map((b) => ({ file: s(b.physical_device_name), firstLsn: s(b.first_lsn), lastLsn: s(b.last_lsn) })),
      })),
      secondaries: rowsOf(i, 'lsSecondary').map((x) => ({ database: s(x.secondary_database), copyDirectory: s(x.backup_destination_directory), lastRestoredFile: str(x.last_restored_file), lastRestoredLsn: str(x.last_lsn) })),
    },
  };
}

/** Parses the script's output into app.sqlserver; throws when it does not fit the schema. */
export function parseSqlserverValidation(value: unknown): SqlserverFacts {
  if (!isRecord(value)) throw new Error('the SQL Server script printed no result');
  const instances = toArray(value.Instances).filter(isRecord);
  // A running instance the agent could not sign in to gives no trustworthy parity facts.
  const refused = instances.find((i) => isRecord(i.Errors) && typeof i.Errors.connect === 'string');
  if (refused) throw new Error(`cannot sign in to SQL Server ${s(refused.Instance)}: ${s((refused.Errors as Record<string, unknown>).connect)}`);
  const parsed = sqlserverFactsSchema.safeParse({ domain: str(value.Domain), instances: instances.map(instanceOf) });
  if (!parsed.success) throw new Error(`SQL Server facts do not fit the schema: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

export async function collectSqlserverValidation(io: FactsIO): Promise<SqlserverFacts> {
  return parseSqlserverValidation(await powerShellJson(io, 'sqlserver-validation', SQLSERVER_VALIDATION_SCRIPT, 120_000));
}
