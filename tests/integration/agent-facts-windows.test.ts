// Windows facts and service actions against recorded PowerShell output (tests/fixtures/windows/*.out):
// a fake CommandRunner answers each PowerShell script (named by its first line) with a fixture.
import { readFileSync } from 'node:fs';
import type os from 'node:os';
import path from 'node:path';
import { factsSchema, type ApplicationFacts } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import type { CommandResult, CommandRunner } from '../../apps/agent/src/exec.ts';
import { collectFacts, type CollectFactsOptions } from '../../apps/agent/src/facts/index.ts';
import { decodePowerShellScript, powerShellScriptName } from '../../apps/agent/src/facts/util.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../fixtures/windows', name), 'utf8');
const interfaces = JSON.parse(fixture('network-interfaces.json')) as NodeJS.Dict<os.NetworkInterfaceInfo[]>;

const RECORDED: Record<string, string> = {
  host: 'host.out',
  network: 'network.out',
  volumes: 'volumes.out',
  services: 'services.out',
  sqlserver: 'sqlserver.out',
  exchange: 'exchange.out',
  'smb-shares': 'smb-shares.out',
  cluster: 'cluster.out',
};

interface Call {
  name: string;
  script: string;
}

/** Answers powershell.exe scripts from fixtures; `overrides` replaces the answer for a script name. */
function recordedPowerShell(calls: Call[], overrides: Record<string, CommandResult | string> = {}): CommandRunner {
  return (cmd, args) => {
    if (cmd !== 'powershell.exe') return Promise.reject(new Error(`unexpected command ${cmd} on Windows`));
    expect(args.slice(0, 5)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    const name = powerShellScriptName(args) ?? '?';
    calls.push({ name, script: decodePowerShellScript(args) ?? '' });
    const override = overrides[name];
    if (typeof override === 'object') return Promise.resolve(override);
    const file = override ?? RECORDED[name];
    if (!file) return Promise.reject(new Error(`no recorded output for PowerShell script ${name}`));
    return Promise.resolve({ code: 0, stdout: fixture(file), stderr: '' });
  };
}

const noFiles = (what: string) => () => Promise.reject(new Error(`${what} is not used on Windows`));

function windowsOptions(run: CommandRunner): CollectFactsOptions {
  return {
    capabilities: ['facts'],
    agentVersion: '1.0.0',
    protocolVersion: 1,
    clockOffsetMs: -15,
    platform: 'win32',
    run,
    readFile: noFiles('readFile'),
    readDir: noFiles('readDir'),
    readLink: noFiles('readLink'),
    stat: noFiles('stat'),
    system: { networkInterfaces: () => interfaces },
  };
}

type Kind = ApplicationFacts['kind'];
const appsOf = <K extends Kind>(facts: Awaited<ReturnType<typeof collectFacts>>, kind: K) =>
  (facts.applications.status === 'ok' ? facts.applications.data : []).filter(
    (a): a is Extract<ApplicationFacts, { kind: K }> => a.kind === kind,
  );

describe('Windows facts (recorded output)', () => {
  it('parses host, network, volumes, services, SQL Server, Exchange, SMB shares and the failover cluster', async () => {
    const calls: Call[] = [];
    const facts = await collectFacts(windowsOptions(recordedPowerShell(calls)));
    expect(() => factsSchema.parse(facts)).not.toThrow();
    expect(calls.map((c) => c.name).sort()).toEqual(Object.keys(RECORDED).sort());
    const script = (name: string) => calls.find((c) => c.name === name)!.script;
    expect(script('host')).toContain('Win32_OperatingSystem');
    expect(script('services')).toContain('Win32_Service');
    expect(script('volumes')).toContain('Get-Volume');
    expect(script('network')).toContain("Get-NetRoute -DestinationPrefix '0.0.0.0/0'");
    expect(script('network')).toContain('Get-DnsClientServerAddress');
    expect(script('smb-shares')).toContain('Get-SmbShare');
    expect(script('sqlserver')).toContain('sys.master_files');
    expect(script('exchange')).toContain('Get-MailboxDatabase');
    expect(script('cluster')).toContain('Get-ClusterResource');

    expect(facts.host).toEqual({
      status: 'ok',
      data: {
        hostname: 'SQL01',
        fqdn: 'SQL01.corp.example.com',
        osFamily: 'windows',
        osName: 'Windows Server 2022 Standard',
        osVersion: '10.0.20348',
        kernel: 'Windows NT 10.0.20348',
        cpuCount: 8,
        memoryBytes: 17179398144,
        uptimeSeconds: 864523,
        clockOffsetMs: -15,
      },
    });

    expect(facts.network).toEqual({
      status: 'ok',
      data: {
        interfaces: [
          {
            name: 'Ethernet0',
            mac: '00:50:56:8a:11:22',
            addresses: [
              { address: 'fe80::5d1c:2a4b:9e3f:1a2b', prefix: 64, family: 'ipv6' },
              { address: '10.20.0.31', prefix: 24, family: 'ipv4' },
              { address: '10.20.0.35', prefix: 24, family: 'ipv4' },
            ],
          },
          { name: 'Heartbeat', mac: '00:50:56:8a:33:44', addresses: [{ address: '10.30.0.31', prefix: 30, family: 'ipv4' }] },
        ],
        defaultGateway: '10.20.0.1',
        dnsResolvers: ['10.20.0.10', '10.20.0.11'],
      },
    });

    expect(facts.volumes).toEqual({
      status: 'ok',
      data: [
        {
          mountPoint: 'C:',
          device: '\\\\?\\Volume{5d2f1a3e-0000-0000-0000-501f00000000}\\',
          fileSystem: 'NTFS',
          sizeBytes: 135838822400,
          freeBytes: 61203578880,
        },
        {
          mountPoint: 'D:',
          device: '\\\\?\\Volume{8c1e4b7a-2f3d-4e5f-9a0b-1c2d3e4f5a6b}\\',
          fileSystem: 'NTFS',
          sizeBytes: 536870912000,
          freeBytes: 318767104000,
        },
        {
          mountPoint: 'L:',
          device: '\\\\?\\Volume{0b9a8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d}\\',
          fileSystem: 'ReFS',
          sizeBytes: 107374182400,
          freeBytes: 96636764160,
        },
      ],
    });

    expect(facts.services.status).toBe('ok');
    if (facts.services.status !== 'ok') return;
    expect(facts.services.data.manager).toBe('windows-scm');
    expect(facts.services.data.services).toHaveLength(9);
    expect(facts.services.data.services).toEqual(
      expect.arrayContaining([
        { name: 'MSSQLSERVER', state: 'running', startMode: 'auto' },
        { name: 'MSSQL$REPORTING', state: 'stopped', startMode: 'manual' },
        { name: 'SQLSERVERAGENT', state: 'starting', startMode: 'auto' },
        { name: 'Spooler', state: 'stopped', startMode: 'disabled' },
        { name: 'W32Time', state: 'stopping', startMode: 'manual' },
        { name: 'disk', state: 'running', startMode: 'auto' },
      ]),
    );

    expect(appsOf(facts, 'sql_server')).toEqual([
      {
        kind: 'sql_server',
        instance: 'MSSQLSERVER',
        version: '16.0.4135.4',
        edition: 'Standard Edition (64-bit)',
        running: true,
        databases: [
          {
            name: 'master',
            recoveryModel: 'SIMPLE',
            dataFiles: ['C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\DATA\\master.mdf'],
          },
          {
            name: 'model',
            recoveryModel: 'FULL',
            dataFiles: ['C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\DATA\\model.mdf'],
          },
          {
            name: 'msdb',
            recoveryModel: 'SIMPLE',
            dataFiles: ['C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\DATA\\MSDBData.mdf'],
          },
          { name: 'SalesDB', recoveryModel: 'FULL', dataFiles: ['D:\\SQLData\\SalesDB.mdf', 'D:\\SQLData\\SalesDB_2024.ndf'] },
          { name: 'tempdb', recoveryModel: 'SIMPLE', dataFiles: ['D:\\TempDB\\tempdb.mdf'] },
        ],
      },
      // Stopped: version and edition from the registry, no databases.
      {
        kind: 'sql_server',
        instance: 'REPORTING',
        version: '15.0.2000.5',
        edition: 'Express Edition',
        running: false,
        databases: [],
      },
    ]);

    expect(appsOf(facts, 'exchange')).toEqual([
      {
        kind: 'exchange',
        version: '15.2.1544.4',
        roles: ['Mailbox'],
        databases: [
          { name: 'DB01', edbPath: 'D:\\ExchangeDatabases\\DB01\\DB01.edb', logPath: 'L:\\ExchangeLogs\\DB01', mounted: true },
          { name: 'DB02', edbPath: 'D:\\ExchangeDatabases\\DB02\\DB02.edb', logPath: 'L:\\ExchangeLogs\\DB02', mounted: false },
          { name: 'Archive', edbPath: 'E:\\Archive\\Archive.edb', logPath: 'E:\\Archive\\Logs', mounted: null },
        ],
      },
    ]);

    // Administrative shares (ADMIN$, C$, IPC$) are left out.
    expect(appsOf(facts, 'file_server')).toEqual([
      {
        kind: 'file_server',
        shares: [
          { protocol: 'smb', name: 'Finance', path: 'D:\\Shares\\Finance' },
          { protocol: 'smb', name: 'SQLBackups', path: 'D:\\Backups' },
        ],
      },
    ]);

    expect(facts.cluster).toEqual({
      status: 'ok',
      data: {
        stack: 'windows-failover-cluster',
        name: 'SQLCLUSTER01',
        quorate: true,
        nodes: [
          { name: 'SQL01', online: true },
          { name: 'SQL02', online: false },
        ],
        resources: [
          {
            id: 'Cluster IP Address',
            type: 'IP Address',
            role: 'Online',
            node: 'SQL01',
            group: 'Cluster Group',
            targetRole: null,
          },
          { id: 'Cluster Name', type: 'Network Name', role: 'Online', node: 'SQL01', group: 'Cluster Group', targetRole: null },
          {
            id: 'Cluster Disk 1',
            type: 'Physical Disk',
            role: 'Online',
            node: 'SQL01',
            group: 'SQL Server (MSSQLSERVER)',
            targetRole: null,
          },
          {
            id: 'File Share Witness',
            type: 'File Share Witness',
            role: 'Online',
            node: 'SQL01',
            group: 'Cluster Group',
            targetRole: null,
          },
          {
            id: 'SQL Server',
            type: 'SQL Server',
            role: 'Online',
            node: 'SQL01',
            group: 'SQL Server (MSSQLSERVER)',
            targetRole: null,
          },
          {
            id: 'SQL Server Agent',
            type: 'SQL Server Agent',
            role: 'Failed',
            node: 'SQL01',
            group: 'SQL Server (MSSQLSERVER)',
            targetRole: null,
          },
        ],
        // Get-ClusterGroup; preferred owners as location constraints (rank as score), dependencies as order.
        groups: [
          { id: 'Cluster Group', resources: ['Cluster IP Address', 'Cluster Name', 'File Share Witness'], node: 'SQL01' },
          { id: 'SQL Server (MSSQLSERVER)', resources: ['Cluster Disk 1', 'SQL Server', 'SQL Server Agent'], node: 'SQL01' },
        ],
        constraints: [
          {
            id: 'owner:SQL Server (MSSQLSERVER):SQL01',
            kind: 'location',
            resource: 'SQL Server (MSSQLSERVER)',
            node: 'SQL01',
            with: null,
            score: '2',
          },
          {
            id: 'owner:SQL Server (MSSQLSERVER):SQL02',
            kind: 'location',
            resource: 'SQL Server (MSSQLSERVER)',
            node: 'SQL02',
            with: null,
            score: '1',
          },
          {
            id: 'dependency:Cluster Name:Cluster IP Address',
            kind: 'order',
            resource: 'Cluster IP Address',
            node: null,
            with: 'Cluster Name',
            score: null,
          },
          {
            id: 'dependency:SQL Server:Cluster Disk 1',
            kind: 'order',
            resource: 'Cluster Disk 1',
            node: null,
            with: 'SQL Server',
            score: null,
          },
          {
            id: 'dependency:SQL Server Agent:SQL Server',
            kind: 'order',
            resource: 'SQL Server',
            node: null,
            with: 'SQL Server Agent',
            score: null,
          },
        ],
        fencing: null,
      },
    });
  });

  it('handles single objects and empty output from ConvertTo-Json', async () => {
    const calls: Call[] = [];
    const oneService = '{\n    "Name":  "Spooler",\n    "State":  "Running",\n    "StartMode":  "Auto"\n}';
    const facts = await collectFacts(
      windowsOptions(
        recordedPowerShell(calls, {
          services: { code: 0, stdout: oneService, stderr: '' },
          'smb-shares': { code: 0, stdout: '', stderr: '' },
          sqlserver: { code: 0, stdout: '[\r\n\r\n]\r\n', stderr: '' },
          exchange: 'exchange-absent.out',
          cluster: { code: 0, stdout: '{"member":false}\r\n', stderr: '' },
        }),
      ),
    );
    expect(facts.services).toEqual({
      status: 'ok',
      data: { manager: 'windows-scm', services: [{ name: 'Spooler', state: 'running', startMode: 'auto' }] },
    });
    expect(facts.applications).toEqual({ status: 'ok', data: [] });
    expect(facts.cluster).toEqual({ status: 'ok', data: null });
  });

  it('reports a failing script as unknown for its section only', async () => {
    const calls: Call[] = [];
    const facts = await collectFacts(
      windowsOptions(
        recordedPowerShell(calls, {
          sqlserver: {
            code: 1,
            stdout: '',
            stderr:
              'New-Object : Exception calling ".ctor" with "1" argument(s): "Login failed for user \'NT AUTHORITY\\SYSTEM\'."',
          },
          cluster: 'cluster-stopped.out',
          volumes: { code: 0, stdout: '{"DriveLetter": "C", "Size": ', stderr: '' },
        }),
      ),
    );
    expect(facts.applications.status).toBe('unknown');
    expect(facts.applications.status === 'unknown' && facts.applications.reason).toMatch(
      /^sql server: PowerShell sqlserver failed \(exit 1\): .*Login failed/,
    );
    expect(facts.cluster).toEqual({
      status: 'unknown',
      reason: 'this server is a failover cluster node but the cluster service is Stopped',
    });
    expect(facts.volumes.status === 'unknown' && facts.volumes.reason).toMatch(/PowerShell volumes printed invalid JSON/);
    expect(facts.host.status).toBe('ok');
    expect(facts.services.status).toBe('ok');
  });
});

describe('Windows service actions (recorded output)', () => {
  const ctx = (calls: Call[], stdout: string) => ({
    hooksDir: 'C:\\ProgramData\\Tandem\\hooks',
    platform: 'win32' as const,
    run: ((_cmd, args) => {
      calls.push({ name: powerShellScriptName(args) ?? '?', script: decodePowerShellScript(args) ?? '' });
      return Promise.resolve({ code: 0, stdout, stderr: '' });
    }) satisfies CommandRunner,
  });

  it('starts a service with Start-Service and returns its state', async () => {
    const calls: Call[] = [];
    const result = await runAction(
      'service.start',
      { name: 'Spooler' },
      ctx(
        calls,
        '{\r\n    "found":  true,\r\n    "Name":  "Spooler",\r\n    "State":  "Running",\r\n    "StartMode":  "Manual"\r\n}\r\n',
      ),
    );
    expect(result).toEqual({ name: 'Spooler', state: 'running', startMode: 'manual' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.name).toBe('service-start');
    expect(calls[0]!.script).toContain("$name = 'Spooler'");
    expect(calls[0]!.script).toContain('Start-Service -Name $name');
  });

  it('disables a service with Set-Service -StartupType Disabled', async () => {
    const calls: Call[] = [];
    const result = await runAction(
      'service.disable',
      { name: 'W32Time' },
      ctx(calls, '{"found":true,"Name":"W32Time","State":"Stopped","StartMode":"Disabled"}'),
    );
    expect(result).toEqual({ name: 'W32Time', state: 'stopped', startMode: 'disabled' });
    expect(calls[0]!.script).toContain('Set-Service -Name $name -StartupType Disabled');
  });

  it('reports a missing service as not-found for status and refuses to stop it', async () => {
    await expect(runAction('service.status', { name: 'NoSuchService' }, ctx([], '{"found":false}'))).resolves.toEqual({
      name: 'NoSuchService',
      state: 'not-found',
      startMode: 'unknown',
    });
    await expect(runAction('service.stop', { name: 'NoSuchService' }, ctx([], '{"found":false}'))).rejects.toThrow(
      'service "NoSuchService" not found',
    );
  });
});
