// Agent actions against the real machine: a real SysV init script (installed for the test and
// removed afterwards) driven through service.*, and hooks written to and run from a temporary
// hooks directory.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HOOK_OUTPUT_LIMIT } from '@tandem/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import type { CommandResult, CommandRunner } from '../../apps/agent/src/exec.ts';
import { installTestService, type TestService } from './support/sysv-service';

const isRootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
const suffix = randomBytes(4).toString('hex');
const work = mkdtempSync(path.join(tmpdir(), 'tandem-actions-'));
const hooksDir = path.join(work, 'hooks');
const ctx = { hooksDir };
let service: TestService;
let serviceName = '';
let pidFile = '';

function rcLinks(): string[] {
  return ['0', '1', '2', '3', '4', '5', '6', 'S'].flatMap((l) => {
    try {
      return readdirSync(`/etc/rc${l}.d`)
        .filter((e) => e.endsWith(serviceName))
        .map((e) => `rc${l}.d/${e}`);
    } catch {
      return [];
    }
  });
}

beforeAll(() => {
  if (!isRootOnLinux) throw new Error('these tests need root on Linux (they install a SysV init script)');
  service = installTestService('test');
  serviceName = service.name;
  pidFile = service.pidFile;
});

afterAll(() => {
  service?.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('service actions on a real SysV init script', () => {
  it('reports a stopped service with no rc links as stopped and manual', async () => {
    await expect(runAction('service.status', { name: serviceName }, ctx)).resolves.toEqual({
      name: serviceName,
      state: 'stopped',
      startMode: 'manual',
    });
  });

  it('starts, reports and stops the service', async () => {
    const started = await runAction('service.start', { name: serviceName }, ctx);
    expect(started).toMatchObject({ name: serviceName, state: 'running' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).not.toThrow();

    await expect(runAction('service.status', { name: serviceName }, ctx)).resolves.toMatchObject({ state: 'running' });

    await expect(runAction('service.stop', { name: serviceName }, ctx)).resolves.toMatchObject({ state: 'stopped' });
    expect(existsSync(pidFile)).toBe(false);
    await expect(runAction('service.status', { name: serviceName }, ctx)).resolves.toMatchObject({ state: 'stopped' });
  });

  it('enables (creating rc links with update-rc.d) and disables the service', async () => {
    expect(rcLinks()).toEqual([]);
    await expect(runAction('service.enable', { name: serviceName }, ctx)).resolves.toEqual({
      name: serviceName,
      state: 'stopped',
      startMode: 'auto',
    });
    expect(rcLinks()).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^rc2\\.d/S\\d+${serviceName}$`))]));

    await expect(runAction('service.disable', { name: serviceName }, ctx)).resolves.toMatchObject({ startMode: 'disabled' });
    const links = rcLinks();
    expect(links.some((l) => /^rc[2-5]\.d\/S/.test(l))).toBe(false);
    expect(links.some((l) => /^rc2\.d\/K/.test(l))).toBe(true);

    await expect(runAction('service.enable', { name: serviceName }, ctx)).resolves.toMatchObject({ startMode: 'auto' });
  });

  it('reports an unknown service as not-found, and refuses to start or stop it', async () => {
    const missing = `tandem-missing-${suffix}`;
    await expect(runAction('service.status', { name: missing }, ctx)).resolves.toEqual({
      name: missing,
      state: 'not-found',
      startMode: 'unknown',
    });
    await expect(runAction('service.start', { name: missing }, ctx)).rejects.toThrow(/not found/);
    await expect(runAction('service.stop', { name: missing }, ctx)).rejects.toThrow(/not found/);
  });

  it('rejects invalid service names before touching the system', async () => {
    await expect(runAction('service.start', { name: '../x' }, ctx)).rejects.toThrow(
      /Invalid arguments for service\.start: "name"/,
    );
    await expect(runAction('service.status', { name: 'a;b' }, ctx)).rejects.toThrow(/"name"/);
    await expect(runAction('service.stop', {}, ctx)).rejects.toThrow(/"name"/);
    await expect(runAction('service.start', { name: 'x', extra: 1 }, ctx)).rejects.toThrow(/Invalid arguments/);
    // Valid in the protocol (Windows allows it) but would read as an option on Linux.
    await expect(runAction('service.start', { name: '-h' }, ctx)).rejects.toThrow(/not a valid service name on Linux/);
    await expect(runAction('service.status', { name: '..' }, ctx)).rejects.toThrow(/not a valid service name on Linux/);
  });
});

describe('hooks', () => {
  it('writes a hook atomically with mode 0700 in a 0700 directory', async () => {
    const content = '#!/bin/sh\nprintf "%s|" "$@"\necho "to stderr" >&2\n';
    const result = await runAction('hook.write', { name: 'echo-args.sh', content }, ctx);
    expect(result).toEqual({ path: path.join(hooksDir, 'echo-args.sh'), bytes: Buffer.byteLength(content) });
    expect(statSync(path.join(hooksDir, 'echo-args.sh')).mode & 0o777).toBe(0o700);
    expect(statSync(hooksDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(hooksDir)).toEqual(['echo-args.sh']); // No temp file left behind.

    // Rewriting replaces the content.
    await runAction('hook.write', { name: 'echo-args.sh', content: '#!/bin/sh\nprintf "%s|" "$@"\n' }, ctx);
    expect(readFileSync(path.join(hooksDir, 'echo-args.sh'), 'utf8')).toBe('#!/bin/sh\nprintf "%s|" "$@"\n');
  });

  it('runs a hook directly with its arguments (no shell interpretation)', async () => {
    const result = await runAction('hook.run', { name: 'echo-args.sh', args: ['one', 'two words', '$(id)', ';rm -rf /'] }, ctx);
    expect(result).toMatchObject({
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: 'one|two words|$(id)|;rm -rf /|',
      stderr: '',
      truncated: false,
    });
    expect((result as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
  });

  it("runs a hook in the hooks directory, without the agent's own TANDEM_* settings", async () => {
    await runAction('hook.write', { name: 'env', content: '#!/bin/sh\npwd\nenv | grep ^TANDEM_ | sort\n' }, ctx);
    process.env.TANDEM_AGENT_TEST_SETTING = 'private';
    try {
      const result = await runAction('hook.run', { name: 'env' }, ctx);
      expect(result).toMatchObject({ exitCode: 0, stdout: `${hooksDir}\nTANDEM_HOOK=env\n` });
    } finally {
      delete process.env.TANDEM_AGENT_TEST_SETTING;
    }
  });

  it('captures the exit code and stderr', async () => {
    await runAction('hook.write', { name: 'fail', content: '#!/bin/sh\necho "bad thing" >&2\nexit 7\n' }, ctx);
    await expect(runAction('hook.run', { name: 'fail' }, ctx)).resolves.toMatchObject({
      exitCode: 7,
      stderr: 'bad thing\n',
      timedOut: false,
    });
  });

  it('kills a hook (and its children) that runs past its timeout', async () => {
    const sleepArg = `10.${parseInt(suffix, 16) % 997}1`; // Unique, to find leftovers.
    await runAction('hook.write', { name: 'slow', content: `#!/bin/sh\nsleep ${sleepArg}\necho never\n` }, ctx);
    const result = await runAction('hook.run', { name: 'slow', timeoutMs: 300 }, ctx);
    // Killed, not waited for: no "never" on stdout, and the sleep is gone (below).
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM', stdout: '' });
    // The shell's child (sleep) went with the process group.
    const processes = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
    expect(processes).not.toContain(`sleep ${sleepArg}`);
  });

  it('keeps at most HOOK_OUTPUT_LIMIT bytes of output and says it truncated', async () => {
    await runAction(
      'hook.write',
      { name: 'loud', content: '#!/bin/sh\nhead -c 200000 /dev/zero | tr "\\0" "x"\necho done >&2\n' },
      ctx,
    );
    const result = (await runAction('hook.run', { name: 'loud' }, ctx)) as {
      stdout: string;
      stderr: string;
      truncated: boolean;
      exitCode: number;
    };
    expect(result.truncated).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(HOOK_OUTPUT_LIMIT);
    expect(result.stdout).toBe('x'.repeat(HOOK_OUTPUT_LIMIT));
    expect(result.stderr).toBe('done\n');
  });

  it('does not cut a multi-byte character in half when truncating', async () => {
    // "é" is two bytes; an odd prefix puts a character across the limit.
    await runAction(
      'hook.write',
      { name: 'utf8', content: '#!/bin/sh\nprintf x\ni=0\nwhile [ $i -lt 40000 ]; do printf "éééééééééé"; i=$((i+10)); done\n' },
      ctx,
    );
    const result = (await runAction('hook.run', { name: 'utf8' }, ctx)) as { stdout: string; truncated: boolean };
    expect(result.truncated).toBe(true);
    expect(result.stdout).not.toContain('\uFFFD');
    expect(Buffer.byteLength(result.stdout)).toBe(HOOK_OUTPUT_LIMIT - 1);
  });

  it('refuses hook names that would leave the hooks directory', async () => {
    for (const name of ['../escape', '..', '.hidden', 'a/b', '/etc/passwd', 'x\\y', '']) {
      await expect(runAction('hook.write', { name, content: 'x' }, ctx)).rejects.toThrow(
        /Invalid arguments for hook\.write: "name"/,
      );
      await expect(runAction('hook.run', { name }, ctx)).rejects.toThrow(/Invalid arguments for hook\.run: "name"/);
    }
    expect(existsSync(path.join(work, 'escape'))).toBe(false);
  });

  it('reports a missing hook clearly', async () => {
    await expect(runAction('hook.run', { name: 'nope' }, ctx)).rejects.toThrow(/hook "nope" not found/);
  });

  it('validates hook.run arguments', async () => {
    await expect(runAction('hook.run', { name: 'slow', timeoutMs: 5 }, ctx)).rejects.toThrow(/"timeoutMs"/);
    await expect(runAction('hook.run', { name: 'slow', args: 'not-an-array' }, ctx)).rejects.toThrow(/"args"/);
  });
});

describe('actions the runtime handles', () => {
  it('refuses facts.collect, credential.rotate and unknown actions', async () => {
    await expect(runAction('facts.collect', {}, ctx)).rejects.toThrow('handled by the agent runtime');
    await expect(runAction('credential.rotate', { credential: 'x'.repeat(40) }, ctx)).rejects.toThrow(
      'handled by the agent runtime',
    );
    for (const action of ['replication.verify', 'replication.resend'] as const) {
      await expect(runAction(action, { pairId: crypto.randomUUID(), items: [] }, ctx)).rejects.toThrow('handled by the agent runtime');
    }
    await expect(runAction('disk.format', {}, ctx)).rejects.toThrow(/unknown action/);
  });
});

describe('systemd service actions (recorded output)', () => {
  /** A fake systemctl: `show` answers from the unit's recorded properties; other verbs change them. */
  function systemd(units: Record<string, Record<string, string>>, calls: string[][], fail?: CommandResult) {
    const run: CommandRunner = (cmd, args) => {
      expect(cmd).toBe('systemctl');
      calls.push(args);
      const unit = args.at(-1)!;
      expect(args.at(-2)).toBe('--'); // The unit can never be read as an option.
      const props = units[unit] ?? { LoadState: 'not-found', ActiveState: 'inactive', SubState: 'dead', UnitFileState: '' };
      if (args[0] === 'show')
        return Promise.resolve({
          code: 0,
          stdout:
            Object.entries(props)
              .map(([k, v]) => `${k}=${v}`)
              .join('\n') + '\n',
          stderr: '',
        });
      if (fail) return Promise.resolve(fail);
      if (args[0] === 'start') Object.assign(props, { ActiveState: 'active', SubState: 'running' });
      if (args[0] === 'stop') Object.assign(props, { ActiveState: 'inactive', SubState: 'dead' });
      if (args[0] === 'enable') props.UnitFileState = 'enabled';
      if (args[0] === 'disable') props.UnitFileState = 'disabled';
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    };
    return {
      hooksDir,
      platform: 'linux' as const,
      run,
      readFile: (file: string) => Promise.resolve(file === '/proc/1/comm' ? 'systemd\n' : ''),
    };
  }

  it('starts, stops, enables and disables a unit through systemctl', async () => {
    const calls: string[][] = [];
    const units = {
      'nginx.service': { LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' },
    };
    const c = systemd(units, calls);
    await expect(runAction('service.status', { name: 'nginx' }, c)).resolves.toEqual({
      name: 'nginx',
      state: 'stopped',
      startMode: 'disabled',
    });
    await expect(runAction('service.start', { name: 'nginx' }, c)).resolves.toEqual({
      name: 'nginx',
      state: 'running',
      startMode: 'disabled',
    });
    await expect(runAction('service.enable', { name: 'nginx.service' }, c)).resolves.toEqual({
      name: 'nginx.service',
      state: 'running',
      startMode: 'auto',
    });
    await expect(runAction('service.stop', { name: 'nginx' }, c)).resolves.toMatchObject({ state: 'stopped' });
    await expect(runAction('service.disable', { name: 'nginx' }, c)).resolves.toMatchObject({ startMode: 'disabled' });
    expect(calls.filter((a) => a[0] !== 'show')).toEqual([
      ['start', '--no-ask-password', '--', 'nginx.service'],
      ['enable', '--no-ask-password', '--', 'nginx.service'],
      ['stop', '--no-ask-password', '--', 'nginx.service'],
      ['disable', '--no-ask-password', '--', 'nginx.service'],
    ]);
  });

  it('reports a missing unit as not-found, refuses to start it, and surfaces systemctl errors', async () => {
    const calls: string[][] = [];
    await expect(runAction('service.status', { name: 'ghost' }, systemd({}, calls))).resolves.toEqual({
      name: 'ghost',
      state: 'not-found',
      startMode: 'unknown',
    });
    await expect(runAction('service.start', { name: 'ghost' }, systemd({}, calls))).rejects.toThrow('service "ghost" not found');
    expect(calls.some((a) => a[0] === 'start')).toBe(false);

    const units = { 'db.service': { LoadState: 'loaded', ActiveState: 'failed', SubState: 'failed', UnitFileState: 'enabled' } };
    const failure = {
      code: 1,
      stdout: '',
      stderr: 'Job for db.service failed because the control process exited with error code.\n',
    };
    await expect(runAction('service.start', { name: 'db' }, systemd(units, [], failure))).rejects.toThrow(
      'systemctl start db.service failed (exit 1): Job for db.service failed because the control process exited with error code.',
    );
  });
});
