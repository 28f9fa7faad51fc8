// Reading processes, their sockets and local users from /proc and /etc/passwd (Linux).
import type { FactsIO } from './io.ts';
import { readFileOrNull } from './io.ts';
import { mapLimit } from './util.ts';

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Every process whose argv[0] basename is one of `names` (the executable, not a rewritten title). */
export async function findProcesses(io: FactsIO, names: readonly string[]): Promise<ProcessInfo[]> {
  const pids = (await io.readDir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  const found = await mapLimit(pids, 64, async (pid) => {
    const cmdline = await readFileOrNull(io, `/proc/${pid}/cmdline`);
    if (!cmdline) return null; // Kernel thread, or gone.
    const argv = cmdline.split('\0');
    if (argv.at(-1) === '') argv.pop();
    const base = (argv[0] ?? '').split('/').pop() ?? '';
    return names.includes(base) ? { pid, argv } : null;
  });
  return found.filter((p): p is ProcessInfo => p !== null);
}

/** The value of `--name=value` or `--name value` in an argument vector (last one wins). */
export function longOption(argv: readonly string[], name: string): string | null {
  let value: string | null = null;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    // mysqld accepts dashes and underscores interchangeably in option names.
    const normalized = a.replace(/^(--[^=]*)/, (m) => m.replace(/_/g, '-'));
    if (normalized.startsWith(`--${name}=`)) value = a.slice(a.indexOf('=') + 1);
    else if (normalized === `--${name}` && i + 1 < argv.length) value = argv[++i]!;
  }
  return value;
}

/** The value of a short option such as `-D dir` or `-Ddir`. */
export function shortOption(argv: readonly string[], flag: string): string | null {
  let value: string | null = null;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `-${flag}` && i + 1 < argv.length) value = argv[++i]!;
    else if (a.startsWith(`-${flag}`) && a.length > 2) value = a.slice(2);
  }
  return value;
}

export async function processCwd(io: FactsIO, pid: number): Promise<string | null> {
  try {
    return await io.readLink(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

export interface ProcessSockets {
  /** TCP ports the process listens on. */
  tcpPorts: number[];
  /** Paths of Unix sockets the process has open. */
  unixPaths: string[];
}

/** The listening TCP ports and Unix socket paths of a process (via its fds and its network namespace). */
export async function processSockets(io: FactsIO, pid: number): Promise<ProcessSockets> {
  const inodes = new Set<string>();
  try {
    const fds = await io.readDir(`/proc/${pid}/fd`);
    await mapLimit(fds, 32, async (fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(await io.readLink(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // Closed meanwhile.
      }
    });
  } catch {
    return { tcpPorts: [], unixPaths: [] };
  }
  const [tcp, tcp6, unix] = await Promise.all(
    (['tcp', 'tcp6', 'unix'] as const).map((f) => readFileOrNull(io, `/proc/${pid}/net/${f}`).then((t) => t ?? '')),
  );
  const tcpPorts = new Set<number>();
  for (const line of `${tcp ?? ''}\n${tcp6 ?? ''}`.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
    const port = parseInt(f[1]!.split(':').pop() ?? '', 16);
    if (Number.isInteger(port)) tcpPorts.add(port);
  }
  const unixPaths: string[] = [];
  for (const line of (unix ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path
    if (f.length >= 8 && inodes.has(f[6]!) && f[7]!.startsWith('/')) unixPaths.push(f.slice(7).join(' '));
  }
  return { tcpPorts: [...tcpPorts].sort((a, b) => a - b), unixPaths };
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export async function userByUid(io: FactsIO, uid: number): Promise<PasswdEntry | null> {
  const passwd = (await readFileOrNull(io, '/etc/passwd')) ?? '';
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && Number(f[2]) === uid) return { name: f[0]!, uid, gid: Number(f[3]), home: f[5]! };
  }
  // Users from NSS (LDAP, SSSD) are not in /etc/passwd.
  try {
    const r = await io.run('getent', ['passwd', String(uid)], { timeoutMs: 5_000 });
    const f = r.stdout.trim().split(':');
    if (r.code === 0 && f.length >= 7) return { name: f[0]!, uid, gid: Number(f[3]), home: f[5]! };
  } catch {
    // No getent.
  }
  return null;
}
