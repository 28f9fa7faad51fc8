// Exchange Server (Windows). Installed when the Exchange 2013+ setup key exists in the registry;
// then the Exchange Management Shell snap-in is loaded and Get-ExchangeServer (this server's
// version and roles) and Get-MailboxDatabase -Status (databases with a copy on this server: EDB
// path, log folder, mounted) are read.
import type { ApplicationFacts } from '@tandem/protocol';
import type { FactsIO } from '../io.ts';
import { bool, clip, isRecord, powerShellJson, str, toArray } from '../util.ts';

type ExchangeFacts = Extract<ApplicationFacts, { kind: 'exchange' }>;

const EXCHANGE_SCRIPT = `
if (-not (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup')) { '{"installed":false}'; return }
Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn
$server = Get-ExchangeServer -Identity $env:COMPUTERNAME |
  Select-Object Name, @{n='AdminDisplayVersion';e={[string]$_.AdminDisplayVersion}}, @{n='ServerRole';e={[string]$_.ServerRole}}
$databases = @(Get-MailboxDatabase -Server $env:COMPUTERNAME -Status |
  Select-Object Name, @{n='EdbFilePath';e={[string]$_.EdbFilePath}}, @{n='LogFolderPath';e={[string]$_.LogFolderPath}}, Mounted)
[pscustomobject]@{ installed = $true; server = $server; databases = $databases } | ConvertTo-Json -Depth 4`;

/** "Version 15.2 (Build 1118.7)" → "15.2.1118.7". */
export function exchangeVersion(adminDisplayVersion: string | null): string | null {
  if (!adminDisplayVersion) return null;
  const m = /Version\s+(\d+\.\d+)\s+\(Build\s+(\d+\.\d+)\)/i.exec(adminDisplayVersion);
  return m ? `${m[1]}.${m[2]}` : adminDisplayVersion;
}

/** An Exchange path serialized as a string, or as an object with PathName. */
function pathValue(value: unknown): string | null {
  if (isRecord(value)) return str(value.PathName);
  const s = str(value);
  return s && s !== '' ? s : null;
}

/** Parses the Exchange script's output (exported for recorded-output tests). */
export function parseExchange(value: unknown): ExchangeFacts[] {
  if (!isRecord(value) || value.installed !== true) return [];
  const server = isRecord(value.server) ? value.server : {};
  const roles = (str(server.ServerRole) ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '' && r !== 'None');
  const databases = toArray(value.databases)
    .filter(isRecord)
    .filter((d) => !!str(d.Name))
    .map((d) => {
      const edb = pathValue(d.EdbFilePath);
      const log = pathValue(d.LogFolderPath);
      return {
        name: clip(str(d.Name)!),
        edbPath: edb ? clip(edb) : null,
        logPath: log ? clip(log) : null,
        mounted: bool(d.Mounted),
      };
    });
  const version = exchangeVersion(str(server.AdminDisplayVersion));
  return [
    {
      kind: 'exchange',
      version: version ? clip(version) : null,
      roles: roles.slice(0, 32).map((r) => clip(r)),
      databases: databases.slice(0, 10_000),
    },
  ];
}

export async function collectExchange(io: FactsIO): Promise<ExchangeFacts[]> {
  return parseExchange(await powerShellJson(io, 'exchange', EXCHANGE_SCRIPT, 120_000));
}
