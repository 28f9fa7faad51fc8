import { describe, expect, it } from 'vitest';
import { appRowOutcome, type AppRow } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import { withFacts } from '../fixtures.ts';
import type { PostgresFacts } from '../node-facts.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import type { CheckResult } from '../model.ts';
import { postgresChecks } from './postgres.ts';
import { pgSettings, postgresSnapshot } from '../apps/fixtures.ts';

// Table-driven: the healthy streaming pair is good for every postgres check; each row bends one
// fact and expects exactly these findings (subject, side, status, and the plan or the guidance).

const DATA = '/var/lib/postgresql/16/main';
const SLOT = 'tandem_000000000000400080000000';
const byId = (id: string) => {
  const c = postgresChecks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
};

/** Patches the PostgreSQL facts of one side. */
function pgPatch(side: 'source' | 'target', patch: Partial<PostgresFacts>, snap = postgresSnapshot()): FactsSnapshot {
  const node = snap[side]!;
  return { ...snap, [side]: { ...node, apps: { ...node.apps, postgres: { ...node.apps.postgres!, ...patch } } } };
}
const settingsOn = (side: 'source' | 'target', over: Record<string, string>, snap = postgresSnapshot()) => pgPatch(side, { settings: pgSettings(over) }, snap);
const pathOn = (snap: FactsSnapshot, path: string, patch: Record<string, unknown>): FactsSnapshot => ({
  ...snap,
  target: { ...snap.target!, paths: snap.target!.paths!.map((p) => (p.path === path ? { ...p, ...patch } : p)) },
});
const setPlan = (settings: Record<string, string>) => [{ action: 'app', node: 'target', app: 'postgres', op: 'set-target-settings', params: { port: 5432, dataDir: DATA, settings, allowRestart: true } }];

function unknownWith(r: CheckResult | undefined, reason: RegExp) {
  expect(r?.status).toBe('unknown');
  expect(r?.unknown?.reason).toMatch(reason);
}

type Row = AppRow;

const rows: Row[] = [
  { name: 'major versions differ', check: 'postgres.major-version-mismatch', snap: () => pgPatch('target', { versionNum: 150008 }), want: [{ subject: 'version=major', status: 'error-manual', side: 'none', guidance: /major release/ }] },
  { name: 'logical: an older target major', check: 'postgres.major-version-mismatch', snap: () => pgPatch('target', { versionNum: 150008 }, withFacts(postgresSnapshot(), { pair: { method: 'logical' } })), want: [{ subject: 'version=major', status: 'error-manual' }] },
  { name: 'logical: a newer target major is allowed', check: 'postgres.major-version-mismatch', snap: () => pgPatch('target', { versionNum: 170002 }, withFacts(postgresSnapshot(), { pair: { method: 'logical' } })), want: [] },
  { name: 'older minor on the target', check: 'postgres.minor-version-older-on-target', snap: () => pgPatch('target', { versionNum: 160002 }), want: [{ subject: 'version=minor', status: 'warning-manual', guidance: /minor release/ }] },
  { name: 'a stopped target whose binaries say 16.2', check: 'postgres.minor-version-older-on-target', snap: () => pgPatch('target', { versionNum: null, version: 'PostgreSQL 16.2', running: false }), want: [{ subject: 'version=minor', status: 'warning-manual' }] },
  { name: 'newer minor on the target is fine', check: 'postgres.minor-version-older-on-target', snap: () => pgPatch('target', { versionNum: 160006 }), want: [] },
  {
    name: 'checksums and architecture differ',
    check: 'postgres.build-incompatible',
    snap: () => withFacts(pgPatch('target', { controlData: { ...postgresSnapshot().target!.apps.postgres!.controlData, 'Data page checksum version': '0' } }), { target: { os: { arch: 'aarch64' } } }),
    want: [
      { subject: 'control=architecture', status: 'error-manual' },
      { subject: 'control=Data page checksum version', status: 'error-manual', guidance: /initdb/ },
    ],
  },
  { name: 'ICU differs', check: 'postgres.collation-library-differs', snap: () => pgPatch('target', { icuVersion: '74.2' }), want: [{ subject: 'library=icu', status: 'warning-manual', guidance: /REINDEX/ }] },
  {
    name: 'data directory missing on the target',
    check: 'postgres.data-path-missing-on-target',
    snap: () => pathOn(postgresSnapshot(), DATA, { exists: false, type: null, owner: null, uid: null, gid: null, mode: null }),
    want: [{ subject: `path=${DATA}`, status: 'error-fixable', side: 'target', plan: [{ action: 'fs.ensure-dir', node: 'target', path: DATA, owner: 'postgres', mode: 0o700 }] }],
  },
  {
    name: 'data directory missing and the source keeps it on its own mount',
    check: 'postgres.data-path-missing-on-target',
    snap: () => {
      const s = pathOn(postgresSnapshot(), DATA, { exists: false });
      return { ...s, source: { ...s.source!, volumes: [...s.source!.volumes!, { mountPoint: '/var/lib/postgresql', fileSystem: 'xfs', sizeBytes: 2 ** 40, freeBytes: 2 ** 39, system: false, features: [] }] } };
    },
    want: [{ subject: `path=${DATA}`, status: 'error-manual', guidance: /no matching mount/ }],
  },
  {
    name: 'data directory owned by root and world-readable',
    check: 'postgres.data-path-ownership',
    snap: () => pathOn(postgresSnapshot(), DATA, { owner: 'root', mode: 0o755 }),
    want: [{ subject: `path=${DATA}`, status: 'error-fixable', plan: [{ action: 'fs.ensure-owner', node: 'target', path: DATA, owner: 'postgres', mode: 0o700, before: 'root 0755', after: 'postgres 0700' }] }],
  },
  {
    name: 'file method: the postgres uid differs',
    check: 'postgres.data-path-ownership',
    snap: () => pgPatch('target', { osUser: { name: 'postgres', uid: 120, gid: 118 } }, withFacts(postgresSnapshot(), { pair: { method: 'file', replicationMethod: 'file' } })),
    want: [{ subject: 'user=postgres', status: 'error-manual', guidance: /uid/ }],
  },
  {
    name: 'file method: PostgreSQL runs on the target',
    check: 'postgres.target-not-passive',
    snap: () => withFacts(postgresSnapshot(), { pair: { method: 'file', replicationMethod: 'file' } }),
    want: [
      {
        subject: 'service=postgresql@16-main',
        status: 'error-fixable',
        plan: [
          { action: 'service.stop', node: 'target', name: 'postgresql@16-main' },
          { action: 'service.set-startup', node: 'target', name: 'postgresql@16-main', mode: 'disabled', before: 'auto', after: 'disabled' },
        ],
      },
    ],
  },
  { name: 'file method: PostgreSQL stopped on the target', check: 'postgres.target-not-passive', snap: () => pgPatch('target', { running: false }, withFacts(postgresSnapshot(), { pair: { method: 'file', replicationMethod: 'file' } })), want: [] },
  { name: 'protected, and the target runs as a primary', check: 'postgres.standby-state-invalid', snap: () => pgPatch('target', { inRecovery: false, primaryConninfo: null }, withFacts(postgresSnapshot(), { pair: { protected: true, state: 'protected' } })), want: [{ subject: 'standby=state', status: 'error-manual', guidance: /Re-seed/ }] },
  { name: 'before the first enable a non-standby target is fine', check: 'postgres.standby-state-invalid', snap: () => pgPatch('target', { inRecovery: false, primaryConninfo: null }), want: [] },
  {
    name: 'a standby of another cluster following another upstream',
    check: 'postgres.standby-state-invalid',
    snap: () => pgPatch('target', { systemId: '7309999999999999999', primaryConninfo: 'user=tandem_replication host=10.0.0.99 port=5432', timeline: 3 }),
    want: [
      { subject: 'standby=system-identifier', status: 'error-manual' },
      { subject: 'standby=upstream', status: 'error-manual' },
      { subject: 'standby=timeline', status: 'error-manual' },
    ],
  },
  {
    name: 'wal_level minimal and too few senders',
    check: 'postgres.wal-settings-insufficient',
    snap: () => pgPatch('source', { settings: pgSettings({ wal_level: 'minimal', max_wal_senders: '2' }), replication: [{ applicationName: 'backup', clientAddress: '10.0.0.50', state: 'streaming' }] }),
    want: [
      { subject: 'setting=wal_level', status: 'error-manual', side: 'source', guidance: /never restarts/ },
      { subject: 'setting=max_wal_senders', status: 'error-manual' },
    ],
  },
  {
    name: 'no replication role and no pg_hba rule',
    check: 'postgres.replication-access-missing',
    snap: () => {
      const s = postgresSnapshot().source!.apps.postgres!;
      return pgPatch('source', { roles: s.roles.filter((r) => r.name === 'app'), hba: s.hba.filter((h) => !h.database.includes('replication')) });
    },
    want: [
      { subject: 'role=tandem_replication', status: 'error-fixable', side: 'source', privileged: true, plan: [{ action: 'app', node: 'source', app: 'postgres', op: 'create-replication-role', params: { port: 5432, dataDir: DATA, role: 'tandem_replication', password: 'generate-into-vault' } }] },
      { subject: 'hba=10.0.0.20', status: 'error-fixable', privileged: true, plan: [{ action: 'app', node: 'source', app: 'postgres', op: 'add-hba-rule', params: { port: 5432, dataDir: DATA, type: 'host', database: 'replication', user: 'tandem_replication', address: '10.0.0.20/32', method: 'scram-sha-256', reload: true } }] },
    ],
  },
  {
    name: 'a reject rule comes first',
    check: 'postgres.replication-access-missing',
    snap: () => pgPatch('source', { hba: [{ type: 'host', database: ['replication'], user: ['all'], address: '10.0.0.0/24', method: 'reject' }, ...postgresSnapshot().source!.apps.postgres!.hba] }),
    want: [{ subject: 'hba=10.0.0.20', status: 'error-fixable' }],
  },
  {
    name: 'no slot, no cap, and a leftover slot',
    check: 'postgres.slot-risk',
    snap: () => pgPatch('source', { slots: [{ name: 'old_standby', type: 'physical', active: false, walStatus: 'extended' }], settings: pgSettings({ max_slot_wal_keep_size: '-1' }) }),
    want: [
      { subject: `slot=${SLOT}`, status: 'warning-fixable', side: 'source', plan: [{ action: 'app', node: 'source', app: 'postgres', op: 'create-slot', params: { port: 5432, dataDir: DATA, slot: SLOT, type: 'physical' } }] },
      // Half of the 30 GiB free on / (the volume holding pg_wal).
      { subject: 'setting=max_slot_wal_keep_size', status: 'warning-fixable', plan: [{ action: 'app', node: 'source', op: 'alter-system', params: { port: 5432, dataDir: DATA, settings: { max_slot_wal_keep_size: '15GB' }, reload: true } }] },
      { subject: 'slot=old_standby', status: 'warning-manual', guidance: /never drops slots/ },
    ],
  },
  {
    name: 'the standby allows fewer connections',
    check: 'postgres.standby-settings-lower',
    snap: () => settingsOn('target', { max_connections: '50', max_locks_per_transaction: '32' }),
    want: [
      { subject: 'setting=max_connections', status: 'error-fixable', side: 'target', plan: setPlan({ max_connections: '100' }) },
      { subject: 'setting=max_locks_per_transaction', status: 'error-fixable', plan: setPlan({ max_locks_per_transaction: '64' }) },
    ],
  },
  {
    name: 'protected: the fix waits for protection to be disabled',
    check: 'postgres.standby-settings-lower',
    snap: () => settingsOn('target', { max_connections: '50' }, withFacts(postgresSnapshot(), { pair: { protected: true, state: 'protected' } })),
    want: [{ subject: 'setting=max_connections', status: 'error-fixable', blocked: /Disable protection first/ }],
  },
  {
    name: 'timezone, timeout and listen_addresses drift',
    check: 'postgres.settings-drift',
    snap: () => settingsOn('source', { statement_timeout: '30000' }, settingsOn('target', { timezone: 'Europe/Paris', listen_addresses: 'localhost' })),
    want: [
      { subject: 'setting=timezone', status: 'warning-fixable', side: 'none', plan: setPlan({ timezone: 'Etc/UTC' }) },
      { subject: 'setting=statement_timeout', status: 'warning-fixable', plan: setPlan({ statement_timeout: '30000ms' }) },
      { subject: 'setting=listen_addresses', status: 'warning-fixable', plan: setPlan({ listen_addresses: '*' }) },
    ],
  },
  { name: 'the same locale spelt differently is no drift', check: 'postgres.settings-drift', snap: () => settingsOn('target', { lc_messages: 'C.utf8', lc_time: 'C.UTF8' }), want: [] },
  {
    name: 'memory sized for a target with half the RAM',
    check: 'postgres.settings-drift',
    snap: () => withFacts(postgresSnapshot(), { target: { hw: { memoryBytes: 8 * 2 ** 30 } } }),
    want: [
      { subject: 'setting=shared_buffers', status: 'warning-fixable', plan: setPlan({ shared_buffers: '2048MB' }) },
      { subject: 'setting=effective_cache_size', status: 'warning-fixable', plan: setPlan({ effective_cache_size: '4096MB' }) },
      { subject: 'setting=maintenance_work_mem', status: 'warning-fixable', plan: setPlan({ maintenance_work_mem: '128MB' }) },
      { subject: 'setting=work_mem', status: 'warning-fixable', plan: setPlan({ work_mem: '8MB' }) },
    ],
  },
  {
    name: 'a specific listen address must include the mapped target address',
    check: 'postgres.settings-drift',
    snap: () => settingsOn('source', { listen_addresses: 'localhost,10.0.0.10' }, settingsOn('target', { listen_addresses: 'localhost' })),
    want: [{ subject: 'setting=listen_addresses', status: 'warning-fixable', plan: setPlan({ listen_addresses: 'localhost,10.0.0.20' }) }],
  },
  {
    name: 'the SSL key is missing on the target',
    check: 'postgres.referenced-files-missing',
    snap: () => settingsOn('target', { ssl: 'off', ssl_key_file: 'server.key' }, pathOn(postgresSnapshot(), '/etc/ssl/private/ssl-cert-snakeoil.key', { exists: false })),
    want: [{ subject: 'file=/etc/ssl/private/ssl-cert-snakeoil.key', status: 'error-manual', side: 'target', guidance: /secrets/ }],
  },
  {
    name: 'an extension and a preloaded library missing on the target',
    check: 'postgres.extension-unavailable-on-target',
    snap: () =>
      settingsOn('source', { shared_preload_libraries: 'pg_stat_statements,timescaledb' }, pgPatch('target', { availableExtensions: [{ name: 'plpgsql', defaultVersion: '1.0' }, { name: 'pg_stat_statements', defaultVersion: '1.9' }] })),
    want: [
      { subject: 'extension=pg_stat_statements', status: 'error-manual', side: 'target', guidance: /Install/ },
      { subject: 'library=timescaledb', status: 'error-manual' },
    ],
  },
  {
    name: 'Patroni and repmgr',
    check: 'postgres.ha-manager-present',
    snap: () => {
      const s = pgPatch('source', { managedBy: 'patroni' });
      return { ...s, source: { ...s.source!, services: [...s.source!.services!, { name: 'repmgrd', state: 'running', startMode: 'auto', account: 'postgres', definitionDigest: null, definition: null, dependencies: [] }] } };
    },
    want: [
      { subject: 'manager=patroni', status: 'error-manual', side: 'source' },
      { subject: 'manager=repmgr', status: 'error-manual' },
    ],
  },
];

const logicalFacts = { tablesWithoutIdentity: [] as string[], sequences: [{ name: 'public.orders_id_seq', lastValue: '1042' }], schemaDigests: { app: 'd-app-1' }, sequenceSyncStep: true };
function logicalSnap(source: Partial<typeof logicalFacts> = {}, target: Partial<typeof logicalFacts> = {}, targetRoles?: PostgresFacts['roles']): FactsSnapshot {
  let s = withFacts(postgresSnapshot(), { pair: { method: 'logical' } });
  s = pgPatch('source', { logical: { ...logicalFacts, ...source } } as Partial<PostgresFacts>, s);
  return pgPatch('target', { logical: { ...logicalFacts, ...target }, ...(targetRoles ? { roles: targetRoles } : {}) } as Partial<PostgresFacts>, s);
}
rows.push(
  { name: 'logical: nothing missing', check: 'postgres.logical-method-gaps', snap: () => logicalSnap(), want: [] },
  {
    name: 'logical: a role, sequence sync, replica identity and schema drift',
    check: 'postgres.logical-method-gaps',
    snap: () => logicalSnap({ sequenceSyncStep: false, tablesWithoutIdentity: ['public.events'] }, { schemaDigests: { app: 'd-app-2' } }, postgresSnapshot().target!.apps.postgres!.roles.filter((r) => r.name !== 'app')),
    want: [
      { subject: 'role=app', status: 'error-fixable', plan: [{ action: 'app', node: 'target', app: 'postgres', op: 'copy-globals', params: { port: 5432, dataDir: DATA, roles: ['app'] } }] },
      { subject: 'sequences=sync', status: 'error-fixable', plan: [{ action: 'pair.set', key: 'runbook.sequenceSync', value: true }] },
      { subject: 'table=public.events', status: 'error-manual', guidance: /REPLICA IDENTITY/ },
      { subject: 'schema=app', status: 'error-manual', guidance: /DDL/ },
    ],
  },
);

describe('postgres checks', () => {
  it('finds nothing on a healthy streaming pair', () => {
    const results = evaluateChecks(postgresChecks, postgresSnapshot());
    expect(results.filter((r) => r.status !== 'good').map((r) => [r.checkId, r.unknown?.reason ?? r.findings.map((f) => f.message)])).toEqual([]);
    // Everything but the file-only and logical-only rows ran.
    expect(results.map((r) => r.checkId)).not.toContain('postgres.target-not-passive');
    expect(results).toHaveLength(postgresChecks.length - 2);
  });

  it.each(rows)('$check: $name', (row) => {
    const { actual, expected, findings } = appRowOutcome(postgresChecks, row);
    expect(actual).toEqual(expected);
    row.want.forEach((w, i) => {
      const f = findings[i]!;
      expect(f.blockedReason ?? '').toMatch(w.blocked ?? /^$/);
      expect(f.message.length).toBeGreaterThan(10);
    });
  });

  it('is good again once the settings the plan wrote are read back from pg_settings', () => {
    const drifted = settingsOn('target', { timezone: 'Europe/Paris', statement_timeout: '5000', listen_addresses: 'localhost', max_connections: '50' }, withFacts(postgresSnapshot(), { target: { hw: { memoryBytes: 8 * 2 ** 30 } } }));
    const results = evaluateChecks([byId('postgres.settings-drift'), byId('postgres.standby-settings-lower')], drifted);
    const written: Record<string, string> = {};
    for (const f of results.flatMap((r) => r.findings)) for (const a of f.plan!) if (a.action === 'app') Object.assign(written, a.params.settings);
    expect(Object.keys(written).sort()).toEqual(['effective_cache_size', 'listen_addresses', 'maintenance_work_mem', 'max_connections', 'shared_buffers', 'statement_timeout', 'timezone', 'work_mem']);
    // What PostgreSQL reports after ALTER SYSTEM: the value in the setting's own unit.
    const target = drifted.target!.apps.postgres!;
    const readBack = target.settings.map((s) => {
      const v = written[s.name];
      if (v === undefined) return s;
      const m = v.match(/^(\d+)(MB|kB|ms)$/);
      if (!m) return { ...s, setting: v };
      const base = m[2] === 'MB' ? 1024 * 1024 : m[2] === 'kB' ? 1024 : 1;
      const per = s.unit === '8kB' ? 8192 : s.unit === 'kB' ? 1024 : 1;
      return { ...s, setting: String((Number(m[1]) * base) / per) };
    });
    const fixed = pgPatch('target', { settings: readBack }, drifted);
    expect(evaluateChecks([byId('postgres.settings-drift'), byId('postgres.standby-settings-lower')], fixed).map((r) => r.status)).toEqual(['good', 'good']);
  });

  it('is unknown, never a crash, when PostgreSQL facts are missing, absent or malformed', () => {
    const s = postgresSnapshot();
    const missing = { ...s, target: { ...s.target!, apps: {}, failures: { postgres: 'psql: connection refused' } } };
    const r1 = evaluateChecks(postgresChecks, missing);
    const needsTarget = r1.filter((r) => byId(r.checkId).facts.some((k) => k === 'T.app.postgres'));
    expect(needsTarget.length).toBeGreaterThan(5);
    for (const r of needsTarget) unknownWith(r, /connection refused/);
    const absent = { ...s, target: { ...s.target!, apps: { postgres: null } } };
    unknownWith(evaluateChecks([byId('postgres.major-version-mismatch')], absent)[0], /no PostgreSQL was found on the target/);
    const malformed = { ...s, target: { ...s.target!, apps: { postgres: { port: 'x' } as unknown as PostgresFacts } } };
    unknownWith(evaluateChecks([byId('postgres.settings-drift')], malformed)[0], /not in the expected form/);
    // The running target's own settings vouch for the files it uses; otherwise the path must have been asked about.
    const vouched = { ...s, target: { ...s.target!, paths: [] } };
    expect(evaluateChecks([byId('postgres.referenced-files-missing')], vouched)[0]!.status).toBe('good');
    const pathUnasked = settingsOn('target', { ssl_key_file: '/etc/ssl/private/other.key' }, { ...s, target: { ...s.target!, paths: s.target!.paths!.filter((p) => !p.path.endsWith('.key')) } });
    unknownWith(evaluateChecks([byId('postgres.referenced-files-missing')], pathUnasked)[0], /do not describe/);
    const down = pgPatch('target', { versionNum: null, version: null, running: false });
    expect(evaluateChecks([byId('postgres.minor-version-older-on-target')], down)[0]!.status).toBe('unknown');
    expect(evaluateChecks([byId('postgres.logical-method-gaps')], withFacts(s, { pair: { method: 'logical' } }))[0]!.status).toBe('unknown');
  });
});
