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

export function parseSmbConf(text: string): Share[] {
  const shares: Share[] = [];
  let section: { name: string; path: string | null; available: boolean } | null = null;
  const flush = () => {
    if (!section || section.path === null || !section.available) return;
    const lower = section.name.toLowerCase();
    if (lower === 'global' || lower === 'printers' || lower === 'print$') return;
    shares.push({ protocol: 'smb', name: clip(section.name), path: clip(section.path) });
  };
  for (const raw of logicalLines(text)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      flush();
      section = { name: header[1]!.trim(), path: null, available: true };
      continue;
    }
    const kv = /^([^=]+)=(.*)$/.exec(line);
    if (!kv || !section) continue;
    const key = kv[1]!.toLowerCase().replace(/\s+/g, '');
    const value = kv[2]!.trim();
    if (key === 'path' || key === 'directory') section.path = value;
    else if (key === 'available') section.available = !/^(no|false|0)$/i.test(value);
  }
  flush();
  return shares;
}

export function parseExports(text: string): Share[] {
  const shares: Share[] = [];
  for (const raw of logicalLines(text)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = /^"([^"]+)"|^(\S+)/.exec(line);
    const p = m?.[1] ?? m?.[2];
    if (p?.startsWith('/') && !shares.some((s) => s.path === p)) shares.push({ protocol: 'nfs', name: clip(p), path: clip(p) });
  }
  return shares;
}

async function linuxShares(io: FactsIO): Promise<Share[]> {
  const [smb, exports] = await Promise.all([readFileOrNull(io, '/etc/samba/smb.conf'), readFileOrNull(io, '/etc/exports')]);
  const shares = [...parseSmbConf(smb ?? ''), ...parseExports(exports ?? '')];
  let extra: string[] = [];
  try {
    extra = (await io.readDir('/etc/exports.d')).filter((f) => f.endsWith('.exports')).sort();
  } catch {
    // No exports.d.
  }
  for (const f of extra) {
    for (const s of parseExports((await readFileOrNull(io, `/etc/exports.d/${f}`)) ?? '')) {
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
