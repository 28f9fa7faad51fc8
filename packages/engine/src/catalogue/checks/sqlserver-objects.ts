import type { CheckDef, FindingDraft } from '../model.ts';
import { instSubject, isSelected, mapPath, type SqlInstance } from '../apps/sqlserver.ts';
import { appAction, BOTH, DB_METHODS, pairsOf, targetNewer } from './sqlserver-common.ts';
import { stableJson } from '../evaluate.ts';

// The `sqlserver` family, part two: server-level objects and instance settings. In the instance
// method master and msdb travel with the data, so the object parity rows run only for the
// database and log-shipping methods; registry, startup and service settings live outside the
// data files and are compared in every method.

const lower = (s: string) => s.toLowerCase();
const byName = <T extends { name: string }>(items: T[]) => new Map(items.map((i) => [lower(i.name), i]));
const isPath = (v: unknown): v is string => typeof v === 'string' && /^([a-z]:\\|\\\\)/i.test(v);

/** Registry values Tandem may set on the target (network protocols, default directories, auditing). */
export const registryAllowList = ['supersocketnetlib\\tcp\\enabled', 'supersocketnetlib\\np\\enabled', 'supersocketnetlib\\sm\\enabled', 'mssqlserver\\defaultdata', 'mssqlserver\\defaultlog', 'mssqlserver\\backupdirectory', 'mssqlserver\\auditlevel', 'mssqlserver\\numerrorlogs'];
/** Registry values other checks own: the login mode (auth-mode-differs), startup arguments (startup-parameters-differ) and the full-text path (fulltext-differs). */
const ownedElsewhere = (name: string) => /^(loginmode|sqlarg\d+|fulltextdefaultpath)$/i.test(name);
const regKey = (r: { key: string; name: string }) => (r.key ? `${r.key}\\${r.name}` : r.name);

function registryMaps(ctx: Parameters<CheckDef['evaluate']>[0], s: SqlInstance, t: SqlInstance) {
  const sm = new Map(s.registry.filter((r) => !ownedElsewhere(r.name)).map((r) => [lower(regKey(r)), { key: regKey(r), value: isPath(r.value) ? mapPath(ctx.snap.pair, r.value) : r.value, raw: r }]));
  const tm = new Map(t.registry.filter((r) => !ownedElsewhere(r.name)).map((r) => [lower(regKey(r)), { key: regKey(r), value: r.value, raw: r }]));
  return { sm, tm };
}

const sameValue = (a: unknown, b: unknown) => (typeof a === 'string' && typeof b === 'string' ? lower(a) === lower(b) : a === b);

/** Startup parameters with -d/-e/-l paths mapped to the target. */
function mappedStartup(ctx: Parameters<CheckDef['evaluate']>[0], params: string[]) {
  return params.map((p) => (/^-[del]/i.test(p) ? p.slice(0, 2) + mapPath(ctx.snap.pair, p.slice(2)) : p));
}

const skipLogin = (name: string) => name.startsWith('##') || /^(nt service|nt authority)\\/i.test(name);

function loginDiff(s: SqlInstance['logins'][number], t: SqlInstance['logins'][number] | undefined): string[] {
  if (!t) return ['missing'];
  const d: string[] = [];
  if (lower(s.sid) !== lower(t.sid)) d.push('sid');
  if ((s.passwordHashDigest ?? '') !== (t.passwordHashDigest ?? '')) d.push('passwordHash');
  if (lower(s.defaultDatabase) !== lower(t.defaultDatabase)) d.push('defaultDatabase');
  if (lower(s.defaultLanguage ?? '') !== lower(t.defaultLanguage ?? '')) d.push('defaultLanguage');
  if (s.disabled !== t.disabled) d.push('disabled');
  if (stableJson([...s.serverPermissions].sort()) !== stableJson([...t.serverPermissions].sort())) d.push('serverPermissions');
  return d;
}

const replicationOf = (i: SqlInstance) => i.replication ?? { publisher: false, distributor: false, subscriber: false, publications: [] };

export const sqlserverObjectChecks: CheckDef[] = [
  {
    id: 'sqlserver.config-value-differs',
    family: 'sqlserver',
    title: 'Server configuration option differs',
    detects: 'A server configuration option (sp_configure) differs between source and target. An option present on one side only is a version artefact and is not shown when the target is newer.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const tm = byName(t.config);
        const sm = byName(s.config);
        const out: FindingDraft[] = [];
        // "default language" is compared by name in language-differs.
        for (const o of s.config.filter((c) => lower(c.name) !== 'default language')) {
          const other = tm.get(lower(o.name));
          if (other && other.value !== o.value) out.push({ subject: `option=${o.name}`, message: `${o.name} is ${o.value} on the source and ${other.value} on the target (${s.name}).`, evidence: { instance: s.name, option: o.name, source: o.value, target: other.value, onBoth: true } });
          if (!other && !targetNewer(ctx, s, t)) out.push({ subject: `option=${o.name}`, message: `${o.name} exists only on the source (${s.name}).`, evidence: { instance: s.name, option: o.name, source: o.value, target: null, onBoth: false } });
        }
        if (!targetNewer(ctx, s, t)) {
          for (const o of t.config.filter((c) => !sm.has(lower(c.name)))) out.push({ subject: `option=${o.name}`, message: `${o.name} exists only on the target (${s.name}).`, evidence: { instance: s.name, option: o.name, source: null, target: o.value, onBoth: false } });
        }
        return out;
      }),
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (_ctx, f) => {
        if (!f.evidence.onBoth) return { guidance: 'The option exists on one side only, usually because the versions differ. Review it; Tandem sets only options both versions know.' };
        const option = String(f.evidence.option);
        const value = Number(f.evidence.source);
        return { plan: [appAction('set-config', { instance: f.evidence.instance, option, value }, `Set ${option} to ${value} on the target`, String(f.evidence.target), String(value))] };
      },
    },
    legacy: ['SQL-60', 'SQL-61', 'SQL-62', 'SQL-63'],
  },
  {
    id: 'sqlserver.agent-config-differs',
    family: 'sqlserver',
    title: 'SQL Server Agent settings differ',
    detects: 'The SQL Server Agent settings differ. In the database and log-shipping methods, source jobs, operators or alerts missing on the target are reported too.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        if (!s.agent || !t.agent) return [];
        const out: FindingDraft[] = [];
        const keys = [...new Set([...Object.keys(s.agent.settings), ...Object.keys(t.agent.settings)])].sort();
        const differs = keys.filter((k) => s.agent!.settings[k] !== t.agent!.settings[k]);
        if (differs.length) out.push({ subject: `agent=${s.name}`, message: `SQL Server Agent settings of ${s.name} differ: ${differs.join(', ')}.`, evidence: { instance: s.name, kind: 'settings', differs, source: s.agent.settings, target: t.agent.settings } });
        if (ctx.snap.pair.method !== 'instance') {
          for (const kind of ['jobs', 'operators', 'alerts'] as const) {
            const have = new Set(t.agent[kind].map(lower));
            for (const name of s.agent[kind].filter((n) => !have.has(lower(n)))) {
              out.push({ subject: `${kind.slice(0, -1)}=${name}`, message: `The Agent ${kind.slice(0, -1)} ${name} of ${s.name} is missing on the target.`, evidence: { instance: s.name, kind: kind.slice(0, -1), name } });
            }
          }
        }
        return out;
      }),
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (_ctx, f) => {
        if (f.evidence.kind !== 'settings') return { guidance: `Create the missing ${String(f.evidence.kind)} **${String(f.evidence.name)}** on the target. Tandem attaches a script generated from the source to this finding; review it before you run it (jobs may name source-only paths or servers).` };
        const settings = f.evidence.source as Record<string, unknown>;
        return { plan: [appAction('set-agent', { instance: f.evidence.instance, settings }, `Set the SQL Server Agent settings of ${String(f.evidence.instance)} on the target to the source's`, JSON.stringify(f.evidence.target), JSON.stringify(settings))] };
      },
    },
    legacy: ['SQL-66'],
  },
  {
    id: 'sqlserver.language-differs',
    family: 'sqlserver',
    title: 'Language settings differ',
    detects: 'The default language differs, or a language that source logins use is not available on the target.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const out: FindingDraft[] = [];
        if (lower(s.languages.default) !== lower(t.languages.default)) {
          out.push({ subject: 'language=default', message: `The default language of ${s.name} is ${s.languages.default} on the source and ${t.languages.default} on the target.`, evidence: { instance: s.name, kind: 'default', source: s.languages.default, target: t.languages.default } });
        }
        const available = new Set(t.languages.available.map(lower));
        const used = [...new Set(s.logins.map((l) => l.defaultLanguage).filter((l): l is string => !!l))].sort();
        for (const lang of used.filter((l) => !available.has(lower(l)))) {
          out.push({ subject: `language=${lang}`, message: `Source logins of ${s.name} use ${lang}, which the target does not offer.`, evidence: { instance: s.name, kind: 'missing', language: lang, logins: s.logins.filter((l) => l.defaultLanguage === lang).map((l) => l.name) } });
        }
        return out;
      }),
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (_ctx, f) => {
        if (f.evidence.kind !== 'default') return { guidance: `The language ${String(f.evidence.language)} is not installed on the target. Install it (or give the logins a language the target has); Tandem does not install languages.` };
        const value = String(f.evidence.source);
        return { plan: [appAction('set-config', { instance: f.evidence.instance, option: 'default language', value }, `Set the default language of ${String(f.evidence.instance)} on the target to ${value}`, String(f.evidence.target), value)] };
      },
    },
    legacy: ['SQL-67', 'SQL-89'],
  },
  {
    id: 'sqlserver.linked-server-differs',
    family: 'sqlserver',
    title: 'Linked server differs',
    detects: 'A linked or remote server definition differs between source and target, or is missing on the target.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'warning',
    facts: [...BOTH, 'V'],
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const tm = byName(t.linkedServers);
        const norm = (l: SqlInstance['linkedServers'][number]) => stableJson({ ...l, name: lower(l.name), remoteLogins: [...l.remoteLogins].sort((a, b) => stableJson(a).localeCompare(stableJson(b))) });
        return s.linkedServers.flatMap((l) => {
          const other = tm.get(lower(l.name));
          if (other && norm(other) === norm(l)) return [];
          return [{ subject: `linked-server=${l.name}`, message: other ? `The linked server ${l.name} of ${s.name} is defined differently on the target.` : `The linked server ${l.name} of ${s.name} is missing on the target.`, evidence: { instance: s.name, name: l.name, source: l, target: other ?? null } }];
        });
      }),
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (ctx, f) => {
        const def = f.evidence.source as SqlInstance['linkedServers'][number];
        const needsSecret = def.remoteLogins.some((r) => r.remoteUser !== null);
        const cred = ctx.snap.vault.find((v) => v.purpose === 'app' && v.rights.some((r) => lower(r) === lower(`linked-server:${def.name}`)));
        if (needsSecret && !cred) return { guidance: `The linked server **${def.name}** maps logins to remote users whose passwords Tandem does not have. Store them in the vault (purpose app, right \`linked-server:${def.name}\`) or recreate the linked server on the target by hand.` };
        return {
          plan: [appAction('recreate-linked-server', { instance: f.evidence.instance, definition: def, credentialId: cred?.id ?? null }, `Recreate the linked server ${def.name} on the target as defined on the source`, f.evidence.target ? 'differs' : 'missing', def.dataSource ?? def.name)],
        };
      },
    },
    legacy: ['SQL-68', 'SQL-69', 'SQL-78', 'SQL-79'],
  },
  {
    id: 'sqlserver.backup-device-differs',
    family: 'sqlserver',
    title: 'Backup device differs',
    detects: 'Database and log-shipping methods: a backup device definition differs or is missing on the target. Every method: a file-backed device points to a path the target cannot reach.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'warning',
    facts: [...BOTH, 'T.paths'],
    evaluate: (ctx) => {
      const paths = ctx.snap.target!.paths!;
      return pairsOf(ctx).flatMap(({ s, t }) => {
        const out: FindingDraft[] = [];
        const tm = byName(t.backupDevices);
        for (const d of s.backupDevices) {
          const other = tm.get(lower(d.name));
          if (ctx.snap.pair.method !== 'instance' && (!other || other.type !== d.type || lower(other.path) !== lower(d.path))) {
            out.push({ subject: `device=${d.name}`, message: other ? `The backup device ${d.name} of ${s.name} points elsewhere on the target (${other.path}).` : `The backup device ${d.name} of ${s.name} is missing on the target.`, evidence: { instance: s.name, device: d.name, source: d, target: other ?? null } });
            continue;
          }
          if (d.type !== 'disk') continue;
          const path = mapPath(ctx.snap.pair, d.path);
          const dir = path.slice(0, Math.max(path.lastIndexOf('\\'), 0));
          const seen = paths.filter((p) => lower(p.path) === lower(path) || lower(p.path) === lower(dir));
          if (seen.length && !seen.some((p) => p.exists)) out.push({ subject: `device=${d.name}`, message: `The backup device ${d.name} points to ${path}, which the target cannot reach.`, evidence: { instance: s.name, device: d.name, path, reachable: false } });
        }
        return out;
      });
    },
    fix: { kind: 'manual', guidance: 'Define the backup device on the target with the source\'s name and type, or make its path reachable from the target (create the folder, or use a share both servers can write).' },
    legacy: ['SQL-53', 'SQL-54', 'SQL-55'],
  },
  {
    id: 'sqlserver.login-differs',
    family: 'sqlserver',
    title: 'Login missing or different on the target',
    detects: 'A source login is missing on the target, or differs in SID, password hash, default database or language, server permissions or disabled state.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const tm = byName(t.logins);
        return s.logins
          .filter((l) => !skipLogin(l.name))
          .flatMap((l) => {
            const differs = loginDiff(l, tm.get(lower(l.name)));
            if (!differs.length) return [];
            // Hash digests stay out of the evidence: only the fact that they differ.
            return [{ subject: `login=${l.name}`, message: differs[0] === 'missing' ? `The login ${l.name} of ${s.name} is missing on the target.` : `The login ${l.name} of ${s.name} differs on the target: ${differs.join(', ')}.`, evidence: { instance: s.name, login: l.name, sid: l.sid, differs } }];
          });
      }),
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const login = String(f.evidence.login);
        const differs = f.evidence.differs as string[];
        return [appAction('copy-login', { instance: f.evidence.instance, login, sid: f.evidence.sid }, `Copy the login ${login} to the target (same SID, password hash, defaults, permissions and state)`, differs[0] === 'missing' ? 'missing' : `differs: ${differs.join(', ')}`, 'as on the source')];
      },
    },
    legacy: ['SQL-70', 'SQL-71', 'SQL-72'],
  },
  {
    id: 'sqlserver.server-role-differs',
    family: 'sqlserver',
    title: 'Server role missing or incomplete on the target',
    detects: 'A user-defined server role is missing on the target, or one of its members is.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const tm = byName(t.serverRoles);
        return s.serverRoles
          .filter((r) => !r.fixed)
          .flatMap((r): FindingDraft[] => {
            const other = tm.get(lower(r.name));
            if (!other) return [{ subject: `role=${r.name}`, message: `The server role ${r.name} of ${s.name} is missing on the target.`, evidence: { instance: s.name, role: r.name, kind: 'role', members: r.members } }];
            const have = new Set(other.members.map(lower));
            return r.members.filter((m) => !have.has(lower(m))).map((m) => ({ subject: `member=${r.name}/${m}`, message: `${m} is a member of the server role ${r.name} on the source but not on the target.`, evidence: { instance: s.name, role: r.name, kind: 'member', member: m } }));
          });
      }),
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (_ctx, f) => {
        if (f.evidence.kind !== 'role') return { guidance: `Add **${String(f.evidence.member)}** to the role ${String(f.evidence.role)} on the target if that login should exist there. Tandem does not add members, because a login may be absent from the target on purpose.` };
        const role = String(f.evidence.role);
        return { plan: [appAction('create-server-role', { instance: f.evidence.instance, role }, `Create the server role ${role} on the target (permissions as on the source)`, 'missing', role)] };
      },
    },
    legacy: ['SQL-81', 'SQL-82', 'SQL-83'],
  },
  {
    id: 'sqlserver.database-principal-differs',
    family: 'sqlserver',
    title: 'Database users without a login on the target',
    detects: 'Users or role memberships inside a protected database will not resolve after attach, because the target has no login with a matching SID.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const targetSids = new Set(t.logins.map((l) => lower(l.sid)));
        const sourceBySid = new Map(s.logins.map((l) => [lower(l.sid), l]));
        return s.databases
          .filter((d) => isSelected(ctx.snap.pair, s.name, d.name))
          .flatMap((d) =>
            d.principals
              .filter((p) => p.sid && !targetSids.has(lower(p.sid)) && sourceBySid.has(lower(p.sid)))
              .map((p) => {
                const login = sourceBySid.get(lower(p.sid!))!.name;
                return { subject: `user=${d.name}/${p.name}`, message: `The user ${p.name} in ${d.name} maps to the login ${login}, which has no match by SID on the target.`, evidence: { instance: s.name, database: d.name, user: p.name, sid: p.sid, login } };
              }),
          );
      }),
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const login = String(f.evidence.login);
        return [appAction('copy-login', { instance: f.evidence.instance, login, sid: f.evidence.sid }, `Copy the login ${login} to the target with its SID, so ${String(f.evidence.user)} in ${String(f.evidence.database)} resolves`, 'no login with this SID', login)];
      },
    },
    legacy: ['SQL-86', 'SQL-87', 'SQL-88'],
  },
  {
    id: 'sqlserver.registry-value-differs',
    family: 'sqlserver',
    title: 'Instance registry value differs',
    detects: 'An instance registry value differs between source and target: network protocols (TCP/IP, named pipes), default data, log and backup directories, audit level and others.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const { sm, tm } = registryMaps(ctx, s, t);
        return [...sm.entries()].flatMap(([k, v]) => {
          const other = tm.get(k);
          if (!other || sameValue(other.value, v.value)) return [];
          return [{ subject: `registry=${v.key}`, message: `${v.key} of ${s.name} is ${String(v.value)} on the source (mapped) and ${String(other.value)} on the target.`, evidence: { instance: s.name, key: v.raw.key, name: v.raw.name, source: v.value, target: other.value } }];
        });
      }),
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (_ctx, f) => {
        const key = typeof f.evidence.key === 'string' ? f.evidence.key : '';
        const full = lower(key ? `${key}\\${String(f.evidence.name)}` : String(f.evidence.name));
        if (!registryAllowList.includes(full)) return { guidance: 'Tandem changes only allow-listed registry values (network protocols, default directories, audit level). Review this one and set it on the target by hand if it matters for failover.' };
        const value = f.evidence.source;
        return { plan: [appAction('set-registry', { instance: f.evidence.instance, key: f.evidence.key, name: f.evidence.name, value }, `Set ${String(f.evidence.name)} of ${String(f.evidence.instance)} on the target to ${String(value)}`, String(f.evidence.target), String(value))] };
      },
    },
    legacy: ['SQL-73', 'SQL-76', 'SQL Express protocols'],
  },
  {
    id: 'sqlserver.registry-value-missing',
    family: 'sqlserver',
    title: 'Instance registry value on one side only',
    detects: 'An instance registry value exists on one side only. Usually a version difference; not shown when the target is newer in the database method.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        if (targetNewer(ctx, s, t)) return [];
        const { sm, tm } = registryMaps(ctx, s, t);
        const only = (a: typeof sm, b: typeof tm, on: 'source' | 'target') =>
          [...a.entries()].filter(([k]) => !b.has(k)).map(([, v]) => ({ subject: `registry=${v.key}`, message: `${v.key} of ${s.name} exists only on the ${on}.`, evidence: { instance: s.name, key: v.key, on, value: v.value } }));
        return [...only(sm, tm, 'source'), ...only(tm, sm, 'target')];
      }),
    fix: { kind: 'manual', guidance: 'Review the value: it usually exists on one side because the versions or installed features differ. Set it by hand if the target needs it.' },
    legacy: ['SQL-74', 'SQL-75'],
  },
  {
    id: 'sqlserver.startup-parameters-differ',
    family: 'sqlserver',
    title: 'Startup parameters differ',
    detects: 'The startup parameters differ: master data and log paths and the error-log path (after path mapping), and trace flags.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    severity: 'error',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const want = mappedStartup(ctx, s.startupParams);
        const norm = (l: string[]) => stableJson(l.map(lower).sort());
        if (norm(want) === norm(t.startupParams)) return [];
        return [{ subject: instSubject(s.name), message: `Startup parameters of ${s.name} on the target (${t.startupParams.join(' ')}) differ from the source's mapped ones (${want.join(' ')}).`, evidence: { instance: s.name, source: want, target: t.startupParams } }];
      }),
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (_ctx, f) => {
        const params = f.evidence.source as string[];
        return [appAction('set-startup-params', { instance: f.evidence.instance, params }, `Set the startup parameters of ${String(f.evidence.instance)} on the target`, (f.evidence.target as string[]).join(' '), params.join(' '))];
      },
    },
    legacy: ['SQL-77'],
  },
  {
    id: 'sqlserver.replication-config-differs',
    family: 'sqlserver',
    title: 'SQL Server replication setup differs',
    detects: 'SQL Server replication (publisher, distributor, subscriber, publications) differs; the database method does not carry it.',
    scope: ['pair'],
    appliesTo: ['sqlserver'],
    methods: DB_METHODS,
    severity: 'warning',
    facts: BOTH,
    evaluate: (ctx) =>
      pairsOf(ctx).flatMap(({ s, t }) => {
        const a = replicationOf(s);
        const b = replicationOf(t);
        const norm = (r: typeof a) => stableJson({ ...r, publications: r.publications.map(lower).sort() });
        if (norm(a) === norm(b)) return [];
        return [{ subject: instSubject(s.name), message: `SQL Server replication of ${s.name} is set up differently on the target.`, evidence: { instance: s.name, source: a, target: b } }];
      }),
    fix: { kind: 'manual', guidance: 'Reconfigure SQL Server replication on the target after failover. Tandem exports the source\'s replication scripts into the runbook notes; creating publications or distributors on a passive target is unsafe.' },
    legacy: ['SQL-80'],
  },
];
