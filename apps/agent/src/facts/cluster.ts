// Cluster membership.
// Linux: Pacemaker via `crm_mon -1 --output-as=xml` (or the older `crm_mon -1 -X`): quorum from
// the DC's with_quorum (null when there is no DC), nodes with their online flag, every primitive
// resource (also inside groups, clones and bundles) with its agent, role and first node. The
// cluster name comes from corosync.conf. Not installed → null; installed but not running → null,
// unless /etc/corosync/corosync.conf exists (then the node is a member whose stack is down: unknown).
// Windows: the failover cluster service (ClusSvc). Not present or this server holds no cluster
// configuration (HKLM:\Cluster) → null; configured but the service is stopped → unknown; else
// Get-Cluster, Get-ClusterNode (Up or Paused is online) and Get-ClusterResource. A node whose
// cluster service runs and answers is in a partition with quorum, so quorate is true then.
import type { ClusterFacts } from '@tandem/protocol';
import { readFileOrNull, which, type FactsIO } from './io.ts';
import { clip, errorMessage, isRecord, powerShellJson, str, toArray } from './util.ts';
import { child, children, descendants, parseXml } from './xml.ts';

const COROSYNC_CONF = '/etc/corosync/corosync.conf';

export function corosyncClusterName(conf: string): string | null {
  return /^\s*cluster_name\s*:\s*(\S+)/m.exec(conf)?.[1] ?? null;
}

/** Parses crm_mon XML, both the 2.x `<pacemaker-result>` and the 1.1 `<crm_mon>` shapes. */
export function parseCrmMonXml(xml: string, clusterName: string | null): ClusterFacts {
  const doc = parseXml(xml);
  const top = doc.children[0]!;
  if (top.name === 'crm-mon-disconnected' || child(top, 'crm-mon-disconnected'))
    throw new Error('crm_mon: not connected to the cluster');
  const summary = child(top, 'summary');
  if (!summary) {
    const status = child(top, 'status');
    throw new Error(`crm_mon printed no cluster summary${status ? `: ${status.attrs.message ?? status.attrs.code}` : ''}`);
  }
  const dc = child(summary, 'current_dc');
  const quorate = dc?.attrs.present === 'true' && dc.attrs.with_quorum !== undefined ? dc.attrs.with_quorum === 'true' : null;
  const nodes = children(child(top, 'nodes'), 'node').map((n) => ({
    name: clip(n.attrs.name ?? ''),
    online: n.attrs.online === 'true',
  }));
  const resources = descendants(child(top, 'resources'), 'resource').map((r) => {
    const node = children(r, 'node')[0]?.attrs.name;
    return {
      id: clip(r.attrs.id ?? ''),
      type: clip(r.attrs.resource_agent ?? 'unknown'),
      role: r.attrs.role ? clip(r.attrs.role) : null,
      node: node ? clip(node) : null,
      group: null,
      targetRole: null,
    };
  });
  return {
    stack: 'pacemaker',
    name: clusterName ? clip(clusterName) : null,
    quorate,
    nodes: nodes.slice(0, 64),
    resources: resources.slice(0, 10_000),
    groups: [],
    constraints: [],
    fencing: null,
  };
}

async function collectPacemaker(io: FactsIO): Promise<ClusterFacts | null> {
  const crmMon = await which(io, 'crm_mon');
  if (!crmMon) return null;
  const corosync = await readFileOrNull(io, COROSYNC_CONF);
  let r = await io.run(crmMon, ['-1', '--output-as=xml'], { timeoutMs: 20_000 });
  if (r.code !== 0 && !r.stdout.includes('<') && /unrecognized|unknown option|invalid option/i.test(r.stderr)) {
    r = await io.run(crmMon, ['-1', '-X'], { timeoutMs: 20_000 }); // Pacemaker 1.1.
  }
  try {
    return parseCrmMonXml(r.stdout, corosyncClusterName(corosync ?? ''));
  } catch (e) {
    if (corosync === null) return null; // Installed, but this server was never set up as a member.
    const why = r.stderr.trim() || errorMessage(e);
    throw new Error(`Pacemaker is configured (${COROSYNC_CONF}) but crm_mon failed (exit ${r.code}): ${clip(why, 500)}`);
  }
}

const WINDOWS_CLUSTER_SCRIPT = `
$svc = Get-Service -Name ClusSvc -ErrorAction SilentlyContinue
$configured = Test-Path 'HKLM:\\Cluster'
if (-not $svc -or -not $configured) { '{"member":false}'; return }
if ($svc.Status -ne 'Running') { [pscustomobject]@{ member = $true; running = $false; status = [string]$svc.Status } | ConvertTo-Json -Compress; return }
Import-Module FailoverClusters
$cluster = Get-Cluster
$nodes = @(Get-ClusterNode | Select-Object Name, @{n='State';e={[string]$_.State}})
$resources = @(Get-ClusterResource | Select-Object Name, @{n='ResourceType';e={[string]$_.ResourceType}}, @{n='State';e={[string]$_.State}},
  @{n='OwnerNode';e={[string]$_.OwnerNode}}, @{n='OwnerGroup';e={[string]$_.OwnerGroup}})
[pscustomobject]@{ member = $true; running = $true; name = $cluster.Name; nodes = $nodes; resources = $resources } | ConvertTo-Json -Depth 4`;

/** Parses the Windows failover cluster script's output (exported for recorded-output tests). */
export function parseWindowsCluster(value: unknown): ClusterFacts | null {
  if (!isRecord(value) || value.member !== true) return null;
  if (value.running !== true)
    throw new Error(`this server is a failover cluster node but the cluster service is ${str(value.status) ?? 'not running'}`);
  const nodes = toArray(value.nodes)
    .filter(isRecord)
    .map((n) => ({ name: clip(str(n.Name) ?? ''), online: ['Up', 'Paused', '0', '2'].includes(str(n.State) ?? '') }));
  const resources = toArray(value.resources)
    .filter(isRecord)
    .map((r) => ({
      id: clip(str(r.Name) ?? ''),
      type: clip(str(r.ResourceType) ?? 'unknown'),
      role: str(r.State) ? clip(str(r.State)!) : null,
      node: str(r.OwnerNode) ? clip(str(r.OwnerNode)!) : null,
      group: null,
      targetRole: null,
    }));
  const name = str(value.name);
  return {
    stack: 'windows-failover-cluster',
    name: name ? clip(name) : null,
    quorate: true,
    nodes: nodes.slice(0, 64),
    resources: resources.slice(0, 10_000),
    groups: [],
    constraints: [],
    fencing: null,
  };
}

export async function collectCluster(io: FactsIO): Promise<ClusterFacts | null> {
  if (io.platform === 'win32') return parseWindowsCluster(await powerShellJson(io, 'cluster', WINDOWS_CLUSTER_SCRIPT));
  if (io.platform === 'linux') return collectPacemaker(io);
  throw new Error(`cluster facts are not supported on ${io.platform}`);
}
