import type { CheckDef, FindingDraft } from '../model.ts';
import type { NodeFacts } from '../snapshot.ts';
import { sharepointOf, urlHost } from '../apps/sharepoint.ts';

// The `sharepoint` family (catalogue §2.16, §4.12). The SQL back end is protected with the
// sqlserver `instance` method, whose checks the evaluator also runs for SharePoint pairs.

const lower = (s: string) => s.toLowerCase();

/** The source's farm subnet as a CIDR (first IPv4 interface address and its prefix), or null. */
function farmSubnet(node: NodeFacts): string | null {
  for (const i of node.interfaces ?? []) {
    for (const a of i.addresses) {
      if (a.family !== 'ipv4' || a.address.startsWith('127.')) continue;
      const n = a.address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
      const size = 2 ** (32 - a.prefix);
      const net = Math.floor(n / size) * size;
      return `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join('.')}/${a.prefix}`;
    }
  }
  return null;
}

export const sharepointChecks: CheckDef[] = [
  {
    id: 'sharepoint.version-mismatch',
    family: 'sharepoint',
    title: 'SharePoint builds differ',
    detects: 'The target front end\'s SharePoint build (version, cumulative update, language packs) differs from the source\'s; only an identical build can join the protected farm configuration.',
    scope: ['pair'],
    appliesTo: ['sharepoint'],
    severity: 'error',
    facts: ['S.app.sharepoint', 'T.app.sharepoint'],
    evaluate: (ctx) => {
      const src = sharepointOf(ctx.snap.source, 'source');
      const tgt = sharepointOf(ctx.snap.target, 'target');
      const host = ctx.snap.target!.hostname;
      if (!src) return [];
      if (!tgt) return [{ subject: `server=${host}`, message: `SharePoint is not installed on the target ${host}.`, evidence: { source: src.build, target: null } }];
      const packs = (p: string[]) => [...new Set(p.map(lower))].sort().join(',');
      const differs = [src.build.version !== tgt.build.version && 'version', (src.build.cu ?? '') !== (tgt.build.cu ?? '') && 'cu', packs(src.build.languagePacks) !== packs(tgt.build.languagePacks) && 'languagePacks'].filter((x): x is string => !!x);
      if (!differs.length) return [];
      return [{ subject: `server=${host}`, message: `SharePoint on the target differs in ${differs.join(', ')}: ${src.build.version} (${src.build.cu ?? '?'}) on the source, ${tgt.build.version} (${tgt.build.cu ?? '?'}) on the target.`, evidence: { differs, source: src.build, target: tgt.build } }];
    },
    fix: { kind: 'manual', guidance: 'Patch the target front end to exactly the source\'s build: the same version, cumulative update and language packs.' },
    legacy: ['SharePoint: identical version'],
  },
  {
    id: 'sharepoint.pair-settings-invalid',
    family: 'sharepoint',
    title: 'Pair settings unfit for SharePoint',
    detects: 'The pair does not use the SQL instance method, or does not take over the server name and the host SPNs at failover; SharePoint failover needs all three.',
    scope: ['pair'],
    appliesTo: ['sharepoint'],
    severity: 'error',
    facts: ['P'],
    evaluate: (ctx) => {
      const p = ctx.snap.pair;
      const out: FindingDraft[] = [];
      if (p.method !== 'instance') out.push({ subject: 'setting=method', message: `The pair uses the ${p.method} method; SharePoint needs the SQL instance method.`, evidence: { key: 'method', value: p.method, want: 'instance' } });
      if (!p.identity.takeName) out.push({ subject: 'setting=identity.takeName', message: 'The pair does not take over the server name at failover.', evidence: { key: 'identity.takeName', value: false, want: true } });
      if (!p.identity.hostSpn) out.push({ subject: 'setting=identity.hostSpn', message: 'The pair does not move the host SPNs at failover.', evidence: { key: 'identity.hostSpn', value: false, want: true } });
      return out;
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const key = String(f.evidence.key);
        return [{ action: 'pair.set', key, value: f.evidence.want, description: `Set the pair's ${key} to ${String(f.evidence.want)}`, before: String(f.evidence.value), after: String(f.evidence.want) }];
      },
    },
    legacy: ['SharePoint: instance method plus server-name and SPN failover'],
  },
  {
    id: 'sharepoint.farm-credential-missing',
    family: 'sharepoint',
    title: 'Farm account not stored',
    detects: 'The farm or setup account that can join the target front end to the protected farm configuration is not in the vault.',
    scope: ['pair'],
    appliesTo: ['sharepoint'],
    severity: 'error',
    facts: ['P', 'V'],
    evaluate: (ctx) => {
      const ref = ctx.snap.pair.credentials.find((c) => c.purpose === 'farm');
      const entry = ref?.credentialId ? ctx.snap.vault.find((v) => v.id === ref.credentialId) : undefined;
      if (entry) return [];
      return [{ subject: 'credential=farm', message: ref?.credentialId ? 'The farm account named by the pair is no longer in the vault.' : 'No farm or setup account is stored for this pair.', evidence: { credentialId: ref?.credentialId ?? null } }];
    },
    fix: { kind: 'manual', guidance: 'Store the SharePoint farm (or setup) account in the vault with purpose **farm**, assign it to the pair, and run its test.' },
    legacy: ['SharePoint: installer account'],
  },
  {
    id: 'sharepoint.target-already-in-farm',
    family: 'sharepoint',
    title: 'Target already in a farm',
    detects: 'The target front end is already configured in a farm; to be joined to the protected farm it must be installed but unconfigured.',
    scope: ['target'],
    appliesTo: ['sharepoint'],
    severity: 'warning',
    facts: ['T.app.sharepoint'],
    evaluate: (ctx) => {
      const farm = sharepointOf(ctx.node, 'target')?.farm;
      if (!farm) return [];
      return [{ subject: `server=${ctx.node!.hostname}`, message: `${ctx.node!.hostname} is already in the farm whose configuration database is ${farm.configDatabase} on ${farm.databaseServer}.`, evidence: { ...farm } }];
    },
    fix: { kind: 'manual', guidance: 'Disconnect the target from its current farm (SharePoint Products Configuration Wizard) so that it is installed but unconfigured, or choose another server.' },
    legacy: ['SharePoint: target installed but not configured'],
  },
  {
    id: 'sharepoint.farm-ports-blocked',
    family: 'sharepoint',
    title: 'Farm ports blocked on the target',
    detects: 'The target\'s host firewall blocks ports the front end needs to reach the protected SQL instance and the farm services (SQL port, service application endpoints).',
    scope: ['target'],
    appliesTo: ['sharepoint'],
    severity: 'error',
    facts: ['T.firewall', 'S.app.sharepoint', 'S.net'],
    evaluate: (ctx) => {
      const src = sharepointOf(ctx.snap.source, 'source');
      if (!src) return [];
      const needed = new Map<number, string>([[src.sqlPort, 'SQL Server']]);
      for (const s of src.services) for (const port of s.ports) if (!needed.has(port)) needed.set(port, s.displayName);
      const fw = ctx.node!.firewall!;
      return fw.ports
        .filter((p) => p.protocol === 'tcp' && p.open === false && needed.has(p.port))
        .map((p) => ({ subject: `port=${p.port}/tcp`, message: `The target's firewall blocks TCP ${p.port} (${needed.get(p.port)}).`, evidence: { port: p.port, protocol: 'tcp', purpose: needed.get(p.port), manager: fw.manager, agentManaged: fw.agentManaged } }));
    },
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      privileged: true,
      decide: (ctx, f) => {
        const fw = ctx.node!.firewall!;
        const from = farmSubnet(ctx.snap.source!);
        const port = Number(f.evidence.port);
        if (!fw.agentManaged || !fw.manager || !from) return { guidance: `Open TCP ${port} inbound on the target from the farm's subnet in the host firewall that manages it. Tandem manages only firewalls it is allowed to change.` };
        return { plan: [{ action: 'firewall.allow', node: 'target', port, protocol: 'tcp', fromCidr: from, description: `Allow TCP ${port} (${String(f.evidence.purpose)}) from ${from} in the ${fw.manager} firewall of ${ctx.node!.hostname}`, before: 'closed', after: `open from ${from}` }] };
      },
    },
    legacy: ['SharePoint: port 6350'],
  },
  {
    id: 'sharepoint.services-not-listed',
    family: 'sharepoint',
    title: 'SharePoint services not in the service list',
    detects: 'SharePoint services (timer, search, user code…) are missing from the pair\'s service list, so they will not start at failover or stop at failback.',
    scope: ['pair'],
    appliesTo: ['sharepoint'],
    severity: 'warning',
    facts: ['P', 'S.app.sharepoint'],
    evaluate: (ctx) => {
      const src = sharepointOf(ctx.snap.source, 'source');
      if (!src) return [];
      const listed = new Set(ctx.snap.pair.services.map((s) => lower(s.name)));
      return src.services.filter((s) => !listed.has(lower(s.name))).map((s) => ({ subject: `service=${s.name}`, message: `${s.displayName} (${s.name}) is not in the pair's service list.`, evidence: { service: s.name } }));
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: false,
      // One absolute list for every finding: the current services plus all missing SharePoint ones.
      plan: (ctx) => {
        const src = sharepointOf(ctx.snap.source, 'source')!;
        const current = ctx.snap.pair.services;
        const listed = new Set(current.map((s) => lower(s.name)));
        const after = [...current, ...src.services.filter((s) => !listed.has(lower(s.name))).map((s) => ({ name: s.name, mustStopOnTarget: true }))];
        return [{ action: 'pair.set', key: 'services', value: after, description: 'Add the SharePoint services to the pair\'s service list, kept stopped on the target', before: current.map((s) => s.name).join(', '), after: after.map((s) => s.name).join(', ') }];
      },
    },
    legacy: ['SharePoint: add the SharePoint services'],
  },
  {
    id: 'sharepoint.public-url-not-covered',
    family: 'sharepoint',
    title: 'Public URL not moved by DNS failover',
    detects: 'Alternate access mappings or public URLs use host names that DNS failover will not move: neither the source name nor an alias in a provider-managed zone.',
    scope: ['pair'],
    appliesTo: ['sharepoint'],
    severity: 'warning',
    facts: ['P', 'S.app.sharepoint', 'D'],
    when: (snap) => snap.pair.failover.mode === 'dns',
    evaluate: (ctx) => {
      const src = sharepointOf(ctx.snap.source, 'source');
      if (!src) return [];
      const sourceNames = [ctx.snap.pair.dns.sourceName, ctx.snap.source!.hostname].filter((n): n is string => !!n).map((n) => lower(n).replace(/\.$/, ''));
      const labels = new Set(sourceNames.map((n) => n.split('.')[0]!));
      const managed = new Set(ctx.snap.dns!.referrers.filter((r) => r.managed).map((r) => lower(r.name).replace(/\.$/, '')));
      const covered = (h: string) => sourceNames.includes(h) || (!h.includes('.') && labels.has(h)) || managed.has(h);
      const seen = new Set<string>();
      return src.urls.flatMap((u) => {
        const host = urlHost(u.url);
        if (!host || covered(host) || seen.has(host)) return [];
        seen.add(host);
        return [{ subject: `url=${host}`, message: `${u.url} (${u.zone}) uses ${host}, which DNS failover does not move.`, evidence: { host, url: u.url, zone: u.zone } }];
      });
    },
    fix: { kind: 'manual', guidance: 'Make the host name an alias (CNAME) of the source name in a zone the DNS provider manages, so failover moves it; or add a runbook step that updates it.' },
  },
];
