// Windows failover cluster actions through PowerShell (FailoverClusters module), tested against
// recorded outputs.
//
// cluster.resource-ensure: a group online = Move-ClusterGroup -Node (when a node is named and the
// group is owned elsewhere) then Start-ClusterGroup; offline = Stop-ClusterGroup. A resource:
// Start-/Stop-ClusterResource; to run it on a node its group moves (resources move with their
// group). Each cmdlet waits up to the timeout (-Wait seconds); the state is then read back and
// must be Online/Offline (else the error names the state seen: PartialOnline, Failed, Pending…).
//
// cluster.config-read: what the old product did with the VSS Cluster Database writer (a copy of
// the cluster database hive taken consistently, restored with the cluster service stopped on the
// other nodes and marked authoritative so they take it when they start) is, here, a JSON manifest
// of the cluster database's configuration: cluster common properties, groups (preferred owners,
// failover settings), resources (type, group, dependency expression, private parameters from
// Get-ClusterParameter). State and current owners are left out, so the SHA-256 only changes with
// the configuration. epoch: the database's PaxosTag (HKLM:\Cluster), which rises with every change.
//
// cluster.config-replace: applies the manifest on this node — parameters (Set-ClusterParameter),
// dependencies (Set-ClusterResourceDependency) and preferred owners (Set-ClusterOwnerNode) that
// differ. Each change raises this node's PaxosTag; nodes whose cluster service was stopped first
// (the restore runbook's ordering) take this newer database when they join: the authoritative
// part. With authoritative, the script refuses while another node is Up (the ordering was not
// kept). Resources missing from the cluster are reported as an error, not recreated.
import { createHash } from 'node:crypto';
import type { ActionArgs } from '@tandem/protocol';
import { MAX_CLUSTER_CONFIG_BYTES } from '@tandem/protocol';
import type { CommandRunner } from '../../exec.ts';
import { clip, errorMessage, isRecord, parseJson, powerShellArgs, psQuote, str } from '../../facts/util.ts';

async function powerShell(run: CommandRunner, name: string, script: string, timeoutMs: number, input?: string): Promise<unknown> {
  const r = await run('powershell.exe', powerShellArgs(name, script), { timeoutMs, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0)
    throw new Error(`PowerShell ${name} failed (exit ${r.code}): ${clip(r.stderr.trim() || r.stdout.trim(), 1000)}`);
  try {
    return parseJson(r.stdout);
  } catch (e) {
    throw new Error(`PowerShell ${name} printed invalid JSON: ${errorMessage(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// cluster.resource-ensure

export function resourceEnsureScript(a: ActionArgs<'cluster.resource-ensure'>): string {
  const waitSeconds = Math.max(1, Math.ceil(a.timeoutMs / 1000));
  const noun = a.kind === 'group' ? 'ClusterGroup' : 'ClusterResource';
  return [
    'Import-Module FailoverClusters',
    `$name = ${psQuote(a.resource)}`,
    `$node = ${a.node === null ? '$null' : psQuote(a.node)}`,
    '$changed = $false',
    `$item = Get-${noun} -Name $name`,
    a.kind === 'group' ? '$group = $item.Name' : '$group = [string]$item.OwnerGroup',
    ...(a.state === 'online'
      ? [
          'if ($node -and [string](Get-ClusterGroup -Name $group).OwnerNode -ne $node) {',
          `  Move-ClusterGroup -Name $group -Node $node -Wait ${waitSeconds} | Out-Null; $changed = $true`,
          '}',
          `if ([string](Get-${noun} -Name $name).State -ne 'Online') { Start-${noun} -Name $name -Wait ${waitSeconds} | Out-Null; $changed = $true }`,
        ]
      : [
          `if ([string](Get-${noun} -Name $name).State -ne 'Offline') { Stop-${noun} -Name $name -Wait ${waitSeconds} | Out-Null; $changed = $true }`,
        ]),
    `$item = Get-${noun} -Name $name`,
    '[pscustomobject]@{ state = [string]$item.State; node = [string]$item.OwnerNode; changed = $changed } | ConvertTo-Json -Compress',
  ].join('\n');
}

export async function ensureWindowsClusterResource(run: CommandRunner, a: ActionArgs<'cluster.resource-ensure'>) {
  const out = await powerShell(run, 'cluster-resource-ensure', resourceEnsureScript(a), a.timeoutMs + 60_000);
  if (!isRecord(out)) throw new Error('cluster-resource-ensure printed no result');
  const seen = str(out.state) ?? 'unknown';
  const node = str(out.node) || null;
  const want = a.state === 'online' ? 'Online' : 'Offline';
  if (seen !== want)
    throw new Error(
      `${a.kind} "${a.resource}" did not become ${a.state} within ${a.timeoutMs} ms: it is ${seen}${node ? ` on ${node}` : ''}`,
    );
  if (a.state === 'online' && a.node !== null && node?.toLowerCase() !== a.node.toLowerCase())
    throw new Error(`${a.kind} "${a.resource}" is online on ${node ?? 'no node'}, not on ${a.node}`);
  return { state: a.state, node: a.state === 'online' ? node : null, changed: out.changed === true };
}

// ---------------------------------------------------------------------------------------------
// cluster.stack-ensure

export function stackEnsureScript(a: ActionArgs<'cluster.stack-ensure'>): string {
  const verb = a.state === 'running' ? 'Start' : 'Stop';
  const target = a.state === 'running' ? 'Running' : 'Stopped';
  return [
    '$svc = Get-Service -Name ClusSvc',
    '$changed = $false',
    `if ($svc.Status -ne '${target}') {`,
    `  ${verb}-Service -Name ClusSvc${a.state === 'stopped' ? ' -Force' : ''}`,
    `  $svc.WaitForStatus('${target}', [TimeSpan]::FromMilliseconds(${a.timeoutMs}))`,
    '  $changed = $true',
    '}',
    '$svc.Refresh()',
    '[pscustomobject]@{ status = [string]$svc.Status; changed = $changed } | ConvertTo-Json -Compress',
  ].join('\n');
}

export async function ensureWindowsClusterStack(run: CommandRunner, a: ActionArgs<'cluster.stack-ensure'>) {
  const out = await powerShell(run, 'cluster-stack-ensure', stackEnsureScript(a), a.timeoutMs + 60_000);
  if (!isRecord(out)) throw new Error('cluster-stack-ensure printed no result');
  const want = a.state === 'running' ? 'Running' : 'Stopped';
  if (str(out.status) !== want)
    throw new Error(
      `the cluster service (ClusSvc) did not become ${a.state} within ${a.timeoutMs} ms: it is ${str(out.status) ?? 'unknown'}`,
    );
  return { state: a.state, changed: out.changed === true };
}

// ---------------------------------------------------------------------------------------------
// cluster.config-read / cluster.config-replace

const CONFIG_READ_SCRIPT = `Import-Module FailoverClusters
$cluster = Get-Cluster
$tag = (Get-ItemProperty -Path 'HKLM:\\Cluster' -Name PaxosTag -ErrorAction SilentlyContinue).PaxosTag
$params = { param($o) $h = [ordered]@{}; foreach ($p in @($o | Get-ClusterParameter)) { $h[[string]$p.Name] = [string]$p.Value }; $h }
$groups = @(Get-ClusterGroup | ForEach-Object { [ordered]@{ name = [string]$_.Name; groupType = [string]$_.GroupType
  preferredOwners = @(($_ | Get-ClusterOwnerNode).OwnerNodes | ForEach-Object { [string]$_ })
  failoverThreshold = [string]$_.FailoverThreshold; failoverPeriod = [string]$_.FailoverPeriod; autoFailbackType = [string]$_.AutoFailbackType } })
$resources = @(Get-ClusterResource | ForEach-Object { [ordered]@{ name = [string]$_.Name; type = [string]$_.ResourceType; group = [string]$_.OwnerGroup
  dependency = [string]($_ | Get-ClusterResourceDependency).DependencyExpression; parameters = (& $params $_) } })
[ordered]@{ cluster = [string]$cluster.Name; paxosTag = [string]$tag; groups = $groups; resources = $resources } | ConvertTo-Json -Depth 6 -Compress`;

export interface WindowsClusterManifest {
  version: 1;
  cluster: string;
  groups: {
    name: string;
    groupType: string;
    preferredOwners: string[];
    failoverThreshold: string;
    failoverPeriod: string;
    autoFailbackType: string;
  }[];
  resources: { name: string; type: string; group: string; dependency: string; parameters: Record<string, string> }[];
}

const text = (v: unknown) => str(v) ?? '';
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : v === null || v === undefined ? [] : [v]);

/** The manifest in a stable shape: groups and resources by name, parameters by name. */
export function windowsManifest(raw: unknown): { manifest: WindowsClusterManifest; epoch: string | null } {
  if (!isRecord(raw)) throw new Error('the cluster configuration script printed no object');
  const byName = <T extends { name: string }>(a: T[]) => a.sort((x, y) => x.name.localeCompare(y.name));
  const groups = byName(
    list(raw.groups)
      .filter(isRecord)
      .map((g) => ({
        name: text(g.name),
        groupType: text(g.groupType),
        preferredOwners: list(g.preferredOwners).map(text),
        failoverThreshold: text(g.failoverThreshold),
        failoverPeriod: text(g.failoverPeriod),
        autoFailbackType: text(g.autoFailbackType),
      })),
  );
  const resources = byName(
    list(raw.resources)
      .filter(isRecord)
      .map((r) => {
        const params = isRecord(r.parameters) ? r.parameters : {};
        const parameters = Object.fromEntries(
          Object.keys(params)
            .sort()
            .map((k) => [k, text(params[k])]),
        );
        return { name: text(r.name), type: text(r.type), group: text(r.group), dependency: text(r.dependency), parameters };
      }),
  );
  return { manifest: { version: 1, cluster: text(raw.cluster), groups, resources }, epoch: str(raw.paxosTag) || null };
}

export const manifestSha256 = (content: string) => createHash('sha256').update(content).digest('hex');

export async function readWindowsClusterConfig(run: CommandRunner) {
  const { manifest, epoch } = windowsManifest(await powerShell(run, 'cluster-config-read', CONFIG_READ_SCRIPT, 300_000));
  const content = `${JSON.stringify(manifest, null, 2)}\n`;
  if (Buffer.byteLength(content) > MAX_CLUSTER_CONFIG_BYTES)
    throw new Error(`the cluster configuration is larger than ${MAX_CLUSTER_CONFIG_BYTES} bytes`);
  return { format: 'windows-cluster-backup' as const, content, epoch, sha256: manifestSha256(content) };
}

/** Reads the manifest from stdin and applies what differs; prints what it changed. */
export function configReplaceScript(authoritative: boolean): string {
  return `Import-Module FailoverClusters
$m = [Console]::In.ReadToEnd() | ConvertFrom-Json
${
  authoritative
    ? `$up = @(Get-ClusterNode | Where-Object { $_.Name -ne $env:COMPUTERNAME -and [string]$_.State -eq 'Up' } | ForEach-Object { [string]$_.Name })
if ($up.Count -gt 0) { throw "authoritative restore: the cluster service still runs on $($up -join ', '); stop it there first" }`
    : ''
}
$changes = @()
foreach ($r in @($m.resources)) {
  $res = Get-ClusterResource -Name $r.name -ErrorAction SilentlyContinue
  if (-not $res) { throw "resource '$($r.name)' is not in the cluster (resources are not recreated)" }
  foreach ($p in $r.parameters.PSObject.Properties) {
    $cur = $res | Get-ClusterParameter -Name $p.Name -ErrorAction SilentlyContinue
    if ($cur -and [string]$cur.Value -ne [string]$p.Value) { $res | Set-ClusterParameter -Name $p.Name -Value $p.Value; $changes += "parameter $($r.name)/$($p.Name)" }
  }
  $dep = [string]($res | Get-ClusterResourceDependency).DependencyExpression
  if ($dep -ne [string]$r.dependency) { Set-ClusterResourceDependency -Resource $r.name -Dependency $r.dependency; $changes += "dependency $($r.name)" }
}
foreach ($g in @($m.groups)) {
  $cur = @((Get-ClusterGroup -Name $g.name | Get-ClusterOwnerNode).OwnerNodes | ForEach-Object { [string]$_ })
  if (($cur -join ',') -ne (@($g.preferredOwners) -join ',')) { Set-ClusterOwnerNode -Group $g.name -Owners @($g.preferredOwners); $changes += "owners $($g.name)" }
}
$tag = (Get-ItemProperty -Path 'HKLM:\\Cluster' -Name PaxosTag -ErrorAction SilentlyContinue).PaxosTag
[pscustomobject]@{ changes = @($changes); paxosTag = [string]$tag } | ConvertTo-Json -Compress`;
}

export async function replaceWindowsClusterConfig(run: CommandRunner, a: ActionArgs<'cluster.config-replace'>) {
  const sha = manifestSha256(a.content);
  if (sha !== a.sha256)
    throw new Error(`the configuration's SHA-256 is ${sha}, not the expected ${a.sha256}: refusing to restore it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(a.content);
  } catch (e) {
    throw new Error(`the configuration is not a cluster backup manifest: ${errorMessage(e)}`);
  }
  if (!isRecord(parsed) || parsed.version !== 1) throw new Error('the configuration is not a version 1 cluster backup manifest');
  const current = await readWindowsClusterConfig(run);
  if (current.sha256 === sha) return { replaced: false, epoch: current.epoch, sha256: sha };
  await powerShell(run, 'cluster-config-replace', configReplaceScript(a.authoritative), 600_000, a.content);
  const after = await readWindowsClusterConfig(run);
  if (after.sha256 !== sha)
    throw new Error(`the cluster configuration was applied but now hashes to ${after.sha256}, not ${sha}`);
  return { replaced: true, epoch: after.epoch, sha256: after.sha256 };
}
