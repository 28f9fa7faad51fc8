// Host facts: names, operating system, kernel, CPUs, memory, uptime.
// Linux: Node's os module, /etc/os-release and `hostname -f`. Windows: one PowerShell query of
// Win32_OperatingSystem and Win32_ComputerSystem.
import type { HostFacts } from '@tandem/protocol';
import { readFileOrNull, type FactsIO } from './io.ts';
import { clip, firstLine, isRecord, num, powerShellJson, str } from './util.ts';

export async function collectHost(io: FactsIO, clockOffsetMs: number | null): Promise<HostFacts> {
  if (io.platform === 'win32') return collectWindowsHost(io, clockOffsetMs);
  if (io.platform === 'linux') return collectLinuxHost(io, clockOffsetMs);
  throw new Error(`host facts are not supported on ${io.platform}`);
}

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = value;
  }
  return out;
}

async function linuxFqdn(io: FactsIO): Promise<string | null> {
  try {
    const r = await io.run('hostname', ['-f'], { timeoutMs: 5_000 });
    const name = firstLine(r.stdout);
    // A name without a dot is not fully qualified (no domain configured): report null.
    return r.code === 0 && name.includes('.') ? clip(name) : null;
  } catch {
    return null;
  }
}

async function collectLinuxHost(io: FactsIO, clockOffsetMs: number | null): Promise<HostFacts> {
  const [osReleaseText, fqdn] = await Promise.all([
    readFileOrNull(io, '/etc/os-release').then((t) => t ?? readFileOrNull(io, '/usr/lib/os-release')),
    linuxFqdn(io),
  ]);
  const rel = parseOsRelease(osReleaseText ?? '');
  return {
    hostname: clip(io.system.hostname()),
    fqdn,
    osFamily: 'linux',
    osName: clip(rel.PRETTY_NAME ?? rel.NAME ?? 'Linux'),
    osVersion: clip(rel.VERSION_ID ?? rel.VERSION ?? rel.BUILD_ID ?? ''),
    kernel: clip(io.system.release()),
    cpuCount: io.system.cpuCount(),
    memoryBytes: io.system.totalMemory(),
    uptimeSeconds: Math.floor(io.system.uptime()),
    clockOffsetMs,
  };
}

const WINDOWS_HOST_SCRIPT = `
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
[pscustomobject]@{
  CSName = $os.CSName
  Caption = $os.Caption
  Version = $os.Version
  BuildNumber = $os.BuildNumber
  TotalVisibleMemorySize = $os.TotalVisibleMemorySize
  UptimeSeconds = [math]::Floor(((Get-Date) - $os.LastBootUpTime).TotalSeconds)
  DNSHostName = $cs.DNSHostName
  Domain = $cs.Domain
  PartOfDomain = $cs.PartOfDomain
  NumberOfLogicalProcessors = $cs.NumberOfLogicalProcessors
  TotalPhysicalMemory = $cs.TotalPhysicalMemory
} | ConvertTo-Json`;

/** Parses the Windows host query (exported for recorded-output tests). */
export function parseWindowsHost(value: unknown, clockOffsetMs: number | null): HostFacts {
  if (!isRecord(value)) throw new Error('Win32_OperatingSystem query printed no object');
  const hostname = str(value.DNSHostName) ?? str(value.CSName);
  if (!hostname) throw new Error('Win32_OperatingSystem query has no computer name');
  const domain = str(value.Domain);
  const fqdn = value.PartOfDomain === true && domain ? `${hostname}.${domain}` : null;
  const version = str(value.Version) ?? '';
  const memory = num(value.TotalPhysicalMemory) ?? (num(value.TotalVisibleMemorySize) ?? 0) * 1024;
  return {
    hostname: clip(hostname),
    fqdn: fqdn ? clip(fqdn) : null,
    osFamily: 'windows',
    osName: clip((str(value.Caption) ?? 'Windows').replace(/^Microsoft\s+/, '').trim()),
    osVersion: clip(version),
    kernel: clip(`Windows NT ${version}`.trim()),
    cpuCount: Math.max(0, Math.trunc(num(value.NumberOfLogicalProcessors) ?? 0)),
    memoryBytes: Math.max(0, memory),
    uptimeSeconds: Math.max(0, num(value.UptimeSeconds) ?? 0),
    clockOffsetMs,
  };
}

async function collectWindowsHost(io: FactsIO, clockOffsetMs: number | null): Promise<HostFacts> {
  return parseWindowsHost(await powerShellJson(io, 'host', WINDOWS_HOST_SCRIPT), clockOffsetMs);
}
