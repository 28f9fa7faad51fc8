import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FixAction } from '../actions.ts';
import type { NodeFacts } from '../snapshot.ts';
import { mapToTarget, replicated, sideNode, under, volumeHolding } from '../apps/common.ts';
import { fileserver, type FileserverFacts } from '../apps/fileserver.ts';

// The `fileserver` family (catalogue §3.1): SMB shares and NFS exports. Tandem captures share
// definitions at every validation and publishes them on the target at failover, so the target
// must be able to publish them then and must not publish replicated data before.

const base: Pick<CheckDef, 'family' | 'appliesTo'> = { family: 'fileserver', appliesTo: ['fileserver'] };

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
/** Administrative and system shares every Windows or Samba server has. */
const adminShare = (name: string) => name.endsWith('$');

function notReplicated(ctx: CheckContext): FindingDraft[] {
  return fileserver(ctx.snap, 'source').shares.flatMap((share) => {
    const uncovered = [share.path, ...share.nestedMounts].filter((p) => !replicated(ctx.snap, p));
    if (uncovered.length === 0) return [];
    return [{ subject: `share=${share.name}`, message: `The ${share.protocol.toUpperCase()} share ${share.name} (${share.path}) is not fully covered by the replication rules: ${uncovered.join(', ')}.`, evidence: { share: share.name, path: share.path, uncovered } }];
  });
}

function cannotPublish(ctx: CheckContext): FindingDraft[] {
  const s = fileserver(ctx.snap, 'source');
  const t = fileserver(ctx.snap, 'target');
  const svc = ctx.node!.services!;
  const out: FindingDraft[] = [];
  for (const proto of ['smb', 'nfs'] as const) {
    if (!s.shares.some((x) => x.protocol === proto)) continue;
    const server = t.servers[proto];
    const unit = server.service ? svc.find((x) => x.name === server.service && x.state !== 'not-found') : undefined;
    if (!server.installed || !unit) {
      out.push({ subject: `server=${proto}`, message: `The target ${ctx.node!.hostname} has no ${proto === 'smb' ? 'SMB' : 'NFS'} server installed to publish the shares at failover.`, evidence: { protocol: proto, installed: server.installed, service: server.service } });
    }
  }
  for (const share of s.shares) {
    const want = mapToTarget(ctx.snap, share.path);
    const clash = t.shares.find((x) => x.protocol === share.protocol && (share.protocol === 'smb' ? sameName(x.name, share.name) : x.path === want) && x.path !== want);
    if (clash) out.push({ subject: `share=${share.name}`, message: `The target already has a share named ${clash.name} pointing at ${clash.path}, not at ${want}.`, evidence: { share: share.name, targetPath: clash.path, wanted: want } });
  }
  return out;
}

/** The service that publishes a protocol's shares on a node is live (running, or starts at boot). */
function serverLive(node: NodeFacts, facts: FileserverFacts, proto: 'smb' | 'nfs'): boolean {
  const name = facts.servers[proto].service;
  const unit = name ? node.services!.find((x) => x.name === name) : undefined;
  return !!unit && (unit.state === 'running' || unit.state === 'starting' || unit.startMode === 'auto');
}

function liveOnTarget(ctx: CheckContext): FindingDraft[] {
  const t = fileserver(ctx.snap, 'target');
  const roots = (ctx.snap.pair.rules?.roots ?? []).map((r) => mapToTarget(ctx.snap, r));
  return t.shares
    .filter((x) => !x.readOnly && !adminShare(x.name) && serverLive(ctx.node!, t, x.protocol) && roots.some((r) => under(x.path, r) || under(r, x.path)))
    .map((x) => ({ subject: `share=${x.name}`, message: `The target ${ctx.node!.hostname} publishes the replicated path ${x.path} as ${x.name} with write access while the pair is not failed over.`, evidence: { share: x.name, protocol: x.protocol, path: x.path } }));
}

/** Whether a target volume can hold what a mode needs. */
function supports(mode: string, vol: { fileSystem: string | null; features: string[] }): boolean {
  const fs = (vol.fileSystem ?? '').toLowerCase();
  const has = (f: string) => vol.features.includes(f);
  switch (mode) {
    case 'ntfs-acl':
    case 'ads':
      return fs === 'ntfs' || fs === 'refs';
    case 'posix-acl':
      return has('acl') || fs === 'xfs' || fs === 'btrfs';
    case 'xattr':
      return has('user_xattr') || has('xattr') || fs === 'xfs' || fs === 'btrfs' || fs === 'zfs';
    default:
      return has('seclabel');
  }
}

function aclUnsupported(ctx: CheckContext): FindingDraft[] {
  const s = fileserver(ctx.snap, 'source');
  const vols = ctx.node!.volumes!;
  return s.aclModes.flatMap((entry) => {
    const dst = mapToTarget(ctx.snap, entry.path);
    const vol = volumeHolding(vols, dst);
    if (!vol) throw new Error(`no volume of the target holds ${dst}`);
    const missing = entry.modes.filter((m) => !supports(m, vol));
    if (missing.length === 0) return [];
    return [{ subject: `path=${dst}`, message: `${dst} on the target lives on ${vol.mountPoint} (${vol.fileSystem ?? 'unknown file system'}), which cannot store ${missing.join(', ')} that the source data uses.`, evidence: { path: dst, volume: vol.mountPoint, fileSystem: vol.fileSystem, features: vol.features, missing } }];
  });
}

function principals(ctx: CheckContext): FindingDraft[] {
  const resolved = new Map(fileserver(ctx.snap, 'target').principals.map((p) => [p.id, p.name]));
  return fileserver(ctx.snap, 'source')
    .principals.filter((p) => p.local)
    .flatMap((p) => {
      const there = resolved.get(p.id) ?? null;
      if (there !== null && there === p.name) return [];
      return [{ subject: `principal=${p.name ?? p.id}`, message: there === null ? `The local principal ${p.name ?? p.id} (${p.id}) named in the ACLs does not exist on the target.` : `${p.id} is ${p.name ?? '?'} on the source but ${there} on the target.`, evidence: { id: p.id, source: p.name, target: there } }];
    });
}

function configDiffers(ctx: CheckContext): FindingDraft[] {
  const s = fileserver(ctx.snap, 'source').serverConfig;
  const t = fileserver(ctx.snap, 'target').serverConfig;
  return Object.entries(s)
    .filter(([k, v]) => t[k] !== v)
    .map(([k, v]) => ({ subject: `setting=${k}`, message: `${k} is ${t[k] ?? '(not set)'} on the target and ${v} on the source.`, evidence: { setting: k, source: v, target: t[k] ?? null } }));
}

/** `\\host\share\…` → host (first label) and share. */
function unc(target: string): { host: string; share: string } | null {
  const m = target.match(/^[\\/]{2}([^\\/]+)[\\/]([^\\/]+)/);
  return m ? { host: m[1]!.split('.')[0]!.toLowerCase(), share: m[2]! } : null;
}

function dfsTargets(ctx: CheckContext): FindingDraft[] {
  const s = fileserver(ctx.snap, 'source');
  const host = sideNode(ctx.snap, 'source').hostname.split('.')[0]!.toLowerCase();
  return s.dfsLinks.flatMap((l) => {
    const hit = l.targets.map(unc).find((u) => u && u.host === host && s.shares.some((x) => x.protocol === 'smb' && sameName(x.name, u.share)));
    return hit ? [{ subject: `link=${l.namespace}\\${l.link}`, message: `DFS link ${l.namespace}\\${l.link} sends clients to \\\\${hit.host}\\${hit.share}; DNS failover of the server name does not move it.`, evidence: { namespace: l.namespace, link: l.link, targets: l.targets } }] : [];
  });
}

function notDedicated(ctx: CheckContext): FindingDraft[] {
  const s = fileserver(ctx.snap, 'source');
  const t = fileserver(ctx.snap, 'target');
  const out: FindingDraft[] = t.shares
    .filter((x) => !adminShare(x.name) && !s.shares.some((y) => y.protocol === x.protocol && (x.protocol === 'smb' ? sameName(x.name, y.name) : x.path === mapToTarget(ctx.snap, y.path))))
    .map((x) => ({ subject: `share=${x.name}`, message: `The target also publishes ${x.name} (${x.path}); failback restarts the file service under it.`, evidence: { share: x.name, path: x.path } }));
  const servers = [t.servers.smb.service, t.servers.nfs.service].filter((x): x is string => !!x);
  for (const svc of ctx.node!.services!) {
    const on = svc.dependencies.find((d) => servers.includes(d));
    if (on && (svc.state === 'running' || svc.startMode === 'auto')) out.push({ subject: `service=${svc.name}`, message: `${svc.name} on the target depends on ${on}; failback restarts it.`, evidence: { service: svc.name, dependsOn: on } });
  }
  return out;
}

export const fileserverChecks: CheckDef[] = [
  {
    ...base,
    id: 'fileserver.share-path-not-replicated',
    title: 'Share path not replicated',
    detects: 'A selected share or export path, or part of it (a nested junction or bind mount), is not covered by the replication rules.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'error',
    facts: ['S.app.fileserver', 'P'],
    evaluate: notReplicated,
    fix: {
      kind: 'auto',
      phase: 8,
      blockedWhileProtected: false,
      plan: (_ctx, f) =>
        (f.evidence.uncovered as string[]).map((path): FixAction => ({ action: 'repset.add-rule', path, include: true, recursive: true, description: `Replicate ${path} (share ${String(f.evidence.share)}) and everything below it; it is mirrored incrementally`, before: 'not replicated', after: 'replicated' })),
    },
  },
  {
    ...base,
    id: 'fileserver.share-cannot-publish-on-target',
    title: 'Shares cannot be published on the target',
    detects: 'At failover the runbook could not publish a share on the target: no SMB server (File Server role, Samba) or NFS server is installed, or a share of the same name already points elsewhere.',
    scope: ['target'],
    methods: ['files'],
    severity: 'error',
    facts: ['S.app.fileserver', 'T.app.fileserver', 'T.svc', 'P'],
    evaluate: cannotPublish,
    fix: { kind: 'manual', guidance: 'Install the SMB server (Windows File Server role or Samba) or NFS server on the target and leave it stopped; rename or remove the target’s conflicting share yourself.' },
  },
  {
    ...base,
    id: 'fileserver.share-live-on-target',
    title: 'Replicated data published on the target',
    detects: 'The target already publishes a replicated path to clients with write access while the pair is not failed over; writes there are overwritten or conflict with replication.',
    scope: ['target'],
    methods: ['files'],
    severity: 'error',
    facts: ['T.app.fileserver', 'T.svc', 'P'],
    when: (snap) => !snap.pair.failedOver,
    evaluate: liveOnTarget,
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      // Tandem keeps the source's share definitions and publishes them again at failover.
      plan: (ctx, f) => [{ action: 'app', node: 'target', app: 'fileserver', op: 'unpublish', params: { share: String(f.evidence.share), protocol: String(f.evidence.protocol) }, description: `Stop publishing ${String(f.evidence.share)} on ${ctx.node!.hostname} (republished from the source's definition at failover)`, before: 'published, writable', after: 'not published' }],
    },
  },
  {
    ...base,
    id: 'fileserver.acl-unsupported-on-target',
    title: 'Target file system cannot store the source’s ACLs',
    detects: 'The target file system or mount cannot store what the source data carries: NTFS/ReFS ACLs, owners and alternate data streams; or POSIX ACLs, extended attributes and SELinux labels.',
    scope: ['target'],
    methods: ['files'],
    severity: 'error',
    facts: ['S.app.fileserver', 'T.vol', 'P'],
    evaluate: aclUnsupported,
    fix: { kind: 'manual', guidance: 'Put the target path on a file system that supports them (NTFS or ReFS for Windows ACLs and streams; ext4/XFS mounted with acl and user_xattr, and SELinux labelling, for Linux), then validate again.' },
  },
  {
    ...base,
    id: 'fileserver.principals-unresolvable',
    title: 'Local principals in ACLs missing on the target',
    detects: 'ACL entries or owners name machine-local principals (Windows local SIDs, Linux local uids/gids) that are missing on the target or resolve to other names there; access changes after failover.',
    scope: ['target'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.app.fileserver', 'T.app.fileserver'],
    evaluate: principals,
    fix: { kind: 'manual', guidance: 'Use domain or IdM principals in the ACLs, or create matching local accounts on the target with the same uid/gid.' },
  },
  {
    ...base,
    id: 'fileserver.server-config-differs',
    title: 'File server settings differ',
    detects: 'SMB or NFS server settings differ: signing or encryption required, SMB1 disabled, NFS versions, Kerberos security flavours, Samba global options.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.app.fileserver', 'T.app.fileserver'],
    evaluate: configDiffers,
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => [{ action: 'app', node: 'target', app: 'fileserver', op: 'set-server-config', params: { settings: { [String(f.evidence.setting)]: String(f.evidence.source) } }, description: `Set ${String(f.evidence.setting)} = ${String(f.evidence.source)} on the target's file server`, before: (f.evidence.target as string | null) ?? null, after: String(f.evidence.source) }],
    },
  },
  {
    ...base,
    id: 'fileserver.dfs-namespace-target',
    title: 'Share is a DFS folder target',
    detects: 'A protected share is a DFS namespace folder target; clients reach it through the namespace, so DNS failover of the server name alone does not move them.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.app.fileserver'],
    evaluate: dfsTargets,
    fix: { kind: 'manual', guidance: 'Add the target as a disabled folder target of the link that the runbook enables at failover, or add a namespace step to the runbook.' },
  },
  {
    ...base,
    id: 'fileserver.nfs-handles-will-go-stale',
    title: 'NFS clients will see stale handles',
    detects: 'NFS exports are protected with DNS failover; file handles the source issued are not valid on the target, so clients see stale handles until they remount.',
    scope: ['pair'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.app.fileserver', 'P'],
    evaluate: (ctx) =>
      ctx.snap.pair.failover.mode !== 'dns'
        ? []
        : fileserver(ctx.snap, 'source')
            .shares.filter((x) => x.protocol === 'nfs')
            .map((x) => ({ subject: `export=${x.path}`, message: `NFS clients of ${x.path} will hold stale file handles after a DNS failover.`, evidence: { export: x.path } })),
    fix: { kind: 'manual', guidance: 'Add a client remount step to the runbook (or a hook on the clients), and tell the client owners to expect a remount at failover.' },
  },
  {
    ...base,
    id: 'fileserver.target-not-dedicated',
    title: 'Target is not a dedicated standby',
    detects: 'The target publishes other shares, or runs services that depend on the file-sharing service; failback restarts that service under them.',
    scope: ['target'],
    methods: ['files'],
    severity: 'warning',
    facts: ['S.app.fileserver', 'T.app.fileserver', 'T.svc', 'P'],
    evaluate: notDedicated,
    fix: { kind: 'manual', guidance: 'Use a dedicated standby for this file server, or accept the short interruption of the other shares and services during failback.' },
  },
];
