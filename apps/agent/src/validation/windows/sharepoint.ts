// app.sharepoint for validate.facts on a Windows agent (catalogue §2.16): the build and language
// packs from the registry (so an unconfigured server reports them too), the farm's configuration
// database from its registry DSN (absent: not in a farm), the SharePoint Windows services present,
// the SharePoint Web Services site's ports, the SQL alias port, and — in a farm — the alternate
// access mappings (Get-SPAlternateURL).
import { sharepointFactsSchema, type SharepointFacts } from '@tandem/engine';
import type { FactsIO } from '../../facts/io.ts';
import { isRecord, num, powerShellJson, str, toArray } from '../../facts/util.ts';

export const SHAREPOINT_SERVICES = ['SPTimerV4', 'SPAdminV4', 'SPTraceV4', 'SPUserCodeV4', 'SPWriterV4', 'OSearch16', 'SPSearchHostController', 'W3SVC'];

export const SHAREPOINT_VALIDATION_SCRIPT = `
$wse = 'HKLM:\\SOFTWARE\\Microsoft\\Shared Tools\\Web Server Extensions\\16.0'
$office = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Office Server\\16.0' -ErrorAction SilentlyContinue
if (-not $office) { throw 'SharePoint Server is not installed on this server' }
$langs = Get-Item -Path "$wse\\InstalledLanguages" -ErrorAction SilentlyContinue
$lcids = if ($langs) { @($langs.GetValueNames() | ForEach-Object { [Globalization.CultureInfo]::GetCultureInfo([int]$_).Name }) } else { @() }
$dsn = (Get-ItemProperty -Path "$wse\\Secure\\ConfigDB" -ErrorAction SilentlyContinue).dsn
$services = @(Get-Service -Name ${SHAREPOINT_SERVICES.map((n) => `'${n}'`).join(', ')} -ErrorAction SilentlyContinue | ForEach-Object { [pscustomobject]@{ Name = $_.Name; DisplayName = $_.DisplayName } })
$webPorts = @()
if (Get-Module -ListAvailable -Name WebAdministration) {
  Import-Module WebAdministration
  $webPorts = @(Get-WebBinding -Name 'SharePoint Web Services' -ErrorAction SilentlyContinue | ForEach-Object { ($_.bindingInformation -split ':')[1] })
}
$aliases = Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo' -ErrorAction SilentlyContinue
$urls = @()
if ($dsn) {
  Add-PSSnapin Microsoft.SharePoint.PowerShell -ErrorAction SilentlyContinue
  $urls = @(Get-SPAlternateURL | ForEach-Object { [pscustomobject]@{ Zone = [string]$_.Zone; Url = [string]$_.PublicUrl } })
}
[pscustomobject]@{
  BuildVersion = [string]$office.BuildVersion
  LanguagePacks = $lcids
  ConfigDsn = $dsn
  Services = $services
  WebServicePorts = $webPorts
  Aliases = $aliases
  Urls = $urls
} | ConvertTo-Json -Depth 4 -Compress`;

/** "Data Source=SPSQL;Initial Catalog=SharePoint_Config;Integrated Security=True" → its parts. */
function dsnPart(dsn: string, key: string): string | null {
  const m = new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*([^;]+)`, 'i').exec(dsn);
  return m ? m[1]!.trim() : null;
}

/** Parses the script's output into app.sharepoint; throws when it does not fit the schema. */
export function parseSharepointValidation(value: unknown): SharepointFacts {
  if (!isRecord(value)) throw new Error('the SharePoint script printed no result');
  const s = (v: unknown) => str(v) ?? '';
  const dsn = str(value.ConfigDsn);
  const databaseServer = dsn ? (dsnPart(dsn, 'Data Source') ?? dsnPart(dsn, 'Server')) : null;
  const configDatabase = dsn ? (dsnPart(dsn, 'Initial Catalog') ?? dsnPart(dsn, 'Database')) : null;
  // The farm's SQL alias (cliconfg): "DBMSSOCN,sql-a.corp.example.com,1433"; default port 1433.
  const aliases = isRecord(value.Aliases) ? value.Aliases : {};
  const alias = databaseServer ? Object.entries(aliases).find(([k]) => k.toLowerCase() === databaseServer.toLowerCase())?.[1] : undefined;
  const sqlPort = num(s(alias).split(',')[2]) ?? 1433;
  const webPorts = toArray(value.WebServicePorts)
    .map(num)
    .filter((p): p is number => p !== null);
  const facts = {
    build: { version: s(value.BuildVersion), cu: null, languagePacks: toArray(value.LanguagePacks).map(s).filter(Boolean) },
    farm: databaseServer && configDatabase ? { configDatabase, databaseServer } : null,
    services: toArray(value.Services)
      .filter(isRecord)
      .map((x) => ({ name: s(x.Name), displayName: s(x.DisplayName), ports: s(x.Name).toUpperCase() === 'W3SVC' ? webPorts : [] })),
    sqlPort,
    urls: toArray(value.Urls)
      .filter(isRecord)
      .map((u) => ({ zone: s(u.Zone), url: s(u.Url) })),
  };
  const parsed = sharepointFactsSchema.safeParse(facts);
  if (!parsed.success) throw new Error(`SharePoint facts do not fit the schema: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

export async function collectSharepointValidation(io: FactsIO): Promise<SharepointFacts> {
  return parseSharepointValidation(await powerShellJson(io, 'sharepoint-validation', SHAREPOINT_VALIDATION_SCRIPT, 120_000));
}
