// The Windows service definition and install plan. The service control manager exists only on
// Windows, so running the plan is checked here against recorded effects (labelled below); the
// definition itself is the exact file WinSW reads.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  defaultWindowsLayout,
  loadWrapper,
  planInstall,
  planUninstall,
  runSteps,
  serviceDefinition,
  windowsArg,
  type StepEffects,
} from './windows.ts';

const env = { ProgramFiles: 'C:\\Program Files', ProgramData: 'C:\\ProgramData' };
const layout = defaultWindowsLayout(
  env,
  'C:\\Program Files\\nodejs\\node.exe',
  'C:\\Users\\admin\\Downloads\\tandem-agent.mjs',
  'C:\\ProgramData\\Tandem\\agent.json',
);

/** The text of one element, XML entities decoded; fails when the element is missing. */
function element(xml: string, name: string): string {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (!m) throw new Error(`no <${name}> in the definition`);
  return m[1]!
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

describe('Windows service definition (WinSW XML)', () => {
  const xml = serviceDefinition(layout);

  it('runs node.exe with the installed bundle, "run" and the configuration', () => {
    expect(element(xml, 'id')).toBe('TandemAgent');
    expect(element(xml, 'executable')).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(element(xml, 'arguments')).toBe(
      '"C:\\Program Files\\Tandem Agent\\tandem-agent.mjs" run --config C:\\ProgramData\\Tandem\\agent.json',
    );
    expect(element(xml, 'workingdirectory')).toBe('C:\\Program Files\\Tandem Agent');
    expect(element(xml, 'startmode')).toBe('Automatic');
  });

  it('restarts the agent when it dies and gives it time to stop cleanly', () => {
    expect([...xml.matchAll(/<onfailure action="(\w+)" delay="([^"]+)"\/>/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'restart 5 sec',
      'restart 5 sec',
      'restart 60 sec',
    ]);
    expect(element(xml, 'resetfailure')).toBe('1 hour');
    expect(element(xml, 'stoptimeout')).toBe('20 sec');
  });

  it('logs to ProgramData with rotation, and runs as LocalSystem (no service account)', () => {
    expect(element(xml, 'logpath')).toBe('C:\\ProgramData\\Tandem\\logs');
    expect(xml).toMatch(
      /<log mode="roll-by-size">\s*<sizeThreshold>10240<\/sizeThreshold>\s*<keepFiles>8<\/keepFiles>\s*<\/log>/,
    );
    expect(xml).not.toMatch(/serviceaccount/i);
  });

  it('escapes paths that XML or the command line would misread', () => {
    const odd = { ...layout, nodePath: 'C:\\A&B <x>\\node.exe', configPath: 'C:\\cfg "q"\\agent.json' };
    const x = serviceDefinition(odd);
    expect(x).toContain('<executable>C:\\A&amp;B &lt;x&gt;\\node.exe</executable>');
    expect(element(x, 'executable')).toBe(odd.nodePath);
    expect(element(x, 'arguments')).toContain('--config "C:\\cfg \\"q\\"\\agent.json"');
  });
});

describe('windowsArg', () => {
  it('quotes only when needed and keeps backslashes as Windows reads them', () => {
    expect(windowsArg('run')).toBe('run');
    expect(windowsArg('C:\\a b\\c')).toBe('"C:\\a b\\c"');
    expect(windowsArg('C:\\a b\\')).toBe('"C:\\a b\\\\"');
    expect(windowsArg('')).toBe('""');
  });
});

describe('install-service plan', () => {
  it('removes any old service, writes WinSW beside its definition and the bundle, then installs and starts', () => {
    const steps = planInstall(layout);
    expect(steps.map((s) => s.kind)).toEqual(['run', 'mkdir', 'mkdir', 'copy', 'write-wrapper', 'write', 'write', 'run', 'run']);
    const [remove, , , copy, wrapper, config, definition, install, start] = steps;
    // Older agents registered node.exe itself with sc.exe: that service must go first.
    expect(remove).toMatchObject({ command: 'powershell.exe' });
    expect(remove?.kind === 'run' && remove.args.at(-1)).toMatch(
      /Stop-Service -Name TandemAgent -Force; & sc\.exe delete TandemAgent/,
    );
    expect(copy).toEqual({ kind: 'copy', from: layout.bundlePath, to: 'C:\\Program Files\\Tandem Agent\\tandem-agent.mjs' });
    expect(wrapper).toEqual({ kind: 'write-wrapper', path: 'C:\\Program Files\\Tandem Agent\\tandem-agent-service.exe' });
    // WinSW 1.x finds its XML by its own name, and needs the .config to run on .NET 4.
    expect(config).toMatchObject({ path: 'C:\\Program Files\\Tandem Agent\\tandem-agent-service.exe.config' });
    expect(config?.kind === 'write' && config.content).toContain('<supportedRuntime version="v4.0" />');
    expect(definition).toEqual({
      kind: 'write',
      path: 'C:\\Program Files\\Tandem Agent\\tandem-agent-service.xml',
      content: serviceDefinition(layout),
    });
    expect(install).toMatchObject({ command: 'C:\\Program Files\\Tandem Agent\\tandem-agent-service.exe', args: ['install'] });
    expect(start).toMatchObject({ command: 'C:\\Program Files\\Tandem Agent\\tandem-agent-service.exe', args: ['start'] });
  });

  it('does not copy the bundle onto itself when run from the installed copy (an upgrade in place)', () => {
    const steps = planInstall({ ...layout, bundlePath: 'c:\\program files\\tandem agent\\TANDEM-AGENT.mjs' });
    expect(steps.some((s) => s.kind === 'copy')).toBe(false);
  });

  it('uninstall stops and removes the service', () => {
    expect(planUninstall()).toEqual([planInstall(layout)[0]]);
  });

  // Recorded effects: the Windows service manager cannot run here.
  it('runs the steps in order, writes the embedded WinSW, and stops at the first failing command', async () => {
    const done: string[] = [];
    const files = new Map<string, Uint8Array | string>();
    const effects = (failOn?: string): StepEffects => ({
      mkdir: (d) => done.push(`mkdir ${d}`),
      copy: (f, t) => done.push(`copy ${f} ${t}`),
      write: (f, data) => {
        files.set(f, data);
        done.push(`write ${path.win32.basename(f)}`);
      },
      run: (c, args) => {
        done.push(`run ${path.win32.basename(c)} ${args[0]}`);
        return args[0] === failOn ? 1 : 0;
      },
    });
    const wrapper = await loadWrapper();
    runSteps(planInstall(layout), wrapper, effects());
    expect(done).toEqual([
      'run powershell.exe -NoProfile',
      'mkdir C:\\Program Files\\Tandem Agent',
      'mkdir C:\\ProgramData\\Tandem\\logs',
      `copy ${layout.bundlePath} C:\\Program Files\\Tandem Agent\\tandem-agent.mjs`,
      'write tandem-agent-service.exe',
      'write tandem-agent-service.exe.config',
      'write tandem-agent-service.xml',
      'run tandem-agent-service.exe install',
      'run tandem-agent-service.exe start',
    ]);
    expect(files.get('C:\\Program Files\\Tandem Agent\\tandem-agent-service.exe')).toBe(wrapper);

    done.length = 0;
    expect(() => runSteps(planInstall(layout), wrapper, effects('install'))).toThrow(
      /could not register the TandemAgent service \(exit code 1\)/,
    );
    expect(done.at(-1)).toBe('run tandem-agent-service.exe install');
  });
});

describe('WinSW, the service host', () => {
  it('is the vendored WinSW 1.17 binary (a Windows executable)', async () => {
    const bytes = await loadWrapper();
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(
      '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01',
    );
    expect(Buffer.from(bytes.subarray(0, 2)).toString('latin1')).toBe('MZ');
  });

  it('travels inside the agent bundle: the bundle built with the agent build options yields the same bytes', async () => {
    const { agentBuildOptions } = (await import(pathToFileURL(path.resolve(import.meta.dirname, '../../build.mjs')).href)) as {
      agentBuildOptions: BuildOptions;
    };
    const { build } = await import('esbuild');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-winsw-'));
    try {
      const outfile = path.join(dir, 'winsw.mjs');
      await build({
        ...agentBuildOptions,
        entryPoints: [path.resolve(import.meta.dirname, 'winsw-binary.ts')],
        outfile,
        banner: {},
      });
      const embedded = ((await import(pathToFileURL(outfile).href)) as { default: Uint8Array }).default;
      expect(Buffer.from(embedded).equals(Buffer.from(await loadWrapper()))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
