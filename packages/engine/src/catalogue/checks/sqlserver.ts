import type { CheckDef, FindingDraft } from '../model.ts';
import { catalogueIds } from '../ids.ts';
import { compareVersions, dbSubject, findInstance, instSubject, isSelected, mapPath, protectedInstances, sqlserverOf } from '../apps/sqlserver.ts';
import { appAction, BOTH, DB_METHODS, pairsOf, sides } from './sqlserver-common.ts';
import { needsDirectory } from './failover-util.ts';
import { sqlserverObjectChecks } from './sqlserver-objects.ts';

// The `sqlserver` family (catalogue §2.15), instance and database level. Server-level objects
// (configuration, logins, roles, linked servers…) are in sqlserver-objects.ts. Tags: no `methods`
// = [both]; [database] rows also run for log-shipping.

const isBuiltIn = (acct: string) => /^(localsystem|nt authority\\|nt service\\|localservice$|networkservice$)/i.test(acct) || acct.endsWith('$');
/** `.\user` or `HOST\user`: an account that exists only on that machine. */
const isMachineLocal = (acct: string, hostname: string) => {
  if (isBuiltIn(acct)) return false;
  const dom = acct.includes('\\') ? acct.split('\\')[0]!.toLowerCase() : null;
  return dom === '.' || dom === hostname.split('.')[0]!.toLowerCase() || (!acct.includes('\\') && !acct.includes('@'));
};

const instanceChecks: CheckDef[] = [
  {
    id: 'sqlserver.version-mismatch',
    family: 'sqlserver',
    title: 'SQL Server versions differ',
    detects:
      'Instance method: the target instance is not the same major, minor and servicing level (CU/GDR) as the source. Database and log-shipping methods: the target is older than the source (a newer target is allowed).',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }): FindingDraft[] => {
        const ev = { instance: s.name, source: { version: s.version, servicingLevel: s.servicingLevel }, target: { version: t.version, servicingLevel: t.servicingLevel } };
        if (ctx.snap.pair.method === 'instance') {
          // The build number carries the CU; the label is compared only when both sides report it
          // (a stopped target instance knows its build from the registry, not its label).
          if (compareVersions(s.version, t.version) === 0 && (!s.servicingLevel || !t.servicingLevel || s.servicingLevel === t.servicingLevel)) return [];
          return [{ subject: instSubject(s.name), message: `SQL Server ${s.name} is ${s.version} (${s.servicingLevel ?? '?'}) on the source and ${t.version} (${t.servicingLevel ?? '?'}) on the target; the instance method needs the same build.`, evidence: ev }];
        }
        if (compareVersions(t.version, s.version) >= 0) return [];
        return [{ subject: instSubject(s.name), message: `The target's SQL Server ${s.name} (${t.version}) is older than the source's (${s.version}); databases cannot attach to an older version.`, evidence: ev }];
      }),
    fix: { kind: 'manual', guidance: 'Update the target instance to the source\'s version and servicing level (the same cumulative update or GDR), then validate again. With the database or log-shipping method a newer target is allowed, but failback to the older source is then impossible.' },
    legacy: ['SQL-06'],
  },
  {
    id: 'sqlserver.instance-missing-on-target',
    family: 'sqlserver',
    title: 'SQL Server instance missing on the target',
    detects: 'A protected named instance of the source does not exist on the target under the same name.',
    scope: ['target'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) => {
      const { src, tgt } = sides(ctx);
      return protectedInstances(ctx.snap.pair, src)
        .filter((s) => !findInstance(tgt, s.name))
        .map((s) => ({ subject: instSubject(s.name), message: `The target ${ctx.node!.hostname} has no SQL Server instance named ${s.name}.`, evidence: { instance: s.name, targetInstances: tgt.instances.map((i) => i.name) } }));
    },
    fix: { kind: 'manual', guidance: 'Install SQL Server on the target with an instance of **the same name** as the source (same edition and version), then validate again.' },
    legacy: ['SQL: named instance must exist on the target'],
  },
  {
    id: 'sqlserver.service-account-unsuitable',
    family: 'sqlserver',
    title: 'SQL Server service account unsuitable',
    detects:
      'The SQL Server service runs under an account that exists only on that machine, or source and target are in different domains and do not run under one shared domain account.',
    scope: ['source', 'target'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) => {
      const { src, tgt } = sides(ctx);
      const mine = ctx.side === 'source' ? src : tgt;
      const out: FindingDraft[] = [];
      for (const i of ctx.side === 'source' ? protectedInstances(ctx.snap.pair, src) : mine.instances.filter((t) => protectedInstances(ctx.snap.pair, src).some((s) => s.name.toLowerCase() === t.name.toLowerCase()))) {
        if (isMachineLocal(i.serviceAccount, ctx.node!.hostname)) {
          out.push({ subject: instSubject(i.name), message: `SQL Server ${i.name} on ${ctx.node!.hostname} runs as the machine-local account ${i.serviceAccount}.`, evidence: { instance: i.name, serviceAccount: i.serviceAccount, reason: 'machine-local' } });
        }
      }
      // Across domains both sides must share one domain account; reported once, on the target.
      if (ctx.side === 'target' && (src.domain ?? '').toLowerCase() !== (tgt.domain ?? '').toLowerCase()) {
        for (const { s, t } of pairsOf(ctx)) {
          if (out.some((f) => f.subject === instSubject(t.name))) continue;
          if (isBuiltIn(s.serviceAccount) || s.serviceAccount.toLowerCase() !== t.serviceAccount.toLowerCase()) {
            out.push({
              subject: instSubject(t.name),
              message: `Source (${src.domain ?? 'workgroup'}) and target (${tgt.domain ?? 'workgroup'}) are in different domains, and SQL Server ${t.name} does not run under one shared domain account on both.`,
              evidence: { instance: t.name, sourceAccount: s.serviceAccount, targetAccount: t.serviceAccount, sourceDomain: src.domain, targetDomain: tgt.domain, reason: 'cross-domain' },
            });
          }
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Run the SQL Server service as a domain account or a built-in/virtual account (NT Service\\MSSQLSERVER). When source and target are in different domains, use **the same domain account** on both. Change it with SQL Server Configuration Manager, which also fixes the file permissions.' },
    legacy: ['SQL-13', 'SQL-14', 'SQL: same domain account across domains'],
  },
  {
    id: 'sqlserver.service-spn-rights-missing',
    family: 'sqlserver',
    title: 'Executor cannot move the SQL Server SPNs',
    detects: 'The executor may not read or write the service principal names (MSSQLSvc/…) of the SQL Server service account, which it must move at failover.',
    scope: ['directory'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    // Like the directory family: only when the worker runs the directory probe (or it ran anyway).
    when: (snap) => needsDirectory(snap) || snap.directory !== undefined,
    facts: ['P', 'A', 'S.app.sqlserver', 'V'],
    evaluate: (ctx) => {
      const src = sqlserverOf(ctx.snap.source, 'source');
      const accounts = new Set(protectedInstances(ctx.snap.pair, src).map((i) => i.serviceAccount).filter((a) => !isBuiltIn(a)).map((a) => a.toLowerCase()));
      const sam = (a: string) => (a.includes('\\') ? a.split('\\')[1]! : a.split('@')[0]!).toLowerCase();
      const denied = new Map<string, { object: string; principal: string; rights: string[] }>();
      for (const r of ctx.snap.directory!.rights) {
        if (r.allowed || !/spn/i.test(r.right)) continue;
        const obj = r.object.toLowerCase();
        const hit = [...accounts].some((a) => obj === a || obj.startsWith(`cn=${sam(a)},`) || obj === sam(a));
        if (!hit) continue;
        const key = `${r.object}|${r.principal}`;
        const cur = denied.get(key) ?? { object: r.object, principal: r.principal, rights: [] };
        cur.rights.push(r.right);
        denied.set(key, cur);
      }
      return [...denied.values()].map((d) => ({ subject: `account=${d.object}`, message: `${d.principal} may not ${d.rights.join(', ')} on the SQL Server service account ${d.object}.`, evidence: d }));
    },
    fix: {
      kind: 'conditional',
      phase: 4,
      blockedWhileProtected: false,
      privileged: true,
      decide: (ctx, f) => {
        const cred = ctx.snap.vault.find((v) => v.purpose === 'directory' && v.lastTest?.ok);
        if (!cred) return { guidance: 'No tested directory credential is stored, so Tandem cannot grant the rights. Ask a domain administrator to give the executor **Read servicePrincipalName**, **Write servicePrincipalName** and **Validated write to service principal name** on the SQL Server service account, or store a directory credential that may delegate them.' };
        const object = String(f.evidence.object);
        const principal = String(f.evidence.principal);
        return {
          plan: [{ action: 'directory.grant', object, principal, rights: ['read SPN', 'write SPN', 'validated write SPN'], description: `Let ${principal} read and write the SPNs of ${object}`, before: 'denied', after: 'allowed' }],
        };
      },
    },
    legacy: ['SQL-57'],
  },
  {
    id: 'sqlserver.system-database-deselected',
    family: 'sqlserver',
    title: 'System database excluded',
    detects: 'Instance method: master, model or msdb is left out of the selection, so the target would start without the source\'s server-level objects. Leaving out tempdb is fine.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: ['instance'],
    severity: 'error',
    facts: ['P'],
    evaluate: (ctx) => {
      const sel = ctx.snap.pair.selection.databases;
      if (sel === null) return [];
      const has = (db: string) => sel.some((s) => s.toLowerCase() === db || s.toLowerCase().endsWith(`/${db}`) || s.toLowerCase().endsWith(`\\${db}`));
      const missing = ['master', 'model', 'msdb'].filter((db) => !has(db));
      return missing.map((db) => ({ subject: `database=${db}`, message: `The system database ${db} is not selected; the instance method needs master, model and msdb.`, evidence: { database: db, selection: sel } }));
    },
    fix: {
      kind: 'auto',
      phase: 1,
      blockedWhileProtected: false,
      plan: (ctx) => {
        const sel = ctx.snap.pair.selection.databases ?? [];
        const lower = sel.map((s) => s.toLowerCase());
        const after = [...sel, ...['master', 'model', 'msdb'].filter((db) => !lower.some((s) => s === db || s.endsWith(`/${db}`) || s.endsWith(`\\${db}`)))];
        return [{ action: 'pair.set', key: 'selection.databases', value: after, description: 'Select the system databases master, model and msdb', before: sel.join(', '), after: after.join(', ') }];
      },
    },
  },
  {
    id: 'sqlserver.target-database-online',
    family: 'sqlserver',
    title: 'Protected database online on the target',
    detects:
      'Instance method: the target instance is running with a protected database online. Database method: a protected database is attached on the target. Either way the target holds files open that mirroring must write.',
    scope: ['target'],
    appliesTo: ['sqlserver'],
    methods: ['instance', 'database'],
    severity: 'error',
    facts: ['P', 'T.app.sqlserver', 'T.svc'],
    evaluate: (ctx) => {
      const pair = ctx.snap.pair;
      const tgt = sqlserverOf(ctx.node, 'target');
      const out: FindingDraft[] = [];
      for (const t of tgt.instances) {
        const dbs = t.databases.filter((d) => isSelected(pair, t.name, d.name) && (pair.method === 'database' ? true : d.state === 'online'));
        if (!dbs.length) continue;
        if (pair.method === 'database') {
          for (const d of dbs) out.push({ subject: dbSubject(t.name, d.name), message: `${d.name} is attached to ${t.name} on the target ${ctx.node!.hostname}.`, evidence: { instance: t.name, database: d.name, state: d.state } });
          continue;
        }
        const svc = ctx.node!.services!.find((s) => s.name.toLowerCase() === t.serviceName.toLowerCase());
        if (svc && (svc.state === 'running' || svc.state === 'starting')) {
          out.push({ subject: instSubject(t.name), message: `SQL Server ${t.name} is running on the target ${ctx.node!.hostname} with protected databases online.`, evidence: { instance: t.name, service: t.serviceName, state: svc.state, databases: dbs.map((d) => d.name) } });
        }
      }
      return out;
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const instance = String(f.evidence.instance);
        if (typeof f.evidence.service === 'string') {
          const name = f.evidence.service;
          return [{ action: 'service.stop', node: 'target', name, description: `Stop SQL Server ${instance} (${name}) on ${ctx.node!.hostname}`, before: 'running', after: 'stopped' }];
        }
        const database = String(f.evidence.database);
        return [appAction('detach', { instance, database }, `Detach ${database} from ${instance} on ${ctx.node!.hostname} (files kept)`, String(f.evidence.state), 'detached')];
      },
    },
    legacy: ['SQL-85', 'Detach an online target database'],
  },
  {
    id: 'sqlserver.name-collision',
    family: 'sqlserver',
    title: 'Database name or file collision on the target',
    detects: 'Many-to-one: two sources send a database of the same name to one target instance, or two database files resolve to the same target path.',
    scope: ['target'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'error',
    facts: ['P', 'R.connections', 'S.app.sqlserver'],
    evaluate: (ctx) => {
      const pair = ctx.snap.pair;
      const src = sqlserverOf(ctx.snap.source, 'source');
      const mine = new Map<string, string>();
      const out: FindingDraft[] = [];
      const names = new Map<string, string>();
      for (const i of src.instances) {
        for (const d of i.databases.filter((x) => isSelected(pair, i.name, x.name))) {
          const prev = names.get(d.name.toLowerCase());
          if (prev) out.push({ subject: `database=${d.name}`, message: `Two selected databases are named ${d.name} (${prev} and ${i.name}); they would collide on the target.`, evidence: { database: d.name, instances: [prev, i.name] } });
          else names.set(d.name.toLowerCase(), i.name);
          for (const f of d.files) {
            const to = mapPath(pair, f.path);
            const owner = mine.get(to.toLowerCase());
            if (owner && owner !== d.name) out.push({ subject: `file=${to}`, message: `Files of ${owner} and ${d.name} both resolve to ${to} on the target.`, evidence: { path: to, databases: [owner, d.name] } });
            mine.set(to.toLowerCase(), d.name);
          }
        }
      }
      const targetId = ctx.node?.serverId ?? null;
      for (const c of ctx.snap.replication.connections) {
        if (c.pairId === pair.id || c.targetServerId !== targetId || !c.active) continue;
        for (const p of c.paths) {
          const db = mine.get(p.toLowerCase());
          if (db) out.push({ subject: `file=${p}`, message: `${p} of ${db} is also written by another connection to this target.`, evidence: { path: p, database: db, connection: c.id } });
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Give each database sent to this target a unique name, or map its files to unique target paths, so that no two sources write the same database or file.' },
    legacy: ['Many-to-one name and file uniqueness'],
  },
  {
    id: 'sqlserver.fulltext-differs',
    family: 'sqlserver',
    title: 'Full-text settings differ',
    detects: 'The full-text service settings (service identity mode, default paths, filter settings) differ between source and target.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        if (!s.fulltext || !t.fulltext) return [];
        const keys = [...new Set([...Object.keys(s.fulltext), ...Object.keys(t.fulltext)])].sort();
        const differs = keys.filter((k) => s.fulltext![k] !== t.fulltext![k]);
        if (!differs.length) return [];
        return [{ subject: instSubject(s.name), message: `Full-text settings of ${s.name} differ: ${differs.join(', ')}.`, evidence: { instance: s.name, differs, source: s.fulltext, target: t.fulltext } }];
      }),
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const settings = f.evidence.source as Record<string, unknown>;
        return [appAction('set-fulltext', { instance: f.evidence.instance, settings }, `Set the full-text settings of ${String(f.evidence.instance)} on the target to the source's`, JSON.stringify(f.evidence.target), JSON.stringify(settings))];
      },
    },
    legacy: ['SQL-64'],
  },
  {
    id: 'sqlserver.auth-mode-differs',
    family: 'sqlserver',
    title: 'Authentication mode differs',
    detects: 'The authentication mode differs: Windows authentication only on one side, mixed mode on the other.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx)
        .filter(({ s, t }) => s.authMode !== t.authMode)
        .map(({ s, t }) => ({ subject: instSubject(s.name), message: `${s.name} uses ${s.authMode} authentication on the source but ${t.authMode} on the target.`, evidence: { instance: s.name, source: s.authMode, target: t.authMode } })),
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const mode = String(f.evidence.source);
        return [
          appAction(
            'set-registry',
            { instance: f.evidence.instance, key: 'MSSQLServer', name: 'LoginMode', value: mode === 'mixed' ? 2 : 1 },
            `Set LoginMode of ${String(f.evidence.instance)} on the target to ${mode} (applies at the next start)`,
            String(f.evidence.target),
            mode,
          ),
        ];
      },
    },
    legacy: ['SQL-65'],
  },
  {
    id: 'sqlserver.tde-key-unavailable',
    family: 'sqlserver',
    title: 'TDE key cannot be opened on the target',
    detects:
      'A protected database is encrypted with TDE and the target cannot open its key: database method, the protecting certificate is missing from the target\'s master; instance method, the database master key is protected only by the source machine\'s service master key.',
    scope: ['target'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) => {
      const pair = ctx.snap.pair;
      const { src, tgt } = sides(ctx);
      const out: FindingDraft[] = [];
      for (const s of protectedInstances(pair, src)) {
        const t = findInstance(tgt, s.name);
        for (const d of s.databases.filter((x) => x.tde && isSelected(pair, s.name, x.name))) {
          const thumb = d.tde!.encryptorThumbprint;
          if (pair.method === 'instance') {
            if (s.masterKey && !s.masterKey.passwordProtected) out.push({ subject: dbSubject(s.name, d.name), message: `${d.name} is TDE-encrypted and master's database master key of ${s.name} is protected only by the source machine's service master key.`, evidence: { instance: s.name, database: d.name, thumbprint: thumb, reason: 'service-master-key-only' } });
          } else if (!t || !t.certificates.some((c) => c.thumbprint.toLowerCase() === thumb.toLowerCase() && c.hasPrivateKey)) {
            out.push({ subject: dbSubject(s.name, d.name), message: `${d.name} is TDE-encrypted and the target's master has no certificate ${thumb} with its private key.`, evidence: { instance: s.name, database: d.name, thumbprint: thumb, reason: 'certificate-missing' } });
          }
        }
      }
      return out;
    },
    fix: {
      kind: 'manual',
      guidance: 'Back up the TDE certificate **with its private key** on the source and restore it into master on the target; or add password protection to the database master key and store that password in the vault for the runbook. Tandem never creates or moves encryption keys.',
    },
  },
  {
    id: 'sqlserver.availability-group-member',
    family: 'sqlserver',
    title: 'Database in an availability group',
    detects: 'A protected database belongs to an Always On availability group; a file-level copy cannot rejoin the group and may conflict with its own failover.',
    scope: ['source'],
    appliesTo: ['sqlserver'],
    severity: 'warning',
    facts: ['P', 'S.app.sqlserver'],
    evaluate: (ctx) => {
      const src = sqlserverOf(ctx.node, 'source');
      return src.instances.flatMap((i) =>
        i.databases
          .filter((d) => d.availabilityGroup && isSelected(ctx.snap.pair, i.name, d.name))
          .map((d) => ({ subject: dbSubject(i.name, d.name), message: `${d.name} belongs to the availability group ${d.availabilityGroup}.`, evidence: { instance: i.name, database: d.name, availabilityGroup: d.availabilityGroup } })),
      );
    },
    fix: { kind: 'manual', guidance: 'Protect this database with its availability group (add a replica), or exclude it from the pair.' },
  },
  {
    id: 'sqlserver.recovery-model-not-full',
    family: 'sqlserver',
    title: 'Database uses the simple recovery model',
    detects: 'Log shipping: a protected source database uses the simple recovery model and produces no log backups to ship.',
    scope: ['source'],
    appliesTo: ['sqlserver'],
    methods: ['log-shipping'],
    severity: 'error',
    facts: ['P', 'S.app.sqlserver'],
    evaluate: (ctx) => {
      const src = sqlserverOf(ctx.node, 'source');
      return src.instances.flatMap((i) =>
        i.databases
          .filter((d) => d.recoveryModel === 'simple' && isSelected(ctx.snap.pair, i.name, d.name) && !['master', 'model', 'msdb', 'tempdb'].includes(d.name.toLowerCase()))
          .map((d) => ({ subject: dbSubject(i.name, d.name), message: `${d.name} uses the simple recovery model; log shipping needs full (or bulk-logged).`, evidence: { instance: i.name, database: d.name, recoveryModel: d.recoveryModel } })),
      );
    },
    fix: { kind: 'manual', guidance: 'In a planned window, switch the database to the **full** recovery model and take a full backup to start the log chain. This changes the production source, so Tandem leaves it to you.' },
  },
  {
    id: 'sqlserver.log-chain-broken',
    family: 'sqlserver',
    title: 'Log shipping chain broken',
    detects:
      'Log shipping: the target cannot follow the source\'s log chain, because a target database is online instead of restoring or standby, the backup share is unreachable from the target, or a log backup is missing after the last restored one.',
    scope: ['target'],
    appliesTo: ['sqlserver'],
    methods: ['log-shipping'],
    severity: 'error',
    facts: ['P', 'T.app.sqlserver', 'S.app.sqlserver', 'T.paths'],
    evaluate: (ctx) => {
      const { src, tgt } = sides(ctx);
      const out: FindingDraft[] = [];
      for (const s of protectedInstances(ctx.snap.pair, src)) {
        const t = findInstance(tgt, s.name);
        if (!t) continue;
        for (const p of s.logShipping.primaries.filter((x) => isSelected(ctx.snap.pair, s.name, x.database))) {
          const subject = dbSubject(s.name, p.database);
          const ev = { instance: s.name, database: p.database };
          const tdb = t.databases.find((d) => d.name.toLowerCase() === p.database.toLowerCase());
          if (tdb && tdb.state === 'online') {
            out.push({ subject, message: `${p.database} is online on the target; it must stay restoring or standby to accept log backups.`, evidence: { ...ev, reason: 'recovered', state: tdb.state } });
            continue;
          }
          const share = ctx.node!.paths!.find((x) => x.path.toLowerCase() === p.backupShare.toLowerCase());
          if (share && !share.exists) {
            out.push({ subject, message: `The backup share ${p.backupShare} of ${p.database} is unreachable from the target.`, evidence: { ...ev, reason: 'share-unreachable', share: p.backupShare } });
            continue;
          }
          const sec = t.logShipping.secondaries.find((x) => x.database.toLowerCase() === p.database.toLowerCase());
          const gap = sec ? chainGap(sec.lastRestoredLsn, p.backups) : null;
          if (gap) out.push({ subject, message: `A log backup of ${p.database} is missing after LSN ${gap}; the target cannot restore further.`, evidence: { ...ev, reason: 'gap', afterLsn: gap, lastRestored: sec?.lastRestoredFile ?? null } });
        }
      }
      return out;
    },
    fix: { kind: 'manual', guidance: 'Re-seed the database on the target from a full backup of the source (restore WITH NORECOVERY), then let log shipping catch up. Re-seeding is destructive: it needs a typed confirmation and is never part of Fix All.' },
  },
];

/** The LSN after which the chain breaks (null: the backups continue the restored point without a hole). */
export function chainGap(lastRestored: string | null, backups: { firstLsn: string; lastLsn: string }[]): string | null {
  if (lastRestored === null) return null;
  let at = BigInt(lastRestored);
  const later = backups.filter((b) => BigInt(b.lastLsn) > at).sort((a, b) => (BigInt(a.firstLsn) < BigInt(b.firstLsn) ? -1 : 1));
  for (const b of later) {
    if (BigInt(b.firstLsn) > at) return at.toString();
    at = BigInt(b.lastLsn);
  }
  return null;
}

export const sqlserverChecks: CheckDef[] = [...instanceChecks, ...sqlserverObjectChecks].sort((a, b) => catalogueIds.indexOf(a.id) - catalogueIds.indexOf(b.id));
