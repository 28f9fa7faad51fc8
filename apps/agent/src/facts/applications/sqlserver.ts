// SQL Server (Windows). Instances are the MSSQLSERVER and MSSQL$<name> services; their installed
// version and edition come from the registry (so stopped instances have them too). For a running
// instance, one PowerShell script connects with .NET's SqlClient (integrated security as the
// agent's account: LocalSystem needs a login, and sys.master_files needs VIEW ANY DEFINITION) and
// reads SERVERPROPERTY, sys.databases and sys.master_files. A failed query leaves that instance's
// databases empty; the instance is still reported. Failover cluster instances are queried through
// the local name, which only answers on the node that owns them.
import type { ApplicationFacts } from '@tandem/protocol';
import type { FactsIO } from '../io.ts';
import { clip, isRecord, powerShellJson, str, toArray } from '../util.ts';

type SqlServerFacts = Extract<ApplicationFacts, { kind: 'sql_server' }>;

/**
 * PowerShell run inside the per-instance loop of a script (`$instance` set, the instance running):
 * connects with .NET's SqlClient as the agent's Windows identity, defines Invoke-Query (rows as
 * objects, NULL as $null) and runs `body`; `onError` handles a failed connection. Shared by
 * discovery and validate.facts (apps/agent/src/validation/windows/sqlserver.ts).
 */
export const sqlSession = (
  body: string,
  onError: string,
) => `    $server = if ($instance -eq 'MSSQLSERVER') { '.' } else { ".\\$instance" }
    try {
      $conn = New-Object System.Data.SqlClient.SqlConnection "Server=$server;Database=master;Integrated Security=SSPI;Connect Timeout=10;Application Name=tandem-agent"
      $conn.Open()
      try {
        function Invoke-Query([string]$sql) {
          $cmd = $conn.CreateCommand(); $cmd.CommandText = $sql; $cmd.CommandTimeout = 30
          $reader = $cmd.ExecuteReader()
          $rows = New-Object System.Collections.ArrayList
          while ($reader.Read()) {
            $row = [ordered]@{}
            for ($i = 0; $i -lt $reader.FieldCount; $i++) { $row[$reader.GetName($i)] = if ($reader.IsDBNull($i)) { $null } else { $reader.GetValue($i) } }
            [void]$rows.Add([pscustomobject]$row)
          }
          $reader.Close()
          ,$rows.ToArray()
        }
${body}      } finally { $conn.Close() }
    } catch { ${onError} }`;

const SQLSERVER_SCRIPT = `
$services = @(Get-Service -Name 'MSSQLSERVER', 'MSSQL$*' -ErrorAction SilentlyContinue)
$names = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\Instance Names\\SQL' -ErrorAction SilentlyContinue
$result = foreach ($svc in $services) {
  $instance = if ($svc.Name -eq 'MSSQLSERVER') { 'MSSQLSERVER' } else { $svc.Name.Substring(6) }
  $entry = [ordered]@{
    Instance = $instance; ServiceName = $svc.Name; Status = [string]$svc.Status; StartType = [string]$svc.StartType
    SetupVersion = $null; SetupEdition = $null; Version = $null; Edition = $null
    Databases = @(); Files = @(); Error = $null
  }
  if ($names -and $names.$instance) {
    $setup = Get-ItemProperty -Path "HKLM:\\SOFTWARE\\Microsoft\\Microsoft SQL Server\\$($names.$instance)\\Setup" -ErrorAction SilentlyContinue
    if ($setup) { $entry.SetupVersion = $setup.Version; $entry.SetupEdition = $setup.Edition }
  }
  if ($svc.Status -eq 'Running') {
${sqlSession(
  `        $props = Invoke-Query "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS ProductVersion, CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS Edition"
        if ($props.Count -gt 0) { $entry.Version = $props[0].ProductVersion; $entry.Edition = $props[0].Edition }
        $entry.Databases = Invoke-Query 'SELECT name, recovery_model_desc FROM sys.databases ORDER BY name'
        try { $entry.Files = Invoke-Query 'SELECT DB_NAME(database_id) AS database_name, type_desc, physical_name FROM sys.master_files' }
        catch { $entry.Error = "sys.master_files: $($_.Exception.Message)" }
`,
  '$entry.Error = $_.Exception.Message',
)}
  }
  [pscustomobject]$entry
}
ConvertTo-Json -InputObject @($result) -Depth 5`;

/** Parses the SQL Server script's output (exported for recorded-output tests). */
export function parseSqlServer(value: unknown): SqlServerFacts[] {
  return toArray(value)
    .filter(isRecord)
    .filter((i) => !!str(i.Instance))
    .map((i) => {
      const files = new Map<string, string[]>();
      for (const f of toArray(i.Files).filter(isRecord)) {
        const db = str(f.database_name);
        const file = str(f.physical_name);
        // Data files only (ROWS, FILESTREAM, FULLTEXT); the log is not a data file.
        if (!db || !file || str(f.type_desc) === 'LOG') continue;
        files.set(db, [...(files.get(db) ?? []), clip(file)]);
      }
      const databases = toArray(i.Databases)
        .filter(isRecord)
        .filter((d) => !!str(d.name))
        .map((d) => ({
          name: clip(str(d.name)!),
          recoveryModel: str(d.recovery_model_desc) ? clip(str(d.recovery_model_desc)!) : null,
          dataFiles: (files.get(str(d.name)!) ?? []).slice(0, 1000),
        }));
      const version = str(i.Version) ?? str(i.SetupVersion);
      const edition = str(i.Edition) ?? str(i.SetupEdition);
      return {
        kind: 'sql_server' as const,
        instance: clip(str(i.Instance)!),
        version: version ? clip(version) : null,
        edition: edition ? clip(edition) : null,
        running: str(i.Status) === 'Running' || str(i.Status) === '4',
        databases: databases.slice(0, 10_000),
      };
    });
}

export async function collectSqlServer(io: FactsIO): Promise<SqlServerFacts[]> {
  return parseSqlServer(await powerShellJson(io, 'sqlserver', SQLSERVER_SCRIPT, 120_000));
}
