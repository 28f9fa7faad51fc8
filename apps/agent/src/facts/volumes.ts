// Volume facts: mounted file systems with size and free space.
// Linux: `df -PTB1`, keeping file systems that hold data (local disks and network mounts) and
// leaving out pseudo and in-memory ones (tmpfs, devtmpfs, proc, sysfs, cgroup, overlay, squashfs
// and similar) and anything reporting a size of 0. Windows: Get-Volume, keeping volumes with a
// drive letter that are not optical drives (volumes mounted only into folders are not listed).
import type { VolumeFacts } from '@tandem/protocol';
import type { FactsIO } from './io.ts';
import { clip, isRecord, num, powerShellJson, str, toArray } from './util.ts';

export const PSEUDO_FILE_SYSTEMS = new Set([
  'tmpfs',
  'devtmpfs',
  'ramfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'devpts',
  'securityfs',
  'pstore',
  'debugfs',
  'tracefs',
  'mqueue',
  'hugetlbfs',
  'fusectl',
  'configfs',
  'autofs',
  'binfmt_misc',
  'efivarfs',
  'bpf',
  'nsfs',
  'rpc_pipefs',
  'nfsd',
  'overlay',
  'aufs',
  'squashfs',
  'iso9660',
  'udf',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'fuse.snapfuse',
]);

/** Parses `df -PTB1` (device, type, size, used, available, capacity, mount point). */
export function parseDf(text: string): VolumeFacts {
  const volumes: VolumeFacts = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const [device, type, size, , available, capacity] = f;
    if (!/^\d+%$|^-$/.test(capacity!)) continue; // Not a data line.
    const mountPoint = f.slice(6).join(' ');
    const sizeBytes = Number(size);
    const freeBytes = Number(available);
    if (PSEUDO_FILE_SYSTEMS.has(type!) || !Number.isFinite(sizeBytes) || sizeBytes <= 0) continue;
    volumes.push({
      mountPoint: clip(mountPoint),
      device: device && device !== 'none' ? clip(device) : null,
      fileSystem: clip(type!),
      sizeBytes,
      freeBytes: Number.isFinite(freeBytes) ? Math.max(0, freeBytes) : 0,
    });
  }
  return volumes.slice(0, 1024);
}

async function collectLinuxVolumes(io: FactsIO): Promise<VolumeFacts> {
  const r = await io.run('df', ['-PTB1'], { timeoutMs: 20_000, env: { ...process.env, LC_ALL: 'C' } });
  // df exits 1 when one mount cannot be read (a stale NFS mount) but still prints the others.
  const volumes = parseDf(r.stdout);
  if (r.code !== 0 && volumes.length === 0) throw new Error(`df failed (exit ${r.code}): ${clip(r.stderr.trim(), 500)}`);
  return volumes;
}

const WINDOWS_VOLUMES_SCRIPT = `
@(Get-Volume | Select-Object @{n='DriveLetter';e={[string]$_.DriveLetter}}, FileSystemLabel, FileSystem,
  @{n='DriveType';e={[string]$_.DriveType}}, Size, SizeRemaining, Path) | ConvertTo-Json -Depth 3`;

/** Parses Get-Volume output (exported for recorded-output tests). */
export function parseWindowsVolumes(value: unknown): VolumeFacts {
  const volumes: VolumeFacts = [];
  for (const v of toArray(value).filter(isRecord)) {
    let letter = v.DriveLetter;
    if (typeof letter === 'number') letter = letter > 0 ? String.fromCharCode(letter) : null; // A [char] serialized as its code.
    const driveLetter = (str(letter) ?? '').replace(/\0/g, '').trim();
    const driveType = str(v.DriveType) ?? '';
    if (!/^[A-Za-z]$/.test(driveLetter) || driveType === 'CD-ROM' || driveType === '5') continue;
    const size = num(v.Size) ?? 0;
    if (size <= 0) continue;
    volumes.push({
      mountPoint: `${driveLetter.toUpperCase()}:`,
      device: str(v.Path) ? clip(str(v.Path)!) : null,
      fileSystem: str(v.FileSystem) || str(v.FileSystemType) || null,
      sizeBytes: size,
      freeBytes: Math.max(0, num(v.SizeRemaining) ?? 0),
    });
  }
  return volumes.slice(0, 1024);
}

export async function collectVolumes(io: FactsIO): Promise<VolumeFacts> {
  if (io.platform === 'win32') return parseWindowsVolumes(await powerShellJson(io, 'volumes', WINDOWS_VOLUMES_SCRIPT));
  if (io.platform === 'linux') return collectLinuxVolumes(io);
  throw new Error(`volume facts are not supported on ${io.platform}`);
}
