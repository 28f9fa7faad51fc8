// Service facts, and the service-manager knowledge the service.* actions share.
// Manager: windows-scm on Windows; systemd when PID 1 is systemd; SysV init scripts otherwise.
// - systemd: `systemctl list-units` (state) merged with `systemctl list-unit-files` (start mode);
//   names are reported without the ".service" suffix; template units ("foo@.service") and units
//   that failed to load ("not-found") are left out.
// - SysV: executable scripts in /etc/init.d; state from `service NAME status` (exit 0 running,
//   3 stopped, anything else unknown; ≤ 8 at a time, 5 s each); start mode from rc links: an
//   S-link in runlevels 2–5 (or rcS) is auto, K-links in 2–5 without S-links are disabled, and
//   no links there at all is manual.
// - Windows: Win32_Service (State, StartMode).
import type { ServiceFacts, ServiceState } from '@tandem/protocol';
import { readFileOrNull, which, type FactsIO } from './io.ts';
import { clip, isRecord, mapLimit, powerShellJson, str, toArray } from './util.ts';

export type ServiceManager = ServiceFacts['manager'];
type State = ServiceState['state'];
type StartMode = ServiceState['startMode'];

export async function detectServiceManager(io: FactsIO): Promise<ServiceManager> {
  if (io.platform === 'win32') return 'windows-scm';
  const comm = (await readFileOrNull(io, '/proc/1/comm'))?.trim();
  return comm === 'systemd' ? 'systemd' : 'sysv';
}

export async function collectServices(io: FactsIO): Promise<ServiceFacts> {
  if (io.platform !== 'win32' && io.platform !== 'linux') throw new Error(`service facts are not supported on ${io.platform}`);
  const manager = await detectServiceManager(io);
  const services =
    manager === 'windows-scm'
      ? await listWindowsServices(io)
      : manager === 'systemd'
        ? await listSystemdServices(io)
        : await listSysvServices(io);
  services.sort((a, b) => a.name.localeCompare(b.name));
  return { manager, services: services.slice(0, 5000) };
}

// ---------------------------------------------------------------------------------------------
// systemd

export function systemdState(active: string | undefined, load?: string): State {
  if (load === 'not-found') return 'not-found';
  switch (active) {
    case 'active':
    case 'reloading':
      return 'running';
    case 'inactive':
      return 'stopped';
    case 'failed':
      return 'failed';
    case 'activating':
      return 'starting';
    case 'deactivating':
      return 'stopping';
    default:
      return 'unknown';
  }
}

export function systemdStartMode(unitFileState: string | undefined): StartMode {
  switch (unitFileState) {
    case 'enabled':
    case 'enabled-runtime':
    case 'linked':
    case 'linked-runtime':
    case 'alias':
      return 'auto';
    case 'disabled':
    case 'masked':
    case 'masked-runtime':
      return 'disabled';
    case 'static':
    case 'indirect':
    case 'generated':
    case 'transient':
      return 'manual';
    default:
      return 'unknown';
  }
}

const stripService = (unit: string) => unit.replace(/\.service$/, '');

/** Merges `systemctl list-units --type=service --all --no-legend --plain` and `list-unit-files --type=service --no-legend`. */
export function parseSystemdServices(unitsText: string, unitFilesText: string): ServiceState[] {
  const modes = new Map<string, string>();
  for (const line of unitFilesText.split('\n')) {
    const [unit, state] = line.trim().split(/\s+/);
    if (unit?.endsWith('.service') && state) modes.set(unit, state);
  }
  const services = new Map<string, ServiceState>();
  for (const line of unitsText.split('\n')) {
    const f = line
      .trim()
      .replace(/^[●*×]\s*/, '')
      .split(/\s+/);
    const [unit, load, active] = f;
    if (!unit?.endsWith('.service') || !load || load === 'not-found') continue;
    // An instance ("getty@tty1.service") takes its start mode from its template when it has none itself.
    const template = unit.includes('@') ? unit.replace(/@.*\.service$/, '@.service') : unit;
    services.set(unit, {
      name: clip(stripService(unit)),
      state: systemdState(active, load),
      startMode: systemdStartMode(modes.get(unit) ?? (load === 'masked' ? 'masked' : modes.get(template))),
    });
  }
  // Unit files that are not loaded are installed but inactive.
  for (const [unit, mode] of modes) {
    if (services.has(unit) || /@\.service$/.test(unit)) continue;
    services.set(unit, { name: clip(stripService(unit)), state: 'stopped', startMode: systemdStartMode(mode) });
  }
  return [...services.values()];
}

async function listSystemdServices(io: FactsIO): Promise<ServiceState[]> {
  const [units, files] = await Promise.all([
    io.run('systemctl', ['list-units', '--type=service', '--all', '--no-legend', '--plain', '--no-pager'], { timeoutMs: 20_000 }),
    io.run('systemctl', ['list-unit-files', '--type=service', '--no-legend', '--no-pager'], { timeoutMs: 20_000 }),
  ]);
  if (units.code !== 0) throw new Error(`systemctl list-units failed (exit ${units.code}): ${clip(units.stderr.trim(), 500)}`);
  return parseSystemdServices(units.stdout, files.code === 0 ? files.stdout : '');
}

// ---------------------------------------------------------------------------------------------
// SysV init scripts

export const INIT_D = '/etc/init.d';
const NOT_SERVICES = new Set(['README', 'skeleton', 'rc', 'rcS', 'rc.local', 'functions', 'halt', 'reboot', 'single', 'killall']);
const SYSV_CONCURRENCY = 8;
export const SYSV_STATUS_TIMEOUT_MS = 5_000;

export interface RcLinks {
  /** Runlevels ("0"–"6", "S") with an S-link. */
  start: Set<string>;
  /** Runlevels with a K-link. */
  kill: Set<string>;
}

/** Reads /etc/rc{0-6,S}.d once: script name → runlevels with S- and K-links. */
export async function readRcLinks(io: FactsIO): Promise<Map<string, RcLinks>> {
  const links = new Map<string, RcLinks>();
  await Promise.all(
    ['0', '1', '2', '3', '4', '5', '6', 'S'].map(async (level) => {
      let entries: string[];
      try {
        entries = await io.readDir(`/etc/rc${level}.d`);
      } catch {
        return;
      }
      for (const entry of entries) {
        const m = /^([SK])\d{2,3}(.+)$/.exec(entry);
        if (!m) continue;
        const l = links.get(m[2]!) ?? { start: new Set<string>(), kill: new Set<string>() };
        (m[1] === 'S' ? l.start : l.kill).add(level);
        links.set(m[2]!, l);
      }
    }),
  );
  return links;
}

export function sysvStartMode(links: RcLinks | undefined): StartMode {
  if (!links) return 'manual';
  const multiUser = ['2', '3', '4', '5'];
  if (multiUser.some((l) => links.start.has(l)) || links.start.has('S')) return 'auto';
  if (multiUser.some((l) => links.kill.has(l))) return 'disabled';
  return 'manual';
}

export function sysvStateFromExit(code: number | null): State {
  // LSB: 0 running, 3 not running. 1 and 2 (dead with a pid or lock file) are also how many
  // non-LSB scripts say "unknown action", so they are reported as unknown.
  if (code === 0) return 'running';
  if (code === 3) return 'stopped';
  return 'unknown';
}

/** Runs an init script action through service(8) (or the script itself when service is missing). */
export async function runSysvScript(io: FactsIO, name: string, action: string, timeoutMs: number) {
  const service = await which(io, 'service');
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', TERM: 'dumb' };
  return service
    ? io.run(service, [name, action], { timeoutMs, env, cwd: '/' })
    : io.run(`${INIT_D}/${name}`, [action], { timeoutMs, env, cwd: '/' });
}

export async function sysvStatus(io: FactsIO, name: string): Promise<State> {
  try {
    const r = await runSysvScript(io, name, 'status', SYSV_STATUS_TIMEOUT_MS);
    return sysvStateFromExit(r.code);
  } catch {
    return 'unknown'; // Timed out or could not run.
  }
}

/** Whether /etc/init.d/NAME is an executable regular file. */
export async function sysvScriptExists(io: FactsIO, name: string): Promise<boolean> {
  try {
    const s = await io.stat(`${INIT_D}/${name}`);
    return s.isFile && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

async function listSysvServices(io: FactsIO): Promise<ServiceState[]> {
  const [entries, links] = await Promise.all([
    io.readDir(INIT_D).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return []; // No init scripts at all (a minimal container): no services.
      throw e;
    }),
    readRcLinks(io),
  ]);
  const candidates = entries.filter(
    (n) => !n.startsWith('.') && !NOT_SERVICES.has(n) && !/\.dpkg-|\.rpm(new|save|orig)$|~$/.test(n),
  );
  const scripts = (await mapLimit(candidates, 32, async (n) => ((await sysvScriptExists(io, n)) ? n : null))).filter(
    (n): n is string => n !== null,
  );
  return mapLimit(scripts, SYSV_CONCURRENCY, async (name) => ({
    name: clip(name),
    state: await sysvStatus(io, name),
    startMode: sysvStartMode(links.get(name)),
  }));
}

// ---------------------------------------------------------------------------------------------
// Windows service control manager

export function windowsState(state: unknown): State {
  switch (str(state)) {
    case 'Running':
    case '4':
      return 'running';
    case 'Stopped':
    case '1':
    case 'Paused': // Loaded but serving nothing.
    case '7':
      return 'stopped';
    case 'Start Pending':
    case 'StartPending':
    case '2':
    case 'Continue Pending':
    case 'ContinuePending':
    case '5':
      return 'starting';
    case 'Stop Pending':
    case 'StopPending':
    case '3':
    case 'Pause Pending':
    case 'PausePending':
    case '6':
      return 'stopping';
    default:
      return 'unknown';
  }
}

export function windowsStartMode(mode: unknown): StartMode {
  switch (str(mode)) {
    case 'Auto':
    case 'Automatic':
    case 'Boot':
    case 'System':
      return 'auto';
    case 'Manual':
      return 'manual';
    case 'Disabled':
      return 'disabled';
    default:
      return 'unknown';
  }
}

/** Parses Win32_Service objects (Name, State, StartMode). */
export function parseWindowsServices(value: unknown): ServiceState[] {
  return toArray(value)
    .filter(isRecord)
    .filter((s) => typeof s.Name === 'string' && s.Name !== '')
    .map((s) => ({ name: clip(s.Name as string), state: windowsState(s.State), startMode: windowsStartMode(s.StartMode) }));
}

const WINDOWS_SERVICES_SCRIPT = `
@(Get-CimInstance -ClassName Win32_Service | Select-Object Name, State, StartMode) | ConvertTo-Json`;

async function listWindowsServices(io: FactsIO): Promise<ServiceState[]> {
  return parseWindowsServices(await powerShellJson(io, 'services', WINDOWS_SERVICES_SCRIPT));
}
