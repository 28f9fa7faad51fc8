// The Linux application collectors of validate.facts (catalogue app names fileserver and
// generic). The file server facts build on the standing file-share discovery (smb.conf and
// /etc/exports); the generic service facts on the validation services collector. Each answers
// { status: 'unknown', reason } on its own when it cannot tell, never a made-up value.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import {
  fileserverFactsSchema,
  genericFactsSchema,
  type FileserverFacts,
  type GenericFacts,
  type ValidationFactsArgs,
} from '@tandem/engine';
import {
  EXPORTS_D,
  EXPORTS_FILE,
  parseExportEntries,
  smbShareSections,
  parseSmbSections,
  SMB_CONF,
  type ExportEntry,
} from '../facts/applications/fileshares.ts';
import { exists, which } from '../facts/io.ts';
import { INIT_D } from '../facts/services.ts';
import { clip, errorMessage, withTimeout } from '../facts/util.ts';
import { fdTable, type ValidationContext } from './context.ts';
import { parseProcNet } from './processes.ts';
import { collectValidationServices } from './services.ts';
import { mountFeatures, mountOf, readMounts, type Mount } from './storage.ts';

export type AppSection = { status: 'ok'; data: unknown } | { status: 'unknown'; reason: string };
type Share = FileserverFacts['shares'][number];

/** A file's text; null when it does not exist (other errors, such as permission denied, throw). */
async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new Error(`cannot read ${file}: ${errorMessage(e)}`);
  }
}

const yes = (v: string | undefined) => (v === undefined ? undefined : /^(yes|true|1|on)$/i.test(v));

/** Samba user lists: comma or space separated, possibly quoted. */
const smbList = (v: string | undefined) =>
  (v ?? '')
    .replace(/"/g, ' ')
    .split(/[\s,]+/)
    .filter(Boolean);

/** A Samba share in the schema's terms; share parameters fall back on [global]'s, then Samba's defaults. */
export function smbShare(
  section: { name: string; path: string; params: Record<string, string> },
  global: Record<string, string>,
  mounts: readonly Mount[],
): Share {
  const param = (k: string) => section.params[k] ?? global[k];
  const writable =
    yes(section.params['read only']) !== undefined
      ? !yes(section.params['read only'])
      : (yes(section.params.writable) ?? yes(section.params.writeable) ?? yes(section.params['write ok']));
  const readOnly =
    writable !== undefined ? !writable : (yes(param('read only')) ?? !(yes(param('writable') ?? param('writeable')) ?? false));
  const access = new Map<string, string>();
  for (const p of smbList(param('valid users'))) access.set(p, readOnly ? 'ro' : 'rw');
  for (const p of smbList(param('write list'))) access.set(p, 'rw');
  return {
    name: clip(section.name),
    protocol: 'smb',
    path: clip(section.path),
    readOnly,
    options: Object.fromEntries(Object.entries(section.params).map(([k, v]) => [clip(k, 128), clip(v)])),
    acl: [...access].slice(0, 1000).map(([principal, a]) => ({ principal: clip(principal), access: a })),
    nestedMounts: nestedMounts(mounts, section.path),
  };
}

/** An NFS export in the schema's terms: read-only when no client may write (`ro` is NFS's default). */
export function nfsShare(entry: ExportEntry, mounts: readonly Mount[]): Share {
  const rw = (options: string[]) => options.lastIndexOf('rw') > options.lastIndexOf('ro');
  return {
    name: clip(entry.path),
    protocol: 'nfs',
    path: clip(entry.path),
    readOnly: entry.clients.every((c) => !rw(c.options)),
    options: Object.fromEntries(entry.clients.slice(0, 1000).map((c) => [clip(c.client, 128), clip(c.options.join(','))])),
    acl: entry.clients.slice(0, 1000).map((c) => ({ principal: clip(c.client), access: rw(c.options) ? 'rw' : 'ro' })),
    nestedMounts: nestedMounts(mounts, entry.path),
  };
}

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** Mount points strictly below a share's path. */
export function nestedMounts(mounts: readonly Mount[], sharePath: string): string[] {
  const root = trimSlash(path.posix.normalize(sharePath));
  const prefix = root === '/' ? '/' : `${root}/`;
  return mounts
    .map((m) => m.mountPoint)
    .filter((p) => p !== root && p.startsWith(prefix))
    .sort()
    .slice(0, 256)
    .map((p) => clip(p));
}

/** What the volume holding a path can carry: POSIX ACLs, extended attributes, SELinux labels. */
export function aclModesOf(mount: Mount | null, selinux: boolean): FileserverFacts['aclModes'][number]['modes'] {
  const modes: FileserverFacts['aclModes'][number]['modes'] = [];
  const features = mount ? mountFeatures(mount, new Set()) : [];
  if (features.includes('acl')) modes.push('posix-acl');
  if (features.includes('user_xattr')) modes.push('xattr');
  if (selinux) modes.push('selinux');
  return modes;
}

/** nfs.conf's [nfsd] version switches (vers3, vers4, vers4.1, …) as one string; `default` when it sets none. */
export function nfsVersions(nfsConf: string): string {
  let section = '';
  const set: string[] = [];
  for (const raw of nfsConf.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!.trim().toLowerCase();
    else if (section === 'nfsd') {
      const m = /^(vers[\d.]+)\s*=\s*(\S+)/i.exec(line);
      if (m) set.push(`${m[1]!.toLowerCase()}=${m[2]!.toLowerCase()}`);
    }
  }
  return set.length > 0 ? set.sort().join(',') : 'default';
}

/** name → id maps of a passwd or group file. */
export function idNames(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]!) && !out.has(Number(f[2]))) out.set(Number(f[2]), f[0]!);
  }
  return out;
}

export const PRINCIPAL_WALK_MAX = 2000;

/** Owner uids and gids of up to `max` entries under a directory (not following links or crossing into other mounts). */
async function owners(root: string, max: number, uids: Set<number>, gids: Set<number>): Promise<void> {
  let top;
  try {
    top = await stat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // A share whose path is gone owns nothing.
    throw new Error(`cannot examine ${root}: ${errorMessage(e)}`);
  }
  uids.add(top.uid);
  gids.add(top.gid);
  if (!top.isDirectory()) return;
  let seen = 1;
  const stack = [root];
  while (stack.length > 0 && seen < max) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`cannot list ${dir}: ${errorMessage(e)}`);
    }
    for (const name of names) {
      if (++seen > max) break;
      const p = path.join(dir, name);
      let s;
      try {
        s = await lstat(p);
      } catch {
        continue; // Removed while we walked.
      }
      uids.add(s.uid);
      gids.add(s.gid);
      if (s.isDirectory() && s.dev === top.dev) stack.push(p);
    }
  }
}

const anyExists = async (ctx: ValidationContext, files: string[]) =>
  (await Promise.all(files.map((f) => exists(ctx.io, f)))).some(Boolean);
const unitFiles = (unit: string) =>
  ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'].map((d) => `${d}/${unit}.service`);

async function servers(ctx: ValidationContext): Promise<FileserverFacts['servers']> {
  const smbd = (await exists(ctx.io, '/usr/sbin/smbd')) || (await which(ctx.io, 'smbd')) !== null;
  const nfsd = (await which(ctx.io, 'exportfs')) !== null || (await which(ctx.io, 'rpc.nfsd')) !== null;
  // Debian names the units smbd and nfs-kernel-server; Red Hat smb and nfs-server.
  let nfsService: string | null = null;
  for (const name of ['nfs-kernel-server', 'nfs-server']) {
    if (nfsd && (await anyExists(ctx, [`${INIT_D}/${name}`, ...unitFiles(name)]))) {
      nfsService = name;
      break;
    }
  }
  const smbService = smbd
    ? (await anyExists(ctx, [`${INIT_D}/smbd`, ...unitFiles('smbd')])) || !(await anyExists(ctx, unitFiles('smb')))
      ? 'smbd'
      : 'smb'
    : null;
  return { smb: { installed: smbd, service: smbService }, nfs: { installed: nfsd, service: nfsService } };
}

/**
 * `paths` are the pair's paths on this node (the worker's validate.facts paths): on the target the
 * replica, which holds the source's ids before any share there does, so their owners are resolved too.
 */
export async function collectLinuxFileserver(ctx: ValidationContext, paths: readonly string[] = []): Promise<FileserverFacts> {
  const smbText = (await readIfPresent(SMB_CONF)) ?? '';
  const exportTexts = [(await readIfPresent(EXPORTS_FILE)) ?? ''];
  let extra: string[] = [];
  try {
    extra = (await readdir(EXPORTS_D)).filter((f) => f.endsWith('.exports')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot list ${EXPORTS_D}: ${errorMessage(e)}`);
  }
  for (const f of extra) exportTexts.push((await readIfPresent(`${EXPORTS_D}/${f}`)) ?? '');
  const mounts = await readMounts(ctx);

  const global = parseSmbSections(smbText).find((s) => s.name.toLowerCase() === 'global')?.params ?? {};
  const shares: Share[] = smbShareSections(smbText).map((s) => smbShare(s, global, mounts));
  for (const entry of exportTexts.flatMap(parseExportEntries)) {
    if (!shares.some((x) => x.protocol === 'nfs' && x.path === entry.path)) shares.push(nfsShare(entry, mounts));
  }

  const serverConfig: Record<string, string> = Object.fromEntries(
    Object.entries(global).map(([k, v]) => [clip(`samba.global.${k}`, 256), clip(v)]),
  );
  const nfsConf = await readFile('/etc/nfs.conf', 'utf8').catch(() => null);
  if (nfsConf !== null) serverConfig['nfs.versions'] = nfsVersions(nfsConf);

  const selinux = await exists(ctx.io, '/sys/fs/selinux');
  const aclModes: FileserverFacts['aclModes'] = [];
  const uids = new Set<number>();
  const gids = new Set<number>();
  const sharePaths = [...new Set(shares.map((s) => s.path))].slice(0, 5000);
  for (const p of sharePaths) {
    const resolved = await realpath(p).catch(() => p);
    aclModes.push({ path: p, modes: aclModesOf(mountOf(mounts, resolved), selinux) });
  }
  for (const p of [...new Set([...sharePaths, ...paths.filter((x) => path.isAbsolute(x))])].slice(0, 5000))
    await owners(p, PRINCIPAL_WALK_MAX, uids, gids);
  const [passwd, group] = await Promise.all([readIfPresent('/etc/passwd'), readIfPresent('/etc/group')]);
  const users = idNames(passwd ?? '');
  const groups = idNames(group ?? '');
  const principals = [
    ...[...uids].sort((a, b) => a - b).map((id) => ({ id: `uid:${id}`, name: users.get(id) ?? null, local: users.has(id) })),
    ...[...gids].sort((a, b) => a - b).map((id) => ({ id: `gid:${id}`, name: groups.get(id) ?? null, local: groups.has(id) })),
  ];

  return {
    shares: shares.slice(0, 5000),
    servers: await servers(ctx),
    serverConfig,
    dfsLinks: [],
    aclModes,
    principals: principals.slice(0, 100_000),
  };
}

/** The program a unit's ExecStart runs: its first word without systemd's prefixes (-, @, +, !, :). */
export function execStartProgram(execStart: string): string | null {
  const first = execStart
    .trim()
    .split(/\s+/)[0]
    ?.replace(/^[-@+!:]+/, '')
    .replace(/^["']|["']$/g, '');
  return first || null;
}

/** Paths a definition names: EnvironmentFile (- means optional), WorkingDirectory, absolute ExecStart arguments. */
export function referencedPaths(definition: Record<string, string>): string[] {
  const out: string[] = [];
  for (const f of (definition.EnvironmentFile ?? '').split(/\s+/))
    if (f.replace(/^-/, '').startsWith('/')) out.push(f.replace(/^-/, ''));
  const wd = definition.WorkingDirectory?.replace(/^-/, '');
  if (wd?.startsWith('/')) out.push(wd);
  for (const word of (definition.ExecStart ?? '').trim().split(/\s+/).slice(1)) {
    const p = word.replace(/^["']|["']$/g, '').replace(/^--?[\w-]+=/, '');
    if (p.startsWith('/')) out.push(p);
  }
  return [...new Set(out)];
}

const DIGEST_MAX_BYTES = 1024 * 1024;

async function referencedFile(p: string): Promise<GenericFacts['referencedFiles'][number] | null> {
  let s;
  try {
    s = await stat(p);
  } catch {
    return null; // Only paths that exist are reported.
  }
  if (s.isDirectory()) return { path: clip(p), kind: 'dir', digest: null };
  if (!s.isFile()) return null;
  const digest =
    s.size <= DIGEST_MAX_BYTES
      ? createHash('sha256')
          .update(await readFile(p))
          .digest('hex')
      : null;
  return { path: clip(p), kind: 'file', digest };
}

/** Ports listened on by processes running `executable`. */
async function portsOf(ctx: ValidationContext, executable: string): Promise<GenericFacts['ports']> {
  const real = await realpath(executable).catch(() => executable);
  const owners = new Map<string, number>();
  for (const e of await fdTable(ctx)) {
    const m = /^socket:\[(\d+)\]$/.exec(e.target);
    if (m && !owners.has(m[1]!)) owners.set(m[1]!, e.pid);
  }
  const exeOf = new Map<number, Promise<string | null>>();
  const exe = (pid: number) => {
    if (!exeOf.has(pid))
      exeOf.set(
        pid,
        ctx.io.readLink(`/proc/${pid}/exe`).then(
          (l) => l.replace(/ \(deleted\)$/, ''),
          () => null,
        ),
      );
    return exeOf.get(pid)!;
  };
  const seen = new Set<string>();
  const out: GenericFacts['ports'] = [];
  for (const t of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const protocol = t.startsWith('tcp') ? 'tcp' : 'udp';
    const text = await ctx.io.readFile(`/proc/net/${t}`).catch(() => '');
    for (const s of parseProcNet(text, protocol)) {
      const pid = owners.get(s.inode);
      const key = `${protocol}/${s.port}`;
      if (pid === undefined || seen.has(key) || s.port < 1) continue;
      const e = await exe(pid);
      if (e !== real && e !== executable) continue;
      seen.add(key);
      out.push({ protocol, port: s.port });
    }
  }
  return out.slice(0, 256);
}

export async function collectLinuxGeneric(ctx: ValidationContext, args: ValidationFactsArgs): Promise<GenericFacts> {
  const name = args.services[0];
  if (!name) throw new Error('no service was named to describe');
  const services = await collectValidationServices(ctx, { ...args, services: [name] });
  const svc = services.find((s) => s.name === name) ?? services.find((s) => s.name === name.replace(/\.service$/, ''));
  if (!svc || svc.state === 'not-found') throw new Error(`there is no service ${name} on this node`);
  if (!svc.definition) throw new Error(`the definition of ${name} could not be read`);
  const definition = svc.definition;
  const program = definition.ExecStart ? execStartProgram(definition.ExecStart) : (definition.Script ?? null);
  // systemd looks a bare program name up in its own fixed path.
  const executable = program && !program.startsWith('/') ? await which(ctx.io, program) : program;
  let executableExists: boolean | null = null;
  if (executable)
    executableExists = await stat(executable).then(
      (s) => s.isFile(),
      () => false,
    );
  const referencedFiles = (await Promise.all(referencedPaths(definition).map(referencedFile))).filter((f) => f !== null);
  const account = svc.account ?? 'root';
  const passwd = idNames((await readIfPresent('/etc/passwd')) ?? '');
  return {
    service: svc.name,
    definition,
    digest: svc.definitionDigest,
    executable: executable ? clip(executable) : null,
    executableExists,
    installPath: executable ? clip(path.posix.dirname(executable)) : null,
    account,
    dependencies: svc.dependencies,
    ports: executable && executableExists ? await portsOf(ctx, executable) : [],
    referencedFiles: referencedFiles.slice(0, 1000),
    accounts: { [account]: [...passwd.values()].includes(account) },
  };
}

const linuxAppCollectors: Record<
  'fileserver' | 'generic',
  { collect: (ctx: ValidationContext, args: ValidationFactsArgs) => Promise<unknown>; schema: z.ZodType }
> = {
  fileserver: { collect: (ctx, args) => collectLinuxFileserver(ctx, args.paths), schema: fileserverFactsSchema },
  generic: { collect: collectLinuxGeneric, schema: genericFactsSchema },
};
type LinuxApp = keyof typeof linuxAppCollectors;

/** Runs the asked-for Linux app collectors; an empty map elsewhere. */
export async function collectLinuxApps(ctx: ValidationContext, args: ValidationFactsArgs): Promise<Record<string, AppSection>> {
  if (ctx.io.platform !== 'linux') return {};
  const wanted = [...new Set(args.apps)].filter((a): a is LinuxApp => Object.hasOwn(linuxAppCollectors, a));
  const sections = await Promise.all(
    wanted.map(async (app): Promise<AppSection> => {
      try {
        const { collect, schema } = linuxAppCollectors[app];
        const data = await withTimeout(collect(ctx, args), ctx.collectorTimeoutMs, `the ${app} collector`);
        // What the checks will parse: a value they would reject is reported as unknown here, with why.
        const parsed = schema.safeParse(data);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return {
            status: 'unknown',
            reason:
              `collected ${app} facts do not match their schema: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`.slice(
                0,
                2000,
              ),
          };
        }
        return { status: 'ok', data: parsed.data };
      } catch (e) {
        return { status: 'unknown', reason: errorMessage(e).slice(0, 2000) || 'unknown error' };
      }
    }),
  );
  return Object.fromEntries(wanted.map((app, i) => [app, sections[i]!]));
}
