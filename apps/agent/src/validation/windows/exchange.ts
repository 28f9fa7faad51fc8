// app.exchange for validate.facts on a Windows agent (catalogue §2.14): the Exchange Management
// Shell snap-in run locally on the Exchange server. Get-ExchangeServer (build, roles, edition,
// administrative group), Get-OrganizationConfig, Get-MailboxDatabase -Status (this server's
// databases: mounted, paths, log prefix, circular logging), Get-TransportService (queue, pickup and
// replay paths) and Get-ReceiveConnector (bindings). Page zeroing is the information store's
// "Zero Database Pages During Backup" registry value (absent = off).
import { exchangeFactsSchema, type ExchangeFacts } from '@tandem/engine';
import type { FactsIO } from '../../facts/io.ts';
import { bool, isRecord, powerShellJson, str, toArray } from '../../facts/util.ts';

export const EXCHANGE_VALIDATION_SCRIPT = `
Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn -ErrorAction SilentlyContinue
if (-not (Get-Command Get-ExchangeServer -ErrorAction SilentlyContinue)) { throw 'the Exchange Management Shell is not installed on this server' }
$name = $env:COMPUTERNAME
$server = Get-ExchangeServer -Identity $name
$org = Get-OrganizationConfig
$zero = (Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeIS\\ParametersSystem' -ErrorAction SilentlyContinue).'Zero Database Pages During Backup'
$dbs = @(Get-MailboxDatabase -Server $name -Status | ForEach-Object {
  [pscustomobject]@{ Name = [string]$_.Name; Mounted = [bool]$_.Mounted; EdbFilePath = [string]$_.EdbFilePath; LogFolderPath = [string]$_.LogFolderPath; LogFilePrefix = [string]$_.LogFilePrefix; CircularLoggingEnabled = [bool]$_.CircularLoggingEnabled }
})
$transport = Get-TransportService -Identity $name -ErrorAction SilentlyContinue
$bindings = @(Get-ReceiveConnector -Server $name | ForEach-Object { $c = [string]$_.Name; foreach ($b in $_.Bindings) { [pscustomobject]@{ Connector = $c; Binding = [string]$b } } })
[pscustomobject]@{
  AdminDisplayVersion = [string]$server.AdminDisplayVersion
  ServerRole = [string]$server.ServerRole
  Edition = [string]$server.Edition
  ExchangeLegacyDN = [string]$server.ExchangeLegacyDN
  Organization = [string]$org.Name
  PageZeroing = $zero
  Databases = $dbs
  Transport = if ($transport) { [pscustomobject]@{ QueueDatabasePath = [string]$transport.QueueDatabasePath; PickupDirectoryPath = [string]$transport.PickupDirectoryPath; ReplayDirectoryPath = [string]$transport.ReplayDirectoryPath } } else { $null }
  Bindings = $bindings
} | ConvertTo-Json -Depth 5 -Compress`;

/** "Version 15.2 (Build 1544.4)" → 15.2.1544.4. */
export function exchangeBuild(adminDisplayVersion: string): string {
  const m = /Version\s+(\d+)\.(\d+)\s+\(Build\s+(\d+)\.(\d+)\)/i.exec(adminDisplayVersion);
  return m ? `${m[1]}.${m[2]}.${m[3]}.${m[4]}` : adminDisplayVersion.trim();
}

const EDITIONS: Record<string, ExchangeFacts['edition']> = { standard: 'standard', enterprise: 'enterprise', standardevaluation: 'evaluation', enterpriseevaluation: 'evaluation', coexistence: 'coexistence', coexistencestandard: 'coexistence', coexistenceenterprise: 'coexistence' };

/** Parses the script's output into app.exchange; throws when it does not fit the schema. */
export function parseExchangeValidation(value: unknown): ExchangeFacts {
  if (!isRecord(value)) throw new Error('the Exchange script printed no result');
  const s = (v: unknown) => str(v) ?? '';
  const legacyDn = s(value.ExchangeLegacyDN);
  const adminGroup = /\/ou=([^/]+)/i.exec(legacyDn)?.[1] ?? '';
  const pageZeroing = bool(value.PageZeroing) === true;
  const t = isRecord(value.Transport) ? value.Transport : null;
  const facts = {
    version: exchangeBuild(s(value.AdminDisplayVersion)),
    cu: null,
    roles: s(value.ServerRole)
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    edition: EDITIONS[s(value.Edition).toLowerCase()] ?? 'unknown',
    organization: s(value.Organization),
    adminGroup,
    databases: toArray(value.Databases)
      .filter(isRecord)
      .map((d) => ({
        name: s(d.Name),
        publicFolder: false,
        mounted: bool(d.Mounted) === true,
        edbFilePath: s(d.EdbFilePath),
        logFolderPath: s(d.LogFolderPath),
        logPrefix: s(d.LogFilePrefix),
        circularLogging: bool(d.CircularLoggingEnabled) === true,
        pageZeroing,
        systemPath: null,
        streamingPath: null,
      })),
    transport: t ? { queueDatabasePath: s(t.QueueDatabasePath), pickupDirectory: s(t.PickupDirectoryPath), replayDirectory: s(t.ReplayDirectoryPath) } : null,
    receiveBindings: toArray(value.Bindings)
      .filter(isRecord)
      .flatMap((b) => {
        // "0.0.0.0:25", "[::]:25", "10.0.0.10:2525".
        const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s(b.Binding));
        return m ? [{ connector: s(b.Connector), address: m[1]!, port: Number(m[2]) }] : [];
      }),
  };
  const parsed = exchangeFactsSchema.safeParse(facts);
  if (!parsed.success) throw new Error(`Exchange facts do not fit the schema: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

export async function collectExchangeValidation(io: FactsIO): Promise<ExchangeFacts> {
  return parseExchangeValidation(await powerShellJson(io, 'exchange-validation', EXCHANGE_VALIDATION_SCRIPT, 120_000));
}
