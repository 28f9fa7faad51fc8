// PostgreSQL parity with two real PostgreSQL 15 instances (support/postgresql/cluster.ts): the
// deep facts the validation catalogue compares (the postgres section of validate.facts, asked of
// a real agent process) show the differences made on the source
// (settings of user, sighup-free and postmaster context, roles with memberships, extensions in
// two databases, a slot), and postgresql.set-settings through a real agent process makes the
// target's settings equal: reload only when that suffices, a restart only when allowed (refused
// otherwise, changing nothing), already-satisfied the second time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asPostgres, ClusterRoot, PG_BIN, postgresGid, postgresUid, type TempCluster } from './support/postgresql/cluster';
import { ReplicationHarness, type Enrolled } from './support/replication/agents';

const PARITY = ['max_connections', 'statement_timeout', 'timezone'] as const;
const SECRET = `conn-secret-${process.pid}`;

let root: ClusterRoot;
let src: TempCluster;
let tgt: TempCluster;
let h: ReplicationHarness;
let agent: Enrolled;

/** The postgres section of the agent's validate.facts (the other collectors asked for nothing). */
const collect = async (c: { port: number; dataDir: string } | null) =>
  (await h.bus.send(agent.agentId, 'validate.facts', { paths: [], ports: [], services: [], openFilesUnder: [], postgres: c && { port: c.port, dataDir: c.dataDir }, apps: [] }, { timeoutMs: 120_000 })).postgres;
const facts = async (c: TempCluster) => {
  const r = await collect(c);
  if (r.status !== 'ok' || r.data === null) throw new Error(`no facts: ${JSON.stringify(r)}`);
  return r.data;
};
const setting = (f: Awaited<ReturnType<typeof facts>>, name: string) => f.settings.find((s) => s.name === name);
const postmasterPid = (c: TempCluster) => Number(readFileSync(path.join(c.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

beforeAll(async () => {
  root = new ClusterRoot();
  src = await root.create('src');
  tgt = await root.create('tgt');
  // The source differs: a user-context and a time-zone setting, a postmaster-context one (restart).
  src.psql(`ALTER SYSTEM SET max_connections = 120`);
  asPostgres(`${PG_BIN}/pg_ctl`, ['restart', '-D', src.dataDir, '-m', 'fast', '-w', '-t', '60', '-l', src.logFile]);
  src.psql(`ALTER SYSTEM SET statement_timeout = '45s'`);
  src.psql(`ALTER SYSTEM SET timezone = 'Europe/Paris'`);
  src.psql('SELECT pg_reload_conf()');
  src.psql('CREATE ROLE app_readers NOLOGIN');
  src.psql('CREATE ROLE app_owner LOGIN CREATEROLE IN ROLE app_readers');
  src.psql('CREATE DATABASE appdb OWNER app_owner');
  asPostgres(`${PG_BIN}/psql`, ['-X', '-q', '-h', src.socketDir, '-p', String(src.port), '-d', 'appdb', '-c', 'CREATE EXTENSION pg_trgm']);
  src.psql('CREATE EXTENSION hstore');
  src.psql(`SELECT pg_create_physical_replication_slot('tandem_parity')`);
  // A conninfo with a password on the target: the facts must never carry it.
  tgt.psql(`ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=5432 user=tandem_repl password=${SECRET}'`);
  tgt.psql('SELECT pg_reload_conf()');
  h = new ReplicationHarness('pgparity');
  await h.setup();
  agent = await h.enrolAndRun('target');
  await h.online(agent.agentId);
}, 180_000);

afterAll(async () => {
  await h?.teardown();
  root?.stopAll();
});

describe('PostgreSQL deep facts and postgresql.set-settings (two real instances, a real agent)', () => {
  it('the facts show what differs: settings, roles with memberships, extensions per database, slots; and what is the same build', async () => {
    await expect.poll(async () => setting(await facts(src), 'timezone')?.setting).toBe('Europe/Paris');
    const [s, t] = [await facts(src), await facts(tgt)];
    for (const f of [s, t]) {
      expect(f).toMatchObject({ running: true, inRecovery: false, timeline: 1, managedBy: null, osUser: { name: 'postgres', uid: postgresUid(), gid: postgresGid() } });
      expect(f.versionNum).toBeGreaterThanOrEqual(150000);
      expect(f.version).toMatch(/^15\.\d+/);
      expect(f.walDir).toBe(path.join(f.dataDir, 'pg_wal'));
      expect(f.controlData['Database block size']).toBe('8192');
      expect(f.systemId).toBe(f.controlData['Database system identifier']);
      expect(f.hba).toContainEqual({ type: 'host', database: ['all'], user: ['all'], address: '127.0.0.1/32', method: 'scram-sha-256' });
      expect(f.availableExtensions.map((e) => e.name)).toEqual(expect.arrayContaining(['pg_trgm', 'hstore', 'plpgsql']));
      expect(f.libcVersion).toMatch(/^\d+\.\d+/);
      expect(f.settings.length).toBeGreaterThan(300);
    }
    expect(s.port).toBe(src.port);
    expect(s.systemId).not.toBe(t.systemId);
    expect(setting(s, 'max_connections')).toEqual({ name: 'max_connections', setting: '120', unit: null, source: 'configuration file', context: 'postmaster', sourcefile: path.join(src.dataDir, 'postgresql.auto.conf') });
    expect(setting(t, 'max_connections')).toMatchObject({ setting: '100', context: 'postmaster' });
    expect(setting(s, 'statement_timeout')).toMatchObject({ setting: '45000', unit: 'ms', context: 'user' });
    expect(setting(t, 'statement_timeout')).toMatchObject({ setting: '0', source: 'default' });
    expect(setting(t, 'timezone')?.setting).not.toBe('Europe/Paris');

    expect(s.roles).toContainEqual({ name: 'app_owner', superuser: false, replication: false, canLogin: true, createRole: true, memberOf: ['app_readers'] });
    expect(s.roles).toContainEqual({ name: 'app_readers', superuser: false, replication: false, canLogin: false, createRole: false, memberOf: [] });
    expect(t.roles.map((r) => r.name)).toEqual(['postgres']);

    expect(s.extensions).toEqual(expect.arrayContaining([expect.objectContaining({ database: 'appdb', name: 'pg_trgm' }), expect.objectContaining({ database: 'postgres', name: 'hstore' })]));
    expect(t.extensions.map((e) => `${e.database}/${e.name}`).sort()).toEqual(['postgres/plpgsql']);
    expect(s.slots).toEqual([{ name: 'tandem_parity', type: 'physical', active: false, walStatus: null }]);
    expect(t.slots).toEqual([]);
    expect(s.replication).toEqual([]);

    // The target's conninfo is there, its password is not (anywhere in the facts).
    expect(t.primaryConninfo).toMatch(/^host=127\.0\.0\.1 .*password=\*+$/);
    expect(JSON.stringify(t)).not.toContain(SECRET);
    expect(s.primaryConninfo).toBeNull();
  }, 90_000);

  it('a stopped instance: what the control file says (system id, timeline, build), nothing from the server', async () => {
    const down = await root.create('down');
    asPostgres(`${PG_BIN}/pg_ctl`, ['stop', '-D', down.dataDir, '-m', 'fast', '-w']);
    const r = await collect(down);
    expect(r.status).toBe('ok');
    const f = r.status === 'ok' ? r.data! : null;
    expect(f).toMatchObject({ running: false, versionNum: null, version: null, inRecovery: null, timeline: 1, settings: [], roles: [], extensions: [], osUser: { name: 'postgres' } });
    expect(f!.controlData['Database cluster state']).toBe('shut down');
    expect(f!.systemId).toMatch(/^\d+$/);
  }, 90_000);

  it('an unknown data directory is unknown with the reason; none asked for is null', async () => {
    await expect(collect({ port: 1, dataDir: '/nonexistent/pgdata' })).resolves.toEqual({ status: 'unknown', reason: expect.stringMatching(/not a PostgreSQL data directory/) as unknown });
    await expect(collect(null)).resolves.toEqual({ status: 'ok', data: null });
  }, 90_000);

  it('set-settings through the agent: a restart not allowed is refused naming the setting, and nothing changes', async () => {
    const s = await facts(src);
    const wanted = Object.fromEntries(PARITY.map((n) => [n, setting(s, n)!.setting]));
    const before = await facts(tgt);
    await expect(h.bus.send(agent.agentId, 'postgresql.set-settings', { port: tgt.port, dataDir: tgt.dataDir, settings: wanted, allowRestart: false })).rejects.toThrow(/restart is needed for max_connections/);
    const after = await facts(tgt);
    for (const n of PARITY) expect(setting(after, n)).toEqual(setting(before, n));
    expect(readFileSync(path.join(tgt.dataDir, 'postgresql.auto.conf'), 'utf8')).not.toMatch(/statement_timeout|timezone|max_connections/);
  }, 90_000);

  it('set-settings through the agent: reload-only settings change without a restart, then a postmaster one with allowRestart restarts; again is already-satisfied', async () => {
    const s = await facts(src);
    const pid = postmasterPid(tgt);
    // Given the way an operator writes them: units and case need not match pg_settings.
    const reload = await h.bus.send(agent.agentId, 'postgresql.set-settings', { port: tgt.port, dataDir: tgt.dataDir, settings: { statement_timeout: '45s', timezone: 'europe/paris' }, allowRestart: false });
    expect(reload).toMatchObject({ outcome: 'changed', changed: ['statement_timeout', 'timezone'], restarted: false });
    expect(postmasterPid(tgt)).toBe(pid);

    const wanted = Object.fromEntries(PARITY.map((n) => [n, setting(s, n)!.setting]));
    const full = await h.bus.send(agent.agentId, 'postgresql.set-settings', { port: tgt.port, dataDir: tgt.dataDir, settings: wanted, allowRestart: true });
    expect(full).toMatchObject({ outcome: 'changed', changed: ['max_connections'], restarted: true });
    expect(full.detail).toContain('max_connections: 100 → 120');
    expect(postmasterPid(tgt)).not.toBe(pid);

    const t = await facts(tgt);
    expect(t.running).toBe(true);
    expect(t.port).toBe(tgt.port);
    for (const n of PARITY) expect(setting(t, n)?.setting).toBe(setting(s, n)?.setting);
    expect(setting(t, 'max_connections')?.source).toBe('configuration file');

    const again = await h.bus.send(agent.agentId, 'postgresql.set-settings', { port: tgt.port, dataDir: tgt.dataDir, settings: wanted, allowRestart: true });
    expect(again).toEqual({ outcome: 'already-satisfied', changed: [], restarted: false, detail: null });
    await expect(h.bus.send(agent.agentId, 'postgresql.set-settings', { port: tgt.port, dataDir: tgt.dataDir, settings: { no_such_setting: '1' }, allowRestart: false })).rejects.toThrow(/unknown settings: no_such_setting/);
  }, 90_000);
});
