// Everything a collector may touch outside its own code, bundled so tests can replace parts of it
// (recorded Windows/Pacemaker outputs, a runner or file reader that fails on purpose).
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand, type CommandRunner } from '../exec.ts';

export interface FileStat {
  uid: number;
  gid: number;
  mode: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface SystemInfo {
  hostname(): string;
  release(): string;
  cpuCount(): number;
  totalMemory(): number;
  uptime(): number;
  networkInterfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export interface FactsIO {
  platform: NodeJS.Platform;
  run: CommandRunner;
  readFile(file: string): Promise<string>;
  readDir(dir: string): Promise<string[]>;
  readLink(file: string): Promise<string>;
  stat(file: string): Promise<FileStat>;
  system: SystemInfo;
}

export const nodeSystem: SystemInfo = {
  hostname: () => os.hostname(),
  release: () => os.release(),
  cpuCount: () => os.cpus().length || os.availableParallelism(),
  totalMemory: () => os.totalmem(),
  uptime: () => os.uptime(),
  networkInterfaces: () => os.networkInterfaces(),
};

export type FactsIOOverrides = Partial<Omit<FactsIO, 'system'>> & { system?: Partial<SystemInfo> };

export function defaultIO(overrides: FactsIOOverrides = {}): FactsIO {
  return {
    platform: overrides.platform ?? process.platform,
    run: overrides.run ?? runCommand,
    readFile: overrides.readFile ?? ((file) => readFile(file, 'utf8')),
    readDir: overrides.readDir ?? ((dir) => readdir(dir)),
    readLink: overrides.readLink ?? ((file) => readlink(file)),
    stat:
      overrides.stat ??
      (async (file) => {
        const s = await stat(file);
        return { uid: s.uid, gid: s.gid, mode: s.mode, isFile: s.isFile(), isDirectory: s.isDirectory() };
      }),
    system: { ...nodeSystem, ...overrides.system },
  };
}

export async function exists(io: FactsIO, file: string): Promise<boolean> {
  try {
    await io.stat(file);
    return true;
  } catch {
    return false;
  }
}

export async function readFileOrNull(io: FactsIO, file: string): Promise<string | null> {
  try {
    return await io.readFile(file);
  } catch {
    return null;
  }
}

const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The full path of an executable on PATH (plus the sbin directories a service manager's PATH may lack), or null. */
export async function which(io: FactsIO, name: string): Promise<string | null> {
  if (io.platform === 'win32') return null; // Windows collectors call PowerShell by name.
  const dirs = [...new Set([...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SYSTEM_BIN_DIRS])];
  for (const dir of dirs) {
    const candidate = path.posix.join(dir, name);
    try {
      const s = await io.stat(candidate);
      if (s.isFile && (s.mode & 0o111) !== 0) return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}
