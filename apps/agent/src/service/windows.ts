// The agent as a Windows service. node.exe cannot answer the service control manager, so the
// service runs WinSW (a small service host) which starts `node.exe tandem-agent.mjs run`, stops it
// with Ctrl+C and restarts it when it dies. WinSW reads its settings from an XML file beside its
// executable, named like it. Everything here is planned as data first, so the plan can be shown
// (--dry-run) and tested on any platform; only running the steps needs Windows.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export const SERVICE_ID = 'TandemAgent';
export const SERVICE_NAME = 'Tandem Agent';
const WRAPPER = 'tandem-agent-service';
const BUNDLE = 'tandem-agent.mjs';

export interface WindowsServiceLayout {
  /** node.exe that runs the agent (the one running install-service). */
  nodePath: string;
  /** The agent bundle being installed (copied into serviceDir). */
  bundlePath: string;
  configPath: string;
  /** Holds WinSW, its XML and the agent bundle: under Program Files, which only administrators can change. */
  serviceDir: string;
  logDir: string;
}

export function defaultWindowsLayout(
  env: Record<string, string | undefined>,
  nodePath: string,
  bundlePath: string,
  configPath: string,
): WindowsServiceLayout {
  const programFiles = env.ProgramFiles ?? 'C:\\Program Files';
  const programData = env.ProgramData ?? 'C:\\ProgramData';
  return {
    nodePath,
    bundlePath,
    configPath,
    serviceDir: path.win32.join(programFiles, SERVICE_NAME),
    logDir: path.win32.join(programData, 'Tandem', 'logs'),
  };
}

export const wrapperPath = (l: WindowsServiceLayout) => path.win32.join(l.serviceDir, `${WRAPPER}.exe`);
export const installedBundlePath = (l: WindowsServiceLayout) => path.win32.join(l.serviceDir, BUNDLE);

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One command-line argument for a Windows program (quoted when it holds spaces or quotes). */
export function windowsArg(s: string): string {
  if (s !== '' && !/[\s"]/.test(s)) return s;
  // Backslashes are literal except right before a quote, where they must be doubled.
  return `"${s.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

/**
 * The WinSW (1.x) service definition. No <serviceaccount>: the service runs as LocalSystem, which
 * the agent needs to manage services and replicate any file. Restarts after 5 s, 5 s, then every
 * minute; the failure count resets after an hour without failures.
 */
export function serviceDefinition(l: WindowsServiceLayout): string {
  const args = [installedBundlePath(l), 'run', '--config', l.configPath].map(windowsArg).join(' ');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by "tandem-agent install-service"; run it again to change this file. -->
<service>
  <id>${SERVICE_ID}</id>
  <name>${SERVICE_NAME}</name>
  <description>Connects this server to Tandem (outbound only) and carries out its commands.</description>
  <executable>${xmlText(l.nodePath)}</executable>
  <arguments>${xmlText(args)}</arguments>
  <workingdirectory>${xmlText(l.serviceDir)}</workingdirectory>
  <startmode>Automatic</startmode>
  <stoptimeout>20 sec</stoptimeout>
  <onfailure action="restart" delay="5 sec"/>
  <onfailure action="restart" delay="5 sec"/>
  <onfailure action="restart" delay="60 sec"/>
  <resetfailure>1 hour</resetfailure>
  <logpath>${xmlText(l.logDir)}</logpath>
  <log mode="roll-by-size">
    <sizeThreshold>10240</sizeThreshold>
    <keepFiles>8</keepFiles>
  </log>
</service>
`;
}

/** WinSW 1.x is a .NET program; this lets it run on .NET 4 (every supported Windows) or 2. */
export const wrapperRuntimeConfig = `<configuration>
  <startup>
    <supportedRuntime version="v4.0" />
    <supportedRuntime version="v2.0.50727" />
  </startup>
</configuration>
`;

export type ServiceStep =
  | { kind: 'mkdir'; path: string }
  | { kind: 'write'; path: string; content: string }
  /** WinSW's executable, which the bundle carries. */
  | { kind: 'write-wrapper'; path: string }
  | { kind: 'copy'; from: string; to: string }
  | { kind: 'run'; command: string; args: string[]; what: string };

// Stop-Service waits until the service has stopped, so its files can be replaced afterwards. It
// also removes a service left by older agents, which registered node.exe itself with sc.exe.
const removeExisting: ServiceStep = {
  kind: 'run',
  command: 'powershell.exe',
  args: [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    `$ErrorActionPreference = 'Stop'; if (Get-Service -Name ${SERVICE_ID} -ErrorAction SilentlyContinue) { Stop-Service -Name ${SERVICE_ID} -Force; & sc.exe delete ${SERVICE_ID}; if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE } }`,
  ],
  what: `stop and remove any existing ${SERVICE_ID} service`,
};

export function planInstall(l: WindowsServiceLayout): ServiceStep[] {
  const wrapper = wrapperPath(l);
  const bundle = installedBundlePath(l);
  return [
    removeExisting,
    { kind: 'mkdir', path: l.serviceDir },
    { kind: 'mkdir', path: l.logDir },
    ...(path.win32.resolve(l.bundlePath).toLowerCase() === bundle.toLowerCase()
      ? []
      : [{ kind: 'copy' as const, from: l.bundlePath, to: bundle }]),
    { kind: 'write-wrapper', path: wrapper },
    { kind: 'write', path: `${wrapper}.config`, content: wrapperRuntimeConfig },
    { kind: 'write', path: path.win32.join(l.serviceDir, `${WRAPPER}.xml`), content: serviceDefinition(l) },
    { kind: 'run', command: wrapper, args: ['install'], what: `register the ${SERVICE_ID} service` },
    { kind: 'run', command: wrapper, args: ['start'], what: `start the ${SERVICE_ID} service` },
  ];
}

export function planUninstall(): ServiceStep[] {
  return [removeExisting];
}

export function describeStep(s: ServiceStep): string {
  switch (s.kind) {
    case 'mkdir':
      return `create ${s.path}`;
    case 'copy':
      return `copy ${s.from} to ${s.to}`;
    case 'write':
      return `write ${s.path}`;
    case 'write-wrapper':
      return `write ${s.path} (WinSW, the service host)`;
    case 'run':
      return `${s.what}: ${[s.command, ...s.args].map(windowsArg).join(' ')}`;
  }
}

export interface StepEffects {
  mkdir(dir: string): void;
  write(file: string, data: Uint8Array | string): void;
  copy(from: string, to: string): void;
  /** Runs a program and returns its exit code. */
  run(command: string, args: string[]): number | null;
}

export const realEffects: StepEffects = {
  mkdir: (dir) => fs.mkdirSync(dir, { recursive: true }),
  write: (file, data) => fs.writeFileSync(file, data),
  copy: (from, to) => fs.copyFileSync(from, to),
  run: (command, args) => spawnSync(command, args, { stdio: 'inherit', windowsHide: true }).status,
};

/** Runs the steps in order and stops at the first that fails, saying which. */
export function runSteps(steps: ServiceStep[], wrapper: Uint8Array, effects: StepEffects = realEffects): void {
  for (const s of steps) {
    switch (s.kind) {
      case 'mkdir':
        effects.mkdir(s.path);
        break;
      case 'copy':
        effects.copy(s.from, s.to);
        break;
      case 'write':
        effects.write(s.path, s.content);
        break;
      case 'write-wrapper':
        effects.write(s.path, wrapper);
        break;
      case 'run': {
        const code = effects.run(s.command, s.args);
        if (code !== 0) throw new Error(`could not ${s.what} (exit code ${code ?? 'none'}); run from an elevated prompt`);
      }
    }
  }
}

/** WinSW's bytes: inside the bundle (esbuild embeds the file), or read from the source tree. */
export async function loadWrapper(): Promise<Uint8Array> {
  const embedded: unknown = await import('./winsw-binary.ts').then((m) => m.default).catch(() => null);
  return embedded instanceof Uint8Array ? embedded : fs.readFileSync(new URL('../../vendor/winsw/winsw.exe', import.meta.url));
}
