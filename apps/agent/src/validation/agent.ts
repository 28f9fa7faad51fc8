// The agent itself: the account it runs as with its effective capabilities, its capability
// modules, and whether it can place and run hooks.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ValidationFacts } from '@tandem/engine';
import { which } from '../facts/io.ts';
import { clip, firstLine } from '../facts/util.ts';
import { userName, type ValidationContext } from './context.ts';
import { mountOf, nearestExisting, readMounts } from './storage.ts';

type OkData<K extends keyof ValidationFacts> = Extract<ValidationFacts[K], { status: 'ok' }>['data'];

/** The user a packaged (non-root) installation runs the agent as. */
export const PACKAGED_SERVICE_USER = 'tandem-agent';

/** Linux capability numbers (capability.h), in order. */
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]; // prettier-ignore

/** Decodes a CapEff mask (hex) into capability names; unnamed bits as CAP_<n>. */
export function decodeCapabilities(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim() || '0'}`);
  const names: string[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    if ((mask >> bit) & 1n) names.push(CAPABILITIES[Number(bit)] ?? `CAP_${bit}`);
  }
  return names;
}

export async function collectAccount(ctx: ValidationContext): Promise<OkData<'account'>> {
  const status = await ctx.io.readFile('/proc/self/status');
  const capEff = /^CapEff:\s*([0-9a-f]+)/im.exec(status)?.[1];
  if (!capEff) throw new Error('/proc/self/status has no CapEff line');
  const name = (await userName(ctx, ctx.uid)) ?? `uid ${ctx.uid}`;
  const kind = ctx.uid === 0 ? 'root' : name === PACKAGED_SERVICE_USER ? 'service-user' : 'local';
  return { kind, name: clip(name), privileges: decodeCapabilities(capEff) };
}

/**
 * Capability modules, from the actions this agent build carries: `core` (replication, services,
 * hooks, files) always, and one per family of actions it has (dns.*, postgresql.*, cluster.*).
 * All ship inside the agent, so each has the agent's version and is loaded.
 */
const MODULE_PREFIXES: Record<string, string> = { dns: 'dns.', postgres: 'postgresql.', cluster: 'cluster.' };

export function collectModules(ctx: ValidationContext): OkData<'modules'> {
  const names = ['core', ...Object.entries(MODULE_PREFIXES).filter(([, prefix]) => ctx.actionNames.some((a) => a.startsWith(prefix))).map(([m]) => m)];
  return names.map((name) => ({ name, version: ctx.agentVersion, state: 'loaded' as const, error: null }));
}

const INTERPRETERS = ['bash', 'sh', 'python3', 'pwsh'] as const;

/** `bash --version` → 5.2.15, `Python 3.11.2` → 3.11.2, `PowerShell 7.4.1` → 7.4.1. */
export function versionFrom(text: string): string | null {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(firstLine(text))?.[1] ?? null;
}

async function interpreterVersion(ctx: ValidationContext, name: (typeof INTERPRETERS)[number]): Promise<string | null> {
  const bin = await which(ctx.io, name);
  if (!bin) return null;
  const r = await ctx.io.run(bin, ['--version'], { timeoutMs: 5_000 }).catch(() => null);
  const version = r && r.code === 0 ? versionFrom(r.stdout || r.stderr) : null;
  if (version) return clip(version);
  // dash and busybox sh have no --version: name the shell it is instead.
  return clip(path.basename(await realpath(bin).catch(() => bin)));
}

/** sha256 over the deployed hook files (name and content, sorted); null when there are none. */
async function hooksDigest(dir: string): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return null;
  }
  const hash = createHash('sha256');
  let files = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    if (!(await stat(file).catch(() => null))?.isFile()) continue;
    hash.update(`${name}\0${createHash('sha256').update(await readFile(file)).digest('hex')}\n`);
    files++;
  }
  return files > 0 ? hash.digest('hex') : null;
}

export async function collectHooks(ctx: ValidationContext): Promise<OkData<'hooks'>> {
  const dir = path.resolve(ctx.hooksDir);
  const s = await stat(dir).catch(() => null);
  const exists = s?.isDirectory() ?? false;
  const writable = exists && (await access(dir, constants.W_OK | constants.X_OK).then(() => true, () => false));
  const [mounts, where] = await Promise.all([readMounts(ctx), nearestExisting(dir)]);
  const noexec = mountOf(mounts, where)?.options.includes('noexec') ?? false;
  const versions = await Promise.all(INTERPRETERS.map((i) => interpreterVersion(ctx, i)));
  return {
    dir: clip(dir),
    exists,
    writable,
    noexec,
    interpreters: Object.fromEntries(INTERPRETERS.map((i, n) => [i, versions[n] ?? null])) as OkData<'hooks'>['interpreters'],
    bundleDigest: exists ? await hooksDigest(dir) : null,
    // The agent has no local switch that turns hooks off: hook.run is always available.
    allowed: true,
  };
}
