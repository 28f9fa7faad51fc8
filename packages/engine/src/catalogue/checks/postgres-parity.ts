import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { PostgresFacts } from '../node-facts.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import type { FixAction } from '../actions.ts';
import { closeEnough, compareVersion, mapToTarget, scaleToTarget, sideNode, targetPath, under } from '../apps/common.ts';
import { comparable, formatBytes, instanceOf, listOf, logicalFacts, numericValue, pg, settingsOf, shown, writable } from '../apps/postgres.ts';

// The `postgres` family, second half (catalogue §3.2): settings parity (standby minimums and the
// parity set), files the settings name, extensions, HA managers, and the logical method's gaps.
//
// Parity compares effective pg_settings values with units normalised (bytes, ms), and a fix writes
// absolute values with explicit units, so the target reads back exactly what the check wants and
// the re-validation is good. Memory is sized for the target's RAM instead of copied.

const base: Pick<CheckDef, 'family' | 'appliesTo'> = { family: 'postgres', appliesTo: ['postgres'] };

/** Settings a standby must hold at least as high as its primary (it refuses to replay otherwise). */
export const standbyMinimums = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];
/** Settings copied from the source as they are. */
export const parityCopied = [
  'port',
  'timezone',
  'lc_messages',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'password_encryption',
  'ssl',
  'shared_preload_libraries',
  'archive_mode',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
  'idle_session_timeout',
];
/** Memory settings, scaled to the target's RAM. */
export const parityMemory = ['shared_buffers', 'effective_cache_size', 'maintenance_work_mem', 'work_mem'];

const wildcard = (items: string[]) => items.some((i) => i === '*' || i === '0.0.0.0' || i === '::');
const loopback = (i: string) => i === 'localhost' || i.startsWith('127.') || i === '::1';

/**
 * listen_addresses wanted on the target, or null when it already serves clients after failover:
 * identity failover brings the source's addresses over later, so only a wildcard catches them;
 * DNS failover sends clients to the target's own mapped addresses.
 */
function listenWanted(snap: FactsSnapshot, source: string, target: string): string | null {
  const s = listOf(source);
  const t = listOf(target);
  if (wildcard(t)) return null;
  const pair = snap.pair;
  if (pair.failover.mode === 'identity') return '*';
  if (pair.failover.mode === 'dns') {
    const required = pair.ipMap.map((m) => m.target).filter((a): a is string => !!a);
    if (required.length > 0) {
      if (required.every((a) => t.includes(a))) return null;
      return wildcard(s) ? '*' : [...new Set([...t, ...required])].join(',');
    }
  }
  return s.some((i) => !loopback(i)) && !t.some((i) => !loopback(i)) ? '*' : null;
}

function drift(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const t = pg(ctx.snap, 'target');
  const ss = settingsOf(s);
  const ts = settingsOf(t);
  const out: FindingDraft[] = [];
  const finding = (name: string, wanted: string, why: string) =>
    out.push({ subject: `setting=${name}`, message: `${name} is ${shown(ts.get(name))} on the target and ${shown(ss.get(name))} on the source; ${why}`, evidence: { setting: name, source: shown(ss.get(name)), target: shown(ts.get(name)), wanted } });
  // The file method carries the configuration kept inside the data directory itself.
  const carried = (name: string) => ctx.snap.pair.method === 'file' && !!ss.get(name)?.sourcefile && under(ss.get(name)!.sourcefile!, s.dataDir);
  for (const name of parityCopied) {
    const a = ss.get(name);
    const b = ts.get(name);
    if (!a || !b || carried(name)) continue;
    if (name === 'port') {
      const wanted = ctx.snap.pair.database?.targetPort ?? Number(a.setting);
      if (Number(b.setting) !== wanted) finding(name, String(wanted), `clients will look for the service on ${wanted}.`);
    } else if (comparable(a) !== comparable(b)) finding(name, writable(a), 'the target should behave as the source after failover.');
  }
  const listenS = ss.get('listen_addresses');
  const listenT = ts.get('listen_addresses');
  if (listenS && listenT) {
    const wanted = listenWanted(ctx.snap, listenS.setting, listenT.setting);
    if (wanted !== null) finding('listen_addresses', wanted, 'after failover clients must reach it on the service address.');
  }
  const sRam = sideNode(ctx.snap, 'source').hw!.memoryBytes;
  const tRam = sideNode(ctx.snap, 'target').hw!.memoryBytes;
  for (const name of parityMemory) {
    const a = ss.get(name) && numericValue(ss.get(name)!);
    const b = ts.get(name) && numericValue(ts.get(name)!);
    if (!a || !b || a.kind !== 'bytes' || b.kind !== 'bytes' || a.value < 0 || carried(name)) continue;
    const wanted = scaleToTarget(a.value, sRam, tRam);
    if (!closeEnough(b.value, wanted)) finding(name, formatBytes(wanted), `sized for the target's ${Math.round(tRam / 2 ** 30)} GiB of RAM it should be ${formatBytes(wanted)}.`);
  }
  return out;
}

/** One `postgres.set-target-settings` (the agent's `postgresql.set-settings`) for one finding. */
function setTargetSetting(ctx: CheckContext, f: FindingDraft): FixAction[] {
  const t = pg(ctx.snap, 'target');
  const e = f.evidence as { setting: string; target: string; wanted: string };
  const inst = instanceOf(ctx.snap, 'target', t);
  return [
    {
      action: 'app',
      node: 'target',
      app: 'postgres',
      op: 'set-target-settings',
      params: { port: inst.port, dataDir: inst.dataDir, settings: { [e.setting]: e.wanted }, allowRestart: true },
      description: `Set ${e.setting} = '${e.wanted}' on the target (ALTER SYSTEM; the standby restarts if the setting needs it)`,
      before: e.target,
      after: e.wanted,
    },
  ];
}

const settingFiles = ['hba_file', 'ident_file', 'config_file'];
const sslFiles = ['ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'ssl_crl_file', 'ssl_crl_dir'];

/** Files the source's settings name, resolved against its data directory, with where they should be on the target. */
export function postgresReferencedFiles(snap: FactsSnapshot, s: PostgresFacts): { setting: string; source: string; target: string }[] {
  const set = settingsOf(s);
  const names = [...settingFiles, ...(set.get('ssl')?.setting === 'on' ? sslFiles : [])];
  const found: { setting: string; source: string }[] = [];
  const abs = (v: string) => (v.startsWith('/') || /^[A-Za-z]:[\\/]/.test(v) ? v : `${s.dataDir.replace(/\/+$/, '')}/${v}`);
  for (const n of names) {
    const v = set.get(n)?.setting.trim();
    if (v) found.push({ setting: n, source: abs(v) });
  }
  for (const x of s.settings) if (x.sourcefile && !found.some((f) => f.source === x.sourcefile)) found.push({ setting: `include (${x.name})`, source: x.sourcefile });
  for (const n of ['archive_command', 'restore_command']) {
    const first = set.get(n)?.setting.trim().split(/\s+/)[0];
    if (first && first.startsWith('/') && !first.includes('%')) found.push({ setting: n, source: first });
  }
  // Physical methods copy the data directory, so files inside it travel with it.
  const physical = snap.pair.method !== 'logical';
  const extra = snap.pair.database ? [{ from: s.dataDir, to: snap.pair.database.targetDataDir }] : [];
  const seen = new Set<string>();
  return found
    .filter((f) => !(physical && under(f.source, s.dataDir)))
    .filter((f) => (seen.has(f.source) ? false : (seen.add(f.source), true)))
    .map((f) => ({ ...f, target: mapToTarget(snap, f.source, extra) }));
}

/** Libraries that ship with the server and have no control file. */
const builtinLibraries = new Set(['auto_explain', 'auth_delay', 'passwordcheck', 'basic_archive', 'sepgsql']);

function extensions(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const t = pg(ctx.snap, 'target');
  const avail = new Map(t.availableExtensions.map((x) => [x.name, x.defaultVersion]));
  const byName = new Map<string, { databases: string[]; version: string }>();
  for (const x of s.extensions) {
    const cur = byName.get(x.name);
    if (!cur) byName.set(x.name, { databases: [x.database], version: x.version });
    else {
      cur.databases.push(x.database);
      if (compareVersion(x.version, cur.version) > 0) cur.version = x.version;
    }
  }
  const out: FindingDraft[] = [];
  for (const [name, x] of byName) {
    const have = avail.get(name);
    if (have === undefined) out.push({ subject: `extension=${name}`, message: `Extension ${name} ${x.version} (databases ${x.databases.join(', ')}) is not available on the target.`, evidence: { extension: name, version: x.version, databases: x.databases, target: null } });
    else if (have !== null && compareVersion(have, x.version) < 0) out.push({ subject: `extension=${name}`, message: `Extension ${name} is ${x.version} on the source but only ${have} is available on the target.`, evidence: { extension: name, version: x.version, databases: x.databases, target: have } });
  }
  const tLibs = new Set(listOf(settingsOf(t).get('shared_preload_libraries')?.setting ?? ''));
  for (const lib of listOf(settingsOf(s).get('shared_preload_libraries')?.setting ?? '').map((l) => l.replace(/^\$libdir\//, ''))) {
    if (avail.has(lib) || tLibs.has(lib) || builtinLibraries.has(lib)) continue;
    out.push({ subject: `library=${lib}`, message: `The source preloads ${lib} (shared_preload_libraries), which the target does not have.`, evidence: { library: lib } });
  }
  return out;
}

const managerServices: [RegExp, string][] = [
  [/^patroni/i, 'patroni'],
  [/^repmgr/i, 'repmgr'],
  [/^pg_autoctl|^pgautofailover/i, 'pg_auto_failover'],
];

function logicalGaps(ctx: CheckContext): FindingDraft[] {
  const s = pg(ctx.snap, 'source');
  const t = pg(ctx.snap, 'target');
  const sl = logicalFacts(ctx.snap, 'source');
  const tl = logicalFacts(ctx.snap, 'target');
  const tRoles = new Set(t.roles.map((r) => r.name));
  const out: FindingDraft[] = s.roles
    .filter((r) => !r.name.startsWith('pg_') && !tRoles.has(r.name))
    .map((r) => ({ subject: `role=${r.name}`, message: `Role ${r.name} exists on the source but not on the target; logical replication does not carry roles.`, evidence: { role: r.name } }));
  if (sl.sequences.length > 0 && !sl.sequenceSyncStep) out.push({ subject: 'sequences=sync', message: `${sl.sequences.length} sequences are not synchronised by logical replication and the failover runbook has no step to do it.`, evidence: { sequences: sl.sequences.length } });
  for (const table of sl.tablesWithoutIdentity) out.push({ subject: `table=${table}`, message: `Table ${table} has no primary key or replica identity: updates and deletes on it would stop replication.`, evidence: { table } });
  for (const [db, digest] of Object.entries(sl.schemaDigests)) {
    if (tl.schemaDigests[db] !== undefined && tl.schemaDigests[db] !== digest) out.push({ subject: `schema=${db}`, message: `The schema of database ${db} differs between publisher and subscriber.`, evidence: { database: db, source: digest, target: tl.schemaDigests[db] } });
  }
  return out;
}

export const postgresParityChecks: CheckDef[] = [
  {
    ...base,
    id: 'postgres.standby-settings-lower',
    title: 'Standby settings lower than the primary’s',
    detects: 'Settings a standby must hold at least as high as its primary are lower on the target: max_connections, max_worker_processes, max_wal_senders, max_prepared_transactions, max_locks_per_transaction. Recovery pauses or the standby refuses to start.',
    scope: ['target'],
    methods: ['streaming'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres', 'P'],
    evaluate: (ctx) => {
      const ss = settingsOf(pg(ctx.snap, 'source'));
      const ts = settingsOf(pg(ctx.snap, 'target'));
      return standbyMinimums.flatMap((name) => {
        const a = ss.get(name);
        const b = ts.get(name);
        if (!a || !b || !(Number(b.setting) < Number(a.setting))) return [];
        return [{ subject: `setting=${name}`, message: `${name} is ${b.setting} on the standby but ${a.setting} on the source; a standby needs at least the primary's value.`, evidence: { setting: name, source: a.setting, target: b.setting, wanted: a.setting } }];
      });
    },
    fix: { kind: 'auto', phase: 7, blockedWhileProtected: true, plan: setTargetSetting },
  },
  {
    ...base,
    id: 'postgres.settings-drift',
    title: 'PostgreSQL settings differ from the source',
    detects: 'Settings of the parity set differ where the method does not carry them: port, listen_addresses (must serve the service address), timezone, lc_* defaults, password_encryption, ssl, shared_preload_libraries, archive_mode, statement and idle timeouts. Memory settings are compared with what the target’s RAM calls for, not copied.',
    scope: ['pair'],
    methods: ['file', 'streaming', 'logical'],
    severity: 'warning',
    facts: ['S.app.postgres', 'T.app.postgres', 'S.hw', 'T.hw', 'P'],
    evaluate: drift,
    fix: { kind: 'auto', phase: 7, blockedWhileProtected: true, plan: setTargetSetting },
  },
  {
    ...base,
    id: 'postgres.referenced-files-missing',
    title: 'Files named by PostgreSQL settings missing on the target',
    detects: 'Files the settings name are missing on the target: SSL certificate, key, CA and CRL files; hba and ident files outside the data directory; included configuration files; scripts called by archive_command or restore_command.',
    scope: ['target'],
    methods: ['file', 'streaming', 'logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres', 'T.paths', 'P'],
    evaluate: (ctx) => {
      const t = sideNode(ctx.snap, 'target');
      const tf = pg(ctx.snap, 'target');
      // A running target that reads the same file itself (same setting value, or an include it
      // loaded) proves it is there; anything else is looked up in the target's path facts.
      const inUse = new Set(tf.running ? tf.settings.flatMap((x) => [x.setting.trim(), x.sourcefile ?? '']).filter((v) => v.startsWith('/')) : []);
      return postgresReferencedFiles(ctx.snap, pg(ctx.snap, 'source'))
        .filter((f) => !inUse.has(f.target) && !targetPath(t, f.target).exists)
        .map((f) => ({ subject: `file=${f.target}`, message: `${f.target} (named by ${f.setting} on the source) is missing on the target ${t.hostname}.`, evidence: { setting: f.setting, sourcePath: f.source, targetPath: f.target } }));
    },
    fix: { kind: 'manual', guidance: 'Deploy the named files on the target at the same paths (or change the setting to where they are). Certificates and private keys are secrets: Tandem does not copy them.' },
  },
  {
    ...base,
    id: 'postgres.extension-unavailable-on-target',
    title: 'Extension or preloaded library missing on the target',
    detects: 'An extension installed in a source database, or a library in shared_preload_libraries, has no control file or library on the target, or only an older version.',
    scope: ['target'],
    methods: ['file', 'streaming', 'logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres'],
    evaluate: extensions,
    fix: { kind: 'manual', guidance: 'Install the package providing the extension or library on the target, at the source’s version or newer, then validate again. Tandem does not install packages.' },
  },
  {
    ...base,
    id: 'postgres.ha-manager-present',
    title: 'Source run by an HA manager',
    detects: 'The source is controlled by an HA manager (Patroni, repmgr, pg_auto_failover, Pacemaker); two controllers would compete over promotion.',
    scope: ['source'],
    methods: ['file', 'streaming', 'logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'S.svc'],
    evaluate: (ctx) => {
      const found = new Map<string, string>();
      const by = pg(ctx.snap, 'source').managedBy;
      if (by) found.set(by.toLowerCase(), 'instance facts');
      for (const svc of ctx.node!.services!) {
        if (svc.state !== 'running') continue;
        const hit = managerServices.find(([re]) => re.test(svc.name));
        if (hit && !found.has(hit[1])) found.set(hit[1], `service ${svc.name}`);
      }
      return [...found].map(([manager, seen]) => ({ subject: `manager=${manager}`, message: `The source's PostgreSQL is managed by ${manager} (${seen}).`, evidence: { manager, seen } }));
    },
    fix: { kind: 'manual', guidance: 'Protect the cluster through its own manager (for example a Patroni standby cluster on the target), or exclude this instance from Tandem.' },
  },
  {
    ...base,
    id: 'postgres.logical-method-gaps',
    title: 'Logical replication leaves gaps',
    detects: 'Something logical replication does not carry is missing or unsafe: roles and other global objects absent on the target, sequences not synchronised, tables without a primary key or replica identity, or schemas that differ between publisher and subscriber.',
    scope: ['pair'],
    methods: ['logical'],
    severity: 'error',
    facts: ['S.app.postgres', 'T.app.postgres', 'P'],
    evaluate: logicalGaps,
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (ctx, f) => {
        if (f.subject.startsWith('role=')) {
          const role = f.subject.slice(5);
          const inst = instanceOf(ctx.snap, 'target', pg(ctx.snap, 'target'));
          return { plan: [{ action: 'app', node: 'target', app: 'postgres', op: 'copy-globals', params: { ...inst, roles: [role] }, description: `Create role ${role} on the target as it is on the source`, before: 'missing', after: role }] };
        }
        if (f.subject === 'sequences=sync') return { plan: [{ action: 'pair.set', key: 'runbook.sequenceSync', value: true, description: 'Add a sequence synchronisation step to the failover runbook', before: 'off', after: 'on' }] };
        if (f.subject.startsWith('table=')) return { guidance: `Give ${f.subject.slice(6)} a primary key, or set REPLICA IDENTITY (USING INDEX or FULL), on the source.` };
        return { guidance: 'Apply the same schema changes to the subscriber as to the publisher (logical replication does not carry DDL), then validate again.' };
      },
    },
  },
];
