// Facts collected on this (Linux, SysV init) machine, checked against what the machine says
// directly; one failing, hanging or misbehaving collector makes only its own section unknown.
// Also: systemd and file-share parsing against recorded outputs and configuration files.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { factsSchema } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { runCommand, type CommandRunner } from '../../apps/agent/src/exec.ts';
import { parseExports, parseSmbConf } from '../../apps/agent/src/facts/applications/fileshares.ts';
import { collectFacts, type CollectFactsOptions } from '../../apps/agent/src/facts/index.ts';
import { parseOsRelease } from '../../apps/agent/src/facts/host.ts';
import { parseProcNetIpv6Route, parseProcNetRoute } from '../../apps/agent/src/facts/network.ts';
import { parseDf } from '../../apps/agent/src/facts/volumes.ts';
import { waitFor } from './support/agents';

const fixtures = path.join(import.meta.dirname, '../fixtures');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');
const base: CollectFactsOptions = {
  capabilities: ['facts', 'service.start'],
  agentVersion: '1.2.3',
  protocolVersion: 1,
  clockOffsetMs: 42,
};

/** A runner that fails the commands `fails` matches and really runs the others. */
const failing =
  (
    fails: (cmd: string) => boolean,
    how: () => Promise<never> = () => Promise.reject(new Error('simulated failure')),
  ): CommandRunner =>
  (cmd, args, opts) =>
    fails(path.basename(cmd)) ? how() : runCommand(cmd, args, opts);

/** The host's cluster section: not a member (ok, null), or Pacemaker installed with no cluster running. */
function hostClusterState(cluster: { status: string; data?: unknown; reason?: string }): boolean {
  if (cluster.status === 'ok') return cluster.data === null;
  return /crm_mon failed/.test(cluster.reason ?? '');
}

describe('facts on this machine', () => {
  it('collects schema-valid host, network, volume, service, application and cluster facts', async () => {
    const facts = await collectFacts(base);
    expect(() => factsSchema.parse(facts)).not.toThrow();
    expect(facts.agent).toEqual({ version: '1.2.3', protocolVersion: 1, capabilities: ['facts', 'service.start'] });
    expect(Date.now() - Date.parse(facts.collectedAt)).toBeLessThan(60_000);
    for (const s of ['host', 'network', 'volumes', 'services', 'applications'] as const) {
      expect(facts[s], `${s}: ${JSON.stringify(facts[s])}`).toMatchObject({ status: 'ok' });
    }
    if (
      facts.host.status !== 'ok' ||
      facts.network.status !== 'ok' ||
      facts.volumes.status !== 'ok' ||
      facts.services.status !== 'ok'
    )
      return;

    // Host: what Node and /etc/os-release say.
    const osRelease = parseOsRelease(readFileSync('/etc/os-release', 'utf8'));
    expect(facts.host.data).toMatchObject({
      hostname: os.hostname(),
      osFamily: 'linux',
      osName: osRelease.PRETTY_NAME,
      osVersion: osRelease.VERSION_ID,
      kernel: os.release(),
      cpuCount: os.cpus().length,
      memoryBytes: os.totalmem(),
      clockOffsetMs: 42,
    });
    expect(facts.host.data.uptimeSeconds).toBeGreaterThan(0);
    const fqdn = spawnSync('hostname', ['-f'], { encoding: 'utf8' }).stdout.trim();
    expect(facts.host.data.fqdn).toBe(fqdn.includes('.') ? fqdn : null);

    // Network: every non-loopback interface with its addresses; the default route's gateway.
    const nics = Object.entries(os.networkInterfaces()).filter(([, infos]) => infos?.some((i) => !i.internal));
    expect(facts.network.data.interfaces.map((i) => i.name).sort()).toEqual(nics.map(([name]) => name).sort());
    for (const [name, infos] of nics) {
      const reported = facts.network.data.interfaces.find((i) => i.name === name)!;
      expect(reported.addresses.map((a) => `${a.address}/${a.prefix}`).sort()).toEqual(infos!.map((i) => i.cidr).sort());
    }
    expect(facts.network.data.interfaces.some((i) => i.name === 'lo')).toBe(false);
    expect(facts.network.data.defaultGateway).toBe(parseProcNetRoute(readFileSync('/proc/net/route', 'utf8')));
    const resolvers = readFileSync('/etc/resolv.conf', 'utf8')
      .match(/^nameserver\s+(\S+)/gm)
      ?.map((l) => l.split(/\s+/)[1]);
    expect(facts.network.data.dnsResolvers).toEqual(resolvers ?? []);

    // Volumes: "/" with the size statfs reports; no pseudo file systems.
    const rootVolume = facts.volumes.data.find((v) => v.mountPoint === '/');
    const st = statfsSync('/');
    expect(rootVolume).toBeDefined();
    expect(rootVolume!.sizeBytes).toBe(st.blocks * st.bsize);
    expect(Math.abs(rootVolume!.freeBytes - st.bavail * st.bsize)).toBeLessThan(0.05 * rootVolume!.sizeBytes);
    expect(
      facts.volumes.data.filter((v) => ['tmpfs', 'devtmpfs', 'proc', 'sysfs', 'overlay'].includes(v.fileSystem ?? '')),
    ).toEqual([]);

    // Services: PID 1 is not systemd here, so SysV init scripts, with states from `service NAME status`.
    expect(readFileSync('/proc/1/comm', 'utf8').trim()).not.toBe('systemd');
    expect(facts.services.data.manager).toBe('sysv');
    // (agent-actions.test.ts may be installing or removing its tandem-test-* script meanwhile.)
    const ours = (n: string) => !n.startsWith('tandem-test-');
    const scripts = readdirSync('/etc/init.d').filter(
      (n) =>
        ours(n) && !n.startsWith('.') && n !== 'README' && n !== 'skeleton' && (statSync(`/etc/init.d/${n}`).mode & 0o111) !== 0,
    );
    expect(
      facts.services.data.services
        .map((s) => s.name)
        .filter(ours)
        .sort(),
    ).toEqual(scripts.sort());
    for (const name of scripts.slice(0, 3)) {
      const code = spawnSync('service', [name, 'status'], { stdio: 'ignore' }).status;
      const expected = code === 0 ? 'running' : code === 3 ? 'stopped' : 'unknown';
      const hasStartLink = ['2', '3', '4', '5', 'S'].some(
        (l) =>
          existsSync(`/etc/rc${l}.d`) &&
          readdirSync(`/etc/rc${l}.d`).some((e) => new RegExp(`^S\\d+${name.replace(/[.]/g, '\\.')}$`).test(e)),
      );
      expect(facts.services.data.services.find((s) => s.name === name)).toMatchObject({
        state: expected,
        ...(hasStartLink ? { startMode: 'auto' } : {}),
      });
    }

    // This host is no cluster member. With Pacemaker installed (the live Pacemaker test needs it)
    // but no cluster running on the host itself, the collector says so instead of guessing.
    expect(hostClusterState(facts.cluster)).toBe(true);
  });

  it('makes only the failing collector unknown when a command fails', async () => {
    const facts = await collectFacts({ ...base, run: failing((cmd) => cmd === 'df') });
    expect(facts.volumes).toEqual({ status: 'unknown', reason: expect.stringContaining('simulated failure') as string });
    for (const s of ['host', 'network', 'services', 'applications'] as const) expect(facts[s].status).toBe('ok');
    expect(hostClusterState(facts.cluster)).toBe(true);
  });

  it('makes only the services section unknown when /etc/init.d cannot be read', async () => {
    const { readdir } = await import('node:fs/promises');
    const facts = await collectFacts({
      ...base,
      readDir: (dir) =>
        dir === '/etc/init.d' ? Promise.reject(new Error(`EACCES: permission denied, scandir '${dir}'`)) : readdir(dir),
    });
    expect(facts.services).toEqual({ status: 'unknown', reason: expect.stringContaining('EACCES') as string });
    for (const s of ['host', 'network', 'volumes', 'applications'] as const) expect(facts[s].status).toBe('ok');
    expect(hostClusterState(facts.cluster)).toBe(true);
  });

  it('gives up on a collector that hangs, after its time limit', async () => {
    // The collector never settles, so an answer at all means the time limit worked.
    const facts = await collectFacts({
      ...base,
      collectorTimeoutMs: 3_000,
      run: failing(
        (cmd) => cmd === 'df',
        () => new Promise<never>(() => undefined),
      ),
    });
    expect(facts.volumes).toEqual({ status: 'unknown', reason: 'volumes facts timed out after 3000 ms' });
    expect(facts.host.status).toBe('ok');
  });

  it('replaces a section the protocol would reject with unknown, keeping the rest', async () => {
    const facts = await collectFacts({ ...base, system: { cpuCount: () => -1 } });
    expect(facts.host.status).toBe('unknown');
    expect(facts.host.status === 'unknown' && facts.host.reason).toMatch(/do not match the protocol: cpuCount/);
    expect(facts.network.status).toBe('ok');
    expect(() => factsSchema.parse(facts)).not.toThrow();
  });

  it('reports file shares from smb.conf and /etc/exports as a file_server application', async () => {
    const { readFile } = await import('node:fs/promises');
    const facts = await collectFacts({
      ...base,
      readFile: (file) =>
        file === '/etc/samba/smb.conf'
          ? Promise.resolve(fixture('linux/smb.conf'))
          : file === '/etc/exports'
            ? Promise.resolve(fixture('linux/exports'))
            : readFile(file, 'utf8'),
    });
    expect(facts.applications.status).toBe('ok');
    const apps = facts.applications.status === 'ok' ? facts.applications.data : [];
    expect(apps.filter((a) => a.kind === 'file_server')).toEqual([
      {
        kind: 'file_server',
        shares: [
          { protocol: 'smb', name: 'Finance', path: '/srv/shares/finance' },
          { protocol: 'smb', name: 'Public Data', path: '/srv/shares/public data' },
          { protocol: 'nfs', name: '/srv/nfs/vmstore', path: '/srv/nfs/vmstore' },
          { protocol: 'nfs', name: '/srv/nfs/backups', path: '/srv/nfs/backups' },
          { protocol: 'nfs', name: '/srv/nfs/with space', path: '/srv/nfs/with space' },
        ],
      },
    ]);
  });

  it('reports no file_server application when nothing is shared', () => {
    expect(parseSmbConf('[global]\n  workgroup = X\n[printers]\n  path = /var/spool/samba\n')).toEqual([]);
    expect(parseExports('# nothing exported\n')).toEqual([]);
  });
});

describe('Linux parsers (recorded output)', () => {
  it('keeps real file systems from df -PTB1, with mount points containing spaces', () => {
    expect(parseDf(fixture('linux/df.txt'))).toEqual([
      { mountPoint: '/', device: '/dev/mapper/vg0-root', fileSystem: 'ext4', sizeBytes: 105089261568, freeBytes: 61553430528 },
      { mountPoint: '/boot', device: '/dev/sda1', fileSystem: 'ext4', sizeBytes: 1020702720, freeBytes: 795234304 },
      {
        mountPoint: '/var/lib/postgresql',
        device: '/dev/mapper/vg0-pgdata',
        fileSystem: 'xfs',
        sizeBytes: 536608768000,
        freeBytes: 335380480000,
      },
      {
        mountPoint: '/srv/shares/public data',
        device: '/dev/sdb1',
        fileSystem: 'ext4',
        sizeBytes: 1099511627776,
        freeBytes: 549755813888,
      },
      {
        mountPoint: '/mnt/backups',
        device: 'nas01:/export/backups',
        fileSystem: 'nfs4',
        sizeBytes: 4398046511104,
        freeBytes: 3298534883328,
      },
    ]);
  });

  it('reads default gateways from /proc/net/route and /proc/net/ipv6_route', () => {
    const route = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0',
      'eth0\t00000000\t011E140A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t001E140A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
    ].join('\n');
    expect(parseProcNetRoute(route)).toBe('10.20.30.1');
    expect(parseProcNetRoute('Iface\tDestination\n')).toBeNull();
    const ipv6 =
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n';
    expect(parseProcNetIpv6Route(ipv6)).toBe('fe80::1');
  });
});

describe('systemd services (recorded output)', () => {
  it('merges systemctl list-units and list-unit-files when PID 1 is systemd', async () => {
    const { readFile } = await import('node:fs/promises');
    const calls: string[][] = [];
    const facts = await collectFacts({
      ...base,
      readFile: (file) => (file === '/proc/1/comm' ? Promise.resolve('systemd\n') : readFile(file, 'utf8')),
      run: (cmd, args, opts) => {
        if (cmd !== 'systemctl') return runCommand(cmd, args, opts);
        calls.push(args);
        const out =
          args[0] === 'list-units'
            ? fixture('systemd/list-units.txt')
            : args[0] === 'list-unit-files'
              ? fixture('systemd/list-unit-files.txt')
              : '';
        return Promise.resolve({ code: 0, stdout: out, stderr: '' });
      },
    });
    expect(calls.map((c) => c[0]).sort()).toEqual(['list-unit-files', 'list-units']);
    expect(facts.services.status).toBe('ok');
    if (facts.services.status !== 'ok') return;
    expect(facts.services.data.manager).toBe('systemd');
    const byName = Object.fromEntries(facts.services.data.services.map((s) => [s.name, s]));
    expect(byName).toEqual({
      apparmor: { name: 'apparmor', state: 'stopped', startMode: 'auto' },
      cron: { name: 'cron', state: 'running', startMode: 'auto' },
      dbus: { name: 'dbus', state: 'running', startMode: 'manual' },
      'getty@tty1': { name: 'getty@tty1', state: 'running', startMode: 'auto' },
      keepalived: { name: 'keepalived', state: 'failed', startMode: 'auto' },
      mariadb: { name: 'mariadb', state: 'stopped', startMode: 'disabled' },
      networking: { name: 'networking', state: 'running', startMode: 'auto' },
      'nfs-server': { name: 'nfs-server', state: 'starting', startMode: 'auto' },
      'postgresql@15-main': { name: 'postgresql@15-main', state: 'running', startMode: 'manual' },
      rsync: { name: 'rsync', state: 'stopped', startMode: 'disabled' },
      ssh: { name: 'ssh', state: 'running', startMode: 'auto' },
      'systemd-journald': { name: 'systemd-journald', state: 'running', startMode: 'manual' },
      telnet: { name: 'telnet', state: 'stopped', startMode: 'disabled' },
    });
  });
});

describe('the command runner', () => {
  it('passes arguments without a shell and feeds stdin', async () => {
    await expect(runCommand('printf', ['%s|', 'a b', '$(id)', ';ls'])).resolves.toEqual({
      code: 0,
      stdout: 'a b|$(id)|;ls|',
      stderr: '',
    });
    await expect(runCommand('cat', [], { input: 'hello' })).resolves.toMatchObject({ code: 0, stdout: 'hello' });
    await expect(runCommand('sh', ['-c', 'echo oops >&2; exit 5'])).resolves.toEqual({ code: 5, stdout: '', stderr: 'oops\n' });
  });

  it('kills a command (and its process group) on timeout', async () => {
    // The sleep would outlive the test by far: it is gone only because it was killed.
    await expect(runCommand('sh', ['-c', 'sleep 607.31; echo late'], { timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
    await waitFor('the timed-out sleep to be gone', () => !execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).includes('sleep 607.31'));
  });

  it('does not wait for a background process that keeps its output pipe open', async () => {
    // Waiting for the pipe to close would outlast the test's time limit by far.
    const result = await runCommand('sh', ['-c', 'sleep 603 & echo $!']);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\n$/) as string });
    process.kill(Number(result.stdout), 'SIGKILL'); // The background sleep, by its pid.
  });

  it('refuses unbounded output and reports a missing command', async () => {
    await expect(runCommand('head', ['-c', String(9 * 1024 * 1024), '/dev/zero'])).rejects.toThrow(/output exceeded/);
    await expect(runCommand('/nonexistent/tandem-command', [])).rejects.toThrow(/ENOENT/);
  });
});
