// service.start|stop|enable|disable|status on the server's service manager. Each returns the
// service's state afterwards. A missing service is state "not-found" for status and an error for
// the other verbs.
// - systemd: systemctl start|stop|enable|disable, then `systemctl show` for the state.
// - SysV: `service NAME start|stop`; enable/disable with update-rc.d (Debian; `update-rc.d NAME
//   defaults` first when the script has no rc links yet) or chkconfig (Red Hat).
// - Windows: Start-Service, Stop-Service, Set-Service -StartupType Automatic|Disabled, then Win32_Service.
// Failover runbooks use the desired-state pair at the end of this file: service.ensure (running or
// stopped, waited for) and service.set-startup-mode (automatic, manual or disabled).
import type { ServiceState } from '@tandem/protocol';
import { which, type FactsIO } from '../facts/io.ts';
import {
  detectServiceManager,
  readRcLinks,
  runSysvScript,
  sysvScriptExists,
  sysvStartMode,
  sysvStatus,
  systemdStartMode,
  systemdState,
  windowsStartMode,
  windowsState,
} from '../facts/services.ts';
import { clip, isRecord, powerShellJson, psQuote, str } from '../facts/util.ts';

export type ServiceVerb = 'start' | 'stop' | 'enable' | 'disable' | 'status';

const CONTROL_TIMEOUT_MS = 120_000;

/** Linux unit and script names: no spaces, and no leading dot or dash (which would read as an option). */
const LINUX_SERVICE_NAME = /^[A-Za-z0-9@_:+][A-Za-z0-9@._:+-]*$/;

function failed(what: string, r: { code: number | null; stdout: string; stderr: string }): Error {
  const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
  return new Error(`${what} failed (exit ${r.code ?? 'by signal'})${detail ? `: ${clip(detail, 1000)}` : ''}`);
}

export async function serviceAction(io: FactsIO, verb: ServiceVerb, name: string): Promise<ServiceState> {
  if (io.platform === 'win32') return windowsServiceAction(io, verb, name);
  if (io.platform !== 'linux') throw new Error(`service actions are not supported on ${io.platform}`);
  if (!LINUX_SERVICE_NAME.test(name) || name.includes('..')) {
    throw new Error(`Invalid argument "name": "${name}" is not a valid service name on Linux`);
  }
  const manager = await detectServiceManager(io);
  return manager === 'systemd' ? systemdServiceAction(io, verb, name) : sysvServiceAction(io, verb, name);
}

// ---------------------------------------------------------------------------------------------
// systemd

const unitOf = (name: string) => (name.endsWith('.service') ? name : `${name}.service`);

export function parseSystemctlShow(name: string, text: string): ServiceState {
  const props: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) props[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  if (props.LoadState === 'not-found') return { name, state: 'not-found', startMode: 'unknown' };
  return {
    name,
    state: systemdState(props.ActiveState, props.LoadState),
    startMode: systemdStartMode(props.LoadState === 'masked' ? 'masked' : props.UnitFileState),
  };
}

async function systemdStatus(io: FactsIO, name: string): Promise<ServiceState> {
  const r = await io.run(
    'systemctl',
    ['show', '--no-pager', '--property=LoadState,ActiveState,SubState,UnitFileState', '--', unitOf(name)],
    {
      timeoutMs: 20_000,
    },
  );
  if (r.code !== 0) throw failed(`systemctl show ${unitOf(name)}`, r);
  return parseSystemctlShow(name, r.stdout);
}

async function systemdServiceAction(io: FactsIO, verb: ServiceVerb, name: string): Promise<ServiceState> {
  const before = await systemdStatus(io, name);
  if (verb === 'status') return before;
  if (before.state === 'not-found') throw new Error(`service "${name}" not found`);
  const r = await io.run('systemctl', [verb, '--no-ask-password', '--', unitOf(name)], { timeoutMs: CONTROL_TIMEOUT_MS });
  if (r.code !== 0) throw failed(`systemctl ${verb} ${unitOf(name)}`, r);
  return systemdStatus(io, name);
}

// ---------------------------------------------------------------------------------------------
// SysV

async function sysvState(io: FactsIO, name: string): Promise<ServiceState> {
  const [state, links] = await Promise.all([sysvStatus(io, name), readRcLinks(io)]);
  return { name, state, startMode: sysvStartMode(links.get(name)) };
}

async function sysvBootLinks(io: FactsIO, name: string, enable: boolean): Promise<void> {
  const hasLinks = (await readRcLinks(io)).has(name);
  const updateRcD = await which(io, 'update-rc.d');
  if (updateRcD) {
    if (!hasLinks) {
      const d = await io.run(updateRcD, [name, 'defaults'], { timeoutMs: CONTROL_TIMEOUT_MS });
      if (d.code !== 0) throw failed(`update-rc.d ${name} defaults`, d);
    }
    const r = await io.run(updateRcD, [name, enable ? 'enable' : 'disable'], { timeoutMs: CONTROL_TIMEOUT_MS });
    if (r.code !== 0) throw failed(`update-rc.d ${name} ${enable ? 'enable' : 'disable'}`, r);
    return;
  }
  const chkconfig = await which(io, 'chkconfig');
  if (chkconfig) {
    if (!hasLinks) {
      const a = await io.run(chkconfig, ['--add', name], { timeoutMs: CONTROL_TIMEOUT_MS });
      if (a.code !== 0) throw failed(`chkconfig --add ${name}`, a);
    }
    const r = await io.run(chkconfig, [name, enable ? 'on' : 'off'], { timeoutMs: CONTROL_TIMEOUT_MS });
    if (r.code !== 0) throw failed(`chkconfig ${name} ${enable ? 'on' : 'off'}`, r);
    return;
  }
  throw new Error('neither update-rc.d nor chkconfig is installed: cannot change how the service starts');
}

async function sysvServiceAction(io: FactsIO, verb: ServiceVerb, name: string): Promise<ServiceState> {
  if (!(await sysvScriptExists(io, name))) {
    if (verb === 'status') return { name, state: 'not-found', startMode: 'unknown' };
    throw new Error(`service "${name}" not found (no executable /etc/init.d/${name})`);
  }
  if (verb === 'start' || verb === 'stop') {
    // Already so: answer the state. Not every init script exits 0 when asked to stop a stopped daemon.
    const current = await sysvState(io, name);
    if (current.state === (verb === 'start' ? 'running' : 'stopped')) return current;
    const r = await runSysvScript(io, name, verb, CONTROL_TIMEOUT_MS);
    if (r.code !== 0) throw failed(`service ${name} ${verb}`, r);
  } else if (verb === 'enable' || verb === 'disable') {
    await sysvBootLinks(io, name, verb === 'enable');
  }
  return sysvState(io, name);
}

// ---------------------------------------------------------------------------------------------
// Windows

const WINDOWS_VERBS: Record<ServiceVerb, string> = {
  status: '',
  start: 'Start-Service -Name $name',
  stop: 'Stop-Service -Name $name',
  enable: 'Set-Service -Name $name -StartupType Automatic',
  disable: 'Set-Service -Name $name -StartupType Disabled',
};

export function windowsServiceScript(verb: ServiceVerb, name: string): string {
  // WQL string: the name's characters (letters, digits, @ . _ : + - space) need no escaping there.
  return `
$name = ${psQuote(name)}
$filter = "Name='" + $name + "'"
$svc = Get-CimInstance -ClassName Win32_Service -Filter $filter
if (-not $svc) { '{"found":false}'; return }
${WINDOWS_VERBS[verb]}
$svc = Get-CimInstance -ClassName Win32_Service -Filter $filter
[pscustomobject]@{ found = $true; Name = $svc.Name; State = $svc.State; StartMode = $svc.StartMode } | ConvertTo-Json`;
}

/** Parses the Windows service script's output (exported for recorded-output tests). */
export function parseWindowsServiceResult(name: string, value: unknown): ServiceState {
  if (!isRecord(value) || value.found !== true) return { name, state: 'not-found', startMode: 'unknown' };
  return { name: str(value.Name) ?? name, state: windowsState(value.State), startMode: windowsStartMode(value.StartMode) };
}

async function windowsServiceAction(io: FactsIO, verb: ServiceVerb, name: string): Promise<ServiceState> {
  const result = parseWindowsServiceResult(
    name,
    await powerShellJson(io, `service-${verb}`, windowsServiceScript(verb, name), CONTROL_TIMEOUT_MS),
  );
  if (result.state === 'not-found' && verb !== 'status') throw new Error(`service "${name}" not found`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Desired state (failover runbooks): service.ensure and service.set-startup-mode. Both look
// first and act only when the service is not already so: sent twice, the second does nothing.

export type DesiredState = 'running' | 'stopped';
export type StartupMode = 'automatic' | 'manual' | 'disabled';

const POLL_MS = 250;
const WINDOWS_POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function linuxManager(io: FactsIO, name: string) {
  if (io.platform === 'win32') return 'windows-scm' as const;
  if (io.platform !== 'linux') throw new Error(`service actions are not supported on ${io.platform}`);
  if (!LINUX_SERVICE_NAME.test(name) || name.includes('..')) {
    throw new Error(`Invalid argument "name": "${name}" is not a valid service name on Linux`);
  }
  return detectServiceManager(io);
}

/**
 * Brings a service to `running` or `stopped`: nothing when it already is; otherwise one start (or
 * stop), then its state is polled until it gets there or `timeoutMs` passes (an error naming the
 * state it is in).
 */
export async function ensureService(io: FactsIO, name: string, want: DesiredState, timeoutMs: number): Promise<ServiceState> {
  const deadline = Date.now() + timeoutMs;
  const manager = await linuxManager(io, name);
  const remaining = () => Math.max(1000, deadline - Date.now());
  const status = (): Promise<ServiceState> =>
    manager === 'windows-scm'
      ? windowsServiceAction(io, 'status', name)
      : manager === 'systemd'
        ? systemdStatus(io, name)
        : sysvServiceAction(io, 'status', name);

  const before = await status();
  if (before.state === 'not-found') throw new Error(`service "${name}" not found`);
  if (before.state === want) return before;

  const verb = want === 'running' ? 'start' : 'stop';
  if (manager === 'windows-scm') {
    // Start-Service/Stop-Service wait themselves; the runner's timeout bounds them.
    await powerShellJson(io, `service-${verb}`, windowsServiceScript(verb, name), remaining());
  } else if (manager === 'systemd') {
    const r = await io.run('systemctl', [verb, '--no-ask-password', '--', unitOf(name)], { timeoutMs: remaining() });
    if (r.code !== 0) throw failed(`systemctl ${verb} ${unitOf(name)}`, r);
  } else {
    const r = await runSysvScript(io, name, verb, remaining());
    if (r.code !== 0) throw failed(`service ${name} ${verb}`, r);
  }

  // Some services report success before they are up (or down): wait for the state itself.
  const pollMs = manager === 'windows-scm' ? WINDOWS_POLL_MS : POLL_MS;
  for (;;) {
    const now = await status();
    if (now.state === want) return now;
    if (Date.now() >= deadline) {
      throw new Error(`service "${name}" did not reach "${want}" within ${timeoutMs} ms: it is ${now.state}`);
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
}

const PROTOCOL_MODE: Record<StartupMode, ServiceState['startMode']> = { automatic: 'auto', manual: 'manual', disabled: 'disabled' };

/**
 * Sets how a service starts. The meanings, the same on every service manager:
 * - automatic: started at boot;
 * - manual: not started at boot, but anyone (a failback, an operator) can start it;
 * - disabled: not started at boot and refused when something tries to start it, where the
 *   manager can refuse: systemd masks the unit (`disable` + `mask`; `automatic`/`manual` unmask
 *   it first); Windows refuses a Disabled service. SysV has no such refusal: `disabled` leaves
 *   stop (K) links in runlevels 2–5 (update-rc.d disable / chkconfig off), `manual` removes the
 *   links altogether (update-rc.d -f remove / chkconfig --del).
 * The answer is the service's state afterwards.
 */
export async function setStartupMode(io: FactsIO, name: string, mode: StartupMode): Promise<ServiceState> {
  const manager = await linuxManager(io, name);
  if (manager === 'windows-scm') {
    const result = parseWindowsServiceResult(
      name,
      await powerShellJson(io, 'service-startup-mode', windowsStartupModeScript(name, mode), CONTROL_TIMEOUT_MS),
    );
    if (result.state === 'not-found') throw new Error(`service "${name}" not found`);
    return result;
  }
  if (manager === 'systemd') return systemdStartupMode(io, name, mode);
  return sysvStartupMode(io, name, mode);
}

const WINDOWS_STARTUP: Record<StartupMode, { cmdlet: string; wmi: string }> = {
  automatic: { cmdlet: 'Automatic', wmi: 'Auto' },
  manual: { cmdlet: 'Manual', wmi: 'Manual' },
  disabled: { cmdlet: 'Disabled', wmi: 'Disabled' },
};

export function windowsStartupModeScript(name: string, mode: StartupMode): string {
  const m = WINDOWS_STARTUP[mode];
  return `
$name = ${psQuote(name)}
$filter = "Name='" + $name + "'"
$svc = Get-CimInstance -ClassName Win32_Service -Filter $filter
if (-not $svc) { '{"found":false}'; return }
if ($svc.StartMode -ne '${m.wmi}') { Set-Service -Name $name -StartupType ${m.cmdlet} }
$svc = Get-CimInstance -ClassName Win32_Service -Filter $filter
[pscustomobject]@{ found = $true; Name = $svc.Name; State = $svc.State; StartMode = $svc.StartMode } | ConvertTo-Json`;
}

async function systemdProps(io: FactsIO, name: string): Promise<Record<string, string>> {
  const r = await io.run(
    'systemctl',
    ['show', '--no-pager', '--property=LoadState,ActiveState,SubState,UnitFileState', '--', unitOf(name)],
    { timeoutMs: 20_000 },
  );
  if (r.code !== 0) throw failed(`systemctl show ${unitOf(name)}`, r);
  const props: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) props[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return props;
}

/**
 * A unit's start mode in this action's terms: masked → disabled, enabled → automatic, anything
 * else (disabled, static, indirect) → manual, since systemd can still start it. (Facts and
 * service.status read a merely disabled unit as "disabled"; here the difference is the point.)
 */
function systemdMode(props: Record<string, string>): StartupMode {
  const file = props.UnitFileState ?? '';
  if (props.LoadState === 'masked' || file.startsWith('masked')) return 'disabled';
  if (systemdStartMode(file) === 'auto') return 'automatic';
  return 'manual';
}

async function systemdStartupMode(io: FactsIO, name: string, mode: StartupMode): Promise<ServiceState> {
  const props = await systemdProps(io, name);
  if (props.LoadState === 'not-found') throw new Error(`service "${name}" not found`);
  const current = systemdMode(props);
  const enabled = systemdStartMode(props.UnitFileState) === 'auto';
  const verbs: string[] = [];
  if (current !== mode) {
    if (current === 'disabled') verbs.push('unmask');
    if (mode === 'automatic') verbs.push('enable');
    else if (enabled) verbs.push('disable');
    if (mode === 'disabled') verbs.push('mask');
  }
  for (const verb of verbs) {
    const r = await io.run('systemctl', [verb, '--no-ask-password', '--', unitOf(name)], { timeoutMs: CONTROL_TIMEOUT_MS });
    if (r.code !== 0) throw failed(`systemctl ${verb} ${unitOf(name)}`, r);
  }
  const after = await systemdProps(io, name);
  return { name, state: systemdState(after.ActiveState, after.LoadState), startMode: PROTOCOL_MODE[systemdMode(after)] };
}

async function sysvStartupMode(io: FactsIO, name: string, mode: StartupMode): Promise<ServiceState> {
  if (!(await sysvScriptExists(io, name))) throw new Error(`service "${name}" not found (no executable /etc/init.d/${name})`);
  const current = sysvStartMode((await readRcLinks(io)).get(name));
  if (current !== PROTOCOL_MODE[mode]) {
    if (mode === 'manual') await sysvRemoveLinks(io, name);
    else await sysvBootLinks(io, name, mode === 'automatic');
  }
  return sysvState(io, name);
}

async function sysvRemoveLinks(io: FactsIO, name: string): Promise<void> {
  const updateRcD = await which(io, 'update-rc.d');
  if (updateRcD) {
    // -f: remove the links although the script is still there.
    const r = await io.run(updateRcD, ['-f', name, 'remove'], { timeoutMs: CONTROL_TIMEOUT_MS });
    if (r.code !== 0) throw failed(`update-rc.d -f ${name} remove`, r);
    return;
  }
  const chkconfig = await which(io, 'chkconfig');
  if (chkconfig) {
    const r = await io.run(chkconfig, ['--del', name], { timeoutMs: CONTROL_TIMEOUT_MS });
    if (r.code !== 0) throw failed(`chkconfig --del ${name}`, r);
    return;
  }
  throw new Error('neither update-rc.d nor chkconfig is installed: cannot change how the service starts');
}
