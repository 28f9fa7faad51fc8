// File shares. Linux: Samba shares from /etc/samba/smb.conf (sections with a path, except
// [global], [printers], [print$] and shares marked `available = no`; `include =` files and
// registry shares are not followed) and NFS exports from /etc/exports and /etc/exports.d/*.exports
// (an export's name is its path). Windows: Get-SmbShare, without administrative/special shares
// (names ending in $). Reported as one file_server application when there is at least one share.
import type { ApplicationFacts } from '@tandem/protocol';
import { readFileOrNull, type FactsIO } from '../io.ts';
import { clip, isRecord, powerShellJson, str, toArray } from '../util.ts';

type FileServerFacts = Extract<ApplicationFacts, { kind: 'file_server' }>;
type Share = FileServerFacts['shares'][number];

/** Joins backslash-continued lines. */
function logicalLines(text: string): string[] {
  return text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
}

/** One smb.conf section: its name and parameters (names lower-cased, inner spaces collapsed; a later line wins). */
export interface SmbSection {
  name: string;
  params: Record<string, string>;
}

export function parseSmbSections(text: string): SmbSection[] {
  const sections: SmbSection[] = [];
  let section: SmbSection | null = null;
  for (const raw of logicalLines(text)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = { name: header[1]!.trim(), params: {} };
      sections.push(section);
      continue;
    }
    const kv = /^([^=]+)=(.*)$/.exec(line);
    if (!kv || !section) continue;
    section.params[kv[1]!.trim().toLowerCase().replace(/\s+/g, ' ')] = kv[2]!.trim();
  }
  return sections;
}

/** The sections of smb.conf that are shares (a path, not [global]/[printers]/[print$], not `available = no`). */
export function smbShareSections(text: string): (SmbSection & { path: string })[] {
  return parseSmbSections(text).flatMap((s) => {
    const path = s.params.path ?? s.params.directory;
    const lower = s.name.toLowerCase();
    if (path === undefined || lower === 'global' || lower === 'printers' || lower === 'print$') return [];
    if (/^(no|false|0)$/i.test(s.params.available ?? '')) return [];
    return [{ ...s, path }];
  });
}

export function parseSmbConf(text: string): Share[] {
  return smbShareSections(text).map((s) => ({ protocol: 'smb' as const, name: clip(s.name), path: clip(s.path) }));
}

/** One /etc/exports line: the path and its clients with their options (a client without options gets the line's `-` defaults). */
export interface ExportEntry {
  path: string;
  clients: { client: string; options: string[] }[];
}

export function parseExportEntries(text: string): ExportEntry[] {
  const entries: ExportEntry[] = [];
  for (const raw of logicalLines(text)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = /^"([^"]+)"|^(\S+)/.exec(line);
    const p = m?.[1] ?? m?.[2];
    if (!p?.startsWith('/')) continue;
    let defaults: string[] = [];
    const clients: ExportEntry['clients'] = [];
    for (const word of line.slice(m![0].length).trim().split(/\s+/).filter(Boolean)) {
      if (word.startsWith('-')) {
        defaults = word.slice(1).split(',').filter(Boolean);
        continue;
      }
      const c = /^([^(]*)(?:\(([^)]*)\))?$/.exec(word);
      if (!c) continue;
      clients.push({ client: c[1] || '*', options: c[2] !== undefined ? c[2].split(',').filter(Boolean) : defaults });
    }
    // A path with no client is exported to everyone with the defaults.
    entries.push({ path: p, clients: clients.length > 0 ? clients : [{ client: '*', options: defaults }] });
  }
  return entries;
}

export function parseExports(text: string): Share[] {
  const shares: Share[] = [];
  for (const e of parseExportEntries(text)) {
    if (!shares.some((s) => s.path === e.path)) shares.push({ protocol: 'nfs', name: clip(e.path), path: clip(e.path) });
  }
  return shares;
}

export const SMB_CONF = '/etc/samba/smb.conf';
export const EXPORTS_FILE = '/etc/exports';
export const EXPORTS_D = '/etc/exports.d';

async function linuxShares(io: FactsIO): Promise<Share[]> {
  const [smb, exports] = await Promise.all([readFileOrNull(io, SMB_CONF), readFileOrNull(io, EXPORTS_FILE)]);
  const shares = [...parseSmbConf(smb ?? ''), ...parseExports(exports ?? '')];
  let extra: string[] = [];
  try {
    extra = (await io.readDir(EXPORTS_D)).filter((f) => f.endsWith('.exports')).sort();
  } catch {
    // No exports.d.
  }
  for (const f of extra) {
    for (const s of parseExports((await readFileOrNull(io, `${EXPORTS_D}/${f}`)) ?? '')) {
      if (!shares.some((x) => x.protocol === 'nfs' && x.path === s.path)) shares.push(s);
    }
  }
  return shares;
}

const WINDOWS_SHARES_SCRIPT = `
@(Get-SmbShare | Select-Object Name, Path, Description, Special, ScopeName) | ConvertTo-Json`;

/** Parses Get-SmbShare output (exported for recorded-output tests). */
export function parseWindowsShares(value: unknown): Share[] {
  return toArray(value)
    .filter(isRecord)
    .filter((s) => {
      const name = str(s.Name);
      return !!name && !name.endsWith('$') && s.Special !== true && !!str(s.Path);
    })
    .map((s) => ({ protocol: 'smb' as const, name: clip(str(s.Name)!), path: clip(str(s.Path)!) }));
}

export async function collectFileShares(io: FactsIO): Promise<FileServerFacts[]> {
  const shares =
    io.platform === 'win32'
      ? parseWindowsShares(await powerShellJson(io, 'smb-shares', WINDOWS_SHARES_SCRIPT))
      : await linuxShares(io);
  return shares.length > 0 ? [{ kind: 'file_server', shares: shares.slice(0, 10_000) }] : [];
}
