import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FixAction } from '../actions.ts';
import { exchangeOf, isSelectedDb, samePath, selectedDatabases, standardDatabaseLimit, type ExchangeDatabase, type ExchangeFacts } from '../apps/exchange.ts';

// The `exchange` family (catalogue §2.14): Exchange 2016, 2019 and Subscription Edition, protected
// by replicating the selected mailbox databases, their logs and the transport queues.

const lower = (s: string) => s.toLowerCase();
const label = (host: string) => lower(host.split('.')[0]!);
const both = (ctx: CheckContext) => ({ src: exchangeOf(ctx.snap.source, 'source'), tgt: exchangeOf(ctx.snap.target, 'target') });
const build = (v: string) => v.split('.').slice(0, 3).join('.');
const roleSet = (f: ExchangeFacts) => [...new Set(f.roles.map(lower))].sort();

const action = (op: string, params: Record<string, unknown>, description: string, before: string | null, after: string | null): FixAction => ({ action: 'app', node: 'target', app: 'exchange', op, params, description, before, after });

/** The layout fields compared per database; legacy estates add the system and streaming paths. */
const layoutFields = ['edbFilePath', 'logFolderPath', 'logPrefix', 'systemPath', 'streamingPath'] as const;
const layoutOf = (d: ExchangeDatabase) => ({ edbFilePath: d.edbFilePath, logFolderPath: d.logFolderPath, logPrefix: d.logPrefix, systemPath: d.systemPath, streamingPath: d.streamingPath });

/** Wildcard bindings listen on every address. */
const wildcard = (a: string) => a === '0.0.0.0' || a === '::' || a === '[::]' || a === '*';

export const exchangeChecks: CheckDef[] = [
  {
    id: 'exchange.version-mismatch',
    family: 'exchange',
    title: 'Exchange builds or roles differ',
    detects: 'The major version, cumulative update or installed server roles differ between source and target, or the target does not hold the Mailbox role.',
    scope: ['pair'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['S.app.exchange', 'T.app.exchange'],
    evaluate: (ctx) => {
      const { src, tgt } = both(ctx);
      const host = ctx.snap.target!.hostname;
      if (!src) return [];
      if (!tgt) return [{ subject: `server=${host}`, message: `Exchange is not installed on the target ${host}.`, evidence: { source: { version: src.version, roles: roleSet(src) }, target: null } }];
      const problems: string[] = [];
      if (build(src.version) !== build(tgt.version) || (src.cu ?? '') !== (tgt.cu ?? '')) problems.push(`build ${src.version} (${src.cu ?? '?'}) vs ${tgt.version} (${tgt.cu ?? '?'})`);
      if (roleSet(src).join() !== roleSet(tgt).join()) problems.push(`roles ${roleSet(src).join('+')} vs ${roleSet(tgt).join('+')}`);
      if (!roleSet(tgt).includes('mailbox')) problems.push('the target lacks the Mailbox role');
      if (!problems.length) return [];
      return [{ subject: `server=${host}`, message: `Exchange on the target differs from the source: ${problems.join('; ')}.`, evidence: { source: { version: src.version, cu: src.cu, roles: roleSet(src) }, target: { version: tgt.version, cu: tgt.cu, roles: roleSet(tgt) } } }];
    },
    fix: { kind: 'manual', guidance: 'Update the target to the source\'s Exchange build (the same cumulative update) and install the same server roles, including Mailbox. Tandem does not install or upgrade Exchange.' },
    legacy: ['EX-06'],
  },
  {
    id: 'exchange.org-placement-mismatch',
    family: 'exchange',
    title: 'Exchange servers placed apart',
    detects: 'Source and target are not in the same forest, organisation and administrative group, or a server in a child domain has no global catalog in its own domain.',
    scope: ['directory'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['A'],
    evaluate: (ctx) => {
      const dir = ctx.snap.directory!;
      const org = dir.exchangeOrg;
      const hosts = [ctx.snap.source?.hostname, ctx.snap.target?.hostname];
      if (!hosts[0] || !hosts[1]) throw new Error('the pair\'s server names are unknown');
      if (!org) return [{ subject: 'organization=none', message: 'The directory holds no Exchange organisation.', evidence: { organization: null } }];
      const out: FindingDraft[] = [];
      const found = hosts.map((h) => org.servers.find((s) => label(s.name) === label(h!)) ?? null);
      hosts.forEach((h, i) => {
        if (!found[i]) out.push({ subject: `server=${h}`, message: `${h} is not a server of the Exchange organisation ${org.organization}.`, evidence: { server: h, organization: org.organization } });
      });
      if (found[0] && found[1] && lower(found[0].adminGroup) !== lower(found[1].adminGroup)) {
        out.push({ subject: `server=${hosts[1]}`, message: `${hosts[1]} is in the administrative group ${found[1].adminGroup}, the source in ${found[0].adminGroup}.`, evidence: { server: hosts[1], adminGroup: found[1].adminGroup, sourceAdminGroup: found[0].adminGroup } });
      }
      for (const s of found) {
        if (s && !out.some((f) => f.subject === `domain=${s.domain}`) && Object.entries(dir.gcByDomain).find(([d]) => lower(d) === lower(s.domain))?.[1] === false) {
          out.push({ subject: `domain=${s.domain}`, message: `The domain ${s.domain} of ${s.name} has no global catalog of its own.`, evidence: { server: s.name, domain: s.domain, globalCatalog: false } });
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Place source and target in the same Exchange organisation and administrative group (same forest), and give every child domain that holds one of them a global catalog server of its own.' },
    legacy: ['Exchange: same forest and administrative group; global catalog in child domains'],
  },
  {
    id: 'exchange.dc-colocation',
    family: 'exchange',
    title: 'Exchange on a domain controller',
    detects: 'The target Exchange server is a domain controller, or clustered Exchange shares a node with a domain controller.',
    scope: ['target', 'cluster'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['T.os', 'C'],
    evaluate: (ctx) => {
      const out: FindingDraft[] = [];
      const node = ctx.node!;
      if (node.os!.domainController === true) out.push({ subject: `node=${node.hostname}`, message: `The target ${node.hostname} is a domain controller.`, evidence: { node: node.hostname, domainController: true } });
      for (const side of ['source', 'target'] as const) {
        for (const n of ctx.snap.cluster![side]?.nodes ?? []) {
          if (n.domainController === true && !out.some((f) => label(f.subject.slice(5)) === label(n.name))) {
            out.push({ subject: `node=${n.name}`, message: `The ${side} cluster node ${n.name} is a domain controller.`, evidence: { node: n.name, cluster: side, domainController: true } });
          }
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Move Exchange off domain controllers: use a target server (and cluster nodes) that are member servers, not domain controllers.' },
    legacy: ['Exchange: target not a DC; not on a DC cluster node'],
  },
  {
    id: 'exchange.edition-capacity',
    family: 'exchange',
    title: 'Target edition too small',
    detects: `The source runs Enterprise and the target Standard, and the source mounts more databases than Standard allows (${standardDatabaseLimit}).`,
    scope: ['pair'],
    appliesTo: ['exchange'],
    severity: 'warning',
    facts: ['S.app.exchange', 'T.app.exchange'],
    evaluate: (ctx) => {
      const { src, tgt } = both(ctx);
      if (!src || !tgt || src.edition !== 'enterprise' || tgt.edition !== 'standard') return [];
      const mounted = src.databases.filter((d) => d.mounted).length;
      if (mounted <= standardDatabaseLimit) return [];
      return [{ subject: `server=${ctx.snap.target!.hostname}`, message: `The source mounts ${mounted} databases; the target's Standard edition mounts at most ${standardDatabaseLimit}.`, evidence: { mounted, limit: standardDatabaseLimit, sourceEdition: src.edition, targetEdition: tgt.edition } }];
    },
    fix: { kind: 'manual', guidance: `License the target as Enterprise, or bring the source down to ${standardDatabaseLimit} mounted databases.` },
    legacy: ['EX-82'],
  },
  {
    id: 'exchange.no-databases-selected',
    family: 'exchange',
    title: 'No mailbox database selected',
    detects: 'No mailbox database is selected, so only general server data would be protected.',
    scope: ['pair'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['P'],
    evaluate: (ctx) => (selectedDatabases(ctx.snap.pair).length ? [] : [{ subject: `pair=${ctx.snap.pair.name}`, message: 'No mailbox database is selected for protection.', evidence: { selection: ctx.snap.pair.selection.databases } }]),
    fix: { kind: 'manual', guidance: 'Select the mailbox databases to protect in the pair settings.' },
    legacy: ['EX-58'],
  },
  {
    id: 'exchange.partial-selection',
    family: 'exchange',
    title: 'Some databases not selected',
    detects: 'Some of the source\'s databases are not selected; their mailboxes will not move at failover.',
    scope: ['pair'],
    appliesTo: ['exchange'],
    severity: 'warning',
    facts: ['P', 'S.app.exchange'],
    evaluate: (ctx) => {
      const src = exchangeOf(ctx.snap.source, 'source');
      if (!src || !selectedDatabases(ctx.snap.pair).length) return [];
      return src.databases.filter((d) => !isSelectedDb(ctx.snap.pair, d.name)).map((d) => ({ subject: `database=${d.name}`, message: `${d.name} is not selected; its mailboxes stay behind at failover.`, evidence: { database: d.name, mounted: d.mounted } }));
    },
    fix: { kind: 'manual', guidance: 'Select every database, or record in the pair\'s notes how the others are protected.' },
  },
  {
    id: 'exchange.circular-logging',
    family: 'exchange',
    title: 'Circular logging on a selected database',
    detects: 'Circular logging is on for a selected database, so the replica can never be brought to a consistent point.',
    scope: ['source'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['P', 'S.app.exchange'],
    evaluate: (ctx) =>
      (exchangeOf(ctx.node, 'source')?.databases ?? [])
        .filter((d) => d.circularLogging && isSelectedDb(ctx.snap.pair, d.name))
        .map((d) => ({ subject: `database=${d.name}`, message: `Circular logging is on for ${d.name}.`, evidence: { database: d.name, circularLogging: true } })),
    fix: { kind: 'manual', guidance: 'Turn circular logging off for the database in a planned window (it takes effect after a dismount and mount). Tandem does not restart the source application.' },
    legacy: ['EX-62'],
  },
  {
    id: 'exchange.database-missing-on-target',
    family: 'exchange',
    title: 'Selected database not defined on the target',
    detects: 'A selected database (legacy: storage group, mailbox store or public-folder store) has no definition on the target.',
    scope: ['target'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['P', 'S.app.exchange', 'T.app.exchange'],
    evaluate: (ctx) => {
      const { src, tgt } = both(ctx);
      if (!src || !tgt) return [];
      const have = new Set(tgt.databases.map((d) => lower(d.name)));
      return src.databases
        .filter((d) => isSelectedDb(ctx.snap.pair, d.name) && !have.has(lower(d.name)))
        .map((d) => ({ subject: `database=${d.name}`, message: `The target ${ctx.node!.hostname} has no definition of ${d.name}.`, evidence: { database: d.name, publicFolder: d.publicFolder, source: layoutOf(d) } }));
    },
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const database = String(f.evidence.database);
        const layout = f.evidence.source as ReturnType<typeof layoutOf>;
        return [action('copy-database-config', { database, ...layout, publicFolder: f.evidence.publicFolder, mounted: false }, `Define ${database} on ${ctx.node!.hostname} with the source's name and paths, left dismounted`, 'missing', `${layout.edbFilePath} (dismounted)`)];
      },
    },
    legacy: ['EX-59', 'EX-60', 'EX-61'],
  },
  {
    id: 'exchange.database-layout-mismatch',
    family: 'exchange',
    title: 'Database paths differ on the target',
    detects: 'For a selected database, the target\'s database file path, log folder or log prefix differs from the source\'s (legacy estates also compare the system and streaming file paths).',
    scope: ['pair'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['P', 'S.app.exchange', 'T.app.exchange'],
    evaluate: (ctx) => {
      const { src, tgt } = both(ctx);
      if (!src || !tgt) return [];
      return src.databases
        .filter((d) => isSelectedDb(ctx.snap.pair, d.name))
        .flatMap((d) => {
          const t = tgt.databases.find((x) => lower(x.name) === lower(d.name));
          if (!t) return [];
          const differs = layoutFields.filter((k) => !samePath(d[k], t[k]));
          if (!differs.length) return [];
          return [{ subject: `database=${d.name}`, message: `${d.name} on the target differs in ${differs.join(', ')}.`, evidence: { database: d.name, differs, source: layoutOf(d), target: layoutOf(t) } }];
        });
    },
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const database = String(f.evidence.database);
        const s = f.evidence.source as ReturnType<typeof layoutOf>;
        const t = f.evidence.target as ReturnType<typeof layoutOf>;
        return [action('set-database-paths', { database, ...s }, `Point ${database} on the target at the source's paths (configuration only; no files move)`, `${t.edbFilePath} | ${t.logFolderPath} | ${t.logPrefix}`, `${s.edbFilePath} | ${s.logFolderPath} | ${s.logPrefix}`)];
      },
    },
    legacy: ['EX-66', 'EX-67', 'EX-68', 'EX-69', 'EX-70', 'EX-71', 'EX-72'],
  },
  {
    id: 'exchange.transport-path-mismatch',
    family: 'exchange',
    title: 'Transport paths differ on the target',
    detects: 'The target\'s transport queue database, pickup or replay directory differs from the source\'s (legacy: MTA path, SMTP queue and pickup).',
    scope: ['pair'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['S.app.exchange', 'T.app.exchange'],
    evaluate: (ctx) => {
      const { src, tgt } = both(ctx);
      if (!src?.transport || !tgt?.transport) return [];
      const s = src.transport;
      const t = tgt.transport;
      const differs = (['queueDatabasePath', 'pickupDirectory', 'replayDirectory'] as const).filter((k) => !samePath(s[k], t[k]));
      if (!differs.length) return [];
      return [{ subject: `transport=${ctx.snap.target!.hostname}`, message: `Transport paths on the target differ: ${differs.join(', ')}.`, evidence: { differs, source: s, target: t } }];
    },
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const s = f.evidence.source as Record<string, string>;
        const t = f.evidence.target as Record<string, string>;
        return [action('set-transport-paths', { ...s }, 'Set the target\'s transport queue, pickup and replay paths to the source\'s', JSON.stringify(t), JSON.stringify(s))];
      },
    },
    legacy: ['EX-63', 'EX-64', 'EX-65'],
  },
  {
    id: 'exchange.page-zeroing-enabled',
    family: 'exchange',
    title: 'Page zeroing on the source',
    detects: 'The source zeroes database pages during backup or maintenance, which inflates the replicated change volume.',
    scope: ['source'],
    appliesTo: ['exchange'],
    severity: 'warning',
    facts: ['P', 'S.app.exchange'],
    evaluate: (ctx) =>
      (exchangeOf(ctx.node, 'source')?.databases ?? [])
        .filter((d) => d.pageZeroing && (isSelectedDb(ctx.snap.pair, d.name) || !selectedDatabases(ctx.snap.pair).length))
        .map((d) => ({ subject: `database=${d.name}`, message: `${d.name} zeroes deleted pages, which multiplies the data replicated.`, evidence: { database: d.name, pageZeroing: true } })),
    fix: { kind: 'manual', guidance: 'Turn page zeroing off for the database unless your security policy requires it.' },
    legacy: ['EX-73'],
  },
  {
    id: 'exchange.failover-rights-missing',
    family: 'exchange',
    title: 'Computer accounts lack Exchange rights',
    detects:
      'A source or target computer account lacks directory rights that failover or failback need on Exchange objects: offline address book, routing and connector objects, administrative group properties, or recipient objects (mailbox re-homing).',
    scope: ['directory'],
    appliesTo: ['exchange'],
    severity: 'error',
    facts: ['A', 'V'],
    evaluate: (ctx) => {
      const dir = ctx.snap.directory!;
      const hosts = [ctx.snap.source?.hostname, ctx.snap.target?.hostname].filter((h): h is string => !!h).map(label);
      const account = (p: string) => lower(p.split('\\').pop()!.replace(/\$$/, ''));
      // Exchange objects: the organisation's configuration container (grantable) or recipient
      // attributes (msExch…/homeMDB, an organisation-wide change).
      const inConfig = (o: string) => /cn=microsoft exchange,cn=services,cn=configuration/i.test(o);
      const recipient = (r: string) => /^(msexch|homemdb|homemta|legacyexchangedn)/i.test(r);
      const denied = new Map<string, { principal: string; object: string; rights: string[]; kind: 'configuration' | 'recipient' }>();
      for (const r of dir.rights) {
        if (r.allowed || !r.principal.endsWith('$') || !hosts.includes(account(r.principal))) continue;
        const kind = inConfig(r.object) ? 'configuration' : recipient(r.right) ? 'recipient' : null;
        if (!kind) continue;
        const key = `${r.principal}|${r.object}`;
        const cur = denied.get(key) ?? { principal: r.principal, object: r.object, rights: [], kind };
        cur.rights.push(r.right);
        denied.set(key, cur);
      }
      return [...denied.values()].map((d) => ({ subject: `right=${d.principal} on ${d.object}`, message: `${d.principal} may not ${d.rights.join(', ')} on ${d.object}.`, evidence: d }));
    },
    fix: {
      kind: 'conditional',
      phase: 4,
      blockedWhileProtected: false,
      privileged: true,
      decide: (ctx, f) => {
        if (f.evidence.kind === 'recipient') return { guidance: 'Rights on recipient objects are an organisation-wide change: have an Exchange organisation administrator grant the computer accounts the rights to re-home mailboxes. Tandem does not make this change.' };
        const cred = ctx.snap.vault.find((v) => v.purpose === 'directory' && v.lastTest?.ok);
        if (!cred) return { guidance: 'No tested directory credential is stored, so Tandem cannot grant these rights. Store a directory credential that may delegate them, or have an administrator grant them.' };
        const rights = f.evidence.rights as string[];
        const principal = String(f.evidence.principal);
        const object = String(f.evidence.object);
        return { plan: [{ action: 'directory.grant', object, principal, rights, description: `Grant ${principal} ${rights.join(', ')} on ${object}`, before: 'denied', after: 'allowed' }] };
      },
    },
    legacy: ['EX-16', 'EX-17', 'EX-19', 'EX-20', 'EX-83'],
  },
  {
    id: 'exchange.smtp-address-mismatch',
    family: 'exchange',
    title: 'Mapped address not bound for SMTP on the target',
    detects: 'A target address mapped for DNS failover is not one the target\'s receive connectors listen on, so mail may be refused after failover.',
    scope: ['dns'],
    appliesTo: ['exchange'],
    severity: 'warning',
    facts: ['P', 'T.app.exchange'],
    when: (snap) => snap.pair.failover.mode === 'dns',
    evaluate: (ctx) => {
      const tgt = exchangeOf(ctx.snap.target, 'target');
      if (!tgt) return [];
      const bound = tgt.receiveBindings.filter((b) => b.port === 25);
      if (bound.some((b) => wildcard(b.address))) return [];
      return ctx.snap.pair.ipMap
        .filter((m) => m.target && !bound.some((b) => b.address === m.target))
        .map((m) => ({ subject: `address=${m.target}`, message: `${m.target} (mapped from ${m.source}) is not an SMTP receive binding of the target.`, evidence: { source: m.source, target: m.target, bindings: bound.map((b) => `${b.address}:${b.port}`) } }));
    },
    fix: { kind: 'manual', guidance: 'Map the source address to a target address a receive connector listens on, or add a binding for this address to the target\'s receive connector.' },
    legacy: ['EX-33'],
  },
  {
    id: 'exchange.smtp-address-not-mapped',
    family: 'exchange',
    title: 'SMTP address not mapped for failover',
    detects: 'An address the source\'s receive connectors listen on is not in the DNS failover map, so mail sent to it will not follow a failover.',
    scope: ['dns'],
    appliesTo: ['exchange'],
    severity: 'warning',
    facts: ['P', 'S.app.exchange'],
    when: (snap) => snap.pair.failover.mode === 'dns',
    evaluate: (ctx) => {
      const src = exchangeOf(ctx.snap.source, 'source');
      if (!src) return [];
      const mapped = new Set(ctx.snap.pair.ipMap.filter((m) => m.target).map((m) => m.source));
      const addrs = [...new Set(src.receiveBindings.filter((b) => b.port === 25 && !wildcard(b.address) && !/^(127\.|::1$)/.test(b.address)).map((b) => b.address))];
      return addrs.filter((a) => !mapped.has(a)).map((a) => ({ subject: `address=${a}`, message: `The source receives SMTP on ${a}, which has no target address in the failover map.`, evidence: { address: a } }));
    },
    fix: { kind: 'manual', guidance: 'Add the address to the failover address map. For inbound internet mail, also publish a lower-priority MX record for the target at your public DNS provider.' },
    legacy: ['EX-35'],
  },
];
