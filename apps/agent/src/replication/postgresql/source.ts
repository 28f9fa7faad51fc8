// prepareSource: make a running PostgreSQL instance ready to feed a streaming standby.
// Idempotent; every step reports whether it changed something.
// - Role: LOGIN REPLICATION (created, or altered to have both). The password is sent as a SCRAM
//   verifier computed here (never in clear to the server, so never in its logs); a role whose
//   stored verifier already matches the password is left alone. On a standby (cascading) the role
//   must already exist (it comes from the primary).
// - rewind support (allowRewind, default on): EXECUTE on the four functions pg_rewind needs (and,
//   on PostgreSQL 15+, pg_checkpoint) is granted to the role, and pg_hba.conf gets a second entry for database `postgres` so pg_rewind
//   can connect (a replication role can already read everything through a base backup).
// - Settings: wal_level ≥ replica, max_wal_senders ≥ senders in use + 2 (a base backup uses two),
//   max_replication_slots ≥ slots in use (+1 for ours), and wal_log_hints=on when asked
//   (walLogHints) and data checksums are off. Missing ones are written with ALTER SYSTEM
//   (postgresql.auto.conf) — all need a restart: with allowRestart the server is restarted with
//   `pg_ctl restart -m fast` (same options, from postmaster.opts); otherwise the result says
//   restartRequired and lists the pending changes. A setting given on the server's command line
//   cannot be changed this way: that is an error naming it. walKeepSizeMB sets wal_keep_size
//   (applied by the reload), so the WAL pg_rewind needs after a failover is still there.
// - Slot: a physical slot, WAL reserved at once; created only once the settings allow it.
// - pg_hba.conf (the server's hba_file): `host replication <role> <target>/32 scram-sha-256` marked
//   `# tandem-replication slot=<slot>`, inserted before the first rule so an earlier broader rule
//   cannot shadow it, replaced in place when it changes; then the configuration is reloaded and
//   pg_hba_file_rules checked for errors.
// Restarting under systemd: pg_ctl restarts the postmaster outside the unit; on such hosts prefer
// leaving allowRestart off and restarting through the service manager (the agent's service actions).
import { readFile, stat } from 'node:fs/promises';
import { pgPrepareSourceArgsSchema, type PgPrepareSourceArgs, type PgPrepareSourceResult, type PgSettingChange } from '@tandem/protocol';
import { parseInput, type PgContext, PostgresReplicationError } from './context.ts';
import { bin, writeOwnedFile } from './datadir.ts';
import { type Instance, psql, queryJson, resolveInstance } from './instance.ts';
import { isLoopback, sqlIdent, sqlLiteral } from './quoting.ts';
import { runAsOk } from './run.ts';
import { scramVerifier, verifierMatches } from './scram.ts';
import { defaultLogFile, prepareLogFile } from './server.ts';

export type PrepareSourceInput = PgPrepareSourceArgs;
export type SettingChange = PgSettingChange;
export type PrepareSourceResult = PgPrepareSourceResult;

const REWIND_FUNCTIONS = [
  'pg_catalog.pg_ls_dir(text, boolean, boolean)',
  'pg_catalog.pg_stat_file(text, boolean)',
  'pg_catalog.pg_read_binary_file(text)',
  'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)',
];

const SETTING_NAMES = ['server_version', 'wal_level', 'max_wal_senders', 'max_replication_slots', 'wal_log_hints', 'data_checksums', 'listen_addresses', 'hba_file', 'max_slot_wal_keep_size', 'wal_keep_size', 'server_version_num'];

interface SourceState {
  settings: Record<string, string>;
  sources: Record<string, string>;
  in_recovery: boolean;
  senders: number;
  slots: number;
  slot: { slot_type: string } | null;
  role: { rolcanlogin: boolean; rolreplication: boolean; rolsuper: boolean; rolpassword: string | null } | null;
}

function stateQuery(role: string, slot: string): string {
  const names = SETTING_NAMES.map(sqlLiteral).join(', ');
  return `SELECT json_build_object(
    'settings', (SELECT json_object_agg(name, setting) FROM pg_settings WHERE name IN (${names})),
    'sources', (SELECT json_object_agg(name, source) FROM pg_settings WHERE name IN (${names})),
    'in_recovery', pg_is_in_recovery(),
    'senders', (SELECT count(*) FROM pg_stat_replication),
    'slots', (SELECT count(*) FROM pg_replication_slots),
    'slot', (SELECT json_build_object('slot_type', slot_type) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)}),
    'role', (SELECT json_build_object('rolcanlogin', rolcanlogin, 'rolreplication', rolreplication, 'rolsuper', rolsuper, 'rolpassword', rolpassword)
             FROM pg_authid WHERE rolname = ${sqlLiteral(role)})
  )`;
}

const WAL_LEVELS = ['minimal', 'replica', 'archive', 'hot_standby', 'logical'];
const walLevelOk = (v: string | undefined) => v !== undefined && WAL_LEVELS.indexOf(v) >= 1;

function neededSettings(st: SourceState, wantWalLogHints: boolean, walKeepSizeMB?: number): SettingChange[] {
  const s = st.settings;
  const out: SettingChange[] = [];
  if (!walLevelOk(s.wal_level)) out.push({ name: 'wal_level', from: s.wal_level ?? '?', to: 'replica', needsRestart: true });
  const senders = Number(s.max_wal_senders ?? 0);
  if (senders < st.senders + 2) out.push({ name: 'max_wal_senders', from: String(senders), to: String(Math.max(10, st.senders + 2)), needsRestart: true });
  const slots = Number(s.max_replication_slots ?? 0);
  const slotsNeeded = st.slots + (st.slot ? 0 : 1);
  if (slots < slotsNeeded) out.push({ name: 'max_replication_slots', from: String(slots), to: String(Math.max(10, slotsNeeded)), needsRestart: true });
  if (wantWalLogHints && s.wal_log_hints !== 'on' && s.data_checksums !== 'on') out.push({ name: 'wal_log_hints', from: s.wal_log_hints ?? 'off', to: 'on', needsRestart: true });
  if (walKeepSizeMB !== undefined && s.wal_keep_size !== undefined && Number(s.wal_keep_size) !== walKeepSizeMB)
    out.push({ name: 'wal_keep_size', from: `${s.wal_keep_size}MB`, to: `${walKeepSizeMB}MB`, needsRestart: false });
  return out;
}

/** pg_hba.conf lines for the pair, each with its Tandem marker. */
export function tandemHbaLines(opts: { user: string; address: string; slot: string; method: string; rewind: boolean }): { marker: string; line: string }[] {
  const entry = (db: string, kind: string) => {
    const marker = `# ${kind} slot=${opts.slot}`;
    return { marker, line: `host    ${db}    ${opts.user}    ${opts.address}    ${opts.method}    ${marker} (managed by Tandem)` };
  };
  const lines = [entry('replication', 'tandem-replication')];
  if (opts.rewind) lines.push(entry('postgres', 'tandem-rewind'));
  return lines;
}

/** Puts the given lines into pg_hba.conf text: replaced where their marker is, else inserted before the first rule. */
export function applyHbaLines(text: string, lines: { marker: string; line: string }[]): { text: string; changed: boolean } {
  const rows = text.split('\n');
  const missing: string[] = [];
  for (const { marker, line } of lines) {
    const at = rows.findIndex((r) => r.includes(marker) && !r.trimStart().startsWith('#'));
    if (at >= 0) rows[at] = line;
    else missing.push(line);
  }
  if (missing.length > 0) {
    const firstRule = rows.findIndex((r) => r.trim() !== '' && !r.trimStart().startsWith('#'));
    const at = firstRule >= 0 ? firstRule : rows.length;
    rows.splice(at, 0, ...missing);
  }
  const out = rows.join('\n');
  return { text: out, changed: out !== text };
}

async function restartServer(inst: Instance, ctx?: PgContext): Promise<void> {
  // pg_ctl restart reuses postmaster.opts (the same port, socket and -c options).
  const logFile = defaultLogFile(inst.dataDir);
  await prepareLogFile(inst.owner, inst.dataDir, logFile);
  await runAsOk(ctx, inst.owner, bin(inst.binDir, 'pg_ctl'), ['restart', '-D', inst.dataDir, '-m', 'fast', '-w', '-t', '120', '-l', logFile], {
    timeoutMs: 140_000,
  });
}

export async function prepareSource(input: PrepareSourceInput, ctx?: PgContext): Promise<PrepareSourceResult> {
  const args = parseInput(pgPrepareSourceArgsSchema, input, 'prepareSource');
  const warnings: string[] = [];
  let inst = await resolveInstance(args, ctx);
  let st = await queryJson<SourceState>(inst, stateQuery(args.replicationUser, args.slotName), ctx);
  const inRecovery = st.in_recovery;

  // Role.
  const role = { name: args.replicationUser, created: false, altered: false, passwordChanged: false };
  const verifier = args.password !== undefined && !verifierMatches(st.role?.rolpassword ?? null, args.password) ? scramVerifier(args.password) : null;
  const pw = verifier ? ` PASSWORD ${sqlLiteral(verifier)}` : '';
  const ident = sqlIdent(args.replicationUser);
  if (st.role === null) {
    if (inRecovery) throw new PostgresReplicationError(`role ${args.replicationUser} does not exist and this instance is a standby: prepare the primary first`, 'unsupported');
    await psql(inst, `CREATE ROLE ${ident} WITH LOGIN REPLICATION${pw}`, ctx, { secrets: [verifier ?? undefined] });
    role.created = true;
    role.passwordChanged = verifier !== null;
  } else {
    const needAttrs = !st.role.rolcanlogin || !st.role.rolreplication;
    if (needAttrs || verifier) {
      if (inRecovery) throw new PostgresReplicationError(`role ${args.replicationUser} needs LOGIN REPLICATION or a new password, and this instance is a standby: change it on the primary`, 'unsupported');
      await psql(inst, `ALTER ROLE ${ident} WITH LOGIN REPLICATION${pw}`, ctx, { secrets: [verifier ?? undefined] });
      role.altered = needAttrs;
      role.passwordChanged = verifier !== null;
    }
    if (st.role.rolsuper) warnings.push(`role ${args.replicationUser} is a superuser; a replication role needs only LOGIN REPLICATION`);
  }
  let rewindGrants = false;
  if (args.allowRewind) {
    if (inRecovery) warnings.push('standby: pg_rewind grants are not changed here (they come from the primary)');
    else {
      const grants = REWIND_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO ${ident}`);
      // PostgreSQL 15+: lets rewindOrReclone ask a just-promoted server for a checkpoint.
      if (Number(st.settings.server_version_num ?? 0) >= 150000) grants.push(`GRANT pg_checkpoint TO ${ident}`);
      await psql(inst, grants.join(';\n'), ctx);
      rewindGrants = true;
    }
  }

  // Settings.
  const changes = neededSettings(st, args.walLogHints, args.walKeepSizeMB);
  const fixed = changes.filter((c) => st.sources[c.name] === 'command line' || st.sources[c.name] === 'override');
  if (fixed.length > 0)
    throw new PostgresReplicationError(
      `these settings are given on the server's command line and cannot be changed by ALTER SYSTEM: ${fixed.map((c) => `${c.name} (${c.from}, needs ${c.to})`).join(', ')}`,
      'settings',
    );
  if (changes.length > 0) await psql(inst, changes.map((c) => `ALTER SYSTEM SET ${c.name} = ${sqlLiteral(c.to)}`).join(';\n'), ctx);
  let restarted = false;
  const restartChanges = changes.filter((c) => c.needsRestart);
  if (restartChanges.length > 0 && args.allowRestart) {
    await restartServer(inst, ctx);
    restarted = true;
    inst = await resolveInstance(args, ctx);
    st = await queryJson<SourceState>(inst, stateQuery(args.replicationUser, args.slotName), ctx);
    const still = neededSettings(st, args.walLogHints, args.walKeepSizeMB);
    if (still.length > 0) throw new PostgresReplicationError(`after a restart these settings are still insufficient: ${still.map((c) => `${c.name}=${c.from}`).join(', ')}`, 'settings');
  }
  const pendingForReplication = neededSettings(st, false);
  const restartRequired = !restarted && restartChanges.length > 0;

  // Slot (only when the running settings allow one).
  let slot: PrepareSourceResult['slot'] = null;
  if (st.slot) {
    if (st.slot.slot_type !== 'physical') throw new PostgresReplicationError(`slot ${args.slotName} exists and is a ${st.slot.slot_type} slot`, 'unsupported');
    slot = { name: args.slotName, created: false };
  } else if (pendingForReplication.length === 0) {
    await psql(inst, `SELECT pg_create_physical_replication_slot(${sqlLiteral(args.slotName)}, true)`, ctx);
    slot = { name: args.slotName, created: true };
  }

  // pg_hba.conf.
  const hbaFile = st.settings.hba_file;
  if (!hbaFile) throw new PostgresReplicationError('the server did not report its hba_file', 'command-failed');
  const wanted = tandemHbaLines({ user: args.replicationUser, address: args.targetAddress, slot: args.slotName, method: args.authMethod, rewind: args.allowRewind });
  const hbaText = await readFile(hbaFile, 'utf8');
  const hba = applyHbaLines(hbaText, wanted);
  if (hba.changed) {
    const hst = await stat(hbaFile);
    await writeOwnedFile(hbaFile, hba.text, hst, hst.mode & 0o7777);
  }
  await psql(inst, 'SELECT pg_reload_conf()', ctx);
  const hbaErrors = (await psql(inst, `SELECT coalesce(string_agg(line_number || ': ' || error, '; '), '') FROM pg_hba_file_rules WHERE error IS NOT NULL`, ctx)).trim();
  if (hbaErrors) throw new PostgresReplicationError(`${hbaFile} has errors, so the server keeps its previous rules: ${hbaErrors}`, 'settings');

  // Warnings.
  const listen = st.settings.listen_addresses ?? '';
  const targetIsLocal = isLoopback(args.targetAddress.split('/')[0]!);
  if (listen.trim() === '') warnings.push('listen_addresses is empty: the server accepts no TCP connections; set it and restart');
  else if (!targetIsLocal && listen.split(',').every((a) => isLoopback(a.trim()))) warnings.push(`listen_addresses is ${listen}: a remote standby cannot connect; set it and restart`);
  if ((st.settings.max_slot_wal_keep_size ?? '-1') === '-1') warnings.push('max_slot_wal_keep_size is unlimited: if the standby stays away, the slot keeps WAL until the disk fills; monitor or set a limit');
  const rewindCapable = st.settings.data_checksums === 'on' || st.settings.wal_log_hints === 'on';
  if (!rewindCapable && !changes.some((c) => c.name === 'wal_log_hints'))
    warnings.push('data checksums and wal_log_hints are off: after a failover this instance cannot be rewound, only re-cloned (walLogHints: true turns it on, with a restart)');

  return {
    dataDir: inst.dataDir,
    port: inst.port,
    version: st.settings.server_version ?? '',
    inRecovery,
    role,
    slot,
    settings: st.settings,
    changedSettings: changes,
    restartRequired,
    restarted,
    hba: { file: hbaFile, changed: hba.changed, lines: wanted.map((w) => w.line) },
    rewindGrants,
    rewindCapable,
    ready: pendingForReplication.length === 0 && slot !== null,
    warnings,
  };
}
