// The validation catalogue's fixes carried out by a real agent process through a real gateway,
// changing real things: fs.ensure-path (create, owner, mode; already-satisfied the second time;
// stale-plan when the plan's `before` is outdated), hooks.prepare-dir on the agent's own hook
// directory, time.resync refused on a machine without a time service, and the service fixes
// (service.stop, service.set-startup-mode) answering as ensures on a real SysV service.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/agents';
import type { ReplicationHarness, Enrolled } from './support/replication/agents';
import { installTestService, type TestService } from './support/sysv-service';
import { validationAgent } from './support/validation-agent';

const isRootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
let h: ReplicationHarness;
let agent: Enrolled;
let service: TestService;
let work = '';

const send = <A extends 'fs.ensure-path' | 'hooks.prepare-dir' | 'time.resync' | 'service.stop' | 'service.set-startup-mode' | 'service.status'>(
  action: A,
  args: Parameters<typeof h.bus.send<A>>[2],
) => h.bus.send(agent.agentId, action, args, { timeoutMs: 60_000 });

const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;

function rcLinks(name: string): string[] {
  return ['0', '1', '2', '3', '4', '5', '6', 'S'].flatMap((l) => {
    try {
      return fs.readdirSync(`/etc/rc${l}.d`).filter((e) => e.endsWith(name)).map((e) => `rc${l}.d/${e}`);
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  if (!isRootOnLinux) throw new Error('these tests need root on Linux (ownership changes and a SysV service)');
  ({ h, agent } = await validationAgent('fix'));
  work = tempDir('fix-actions');
  h.cleanup.push(work);
  service = installTestService('fix');
}, 180_000);

afterAll(async () => {
  service?.remove();
  await h?.teardown();
});

describe('fs.ensure-path', { timeout: 90_000 }, () => {
  it('creates a directory with its owner and mode, then answers already-satisfied', async () => {
    const p = path.join(work, 'pgdata', '16', 'main');
    const first = await send('fs.ensure-path', { path: p, owner: 'nobody', mode: 0o700, create: true, expected: 'absent' });
    expect(first).toEqual({ outcome: 'changed', before: 'absent', after: 'nobody 0700', detail: `created ${p}` });
    expect(fs.statSync(p)).toMatchObject({ uid: 65534 });
    expect(modeOf(p)).toBe(0o700);

    // The same plan again (a retried step): the desired state holds, whatever the plan saw.
    const second = await send('fs.ensure-path', { path: p, owner: 'nobody', mode: 0o700, create: true, expected: 'absent' });
    expect(second).toEqual({ outcome: 'already-satisfied', before: 'nobody 0700', after: 'nobody 0700', detail: null });
  });

  it('fixes the owner and mode of an existing directory when the plan saw what is there', async () => {
    const p = path.join(work, 'share');
    fs.mkdirSync(p, { mode: 0o777 });
    fs.chmodSync(p, 0o777);
    const fixed = await send('fs.ensure-path', { path: p, owner: 'nobody', mode: 0o750, create: false, expected: 'root 0777' });
    expect(fixed).toEqual({ outcome: 'changed', before: 'root 0777', after: 'nobody 0750', detail: null });
    expect(fs.statSync(p).uid).toBe(65534);
    expect(modeOf(p)).toBe(0o750);
    await expect(send('fs.ensure-path', { path: p, owner: 'nobody', mode: 0o750, create: false, expected: 'nobody 0750' })).resolves.toMatchObject({ outcome: 'already-satisfied' });
  });

  it('answers stale-plan, changing nothing, when the path moved on since the plan', async () => {
    const p = path.join(work, 'moved-on');
    fs.mkdirSync(p);
    fs.chmodSync(p, 0o755);
    const result = await send('fs.ensure-path', { path: p, owner: 'nobody', mode: 0o700, create: true, expected: 'root 0700' });
    expect(result).toEqual({ outcome: 'stale-plan', before: 'root 0755', after: 'root 0755', detail: expect.stringContaining('validate again') as string });
    expect(fs.statSync(p).uid).toBe(0);
    expect(modeOf(p)).toBe(0o755);
  });

  it('refuses clearly: an absent path it may not create, an unknown owner, a file, a relative path', async () => {
    await expect(send('fs.ensure-path', { path: path.join(work, 'nope'), owner: 'nobody', mode: 0o700, create: false })).rejects.toThrow(/does not exist/);
    expect(fs.existsSync(path.join(work, 'nope'))).toBe(false);
    await expect(send('fs.ensure-path', { path: path.join(work, 'x'), owner: 'no_such_user_h5', mode: 0o700, create: true })).rejects.toThrow(/no user "no_such_user_h5"/);
    fs.writeFileSync(path.join(work, 'file'), 'x');
    await expect(send('fs.ensure-path', { path: path.join(work, 'file'), owner: 'nobody', mode: 0o700, create: true })).rejects.toThrow(/not a directory/);
    await expect(send('fs.ensure-path', { path: 'relative/dir', owner: 'nobody', mode: 0o700, create: true })).rejects.toThrow(/absolute path/);
    // The agent still serves after the refusals.
    await expect(send('fs.ensure-path', { path: work, owner: 'root', mode: modeOf(work), create: false })).resolves.toMatchObject({ outcome: 'already-satisfied' });
  });
});

describe('hooks.prepare-dir', { timeout: 90_000 }, () => {
  it("creates the agent's hook directory 0700 owned by the agent, then answers already-satisfied", async () => {
    const dir = path.join(agent.dir, 'hooks');
    fs.rmSync(dir, { recursive: true, force: true });
    await expect(send('hooks.prepare-dir', {})).resolves.toEqual({ outcome: 'changed', before: 'absent', after: 'root 0700', detail: dir });
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(modeOf(dir)).toBe(0o700);
    await expect(send('hooks.prepare-dir', {})).resolves.toMatchObject({ outcome: 'already-satisfied', before: 'root 0700' });

    fs.chmodSync(dir, 0o777);
    await expect(send('hooks.prepare-dir', {})).resolves.toMatchObject({ outcome: 'changed', before: 'root 0777', after: 'root 0700' });
    expect(modeOf(dir)).toBe(0o700);
  });
});

describe('time.resync', { timeout: 90_000 }, () => {
  it('is refused with the reason on a server without a time service', async () => {
    // This machine runs neither chronyd, ntpd nor systemd (so no timesyncd).
    expect(fs.readFileSync('/proc/1/comm', 'utf8').trim()).not.toBe('systemd');
    await expect(send('time.resync', {})).rejects.toThrow(/no time service is configured/);
  });
});

describe('service fixes behave as ensures', { timeout: 90_000 }, () => {
  it('stopping a stopped service answers its state; stopping a running one stops it once', async () => {
    await expect(send('service.stop', { name: service.name })).resolves.toEqual({ name: service.name, state: 'stopped', startMode: 'manual' });
    expect(service.stops()).toBe(0);
    execFileSync(service.scriptPath, ['start']);
    await expect(send('service.stop', { name: service.name })).resolves.toMatchObject({ state: 'stopped' });
    await expect(send('service.stop', { name: service.name })).resolves.toMatchObject({ state: 'stopped' });
    expect(service.stops()).toBe(1);
  });

  it('setting the start mode twice changes the links once', async () => {
    execFileSync('update-rc.d', [service.name, 'defaults']);
    await expect(send('service.status', { name: service.name })).resolves.toMatchObject({ startMode: 'auto' });
    await expect(send('service.set-startup-mode', { name: service.name, mode: 'manual' })).resolves.toMatchObject({ startMode: 'manual' });
    expect(rcLinks(service.name)).toEqual([]);
    await expect(send('service.set-startup-mode', { name: service.name, mode: 'manual' })).resolves.toMatchObject({ state: 'stopped', startMode: 'manual' });
    await expect(send('service.set-startup-mode', { name: service.name, mode: 'disabled' })).resolves.toMatchObject({ startMode: 'disabled' });
    const links = rcLinks(service.name);
    await expect(send('service.set-startup-mode', { name: service.name, mode: 'disabled' })).resolves.toMatchObject({ startMode: 'disabled' });
    expect(rcLinks(service.name)).toEqual(links);
  });
});
