// The agent's host-side failover actions and its run-once memory:
// - service.ensure and service.set-startup-mode on a real SysV init script (installed for the
//   test under a unique name and removed afterwards) whose daemon counts its starts, so a second
//   `ensure running` can be shown to start nothing;
// - the same actions and address.ensure on Windows, against recorded PowerShell outputs;
// - the run-once memory with a real agent process: a command re-sent with the same id after a
//   kill -9 and restart is answered from disk, not run again; a command that was still running
//   when the agent died runs again (desired-state steps converge).
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus } from '@tandem/agent-bus';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import { runCommand, type CommandRunner } from '../../apps/agent/src/exec.ts';
import { decodePowerShellScript, powerShellScriptName } from '../../apps/agent/src/facts/util.ts';
import { waitFor } from './support/agents';
import { ReplicationHarness } from './support/replication/agents';
import { installTestService, type TestService } from './support/sysv-service';

const isRootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
const suffix = randomBytes(4).toString('hex');
const work = mkdtempSync(path.join(tmpdir(), 'tandem-failover-actions-'));
const fixtures = path.join(import.meta.dirname, '../fixtures/windows');
// The SysV service (its script counts each real start); installed in beforeAll.
let service: TestService;
let serviceName = '';

/** The real runner, recording each command it runs (to show what an idempotent call did not do). */
function recording(calls: string[]): CommandRunner {
  return (cmd, args, opts) => {
    calls.push([path.basename(cmd), ...args].join(' '));
    return runCommand(cmd, args, opts);
  };
}
const ctx = (calls: string[] = []) => ({ hooksDir: path.join(work, 'hooks'), run: recording(calls) });

function rcLinks(): string[] {
  return ['0', '1', '2', '3', '4', '5', '6', 'S'].flatMap((l) => {
    try {
      return readdirSync(`/etc/rc${l}.d`)
        .filter((e) => e.endsWith(serviceName))
        .map((e) => `rc${l}.d/${e.slice(0, 1)}`);
    } catch {
      return [];
    }
  });
}

beforeAll(() => {
  if (!isRootOnLinux) throw new Error('these tests need root on Linux (they install a SysV init script)');
  service = installTestService('fo');
  serviceName = service.name;
});

afterAll(() => {
  service?.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('service.ensure on a real SysV service', () => {
  it('starts a stopped service once; a second ensure running starts nothing', async () => {
    const first = await runAction('service.ensure', { name: serviceName, state: 'running', timeoutMs: 10_000 }, ctx());
    expect(first).toEqual({ name: serviceName, state: 'running', startMode: 'manual' });
    expect(service.starts()).toBe(1);

    const calls: string[] = [];
    await expect(runAction('service.ensure', { name: serviceName, state: 'running' }, ctx(calls))).resolves.toMatchObject({ state: 'running' });
    expect(service.starts()).toBe(1);
    expect(calls.filter((c) => / start$/.test(c))).toEqual([]);
  });

  it('stops a running service, and does nothing when it is already stopped', async () => {
    await expect(runAction('service.ensure', { name: serviceName, state: 'stopped', timeoutMs: 10_000 }, ctx())).resolves.toMatchObject({ state: 'stopped' });
    expect(existsSync(service.pidFile)).toBe(false);
    const calls: string[] = [];
    await expect(runAction('service.ensure', { name: serviceName, state: 'stopped' }, ctx(calls))).resolves.toMatchObject({ state: 'stopped' });
    expect(calls.filter((c) => / stop$/.test(c))).toEqual([]);
  });

  it('waits for a service that reports started before it runs', async () => {
    service.setMode('slow');
    try {
      await expect(runAction('service.ensure', { name: serviceName, state: 'running', timeoutMs: 10_000 }, ctx())).resolves.toMatchObject({ state: 'running' });
      expect(service.starts()).toBe(2);
    } finally {
      service.setMode('normal');
    }
    await runAction('service.ensure', { name: serviceName, state: 'stopped' }, ctx());
  });

  it('fails naming the state when the service does not get there in time', async () => {
    service.setMode('broken');
    try {
      await expect(runAction('service.ensure', { name: serviceName, state: 'running', timeoutMs: 800 }, ctx())).rejects.toThrow(
        `service "${serviceName}" did not reach "running" within 800 ms: it is stopped`,
      );
    } finally {
      service.setMode('normal');
    }
  });

  it('refuses an unknown service and bad arguments', async () => {
    await expect(runAction('service.ensure', { name: `tandem-missing-${suffix}`, state: 'running' }, ctx())).rejects.toThrow(/not found/);
    await expect(runAction('service.ensure', { name: serviceName, state: 'paused' }, ctx())).rejects.toThrow(/Invalid arguments for service\.ensure: "state"/);
    await expect(runAction('service.ensure', { name: '-x', state: 'running' }, ctx())).rejects.toThrow(/not a valid service name on Linux/);
  });
});

describe('service.set-startup-mode on a real SysV service', () => {
  it('sets automatic (S links), disabled (K links only) and manual (no links), each once', async () => {
    expect(rcLinks()).toEqual([]);
    await expect(runAction('service.set-startup-mode', { name: serviceName, mode: 'automatic' }, ctx())).resolves.toEqual({
      name: serviceName,
      state: 'stopped',
      startMode: 'auto',
    });
    expect(rcLinks()).toContain('rc2.d/S');

    await expect(runAction('service.set-startup-mode', { name: serviceName, mode: 'disabled' }, ctx())).resolves.toMatchObject({ startMode: 'disabled' });
    expect(rcLinks().filter((l) => /^rc[2-5]\.d\/S/.test(l))).toEqual([]);
    expect(rcLinks()).toContain('rc2.d/K');

    // Already disabled: nothing is run but the look.
    const calls: string[] = [];
    await expect(runAction('service.set-startup-mode', { name: serviceName, mode: 'disabled' }, ctx(calls))).resolves.toMatchObject({ startMode: 'disabled' });
    expect(calls.filter((c) => c.startsWith('update-rc.d') || c.startsWith('chkconfig'))).toEqual([]);

    await expect(runAction('service.set-startup-mode', { name: serviceName, mode: 'manual' }, ctx())).resolves.toMatchObject({ startMode: 'manual' });
    expect(rcLinks()).toEqual([]);
    // Manual still starts on demand.
    await expect(runAction('service.ensure', { name: serviceName, state: 'running' }, ctx())).resolves.toEqual({
      name: serviceName,
      state: 'running',
      startMode: 'manual',
    });
    await runAction('service.ensure', { name: serviceName, state: 'stopped' }, ctx());
  });

  it('refuses an unknown service and an unknown mode', async () => {
    await expect(runAction('service.set-startup-mode', { name: `tandem-missing-${suffix}`, mode: 'manual' }, ctx())).rejects.toThrow(/not found/);
    await expect(runAction('service.set-startup-mode', { name: serviceName, mode: 'boot' }, ctx())).rejects.toThrow(/"mode"/);
  });
});

// ---------------------------------------------------------------------------------------------
// systemd (this machine has none): systemctl answered from recorded `show` properties

describe('systemd service.ensure and service.set-startup-mode (recorded outputs)', () => {
  /** A fake systemctl: `show` prints the unit's properties; the other verbs change them as systemd would. */
  function systemd(props: Record<string, string>, calls: string[]) {
    const run: CommandRunner = (cmd, args) => {
      expect(cmd).toBe('systemctl');
      expect(args.at(-2)).toBe('--');
      expect(args.at(-1)).toBe('app.service');
      if (args[0] === 'show') {
        return Promise.resolve({ code: 0, stdout: Object.entries(props).map(([k, v]) => `${k}=${v}\n`).join(''), stderr: '' });
      }
      calls.push(args[0]!);
      if (args[0] === 'start') props.ActiveState = 'activating'; // Up at the next look.
      if (args[0] === 'stop') props.ActiveState = 'inactive';
      if (args[0] === 'enable') props.UnitFileState = 'enabled';
      if (args[0] === 'disable') props.UnitFileState = 'disabled';
      if (args[0] === 'mask') Object.assign(props, { LoadState: 'masked', UnitFileState: 'masked' });
      if (args[0] === 'unmask') Object.assign(props, { LoadState: 'loaded', UnitFileState: 'disabled' });
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    };
    let looks = 0;
    const wrapped: CommandRunner = async (cmd, args, opts) => {
      const r = await run(cmd, args, opts);
      if (args[0] === 'show' && props.ActiveState === 'activating' && ++looks > 1) props.ActiveState = 'active';
      return r;
    };
    return { hooksDir: '/nonexistent', platform: 'linux' as const, run: wrapped, readFile: (f: string) => Promise.resolve(f === '/proc/1/comm' ? 'systemd\n' : '') };
  }
  const unit = () => ({ LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'enabled' });

  it('manual = disable (startable), disabled = disable + mask, automatic = unmask + enable; each only when needed', async () => {
    const props = unit();
    const calls: string[] = [];
    await expect(runAction('service.set-startup-mode', { name: 'app', mode: 'manual' }, systemd(props, calls))).resolves.toEqual({
      name: 'app',
      state: 'stopped',
      startMode: 'manual',
    });
    expect(calls).toEqual(['disable']);
    await expect(runAction('service.set-startup-mode', { name: 'app', mode: 'manual' }, systemd(props, calls))).resolves.toMatchObject({ startMode: 'manual' });
    expect(calls).toEqual(['disable']);
    await expect(runAction('service.set-startup-mode', { name: 'app', mode: 'disabled' }, systemd(props, calls))).resolves.toMatchObject({ startMode: 'disabled' });
    expect(calls).toEqual(['disable', 'mask']);
    await expect(runAction('service.set-startup-mode', { name: 'app', mode: 'automatic' }, systemd(props, calls))).resolves.toMatchObject({ startMode: 'auto' });
    expect(calls).toEqual(['disable', 'mask', 'unmask', 'enable']);
    // From enabled straight to disabled.
    await runAction('service.set-startup-mode', { name: 'app', mode: 'disabled' }, systemd(props, calls));
    expect(calls.slice(4)).toEqual(['disable', 'mask']);
  });

  it('ensure running starts once and waits through "activating"; already running does nothing', async () => {
    const props = unit();
    const calls: string[] = [];
    await expect(runAction('service.ensure', { name: 'app', state: 'running', timeoutMs: 5_000 }, systemd(props, calls))).resolves.toEqual({
      name: 'app',
      state: 'running',
      startMode: 'auto',
    });
    await expect(runAction('service.ensure', { name: 'app', state: 'running' }, systemd(props, calls))).resolves.toMatchObject({ state: 'running' });
    expect(calls).toEqual(['start']);
    await expect(runAction('service.ensure', { name: 'app', state: 'stopped' }, systemd(props, calls))).resolves.toMatchObject({ state: 'stopped' });
    expect(calls).toEqual(['start', 'stop']);
  });
});

// ---------------------------------------------------------------------------------------------
// Windows, against recorded outputs

interface Call {
  name: string;
  script: string;
}
/**
 * A PowerShell runner answering each script (by name) with the next of its recorded outputs, or
 * (`failures`) with a recorded error message and exit 1.
 */
function windows(answers: Record<string, string[]>, calls: Call[], failures: Record<string, string> = {}) {
  const run: CommandRunner = (_cmd, args) => {
    const name = powerShellScriptName(args) ?? '?';
    calls.push({ name, script: decodePowerShellScript(args) ?? '' });
    if (failures[name]) return Promise.resolve({ code: 1, stdout: '', stderr: failures[name] });
    const next = answers[name]?.shift();
    if (next === undefined) return Promise.resolve({ code: 1, stdout: '', stderr: `no recorded output for ${name}` });
    return Promise.resolve({ code: 0, stdout: next, stderr: '' });
  };
  return { hooksDir: 'C:\\ProgramData\\Tandem\\hooks', platform: 'win32' as const, run };
}
const recorded = (file: string) => readFileSync(path.join(fixtures, file), 'utf8');
const spooler = (state: string, mode: string) => `{"found":true,"Name":"Spooler","State":"${state}","StartMode":"${mode}"}`;

describe('Windows service actions (recorded outputs)', () => {
  it('sets Manual with Set-Service -StartupType Manual and answers the state afterwards', async () => {
    const calls: Call[] = [];
    const result = await runAction('service.set-startup-mode', { name: 'Spooler', mode: 'manual' }, windows({ 'service-startup-mode': [recorded('service-startup-manual.out')] }, calls));
    expect(result).toEqual({ name: 'Spooler', state: 'stopped', startMode: 'manual' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.script).toContain("$name = 'Spooler'");
    // Only when it is not so already (idempotent in the script itself).
    expect(calls[0]!.script).toContain("if ($svc.StartMode -ne 'Manual') { Set-Service -Name $name -StartupType Manual }");
  });

  it('sets Automatic and Disabled, and refuses a missing service', async () => {
    const calls: Call[] = [];
    await expect(
      runAction('service.set-startup-mode', { name: 'Spooler', mode: 'automatic' }, windows({ 'service-startup-mode': [recorded('service-startup-automatic.out')] }, calls)),
    ).resolves.toEqual({ name: 'Spooler', state: 'running', startMode: 'auto' });
    expect(calls[0]!.script).toContain('-StartupType Automatic');
    await expect(
      runAction('service.set-startup-mode', { name: 'Spooler', mode: 'disabled' }, windows({ 'service-startup-mode': [recorded('service-startup-disabled.out')] }, calls)),
    ).resolves.toEqual({ name: 'Spooler', state: 'stopped', startMode: 'disabled' });
    expect(calls[1]!.script).toContain('-StartupType Disabled');
    await expect(
      runAction('service.set-startup-mode', { name: 'Nope', mode: 'manual' }, windows({ 'service-startup-mode': ['{"found":false}'] }, [])),
    ).rejects.toThrow('service "Nope" not found');
  });

  it('ensure running: Start-Service once, then polls until Running', async () => {
    const calls: Call[] = [];
    const result = await runAction(
      'service.ensure',
      { name: 'Spooler', state: 'running', timeoutMs: 10_000 },
      windows({ 'service-status': [spooler('Stopped', 'Manual'), spooler('Start Pending', 'Manual'), spooler('Running', 'Manual')], 'service-start': [spooler('Start Pending', 'Manual')] }, calls),
    );
    expect(result).toEqual({ name: 'Spooler', state: 'running', startMode: 'manual' });
    expect(calls.map((c) => c.name)).toEqual(['service-status', 'service-start', 'service-status', 'service-status']);
    expect(calls[1]!.script).toContain('Start-Service -Name $name');
  });

  it('ensure stopped: nothing when already stopped; a clear error when Stop-Service fails', async () => {
    const calls: Call[] = [];
    await expect(runAction('service.ensure', { name: 'Spooler', state: 'stopped' }, windows({ 'service-status': [spooler('Stopped', 'Auto')] }, calls))).resolves.toMatchObject({
      state: 'stopped',
    });
    expect(calls.map((c) => c.name)).toEqual(['service-status']);
    const refusal = "Service 'Print Spooler (Spooler)' cannot be stopped due to the following error: Cannot stop Spooler service on computer '.'.";
    const failing = windows({ 'service-status': [spooler('Running', 'Auto')] }, [], { 'service-stop': refusal });
    await expect(runAction('service.ensure', { name: 'Spooler', state: 'stopped' }, failing)).rejects.toThrow(`PowerShell service-stop failed (exit 1): ${refusal}`);
  });
});

describe('Windows address.ensure (recorded outputs)', () => {
  it('adds a missing address to the interface whose subnet holds it (New-NetIPAddress)', async () => {
    const calls: Call[] = [];
    const result = await runAction(
      'address.ensure',
      { address: '10.20.0.50', prefix: 24, present: true },
      windows({ 'address-list': [recorded('address-list.out')], 'address-add': [recorded('address-add.out')] }, calls),
    );
    expect(result).toEqual({ present: true, changed: true, interface: 'Ethernet0', announced: false });
    expect(calls.map((c) => c.name)).toEqual(['address-list', 'address-add']);
    expect(calls[0]!.script).toContain('Get-NetIPAddress');
    expect(calls[1]!.script).toContain("$a = '10.20.0.50'");
    expect(calls[1]!.script).toContain("$alias = 'Ethernet0'");
    expect(calls[1]!.script).toContain('New-NetIPAddress -IPAddress $a -PrefixLength 24 -InterfaceAlias $alias');
  });

  it('changes nothing when the address is already there; removes it with Remove-NetIPAddress when it must go', async () => {
    const calls: Call[] = [];
    await expect(
      runAction('address.ensure', { address: '10.20.0.35', prefix: 24, present: true }, windows({ 'address-list': [recorded('address-list.out')] }, calls)),
    ).resolves.toEqual({ present: true, changed: false, interface: 'Ethernet0', announced: false });
    expect(calls.map((c) => c.name)).toEqual(['address-list']);

    await expect(
      runAction(
        'address.ensure',
        { address: '10.20.0.35', prefix: 24, present: false },
        windows({ 'address-list': [recorded('address-list.out')], 'address-remove': [recorded('address-remove.out')] }, calls),
      ),
    ).resolves.toEqual({ present: false, changed: true, interface: 'Ethernet0', announced: false });
    expect(calls.at(-1)!.script).toContain('Remove-NetIPAddress -IPAddress $a -InterfaceAlias $alias -Confirm:$false');

    await expect(
      runAction('address.ensure', { address: '10.20.0.99', prefix: 24, present: false }, windows({ 'address-list': [recorded('address-list.out')] }, [])),
    ).resolves.toEqual({ present: false, changed: false, interface: null, announced: false });
  });

  it('refuses an address in no interface subnet unless forced onto a named interface', async () => {
    const list = () => ({ 'address-list': [recorded('address-list.out')], 'address-add': [recorded('address-add.out')] });
    await expect(runAction('address.ensure', { address: '192.168.77.10', prefix: 24, present: true }, windows(list(), []))).rejects.toThrow(
      'no interface of this server is in the subnet of 192.168.77.10/24: name an interface and use force to add it anyway',
    );
    await expect(runAction('address.ensure', { address: '192.168.77.10', prefix: 24, present: true, force: true }, windows(list(), []))).rejects.toThrow(
      /with force, name the interface/,
    );
    await expect(
      runAction('address.ensure', { address: '192.168.77.10', prefix: 24, present: true, interface: 'Heartbeat' }, windows(list(), [])),
    ).rejects.toThrow(/interface "Heartbeat" has no address in the subnet of 192\.168\.77\.10\/24.*force/);
    const calls: Call[] = [];
    await expect(
      runAction('address.ensure', { address: '192.168.77.10', prefix: 24, present: true, interface: 'Heartbeat', force: true }, windows(list(), calls)),
    ).resolves.toMatchObject({ present: true, changed: true, interface: 'Heartbeat' });
    expect(calls[1]!.script).toContain("$alias = 'Heartbeat'");
  });

  it('takes a duplicate address back out and says another host holds it', async () => {
    const calls: Call[] = [];
    await expect(
      runAction(
        'address.ensure',
        { address: '10.20.0.50', prefix: 24, present: true },
        windows(
          { 'address-list': [recorded('address-list.out')], 'address-add': [recorded('address-add-duplicate.out')], 'address-remove': [recorded('address-remove.out')] },
          calls,
        ),
      ),
    ).rejects.toThrow('10.20.0.50 is already in use by another host on "Ethernet0" (duplicate address detection failed); it was not kept');
    expect(calls.map((c) => c.name)).toEqual(['address-list', 'address-add', 'address-remove']);
  });
});

// ---------------------------------------------------------------------------------------------
// Run-once memory, with a real agent process

describe('run-once command memory on disk (real agent, kill -9)', () => {
  const h = new ReplicationHarness('memory');
  beforeAll(() => h.setup(), 120_000);
  afterAll(() => h.teardown());

  it('answers a re-sent command id from disk after a restart; a command cut short by the crash runs again', { timeout: 90_000 }, async () => {
    const agent = await h.enrolAndRun('agent');
    await h.online(agent.agentId);
    const data = path.join(agent.dir, 'data');
    const counter = path.join(data, 'runs');
    const hold = path.join(data, 'hold');
    mkdirSync(data, { recursive: true });
    // Appends a line per run, waits while the hold file exists, prints the count.
    const hook = `#!/bin/sh\necho run >> '${counter}'\nwhile [ -f '${hold}' ]; do sleep 0.05; done\nwc -l < '${counter}'\n`;
    const runs = () => (existsSync(counter) ? readFileSync(counter, 'utf8').trim().split('\n').length : 0);

    await h.bus.send(agent.agentId, 'hook.write', { name: 'count.sh', content: hook }, { commandId: randomUUID() });
    const once = randomUUID();
    const first = await h.bus.send(agent.agentId, 'hook.run', { name: 'count.sh' }, { commandId: once });
    expect(first).toMatchObject({ exitCode: 0, stdout: '1\n' });
    expect(runs()).toBe(1);

    // The outcome is on disk, private to root.
    const memoryDir = path.join(agent.dir, 'commands');
    expect(statSync(memoryDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(memoryDir, `${once}.json`)).mode & 0o777).toBe(0o600);

    // A second command, still running (held) when the agent is killed.
    writeFileSync(hold, '');
    const cut = randomUUID();
    const crashingBus = new AgentBus(process.env.REDIS_URL!);
    const pending = crashingBus.send(agent.agentId, 'hook.run', { name: 'count.sh', timeoutMs: 5_000 }, { commandId: cut }).catch((e: unknown) => e);
    await waitFor('the held hook to start', () => runs() === 2);
    agent.handle.child.kill('SIGKILL');
    await waitFor('the agent to die', () => agent.handle.child.exitCode !== null || agent.handle.child.signalCode !== null);
    crashingBus.close();
    void pending;
    rmSync(hold); // The orphaned hook ends; its run is counted (2).

    const restarted = h.run(agent.dir);
    // Connected again (its status file says so): the gateway answers for the new process.
    await waitFor('the restarted agent to connect', () => {
      const status = JSON.parse(readFileSync(path.join(agent.dir, 'agent-status.json'), 'utf8')) as { state: string; pid: number };
      return status.pid === restarted.child.pid && status.state === 'connected';
    }, 20_000);
    // Same id again: the remembered result, nothing run.
    const again = await h.bus.send(agent.agentId, 'hook.run', { name: 'count.sh' }, { commandId: once, attempts: 10 });
    expect(again).toEqual(first);
    expect(runs()).toBe(2);

    // The one cut short had started but not finished: it runs again (desired-state steps converge).
    const rerun = await h.bus.send(agent.agentId, 'hook.run', { name: 'count.sh' }, { commandId: cut, attempts: 10 });
    expect(rerun).toMatchObject({ exitCode: 0, stdout: '3\n' });
    expect(runs()).toBe(3);
    // And now that one is remembered too.
    await expect(h.bus.send(agent.agentId, 'hook.run', { name: 'count.sh' }, { commandId: cut })).resolves.toEqual(rerun);
    expect(runs()).toBe(3);
  });
});
