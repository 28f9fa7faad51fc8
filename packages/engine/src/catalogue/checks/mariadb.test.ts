import { describe, expect, it } from 'vitest';
import { appRowOutcome, type AppRow } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import { withFacts } from '../fixtures.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { hostRestrictedTo, mariadbChecks } from './mariadb.ts';
import type { MariadbFacts } from '../apps/mariadb.ts';
import { mariadbFacts, mariadbSnapshot } from '../apps/fixtures.ts';

// Table-driven: the healthy MariaDB replication pair is good for every mariadb check; each row
// bends one fact and expects exactly these findings.

const byId = (id: string) => mariadbChecks.find((x) => x.id === id)!;

function patch(side: 'source' | 'target', p: Partial<MariadbFacts>, snap = mariadbSnapshot()): FactsSnapshot {
  const node = snap[side]!;
  return { ...snap, [side]: { ...node, apps: { ...node.apps, mariadb: { ...(node.apps.mariadb as MariadbFacts), ...p } } } };
}
const vars = (side: 'source' | 'target', v: Record<string, string>, snap = mariadbSnapshot()) => patch(side, { variables: { ...mariadbFacts(side).variables, ...v } }, snap);
const fileMethod = () => withFacts(mariadbSnapshot(), { pair: { method: 'file', replicationMethod: 'file' } });

type Row = AppRow;

const rows: Row[] = [
  { name: 'MySQL against MariaDB', check: 'mariadb.version-incompatible', snap: () => patch('target', { flavour: 'mysql', version: '8.0.36' }), want: [{ subject: 'version=flavour', status: 'error-manual', side: 'none', guidance: /same flavour/ }] },
  { name: 'replication: an older replica', check: 'mariadb.version-incompatible', snap: () => patch('target', { version: '10.6.16' }), want: [{ subject: 'version=older-target', status: 'error-manual' }] },
  { name: 'replication: a newer replica is fine', check: 'mariadb.version-incompatible', snap: () => patch('target', { version: '11.4.2' }), want: [] },
  { name: 'file: another series', check: 'mariadb.version-incompatible', snap: () => patch('target', { version: '10.11.8' }, patch('source', { version: '10.6.16' }, fileMethod())), want: [{ subject: 'version=series', status: 'error-manual' }] },
  {
    name: 'the replica reuses the source server_id',
    check: 'mariadb.server-id-conflict',
    snap: () => vars('target', { server_id: '1' }),
    want: [{ subject: 'variable=server_id', status: 'error-fixable', side: 'target', plan: [{ action: 'app', node: 'target', app: 'mariadb', op: 'set-server-id', params: { port: 3306, serverId: 2 }, before: '1', after: '2' }] }],
  },
  {
    name: 'MySQL: the replica carries the source uuid',
    check: 'mariadb.server-id-conflict',
    snap: () => vars('target', { server_uuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562' }, vars('source', { server_uuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562' })),
    want: [{ subject: 'variable=server_uuid', status: 'error-fixable', plan: [{ action: 'app', node: 'target', app: 'mariadb', op: 'regenerate-uuid', params: { port: 3306 } }] }],
  },
  {
    name: 'no binlog, statement format, a chained source not logging',
    check: 'mariadb.binlog-not-ready',
    snap: () => patch('source', { variables: { ...mariadbFacts('source').variables, log_bin: 'OFF', binlog_format: 'STATEMENT' }, replicaStatus: { sourceHost: '10.0.0.5', sourcePort: 3306, ioRunning: true, sqlRunning: true, gtidPositioning: true } }),
    want: [
      { subject: 'variable=log_bin', status: 'error-manual', side: 'source', guidance: /never restarts/ },
      { subject: 'variable=binlog_format', status: 'error-manual' },
      { subject: 'variable=log_replica_updates', status: 'error-manual' },
    ],
  },
  {
    name: 'MariaDB replica by file and position',
    check: 'mariadb.gtid-not-enabled',
    snap: () => patch('target', { replicaStatus: { sourceHost: '10.0.0.10', sourcePort: 3306, ioRunning: true, sqlRunning: true, gtidPositioning: false } }),
    want: [{ subject: 'gtid=replica', status: 'warning-manual', side: 'source', guidance: /GTID/ }],
  },
  {
    name: 'MySQL with gtid_mode off on the source',
    check: 'mariadb.gtid-not-enabled',
    snap: () => {
      const mysql = (side: 'source' | 'target', mode: string, s: FactsSnapshot) => patch(side, { flavour: 'mysql', version: '8.0.36', variables: { ...mariadbFacts(side).variables, gtid_mode: mode, enforce_gtid_consistency: 'ON' } }, s);
      return mysql('source', 'OFF', mysql('target', 'ON', mariadbSnapshot()));
    },
    want: [{ subject: 'gtid=source', status: 'warning-manual' }],
  },
  {
    name: 'binary logs kept for two days',
    check: 'mariadb.binlog-retention-short',
    snap: () => vars('source', { binlog_expire_logs_seconds: '172800' }),
    want: [{ subject: 'variable=binlog_expire_logs_seconds', status: 'warning-fixable', side: 'source', plan: [{ action: 'app', node: 'source', app: 'mariadb', op: 'persist-settings', params: { port: 3306, settings: { binlog_expire_logs_seconds: '604800' } }, before: '172800', after: '604800' }] }],
  },
  {
    name: 'an old server with expire_logs_days only',
    check: 'mariadb.binlog-retention-short',
    snap: () => patch('source', { variables: Object.fromEntries(Object.entries({ ...mariadbFacts('source').variables, expire_logs_days: '3' }).filter(([k]) => k !== 'binlog_expire_logs_seconds')) }),
    want: [{ subject: 'variable=binlog_expire_logs_seconds', status: 'warning-manual', guidance: /expire_logs_days/ }],
  },
  { name: 'logs never expire', check: 'mariadb.binlog-retention-short', snap: () => vars('source', { binlog_expire_logs_seconds: '0', expire_logs_days: '0' }), want: [] },
  {
    name: 'only a replication account open to every host',
    check: 'mariadb.replication-user-missing',
    snap: () => patch('source', { users: [{ user: 'repl', host: '%', plugin: null, privileges: ['REPLICATION SLAVE'], grantsDigest: 'x' }] }),
    want: [{ subject: 'account=tandem_replication@10.0.0.20', status: 'error-fixable', side: 'source', privileged: true, plan: [{ action: 'app', node: 'source', app: 'mariadb', op: 'create-replication-user', params: { port: 3306, user: 'tandem_replication', host: '10.0.0.20', password: 'generate-into-vault' } }] }],
  },
  { name: 'replica writable', check: 'mariadb.target-not-passive', snap: () => vars('target', { read_only: 'OFF' }), want: [{ subject: 'variable=read_only', status: 'error-fixable', side: 'target', plan: [{ action: 'app', node: 'target', app: 'mariadb', op: 'set-read-only', params: { port: 3306, readOnly: true, superReadOnly: false } }] }] },
  {
    name: 'file: mysqld runs on the target',
    check: 'mariadb.target-not-passive',
    snap: fileMethod,
    want: [{ subject: 'service=mariadb', status: 'error-fixable', plan: [{ action: 'service.stop', node: 'target', name: 'mariadb' }, { action: 'service.set-startup', node: 'target', name: 'mariadb', mode: 'disabled', before: 'auto', after: 'disabled' }] }],
  },
  { name: 'file: mysqld stopped on the target', check: 'mariadb.target-not-passive', snap: () => patch('target', { running: false }, fileMethod()), want: [] },
  {
    name: 'file: datadir missing, tmpdir misowned, uid differs',
    check: 'mariadb.datadir-path-missing-on-target',
    snap: () => {
      const s = patch('target', { osUser: { name: 'mysql', uid: 999, gid: 112 } }, fileMethod());
      return { ...s, target: { ...s.target!, paths: [{ ...s.target!.paths![0]!, exists: false }, { ...s.target!.paths![1]!, owner: 'root', mode: 0o1777 }] } };
    },
    want: [
      { subject: 'path=/var/lib/mysql', status: 'error-fixable', side: 'target', plan: [{ action: 'fs.ensure-dir', node: 'target', path: '/var/lib/mysql', owner: 'mysql', mode: 0o750 }] },
      { subject: 'path=/tmp', status: 'error-fixable', plan: [{ action: 'fs.ensure-owner', node: 'target', path: '/tmp', owner: 'mysql', mode: 0o750, before: 'root 1777' }] },
      { subject: 'user=mysql', status: 'error-manual', guidance: /uid/ },
    ],
  },
  { name: 'lower_case_table_names differs', check: 'mariadb.init-settings-differ', snap: () => vars('target', { lower_case_table_names: '1' }), want: [{ subject: 'variable=lower_case_table_names', status: 'error-manual', guidance: /Re-initialise/ }] },
  {
    name: 'sql_mode, max_connections and the buffer pool for less RAM',
    check: 'mariadb.settings-drift',
    snap: () => withFacts(vars('target', { sql_mode: 'NO_ENGINE_SUBSTITUTION', max_connections: '100' }), { target: { hw: { memoryBytes: 8 * 2 ** 30 } } }),
    want: [
      { subject: 'variable=sql_mode', status: 'warning-fixable', side: 'none', plan: [{ action: 'app', node: 'target', app: 'mariadb', op: 'persist-settings', params: { port: 3306, settings: { sql_mode: mariadbFacts('source').variables.sql_mode } } }] },
      { subject: 'variable=max_connections', status: 'warning-fixable', plan: [{ op: 'persist-settings', params: { settings: { max_connections: '151' } }, before: '100', after: '151' }] },
      { subject: 'variable=innodb_buffer_pool_size', status: 'warning-fixable', plan: [{ op: 'persist-settings', params: { settings: { innodb_buffer_pool_size: String(4 * 2 ** 30) } } }] },
    ],
  },
  { name: 'the same sql_mode in another order is no drift', check: 'mariadb.settings-drift', snap: () => vars('target', { sql_mode: 'NO_ENGINE_SUBSTITUTION,NO_AUTO_CREATE_USER,ERROR_FOR_DIVISION_BY_ZERO,STRICT_TRANS_TABLES' }), want: [] },
  {
    name: 'ed25519 active on the source only',
    check: 'mariadb.plugin-unavailable-on-target',
    snap: () => patch('target', { plugins: mariadbFacts('target').plugins.filter((p) => p.name !== 'ed25519') }, patch('source', { plugins: mariadbFacts('source').plugins.map((p) => (p.name === 'ed25519' ? { ...p, status: 'active' as const } : p)) })),
    want: [{ subject: 'plugin=ed25519', status: 'error-manual', side: 'target', guidance: /Install/ }],
  },
  {
    name: 'an account missing and one with other grants on the replica',
    check: 'mariadb.accounts-drift',
    snap: () => patch('source', { users: [...mariadbFacts('source').users.map((u) => (u.user === 'app' ? { ...u, grantsDigest: 'g-app-2' } : u)), { user: 'report', host: '10.0.1.%', plugin: null, privileges: ['SELECT'], grantsDigest: 'g-r' }] }),
    want: [
      { subject: 'account=app@10.0.0.%', status: 'warning-fixable', plan: [{ action: 'app', node: 'target', app: 'mariadb', op: 'apply-accounts', params: { port: 3306, accounts: ['app@10.0.0.%'], binlog: false }, before: 'different grants' }] },
      { subject: 'account=report@10.0.1.%', status: 'warning-fixable', plan: [{ op: 'apply-accounts', before: 'missing' }] },
    ],
  },
  {
    name: 'Galera and Orchestrator',
    check: 'mariadb.cluster-managed',
    snap: () => {
      const s = patch('source', { cluster: { kind: 'galera', manager: null } });
      return { ...s, source: { ...s.source!, services: [...s.source!.services!, { name: 'orchestrator.service', state: 'running', startMode: 'auto', account: null, definitionDigest: null, definition: null, dependencies: [] }] } };
    },
    want: [
      { subject: 'cluster=galera', status: 'error-manual', side: 'source' },
      { subject: 'cluster=orchestrator', status: 'error-manual', guidance: /cluster level/ },
    ],
  },
];

describe('mariadb checks', () => {
  it('finds nothing on a healthy replication pair', () => {
    const results = evaluateChecks(mariadbChecks, mariadbSnapshot());
    expect(results.filter((r) => r.status !== 'good').map((r) => [r.checkId, r.unknown?.reason ?? r.findings.map((f) => f.message)])).toEqual([]);
    expect(results.map((r) => r.checkId)).not.toContain('mariadb.datadir-path-missing-on-target');
  });

  it.each(rows)('$check: $name', (row) => {
    const { actual, expected } = appRowOutcome(mariadbChecks, row);
    expect(actual).toEqual(expected);
  });

  it('is good after the persisted values are read back', () => {
    const drifted = withFacts(vars('target', { sql_mode: 'NO_ENGINE_SUBSTITUTION', time_zone: '+01:00' }), { target: { hw: { memoryBytes: 8 * 2 ** 30 } } });
    const written: Record<string, string> = {};
    for (const f of evaluateChecks([byId('mariadb.settings-drift')], drifted)[0]!.findings) for (const a of f.plan!) if (a.action === 'app') Object.assign(written, a.params.settings);
    const t = drifted.target!.apps.mariadb as MariadbFacts;
    const fixed = patch('target', { variables: { ...t.variables, ...written } }, drifted);
    expect(evaluateChecks([byId('mariadb.settings-drift')], fixed)[0]!.status).toBe('good');
  });

  it('reads account hosts as MySQL does, and never counts % as restricted', () => {
    expect(hostRestrictedTo('10.0.0.20', '10.0.0.20')).toBe(true);
    expect(hostRestrictedTo('10.0.0.%', '10.0.0.20')).toBe(true);
    expect(hostRestrictedTo('10.0.0.0/255.255.255.0', '10.0.0.20')).toBe(true);
    expect(hostRestrictedTo('10.0.1.%', '10.0.0.20')).toBe(false);
    expect(hostRestrictedTo('%', '10.0.0.20')).toBe(false);
  });

  it('is unknown, never a crash, when MariaDB facts are missing or malformed', () => {
    const s = mariadbSnapshot();
    const missing = { ...s, target: { ...s.target!, apps: {}, failures: { mariadb: 'Access denied for user tandem' } } };
    const results = evaluateChecks(mariadbChecks, missing);
    const needsTarget = results.filter((r) => byId(r.checkId).facts.includes('T.app.mariadb'));
    expect(needsTarget.length).toBeGreaterThan(5);
    for (const r of needsTarget) {
      expect(r.status).toBe('unknown');
      expect(r.unknown?.reason).toMatch(/Access denied/);
    }
    const malformed = { ...s, target: { ...s.target!, apps: { mariadb: { flavour: 'oracle' } } } };
    const [r] = evaluateChecks([byId('mariadb.settings-drift')], malformed);
    expect(r!.status).toBe('unknown');
    expect(r!.unknown?.reason).toMatch(/not in the expected form/);
  });
});
