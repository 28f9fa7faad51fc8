// Cluster membership.
// Linux: Pacemaker via `crm_mon -1 --output-as=xml` (or the older `crm_mon -1 -X`): quorum from
// the DC's with_quorum (null when there is no DC), nodes with their online flag, every primitive
// resource (also inside groups, clones and bundles) with its agent, role, first node and group,
// groups with their members. Then `cibadmin --query --scope configuration` adds what crm_mon does
// not show: constraints, target-role meta attributes (inherited from a group or clone) and fencing
// (stonith-enabled, number of stonith primitives). Should cibadmin fail, crm_mon's target_role,
// stonith-enabled and stonith resources stand in and constraints stay empty. The cluster name comes
// from corosync.conf. Not installed → null; installed but not running → null, unless
// /etc/corosync/corosync.conf exists (then the node is a member whose stack is down: unknown).
// Windows: the failover cluster service (ClusSvc). Not present or this server holds no cluster
// configuration (HKLM:\Cluster) → null; configured but the service is stopped → unknown; else
// Get-Cluster, Get-ClusterNode (Up or Paused is online), Get-ClusterResource, Get-ClusterGroup,
// resource dependencies (as order constraints: the provider first, then the dependent) and each
// group's preferred owners (as location constraints, score = rank, highest first). A node whose
// cluster service runs and answers is in a partition with quorum, so quorate is true then.
// Windows clusters have no fencing setting: null.
import type { ClusterFacts } from '@tandem/protocol';
import { cibFacts, cibRoot } from '../actions/cluster/cib.ts';
import { readFileOrNull, which, type FactsIO } from './io.ts';
import { clip, errorMessage, isRecord, powerShellJson, str, toArray } from './util.ts';
import { child, children, parseXml, type XmlElement } from './xml.ts';

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
  type Resource = ClusterFacts['resources'][number];
  const resources: Resource[] = [];
  const groups: ClusterFacts['groups'] = [];
  let stonithDevices = 0;
  const walk = (el: XmlElement, group: string | null) => {
    for (const c of el.children) {
      if (c.name === 'resource') {
        const node = children(c, 'node')[0]?.attrs.name;
        const type = clip(c.attrs.resource_agent ?? 'unknown');
        if (type.startsWith('stonith:')) stonithDevices++;
        resources.push({
          id: clip(c.attrs.id ?? ''),
          type,
          role: c.attrs.role ? clip(c.attrs.role) : null,
          node: node ? clip(node) : null,
          group,
          targetRole: c.attrs.target_role ? clip(c.attrs.target_role) : null,
        });
      } else if (c.name === 'group') {
        const id = clip(c.attrs.id ?? '');
        const start = resources.length;
        walk(c, id);
        const members = resources.slice(start);
        // A clone of a group lists the group once per instance: keep the first.
        if (!groups.some((g) => g.id === id))
          groups.push({
            id,
            resources: members.map((m) => m.id).slice(0, 1000),
            node: members.find((m) => m.node)?.node ?? null,
          });
      } else walk(c, group);
    }
  };
  walk(child(top, 'resources') ?? { name: 'resources', attrs: {}, children: [] }, null);
  const stonith = child(summary, 'cluster_options')?.attrs['stonith-enabled'];
  return {
    stack: 'pacemaker',
    name: clusterName ? clip(clusterName) : null,
    quorate,
    nodes: nodes.slice(0, 64),
    resources: resources.slice(0, 10_000),
    groups: groups.slice(0, 1000),
    constraints: [],
    fencing: { enabled: stonith === undefined ? null : stonith === 'true', devices: stonithDevices },
  };
}

/** Adds the CIB's constraints, target-roles and fencing to facts read from crm_mon. */
export function withCibConfiguration(facts: ClusterFacts, cibXml: string): ClusterFacts {
  const cib = cibFacts(cibRoot(cibXml));
  return {
    ...facts,
    resources: facts.resources.map((r) => ({
      ...r,
      targetRole: cib.targetRoles.has(r.id) ? clip(cib.targetRoles.get(r.id)!) : null,
    })),
    constraints: cib.constraints.slice(0, 10_000).map((c) => ({
      ...c,
      id: clip(c.id),
      resource: clip(c.resource),
      node: c.node === null ? null : clip(c.node),
      with: c.with === null ? null : clip(c.with),
      score: c.score === null ? null : clip(c.score),
    })),
    fencing: cib.fencing,
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
  let facts: ClusterFacts;
  try {
    facts = parseCrmMonXml(r.stdout, corosyncClusterName(corosync ?? ''));
  } catch (e) {
    if (corosync === null) return null; // Installed, but this server was never set up as a member.
    const why = r.stderr.trim() || errorMessage(e);
    throw new Error(`Pacemaker is configured (${COROSYNC_CONF}) but crm_mon failed (exit ${r.code}): ${clip(why, 500)}`);
  }
  const cibadmin = await which(io, 'cibadmin');
  if (!cibadmin) return facts;
  const cib = await io.run(cibadmin, ['--query', '--scope', 'configuration'], { timeoutMs: 20_000 });
  if (cib.code !== 0) return facts; // crm_mon's view stands (see the header).
  try {
    return withCibConfiguration(facts, cib.stdout);
  } catch {
    return facts;
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
$groups = @(Get-ClusterGroup | Select-Object Name, @{n='OwnerNode';e={[string]$_.OwnerNode}}, @{n='State';e={[string]$_.State}})
$dependencies = @(Get-ClusterResource | Get-ClusterResourceDependency | Select-Object @{n='Resource';e={[string]$_.Resource}}, DependencyExpression)
$owners = @(Get-ClusterGroup | Get-ClusterOwnerNode | Select-Object @{n='Group';e={[string]$_.ClusterObject}}, @{n='Nodes';e={@($_.OwnerNodes | ForEach-Object { [string]$_ })}})
[pscustomobject]@{ member = $true; running = $true; name = $cluster.Name; nodes = $nodes; resources = $resources
  groups = $groups; dependencies = $dependencies; owners = $owners } | ConvertTo-Json -Depth 5`;

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
      group: str(r.OwnerGroup) ? clip(str(r.OwnerGroup)!) : null,
      targetRole: null,
    }));
  const groups = toArray(value.groups)
    .filter(isRecord)
    .map((g) => {
      const id = clip(str(g.Name) ?? '');
      return {
        id,
        resources: resources
          .filter((r) => r.group === id)
          .map((r) => r.id)
          .slice(0, 1000),
        node: str(g.OwnerNode) ? clip(str(g.OwnerNode)!) : null,
      };
    });
  // "[Cluster Disk 1] and [Name]": the bracketed resources start before the dependent one.
  const dependencies = toArray(value.dependencies)
    .filter(isRecord)
    .flatMap((d) => {
      const dependent = clip(str(d.Resource) ?? '');
      return [...(str(d.DependencyExpression) ?? '').matchAll(/\[([^\]]+)\]/g)].map((m) => ({
        id: clip(`dependency:${dependent}:${m[1]!}`),
        kind: 'order' as const,
        resource: clip(m[1]!),
        node: null,
        with: dependent,
        score: null,
      }));
    });
  const owners = toArray(value.owners)
    .filter(isRecord)
    .flatMap((o) => {
      const group = clip(str(o.Group) ?? '');
      const list = toArray(o.Nodes)
        .map(str)
        .filter((n): n is string => !!n);
      return list.map((node, i) => ({
        id: clip(`owner:${group}:${node}`),
        kind: 'location' as const,
        resource: group,
        node: clip(node),
        with: null,
        score: String(list.length - i),
      }));
    });
  const name = str(value.name);
  return {
    stack: 'windows-failover-cluster',
    name: name ? clip(name) : null,
    quorate: true,
    nodes: nodes.slice(0, 64),
    resources: resources.slice(0, 10_000),
    groups: groups.slice(0, 1000),
    constraints: [...owners, ...dependencies].slice(0, 10_000),
    fencing: null,
  };
}

export async function collectCluster(io: FactsIO): Promise<ClusterFacts | null> {
  if (io.platform === 'win32') return parseWindowsCluster(await powerShellJson(io, 'cluster', WINDOWS_CLUSTER_SCRIPT));
  if (io.platform === 'linux') return collectPacemaker(io);
  throw new Error(`cluster facts are not supported on ${io.platform}`);
}
