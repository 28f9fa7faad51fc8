// Services for validation (Linux): the inventory the standing facts already collect (state and
// start mode), and for the services asked about their run-as account, a digest of their
// definition and its parsed essentials: a systemd unit file plus drop-ins, or a SysV init script
// (plus its /etc/default file).
import { createHash } from 'node:crypto';
import type { ValidationFacts, ValidationFactsArgs } from '@tandem/engine';
import { readFileOrNull } from '../facts/io.ts';
import { collectServices, INIT_D } from '../facts/services.ts';
import { clip, mapLimit } from '../facts/util.ts';
import type { ValidationContext } from './context.ts';

type ServiceFact = Extract<ValidationFacts['services'], { status: 'ok' }>['data'][number];

interface Definition {
  account: string | null;
  digest: string;
  definition: Record<string, string>;
  dependencies: string[];
}

const DEFINITION_KEYS = ['ExecStart', 'User', 'Group', 'Environment', 'EnvironmentFile', 'WorkingDirectory'];

/** The [Service] and [Unit] keys of unit files applied in order (a drop-in's value replaces; Environment adds). */
export function parseUnitFiles(texts: readonly string[]): { service: Record<string, string>; deps: string[] } {
  const service: Record<string, string> = {};
  const deps: string[] = [];
  for (const text of texts) {
    let section = '';
    for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const s = /^\[(.+)\]$/.exec(line);
      if (s) {
        section = s[1]!;
        continue;
      }
      const i = line.indexOf('=');
      if (i <= 0) continue;
      const key = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (section === 'Unit' && ['Requires', 'Wants', 'BindsTo', 'Requisite'].includes(key)) deps.push(...value.split(/\s+/).filter(Boolean));
      if (section !== 'Service' || !DEFINITION_KEYS.includes(key)) continue;
      if ((key === 'Environment' || key === 'EnvironmentFile') && service[key] && value !== '') service[key] = `${service[key]} ${value}`;
      else if (value === '') delete service[key]; // An empty assignment resets.
      else service[key] = value;
    }
  }
  return { service, deps: [...new Set(deps)] };
}

/** The user an init script runs its daemon as: start-stop-daemon --chuid, su, runuser, or a USER= setting. */
export function sysvAccount(script: string): string | null {
  const patterns = [
    /--chuid[= ]\s*["']?([A-Za-z_][\w.-]*)/,
    /start-stop-daemon\b[^\n]*\s-c\s+["']?([A-Za-z_][\w.-]*)/,
    /\brunuser\s+(?:-u\s+)?["']?([A-Za-z_][\w.-]*)/,
    /\bsu\s+(?:-s\s+\S+\s+)?(?:-\s+)?["']?([A-Za-z_][\w.-]*)["']?\s+-c\b/,
    /^\s*(?:USER|RUN_AS_USER|DAEMON_USER|RUNAS|RUN_AS)=["']?([A-Za-z_][\w.-]*)/m,
  ];
  for (const p of patterns) {
    const m = p.exec(script);
    if (m && !m[1]!.startsWith('$')) return m[1]!;
  }
  return null;
}

/** The LSB header's Required-Start facilities and services. */
function lsbDependencies(script: string): string[] {
  const line = /^#[ \t]*Required-Start:[ \t]*(.*)$/m.exec(script)?.[1] ?? '';
  return line.split(/\s+/).filter(Boolean);
}

async function systemdDefinition(ctx: ValidationContext, name: string): Promise<Definition | null> {
  const unit = name.endsWith('.service') ? name : `${name}.service`;
  const r = await ctx.io.run('systemctl', ['show', '--no-pager', '--property=FragmentPath,DropInPaths', '--', unit], { timeoutMs: 10_000 });
  if (r.code !== 0) return null;
  const fragment = /^FragmentPath=(.*)$/m.exec(r.stdout)?.[1]?.trim();
  const dropIns = (/^DropInPaths=(.*)$/m.exec(r.stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (!fragment) return null;
  const files = [fragment, ...dropIns];
  const texts = await Promise.all(files.map(async (f) => (await readFileOrNull(ctx.io, f)) ?? ''));
  const { service, deps } = parseUnitFiles(texts);
  const hash = createHash('sha256');
  files.forEach((f, i) => hash.update(`${f}\0${texts[i]}\0`));
  return {
    account: service.User ?? 'root',
    digest: hash.digest('hex'),
    definition: Object.fromEntries(Object.entries({ ...service, UnitFile: fragment }).map(([k, v]) => [k, clip(v)])),
    dependencies: deps.slice(0, 200).map((d) => clip(d)),
  };
}

async function sysvDefinition(ctx: ValidationContext, name: string): Promise<Definition | null> {
  const scriptPath = `${INIT_D}/${name}`;
  const script = await readFileOrNull(ctx.io, scriptPath);
  if (script === null) return null;
  const defaultsPath = `/etc/default/${name}`;
  const defaults = await readFileOrNull(ctx.io, defaultsPath);
  const hash = createHash('sha256').update(`${scriptPath}\0${script}\0`);
  if (defaults !== null) hash.update(`${defaultsPath}\0${defaults}\0`);
  const definition: Record<string, string> = { Script: scriptPath };
  const daemon = /^\s*DAEMON=["']?([^"'\s]+)/m.exec(script)?.[1];
  if (daemon) definition.ExecStart = clip(daemon);
  if (defaults !== null) definition.EnvironmentFile = defaultsPath;
  // Init scripts run as root unless they switch users themselves.
  const account = sysvAccount(`${defaults ?? ''}\n${script}`) ?? 'root';
  definition.User = account;
  return { account, digest: hash.digest('hex'), definition, dependencies: lsbDependencies(script).slice(0, 200).map((d) => clip(d)) };
}

export async function collectValidationServices(ctx: ValidationContext, args: ValidationFactsArgs): Promise<ServiceFact[]> {
  const inventory = await collectServices(ctx.io);
  const byName = new Map<string, ServiceFact>(
    inventory.services.map((s) => [s.name, { ...s, account: null, definitionDigest: null, definition: null, dependencies: [] }]),
  );
  const asked = [...new Set(args.services)];
  await mapLimit(asked, 8, async (name) => {
    const found = byName.get(name) ?? byName.get(name.replace(/\.service$/, ''));
    if (!found) {
      byName.set(name, { name: clip(name), state: 'not-found', startMode: 'unknown', account: null, definitionDigest: null, definition: null, dependencies: [] });
      return;
    }
    const def = inventory.manager === 'systemd' ? await systemdDefinition(ctx, found.name) : await sysvDefinition(ctx, found.name);
    if (def) Object.assign(found, { account: def.account ? clip(def.account) : null, definitionDigest: def.digest, definition: def.definition, dependencies: def.dependencies });
  });
  return [...byName.values()].slice(0, 5000);
}
