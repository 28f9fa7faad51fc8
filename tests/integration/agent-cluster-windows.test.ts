// Windows failover cluster actions (apps/agent/src/actions/cluster/windows.ts) against recorded
// outputs: a fake powershell.exe answers each script, in order, with what that script prints on a
// two-node Windows Server failover cluster (SQL01, SQL02) — ConvertTo-Json of the cluster cmdlets'
// results (tests/fixtures/windows/cluster-config.out is the configuration export of that cluster).
// Each step also checks that the script carries the cmdlet lines that make it do its job.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { actionResults } from '@tandem/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import type { CommandOptions, CommandRunner } from '../../apps/agent/src/exec.ts';
import { decodePowerShellScript, powerShellScriptName } from '../../apps/agent/src/facts/util.ts';

const configExport = readFileSync(path.join(import.meta.dirname, '../fixtures/windows/cluster-config.out'), 'utf8');

type Step = { name: string; lines?: string[]; stdout?: string; stderr?: string; code?: number };
type Call = { name: string | null; script: string; opts: CommandOptions | undefined };

const mismatches: unknown[] = [];
afterEach(() => {
  expect(mismatches.splice(0)).toEqual([]);
});

/** A powershell.exe answering recorded outputs in order. */
function recorded(steps: Step[]): { run: CommandRunner; calls: Call[]; left: () => number } {
  const queue = [...steps];
  const calls: Call[] = [];
  const run: CommandRunner = (cmd, args, opts) => {
    const step = queue.shift();
    const script = decodePowerShellScript(args) ?? '';
    calls.push({ name: powerShellScriptName(args), script, opts });
    try {
      expect(step, `unexpected command ${powerShellScriptName(args)}`).toBeDefined();
      expect(cmd).toBe('powershell.exe');
      expect(powerShellScriptName(args)).toBe(step!.name);
      const lines = script.split('\n').map((l) => l.trim());
      for (const line of step!.lines ?? []) expect(lines).toContain(line);
    } catch (err) {
      mismatches.push(err);
      throw err;
    }
    return Promise.resolve({ code: step!.code ?? 0, stdout: step!.stdout ?? '', stderr: step!.stderr ?? '' });
  };
  return { run, calls, left: () => queue.length };
}

const act = (action: string, args: unknown, run: CommandRunner) =>
  runAction(action, args, { hooksDir: '/nonexistent', platform: 'win32', run });

describe('Windows failover cluster actions', () => {
  it('brings a group online on a node with Move-ClusterGroup and Start-ClusterGroup, then finds it there (recorded outputs)', async () => {
    const args = {
      stack: 'windows-failover-cluster',
      resource: 'SQL Server (MSSQLSERVER)',
      kind: 'group',
      state: 'online',
      node: 'SQL02',
      timeoutMs: 120_000,
    };
    const first = recorded([
      {
        name: 'cluster-resource-ensure',
        lines: [
          "$name = 'SQL Server (MSSQLSERVER)'",
          "$node = 'SQL02'",
          'Move-ClusterGroup -Name $group -Node $node -Wait 120 | Out-Null; $changed = $true',
          "if ([string](Get-ClusterGroup -Name $name).State -ne 'Online') { Start-ClusterGroup -Name $name -Wait 120 | Out-Null; $changed = $true }",
        ],
        stdout: '{"state":"Online","node":"SQL02","changed":true}\r\n',
      },
    ]);
    expect(await act('cluster.resource-ensure', args, first.run)).toEqual({ state: 'online', node: 'SQL02', changed: true });
    // The script runs longer than the cmdlets' own waits.
    expect(first.calls[0]!.opts?.timeoutMs).toBeGreaterThan(120_000);

    const again = recorded([
      { name: 'cluster-resource-ensure', stdout: '{"state":"Online","node":"SQL02","changed":false}\r\n' },
    ]);
    expect(await act('cluster.resource-ensure', args, again.run)).toEqual({ state: 'online', node: 'SQL02', changed: false });
  });

  it('names the state seen when a group does not come fully online, or comes up on another node (recorded outputs)', async () => {
    const args = {
      stack: 'windows-failover-cluster',
      resource: 'SQL Server (MSSQLSERVER)',
      kind: 'group',
      state: 'online',
      node: 'SQL02',
      timeoutMs: 30_000,
    };
    const partial = recorded([
      { name: 'cluster-resource-ensure', stdout: '{"state":"PartialOnline","node":"SQL02","changed":true}\r\n' },
    ]);
    await expect(act('cluster.resource-ensure', args, partial.run)).rejects.toThrow(
      'group "SQL Server (MSSQLSERVER)" did not become online within 30000 ms: it is PartialOnline on SQL02',
    );
    const elsewhere = recorded([
      { name: 'cluster-resource-ensure', stdout: '{"state":"Online","node":"SQL01","changed":true}\r\n' },
    ]);
    await expect(act('cluster.resource-ensure', args, elsewhere.run)).rejects.toThrow('is online on SQL01, not on SQL02');
  });

  it('takes a resource offline with Stop-ClusterResource (recorded outputs)', async () => {
    const { run } = recorded([
      {
        name: 'cluster-resource-ensure',
        lines: [
          '$item = Get-ClusterResource -Name $name',
          "if ([string](Get-ClusterResource -Name $name).State -ne 'Offline') { Stop-ClusterResource -Name $name -Wait 60 | Out-Null; $changed = $true }",
        ],
        stdout: '{"state":"Offline","node":"SQL01","changed":true}\r\n',
      },
    ]);
    const args = {
      stack: 'windows-failover-cluster',
      resource: 'SQL Server',
      kind: 'resource',
      state: 'offline',
      node: null,
      timeoutMs: 60_000,
    };
    expect(await act('cluster.resource-ensure', args, run)).toEqual({ state: 'offline', node: null, changed: true });
  });

  it('starts and stops the cluster service (ClusSvc) and waits for it (recorded outputs)', async () => {
    const start = recorded([
      {
        name: 'cluster-stack-ensure',
        lines: ['Start-Service -Name ClusSvc', "$svc.WaitForStatus('Running', [TimeSpan]::FromMilliseconds(60000))"],
        stdout: '{"status":"Running","changed":true}\r\n',
      },
    ]);
    expect(
      await act('cluster.stack-ensure', { stack: 'windows-failover-cluster', state: 'running', timeoutMs: 60_000 }, start.run),
    ).toEqual({
      state: 'running',
      changed: true,
    });
    const stop = recorded([
      {
        name: 'cluster-stack-ensure',
        lines: ['Stop-Service -Name ClusSvc -Force'],
        stdout: '{"status":"StopPending","changed":true}\r\n',
      },
    ]);
    await expect(
      act('cluster.stack-ensure', { stack: 'windows-failover-cluster', state: 'stopped', timeoutMs: 5000 }, stop.run),
    ).rejects.toThrow('the cluster service (ClusSvc) did not become stopped within 5000 ms: it is StopPending');
    // A Pacemaker stack cannot be managed from Windows.
    await expect(act('cluster.stack-ensure', { stack: 'pacemaker', state: 'running' }, recorded([]).run)).rejects.toThrow(
      /cannot be managed from a win32 server/,
    );
  });

  it('reads the cluster configuration as a stable JSON manifest with the PaxosTag as its version (recorded outputs)', async () => {
    const { run } = recorded([{ name: 'cluster-config-read', lines: ['Import-Module FailoverClusters'], stdout: configExport }]);
    const read = actionResults['cluster.config-read'].parse(
      await act('cluster.config-read', { stack: 'windows-failover-cluster' }, run),
    );
    expect(read.format).toBe('windows-cluster-backup');
    expect(read.epoch).toBe('1:1:1187');
    expect(read.sha256).toBe(createHash('sha256').update(read.content).digest('hex'));
    const manifest = JSON.parse(read.content) as {
      version: number;
      groups: { name: string }[];
      resources: { name: string; parameters: Record<string, string> }[];
    };
    expect(manifest.version).toBe(1);
    expect(manifest.groups.map((g) => g.name)).toEqual(['Cluster Group', 'SQL Server (MSSQLSERVER)']); // sorted: the order the cmdlets list them in does not matter
    expect(Object.keys(manifest.resources.find((r) => r.name === 'SQL IP Address 1 (SQLVS01)')!.parameters)).toEqual([
      'Address',
      'EnableDhcp',
      'Network',
      'SubnetMask',
    ]);
    expect(read.content).not.toContain('PaxosTag'); // the version is not part of the content (nor its hash)
  });

  it('restores a configuration authoritatively: the manifest on stdin, only differences applied, then verified; a second restore changes nothing (recorded outputs)', async () => {
    const snapshot = actionResults['cluster.config-read'].parse(
      await act(
        'cluster.config-read',
        { stack: 'windows-failover-cluster' },
        recorded([{ name: 'cluster-config-read', stdout: configExport }]).run,
      ),
    );
    const changed = configExport.replace('"Address":"10.20.0.50"', '"Address":"10.20.0.99"').replace('1:1:1187', '1:1:1190');
    const restoredExport = configExport.replace('1:1:1187', '1:1:1192');
    const args = { stack: 'windows-failover-cluster', content: snapshot.content, sha256: snapshot.sha256, authoritative: true };
    const { run, calls, left } = recorded([
      { name: 'cluster-config-read', stdout: changed },
      {
        name: 'cluster-config-replace',
        lines: [
          '$m = [Console]::In.ReadToEnd() | ConvertFrom-Json',
          'if ($up.Count -gt 0) { throw "authoritative restore: the cluster service still runs on $($up -join \', \'); stop it there first" }',
        ],
        stdout: '{"changes":["parameter SQL IP Address 1 (SQLVS01)/Address"],"paxosTag":"1:1:1192"}\r\n',
      },
      { name: 'cluster-config-read', stdout: restoredExport },
    ]);
    expect(await act('cluster.config-replace', args, run)).toEqual({
      replaced: true,
      epoch: '1:1:1192',
      sha256: snapshot.sha256,
    });
    expect(left()).toBe(0);
    expect(calls[1]!.opts?.input).toBe(snapshot.content); // the manifest goes on stdin, not on the command line

    const again = recorded([{ name: 'cluster-config-read', stdout: restoredExport }]);
    expect(await act('cluster.config-replace', args, again.run)).toEqual({
      replaced: false,
      epoch: '1:1:1192',
      sha256: snapshot.sha256,
    });
  });

  it('refuses a manifest whose hash differs, and reports another node still running during an authoritative restore (recorded outputs)', async () => {
    const snapshot = actionResults['cluster.config-read'].parse(
      await act(
        'cluster.config-read',
        { stack: 'windows-failover-cluster' },
        recorded([{ name: 'cluster-config-read', stdout: configExport }]).run,
      ),
    );
    const none = recorded([]);
    await expect(
      act(
        'cluster.config-replace',
        { stack: 'windows-failover-cluster', content: snapshot.content, sha256: 'b'.repeat(64) },
        none.run,
      ),
    ).rejects.toThrow(/refusing to restore/);
    expect(none.calls).toEqual([]);

    const changed = configExport.replace('"Address":"10.20.0.50"', '"Address":"10.20.0.99"');
    const { run } = recorded([
      { name: 'cluster-config-read', stdout: changed },
      {
        name: 'cluster-config-replace',
        code: 1,
        stderr: 'authoritative restore: the cluster service still runs on SQL02; stop it there first\r\n',
      },
    ]);
    await expect(
      act(
        'cluster.config-replace',
        { stack: 'windows-failover-cluster', content: snapshot.content, sha256: snapshot.sha256 },
        run,
      ),
    ).rejects.toThrow('authoritative restore: the cluster service still runs on SQL02; stop it there first');
  });
});
