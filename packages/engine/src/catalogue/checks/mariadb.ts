import type { CheckContext, CheckDef, FindingDraft } from '../model.ts';
import type { FixAction } from '../actions.ts';
import { closeEnough, compareVersion, mapToTarget, missingMount, scaleToTarget, sideNode, targetPath } from '../apps/common.ts';
import { mariadb, on, seriesOf, systemAccount, type MariadbFacts } from '../apps/mariadb.ts';

// The `mariadb` family (catalogue §3.3): MariaDB, MySQL and Percona Server, by file copy or as an
// asynchronous binlog replica. Parity fixes persist absolute values on the target (option-file
// drop-in or SET PERSIST), so the re-validation reads back exactly what the check wants.

const base: Pick<CheckDef, 'family' | 'appliesTo'> = { family: 'mariadb', appliesTo: ['mariadb'] };

/** The account Tandem creates on the source for the replica. */
export const mariadbReplicationUser = 'tandem_replication';

/** Variables of the parity set copied as they are (the buffer pool is sized for the target instead). */
export const mariadbParity = ['sql_mode', 'character_set_server', 'collation_server', 'time_zone', 'max_allowed_packet', 'max_connections', 'event_scheduler', 'explicit_defaults_for_timestamp', 'default_authentication_plugin'];

const normalised = (name: string, v: string) =>
  name === 'sql_mode'
    ? v
        .split(',')
        .map((x) => x.trim().toUpperCase())
        .filter(Boolean)
        .sort()
        .join(',')
    : /^(on|1|true)$/i.test(v)
      ? 'ON'
      : /^(off|0|false)$/i.test(v)
        ? 'OFF'
        : v.trim();

/** Whether a MySQL account host (`10.0.0.20`, `10.0.0.%`, `10.0.0.0/255.255.255.0`) admits an address, without admitting everyone. */
export function hostRestrictedTo(host: string, addr: string): boolean {
  if (host === '%' || host === '' || host === '%.%.%.%') return false;
  if (host.includes('/')) {
    const [net, mask] = host.split('/');
    const v4 = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(addr) || !/^\d+\.\d+\.\d+\.\d+$/.test(mask ?? '')) return false;
    return ((v4(addr) & v4(mask!)) >>> 0) === ((v4(net!) & v4(mask!)) >>> 0);
  }
  const re = new RegExp(`^${host.replace(/[.+^${}()|[\]\\*?]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, 'i');
  return re.test(addr);
}

function inst(ctx: CheckContext, side: 'source' | 'target') {
  return { port: mariadb(ctx.snap, side).port };
}

function persist(ctx: CheckContext, name: string, value: string, before: string): FixAction {
  return {
    action: 'app',
    node: 'target',
    app: 'mariadb',
    op: 'persist-settings',
    params: { ...inst(ctx, 'target'), settings: { [name]: value } },
    description: `Persist ${name} = ${value} on the target (SET PERSIST or an option-file drop-in; a restart if the variable is not dynamic)`,
    before,
    after: value,
  };
}

function drift(ctx: CheckContext): FindingDraft[] {
  const s = mariadb(ctx.snap, 'source').variables;
  const t = mariadb(ctx.snap, 'target').variables;
  const out: FindingDraft[] = [];
  for (const name of mariadbParity) {
    const a = s[name];
    const b = t[name];
    if (a === undefined || b === undefined || normalised(name, a) === normalised(name, b)) continue;
    out.push({ subject: `variable=${name}`, message: `${name} is ${b || "''"} on the target and ${a || "''"} on the source.`, evidence: { variable: name, source: a, target: b, wanted: a } });
  }
  const pool = 'innodb_buffer_pool_size';
  if (s[pool] !== undefined && t[pool] !== undefined) {
    const wanted = scaleToTarget(Number(s[pool]), sideNode(ctx.snap, 'source').hw!.memoryBytes, sideNode(ctx.snap, 'target').hw!.memoryBytes);
    if (!closeEnough(Number(t[pool]), wanted)) out.push({ subject: `variable=${pool}`, message: `${pool} on the target is ${t[pool]} bytes; sized for its RAM like the source's it should be ${wanted}.`, evidence: { variable: pool, source: s[pool], target: t[pool], wanted: String(wanted) } });
  }
  return out;
}

function dataPaths(ctx: CheckContext): FindingDraft[] {
  const s = mariadb(ctx.snap, 'source');
  const t = mariadb(ctx.snap, 'target');
  const node = sideNode(ctx.snap, 'target');
  const owner = s.osUser?.name ?? 'mysql';
  const out: FindingDraft[] = [];
  const seen = new Set<string>();
  for (const p of s.paths) {
    const dst = mapToTarget(ctx.snap, p.path);
    if (seen.has(dst)) continue;
    seen.add(dst);
    const fact = targetPath(node, dst);
    if (!fact.exists) out.push({ subject: `path=${dst}`, message: `The ${p.role} directory ${dst} is missing on the target ${node.hostname}.`, evidence: { role: p.role, sourcePath: p.path, targetPath: dst, problem: 'missing', owner } });
    else if (fact.owner !== owner || (fact.mode !== null && (fact.mode & 0o027) !== 0)) {
      out.push({ subject: `path=${dst}`, message: `The ${p.role} directory ${dst} on the target is owned by ${fact.owner ?? '?'} with mode ${fact.mode?.toString(8) ?? '?'}; it should be ${owner}, at most 0750.`, evidence: { role: p.role, sourcePath: p.path, targetPath: dst, problem: 'owner', owner, current: `${fact.owner ?? '?'} ${fact.mode?.toString(8).padStart(4, '0') ?? '?'}` } });
    }
  }
  if (s.osUser && t.osUser && (s.osUser.uid !== t.osUser.uid || s.osUser.gid !== t.osUser.gid)) {
    out.push({ subject: `user=${s.osUser.name}`, message: `The MySQL OS user has uid/gid ${s.osUser.uid}/${s.osUser.gid} on the source but ${t.osUser.uid}/${t.osUser.gid} on the target; copied files would belong to the wrong account.`, evidence: { source: s.osUser, target: t.osUser } });
  }
  return out;
}

const dbUnit = (ctx: CheckContext) => ctx.node!.services!.find((x) => /^(mariadb|mysql|mysqld)(@.*)?(\.service)?$/i.test(x.name) && x.state !== 'not-found') ?? null;

const replicaPriv = (privs: string[]) => privs.some((p) => /^(REPLICATION (SLAVE|REPLICA)|ALL( PRIVILEGES)?)$/i.test(p.trim()));
const managerServices = /^(orchestrator|masterha_manager|mha|garbd|mysqlrouter)/i;

export const mariadbChecks: CheckDef[] = [
  {
    ...base,
    id: 'mariadb.version-incompatible',
    title: 'MariaDB/MySQL versions incompatible',
    detects: 'The flavours differ (MariaDB, MySQL, Percona Server), or with the file method the release series differ, or with replication the target is older than the source.',
    scope: ['pair'],
    severity: 'error',
    facts: ['S.app.mariadb', 'T.app.mariadb', 'P'],
    evaluate: (ctx) => {
      const s = mariadb(ctx.snap, 'source');
      const t = mariadb(ctx.snap, 'target');
      const ev = { source: `${s.flavour} ${s.version}`, target: `${t.flavour} ${t.version}`, method: ctx.snap.pair.method };
      if (s.flavour !== t.flavour) return [{ subject: 'version=flavour', message: `The source runs ${s.flavour} and the target ${t.flavour}.`, evidence: ev }];
      if (ctx.snap.pair.method === 'file' && seriesOf(s.version) !== seriesOf(t.version)) return [{ subject: 'version=series', message: `A file copy needs the same release series: the source runs ${s.version}, the target ${t.version}.`, evidence: ev }];
      if (ctx.snap.pair.method === 'replication' && compareVersion(t.version, s.version) < 0) return [{ subject: 'version=older-target', message: `The replica (${t.version}) is older than the source (${s.version}).`, evidence: ev }];
      return [];
    },
    fix: { kind: 'manual', guidance: 'Install the source’s server on the target: the same flavour and release series for the file method, the same flavour at the same or a newer version for replication. Tandem does not install packages.' },
  },
  {
    ...base,
    id: 'mariadb.server-id-conflict',
    title: 'Replica server_id or server_uuid not unique',
    detects: 'The target’s server_id equals the source’s, or the target carries the source’s server_uuid (a cloned data directory): replication ignores or loops events.',
    scope: ['target'],
    methods: ['replication'],
    severity: 'error',
    facts: ['S.app.mariadb', 'T.app.mariadb', 'R.connections'],
    evaluate: (ctx) => {
      const s = mariadb(ctx.snap, 'source').variables;
      const t = mariadb(ctx.snap, 'target').variables;
      const out: FindingDraft[] = [];
      if (s.server_id !== undefined && s.server_id === t.server_id) out.push({ subject: 'variable=server_id', message: `The target uses server_id ${t.server_id}, the same as the source.`, evidence: { source: s.server_id, target: t.server_id } });
      if (s.server_uuid && s.server_uuid === t.server_uuid) out.push({ subject: 'variable=server_uuid', message: `The target carries the source's server_uuid ${t.server_uuid} (its data directory was cloned with auto.cnf).`, evidence: { source: s.server_uuid, target: t.server_uuid } });
      return out;
    },
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const s = mariadb(ctx.snap, 'source');
        const t = mariadb(ctx.snap, 'target');
        if (f.subject === 'variable=server_uuid') {
          return [{ action: 'app', node: 'target', app: 'mariadb', op: 'regenerate-uuid', params: { ...inst(ctx, 'target') }, description: 'Remove the copied auto.cnf on the target and restart it, so it generates its own server_uuid', before: t.variables.server_uuid ?? null, after: 'a new server_uuid' }];
        }
        // The source's id plus one (wrapping within 1..2^32-1): absolute, and different from the source.
        const next = String((Number(s.variables.server_id ?? '1') % 4_294_967_294) + 1);
        return [{ action: 'app', node: 'target', app: 'mariadb', op: 'set-server-id', params: { ...inst(ctx, 'target'), serverId: Number(next) }, description: `Persist server_id = ${next} on the target and restart the replica`, before: t.variables.server_id ?? null, after: next }];
      },
    },
  },
  {
    ...base,
    id: 'mariadb.binlog-not-ready',
    title: 'Source binary log not ready for replication',
    detects: 'Binary logging is off on the source, binlog_format is not ROW, or the source is itself a replica that does not log the updates it applies.',
    scope: ['source'],
    methods: ['replication'],
    severity: 'error',
    facts: ['S.app.mariadb'],
    evaluate: (ctx) => {
      const s = mariadb(ctx.snap, 'source');
      const v = s.variables;
      const out: FindingDraft[] = [];
      if (!on(v.log_bin)) out.push({ subject: 'variable=log_bin', message: 'Binary logging is off on the source.', evidence: { log_bin: v.log_bin ?? null } });
      if ((v.binlog_format ?? '').toUpperCase() !== 'ROW') out.push({ subject: 'variable=binlog_format', message: `binlog_format on the source is ${v.binlog_format ?? 'unknown'}; ROW is needed.`, evidence: { binlog_format: v.binlog_format ?? null } });
      const logsReplica = v.log_replica_updates ?? v.log_slave_updates;
      if (s.replicaStatus && !on(logsReplica)) out.push({ subject: 'variable=log_replica_updates', message: 'The source is itself a replica and does not write the updates it applies to its binary log.', evidence: { log_replica_updates: logsReplica ?? null } });
      return out;
    },
    fix: { kind: 'manual', guidance: 'Set log_bin, binlog_format = ROW and (for a source that is itself a replica) log_replica_updates in the source’s option file, and restart it in a maintenance window. Tandem never restarts a production source.' },
  },
  {
    ...base,
    id: 'mariadb.gtid-not-enabled',
    title: 'GTID positioning not used',
    detects: 'Replication does not use GTIDs (MySQL gtid_mode or enforce_gtid_consistency off; a MariaDB replica not positioned by GTID), so repositioning at failback is manual.',
    scope: ['source'],
    methods: ['replication'],
    severity: 'warning',
    facts: ['S.app.mariadb', 'T.app.mariadb'],
    evaluate: (ctx) => {
      const s = mariadb(ctx.snap, 'source');
      const t = mariadb(ctx.snap, 'target');
      const out: FindingDraft[] = [];
      if (s.flavour !== 'mariadb') {
        for (const [side, f] of [['source', s], ['target', t]] as const) {
          if ((f.variables.gtid_mode ?? '').toUpperCase() !== 'ON' || !on(f.variables.enforce_gtid_consistency)) {
            out.push({ subject: `gtid=${side}`, message: `GTIDs are not enforced on the ${side} (gtid_mode ${f.variables.gtid_mode ?? '?'}, enforce_gtid_consistency ${f.variables.enforce_gtid_consistency ?? '?'}).`, evidence: { gtid_mode: f.variables.gtid_mode ?? null, enforce_gtid_consistency: f.variables.enforce_gtid_consistency ?? null } });
          }
        }
      }
      if (t.replicaStatus && !t.replicaStatus.gtidPositioning) out.push({ subject: 'gtid=replica', message: 'The replica follows the source by binlog file and position, not by GTID.', evidence: { gtidPositioning: false } });
      return out;
    },
    fix: { kind: 'manual', guidance: 'Enable GTIDs in a planned change (MySQL: gtid_mode ON step by step with enforce_gtid_consistency; MariaDB: CHANGE MASTER TO master_use_gtid = slave_pos on the replica).' },
  },
  {
    ...base,
    id: 'mariadb.binlog-retention-short',
    title: 'Binary logs expire too soon',
    detects: 'The source expires binary logs sooner than the retention floor, so a longer target outage would force a re-seed.',
    scope: ['source'],
    methods: ['replication'],
    severity: 'warning',
    facts: ['S.app.mariadb', 'X'],
    evaluate: (ctx) => {
      const v = mariadb(ctx.snap, 'source').variables;
      const floor = ctx.snap.reference.policy.binlogRetentionDays * 86_400;
      const seconds = v.binlog_expire_logs_seconds !== undefined && Number(v.binlog_expire_logs_seconds) > 0 ? Number(v.binlog_expire_logs_seconds) : Number(v.expire_logs_days ?? '0') * 86_400;
      // 0 means binary logs never expire.
      if (seconds === 0 || seconds >= floor) return [];
      return [{ subject: 'variable=binlog_expire_logs_seconds', message: `Binary logs on the source expire after ${Math.round(seconds / 3600)} h, less than the ${floor / 86_400}-day floor.`, evidence: { seconds, floor, dynamic: v.binlog_expire_logs_seconds !== undefined } }];
    },
    fix: {
      kind: 'conditional',
      phase: 5,
      blockedWhileProtected: false,
      decide: (ctx, f) => {
        if (f.evidence.dynamic !== true) return { guidance: 'This server only has expire_logs_days: raise it in the option file to at least the retention floor and restart in a maintenance window.' };
        const floor = String(f.evidence.floor);
        return { plan: [{ action: 'app', node: 'source', app: 'mariadb', op: 'persist-settings', params: { ...inst(ctx, 'source'), settings: { binlog_expire_logs_seconds: floor } }, description: `Persist binlog_expire_logs_seconds = ${floor} on the source (dynamic: no restart)`, before: String(f.evidence.seconds), after: floor }] };
      },
    },
  },
  {
    ...base,
    id: 'mariadb.replication-user-missing',
    title: 'No replication account for the target',
    detects: 'No account on the source holds the replication privilege restricted to the target’s route address.',
    scope: ['source'],
    methods: ['replication'],
    severity: 'error',
    facts: ['S.app.mariadb', 'P'],
    evaluate: (ctx) => {
      const addr = ctx.snap.pair.route.address;
      const ok = mariadb(ctx.snap, 'source').users.some((u) => replicaPriv(u.privileges) && hostRestrictedTo(u.host, addr));
      return ok ? [] : [{ subject: `account=${mariadbReplicationUser}@${addr}`, message: `No account on the source may replicate from the target's address ${addr} alone.`, evidence: { address: addr } }];
    },
    fix: {
      kind: 'auto',
      phase: 5,
      blockedWhileProtected: false,
      privileged: true,
      plan: (ctx) => {
        const addr = ctx.snap.pair.route.address;
        return [{ action: 'app', node: 'source', app: 'mariadb', op: 'create-replication-user', params: { ...inst(ctx, 'source'), user: mariadbReplicationUser, host: addr, password: 'generate-into-vault' }, description: `Create ${mariadbReplicationUser}@${addr} with REPLICATION SLAVE on the source (password generated into the vault)`, before: 'no account', after: `${mariadbReplicationUser}@${addr}` }];
      },
    },
  },
  {
    ...base,
    id: 'mariadb.target-not-passive',
    title: 'MariaDB/MySQL on the target accepts writes',
    detects: 'With the file method, mysqld runs on the target over the replicated data directory; with replication, the replica accepts writes (read_only, or super_read_only on MySQL, off).',
    scope: ['target'],
    severity: 'error',
    facts: ['T.app.mariadb', 'T.svc', 'P'],
    evaluate: (ctx) => {
      const t = mariadb(ctx.snap, 'target');
      if (ctx.snap.pair.method === 'file') {
        if (!t.running) return [];
        const unit = dbUnit(ctx);
        return [{ subject: unit ? `service=${unit.name}` : 'instance=mysqld', message: `mysqld is running on the target ${ctx.node!.hostname} over the replicated data directory.`, evidence: { unit: unit?.name ?? null, startMode: unit?.startMode ?? null } }];
      }
      const superRo = t.flavour !== 'mariadb';
      if (on(t.variables.read_only) && (!superRo || on(t.variables.super_read_only))) return [];
      return [{ subject: 'variable=read_only', message: `The replica on the target accepts writes (read_only ${t.variables.read_only ?? '?'}${superRo ? `, super_read_only ${t.variables.super_read_only ?? '?'}` : ''}).`, evidence: { read_only: t.variables.read_only ?? null, super_read_only: t.variables.super_read_only ?? null, superReadOnly: superRo } }];
    },
    fix: {
      kind: 'auto',
      phase: 6,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        if (f.subject === 'variable=read_only') {
          const superRo = f.evidence.superReadOnly === true;
          return [{ action: 'app', node: 'target', app: 'mariadb', op: 'set-read-only', params: { ...inst(ctx, 'target'), readOnly: true, superReadOnly: superRo }, description: `Persist read_only${superRo ? ' and super_read_only' : ''} = ON on the target`, before: 'OFF', after: 'ON' }];
        }
        const unit = f.evidence.unit as string | null;
        if (!unit) return [];
        return [
          { action: 'service.stop', node: 'target', name: unit, description: `Stop ${unit} on ${ctx.node!.hostname}`, before: 'running', after: 'stopped' },
          { action: 'service.set-startup', node: 'target', name: unit, mode: 'disabled', description: `Keep ${unit} from starting on ${ctx.node!.hostname}`, before: (f.evidence.startMode as string | null) ?? null, after: 'disabled' },
        ];
      },
    },
  },
  {
    ...base,
    id: 'mariadb.datadir-path-missing-on-target',
    title: 'MariaDB/MySQL directories missing or misowned on the target',
    detects: 'With the file method, the data directory, InnoDB data or redo directory, binlog directory or tmpdir is missing on the target or has the wrong owner, or the mysql user’s uid/gid differs.',
    scope: ['target'],
    methods: ['file'],
    severity: 'error',
    facts: ['S.app.mariadb', 'T.app.mariadb', 'T.paths', 'S.vol', 'T.vol', 'P'],
    evaluate: dataPaths,
    fix: {
      kind: 'conditional',
      phase: 7,
      blockedWhileProtected: true,
      decide: (ctx, f) => {
        if (f.subject.startsWith('user=')) return { guidance: 'Give the mysql OS user the same uid and gid on both servers (and chown its files on the target), or add an owner map to the pair. Tandem does not change accounts.' };
        const e = f.evidence as { sourcePath: string; targetPath: string; problem: string; owner: string; current?: string };
        if (e.problem === 'missing') {
          const why = missingMount(ctx.snap, e.sourcePath, e.targetPath);
          if (why) return { guidance: why };
          return { plan: [{ action: 'fs.ensure-dir', node: 'target', path: e.targetPath, owner: e.owner, mode: 0o750, description: `Create ${e.targetPath} on the target, owned by ${e.owner}, mode 0750`, before: 'missing', after: `${e.owner} 0750` }] };
        }
        return { plan: [{ action: 'fs.ensure-owner', node: 'target', path: e.targetPath, owner: e.owner, mode: 0o750, description: `Make ${e.targetPath} on the target owned by ${e.owner} with mode 0750`, before: e.current ?? null, after: `${e.owner} 0750` }] };
      },
    },
  },
  {
    ...base,
    id: 'mariadb.init-settings-differ',
    title: 'Settings fixed at initialisation differ',
    detects: 'Settings fixed when the data directory was initialised differ: lower_case_table_names, innodb_page_size.',
    scope: ['pair'],
    severity: 'error',
    facts: ['S.app.mariadb', 'T.app.mariadb'],
    evaluate: (ctx) => {
      const s = mariadb(ctx.snap, 'source').variables;
      const t = mariadb(ctx.snap, 'target').variables;
      return ['lower_case_table_names', 'innodb_page_size']
        .filter((n) => s[n] !== undefined && t[n] !== undefined && s[n] !== t[n])
        .map((n) => ({ subject: `variable=${n}`, message: `${n} is ${s[n]} on the source and ${t[n]} on the target; it cannot change after initialisation.`, evidence: { variable: n, source: s[n], target: t[n] } }));
    },
    fix: { kind: 'manual', guidance: 'Re-initialise the target’s data directory with the source’s values (lower_case_table_names, innodb_page_size), then seed it again.' },
  },
  {
    ...base,
    id: 'mariadb.settings-drift',
    title: 'MariaDB/MySQL settings differ from the source',
    detects: 'Variables of the parity set differ: sql_mode, character_set_server, collation_server, time_zone, max_allowed_packet, max_connections, event_scheduler, explicit_defaults_for_timestamp, the default authentication plugin. The InnoDB buffer pool is compared with what the target’s RAM calls for.',
    scope: ['pair'],
    severity: 'warning',
    facts: ['S.app.mariadb', 'T.app.mariadb', 'S.hw', 'T.hw'],
    evaluate: drift,
    fix: { kind: 'auto', phase: 7, blockedWhileProtected: true, plan: (ctx, f) => [persist(ctx, String(f.evidence.variable), String(f.evidence.wanted), String(f.evidence.target))] },
  },
  {
    ...base,
    id: 'mariadb.plugin-unavailable-on-target',
    title: 'Plugin or component missing on the target',
    detects: 'A plugin or component active on the source is absent on the target: authentication (ed25519, PAM, LDAP), audit, password validation, or extra storage engines.',
    scope: ['target'],
    severity: 'error',
    facts: ['S.app.mariadb', 'T.app.mariadb'],
    evaluate: (ctx) => {
      const t = new Set(mariadb(ctx.snap, 'target').plugins.filter((p) => p.status !== 'deleted').map((p) => p.name.toLowerCase()));
      return mariadb(ctx.snap, 'source')
        .plugins.filter((p) => p.status === 'active' && !t.has(p.name.toLowerCase()))
        .map((p) => ({ subject: `plugin=${p.name}`, message: `The ${p.type} plugin ${p.name}${p.library ? ` (${p.library})` : ''} is active on the source but not available on the target.`, evidence: { plugin: p.name, type: p.type, library: p.library } }));
    },
    fix: { kind: 'manual', guidance: 'Install the package providing the plugin or component on the target (it need not be active there until failover). Tandem does not install packages.' },
  },
  {
    ...base,
    id: 'mariadb.accounts-drift',
    title: 'Accounts or grants missing on the replica',
    detects: 'Accounts or grants exist on the source but not on the target, typically because they were created with binary logging off for the session.',
    scope: ['pair'],
    methods: ['replication'],
    severity: 'warning',
    facts: ['S.app.mariadb', 'T.app.mariadb'],
    evaluate: (ctx) => {
      const t = new Map(mariadb(ctx.snap, 'target').users.map((u) => [`${u.user}@${u.host}`, u.grantsDigest]));
      return mariadb(ctx.snap, 'source')
        .users.filter((u) => !systemAccount(u.user, u.host) && u.user !== mariadbReplicationUser)
        .flatMap((u) => {
          const key = `${u.user}@${u.host}`;
          const theirs = t.get(key);
          if (theirs === u.grantsDigest) return [];
          return [{ subject: `account=${key}`, message: theirs === undefined ? `Account ${key} exists on the source but not on the target.` : `Account ${key} has different grants on the target.`, evidence: { account: key, missing: theirs === undefined } }];
        });
    },
    fix: {
      kind: 'auto',
      phase: 7,
      blockedWhileProtected: true,
      plan: (ctx, f) => {
        const account = String(f.evidence.account);
        return [{ action: 'app', node: 'target', app: 'mariadb', op: 'apply-accounts', params: { ...inst(ctx, 'target'), accounts: [account], binlog: false }, description: `Create ${account} on the target with the source's grants (binary logging off for that session)`, before: f.evidence.missing === true ? 'missing' : 'different grants', after: 'as on the source' }];
      },
    },
  },
  {
    ...base,
    id: 'mariadb.cluster-managed',
    title: 'Source belongs to a cluster or topology manager',
    detects: 'The source belongs to Galera, Group Replication or InnoDB Cluster, or is managed by a topology manager (Orchestrator, MHA).',
    scope: ['source'],
    severity: 'error',
    facts: ['S.app.mariadb', 'S.svc'],
    evaluate: (ctx) => {
      const c = mariadb(ctx.snap, 'source').cluster;
      const found = new Set<string>();
      if (c.kind) found.add(c.kind);
      if (c.manager) found.add(c.manager.toLowerCase());
      for (const svc of ctx.node!.services!) if (svc.state === 'running' && managerServices.test(svc.name)) found.add(svc.name.replace(/\.service$/, ''));
      return [...found].map((m) => ({ subject: `cluster=${m}`, message: `The source's database server is part of ${m}.`, evidence: { membership: m } }));
    },
    fix: { kind: 'manual', guidance: 'Protect the database at the cluster level (through its own replication or manager), or exclude this node from Tandem.' },
  },
];

export type { MariadbFacts };
