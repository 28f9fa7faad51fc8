// PostgreSQL streaming replication with two real, temporary PostgreSQL 15 clusters on loopback:
// A (source) and B (an existing target that gets replaced). prepareSource on A (with a restart for
// wal_log_hints) → cloneTarget B → rows flow A→B; status on both sides; promote B; rewind A into a
// standby of B → rows flow B→A; then a forced re-clone of A. Secrets: the password is only in
// postgresql.auto.conf files (0600), nowhere else under the clusters' root, and no .pgpass is left.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PostgresReplicationError,
  cloneTarget,
  prepareSource,
  promote,
  replicationStatus,
  rewindCapability,
  rewindOrReclone,
  scramVerifier,
} from '../../apps/agent/src/replication/postgresql/index.ts';
import { ClusterRoot, filesContaining, freePort, waitFor, type TempCluster } from './support/postgresql/cluster.ts';
import { REPL_USER as USER, SLOT_TO_A as SLOT_A, SLOT_TO_B as SLOT_B, passwordFragment, standbyOf, trickyPassword } from './support/postgresql/pair.ts';

const PASSWORD = trickyPassword('s3cr');

const roots = new ClusterRoot();
let A: TempCluster;
let B: TempCluster;
let oldB: string;
const pgpassDirsBefore = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('tandem-pgpass-')));

beforeAll(async () => {
  [A, B] = await Promise.all([roots.create('a'), roots.create('b')]);
  A.psql('CREATE TABLE t (id int PRIMARY KEY, v text)');
  B.psql('CREATE TABLE only_on_old_b (x int)');
});

afterAll(() => {
  roots.stopAll();
});

const count = (c: TempCluster, where = 'true') => Number(c.psql(`SELECT count(*) FROM t WHERE ${where}`));

describe('PostgreSQL streaming replication (two real clusters on loopback)', () => {
  it('rejects bad input with readable errors that never echo the password', async () => {
    const bad = [
      prepareSource({ dataDir: 'relative/dir', replicationUser: USER, password: PASSWORD, slotName: SLOT_B, targetAddress: '127.0.0.1' }),
      prepareSource({ dataDir: A.dataDir, replicationUser: USER, password: PASSWORD, slotName: 'Bad-Slot', targetAddress: '127.0.0.1' }),
      prepareSource({ dataDir: A.dataDir, replicationUser: USER, password: `${PASSWORD}\n`, slotName: SLOT_B, targetAddress: '127.0.0.1' }),
      prepareSource({ dataDir: A.dataDir, replicationUser: USER, password: PASSWORD, slotName: SLOT_B, targetAddress: 'not-an-ip' }),
      prepareSource({ replicationUser: USER, slotName: SLOT_B, targetAddress: '127.0.0.1' }),
      cloneTarget({ dataDir: B.dataDir, port: A.port, source: { host: '127.0.0.1', port: A.port }, replicationUser: USER, password: PASSWORD, slotName: SLOT_B }),
    ];
    const errors = await Promise.all(bad.map((p) => p.then(() => null, (e: unknown) => e)));
    for (const e of errors) {
      expect(e).toBeInstanceOf(PostgresReplicationError);
      expect((e as Error).message).not.toContain(PASSWORD.slice(0, 6));
    }
    expect((errors[0] as PostgresReplicationError).code).toBe('invalid-input');
    expect((errors[1] as Error).message).toMatch(/slotName/);
    expect((errors[3] as Error).message).toMatch(/IP address or CIDR/);
    expect((errors[4] as Error).message).toMatch(/dataDir, or port and socketDir/);
    expect((errors[5] as PostgresReplicationError).code).toBe('unsafe'); // The "target" is the source itself.
  });

  it('computes the SCRAM verifier PostgreSQL would store, and reads rewind capability from pg_controldata', () => {
    const salt = Buffer.from('0123456789abcdef');
    expect(scramVerifier('pencil', salt, 4096)).toMatch(/^SCRAM-SHA-256\$4096:MDEyMzQ1Njc4OWFiY2RlZg==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(rewindCapability('Database cluster state:               shut down\nwal_log_hints setting:                off\nData page checksum version:           0\n')).toMatchObject({
      possible: false,
      clusterState: 'shut down',
    });
    expect(rewindCapability('wal_log_hints setting: on\nData page checksum version: 0\n').possible).toBe(true);
    expect(rewindCapability('wal_log_hints setting: off\nData page checksum version: 1\n')).toMatchObject({ possible: true, dataChecksums: true });
  });

  it('prepareSource: role, slot, pg_hba entries; reports the restart wal_log_hints needs, restarts when allowed; idempotent', async () => {
    const base = { dataDir: A.dataDir, replicationUser: USER, password: PASSWORD, slotName: SLOT_B, targetAddress: '127.0.0.1', walLogHints: true, walKeepSizeMB: 128 };
    const first = await prepareSource(base);
    expect(first.role).toEqual({ name: USER, created: true, altered: false, passwordChanged: true });
    expect(first.slot).toEqual({ name: SLOT_B, created: true });
    expect(first.changedSettings).toEqual([
      { name: 'wal_log_hints', from: 'off', to: 'on', needsRestart: true },
      { name: 'wal_keep_size', from: '0MB', to: '128MB', needsRestart: false },
    ]);
    expect(first.restartRequired).toBe(true);
    expect(first.restarted).toBe(false);
    expect(first.ready).toBe(true); // Streaming itself needs no restart (PG 15 defaults).
    expect(first.rewindCapable).toBe(false);
    expect(first.hba.changed).toBe(true);
    expect(A.psql(`SELECT setting FROM pg_settings WHERE name = 'wal_log_hints'`)).toBe('off');
    expect(A.psql(`SELECT pending_restart FROM pg_settings WHERE name = 'wal_log_hints'`)).toBe('t');
    expect(A.psql(`SHOW wal_keep_size`)).toBe('128MB'); // Applied by the reload.

    const second = await prepareSource({ ...base, allowRestart: true });
    expect(second.restarted).toBe(true);
    expect(second.changedSettings.map((c) => c.name)).toEqual(['wal_log_hints']);
    expect(second.restartRequired).toBe(false);
    expect(second.rewindCapable).toBe(true);
    expect(second.role).toEqual({ name: USER, created: false, altered: false, passwordChanged: false });
    expect(second.slot).toEqual({ name: SLOT_B, created: false });
    expect(second.hba.changed).toBe(false);
    expect(A.psql(`SHOW wal_log_hints`)).toBe('on');

    const third = await prepareSource(base);
    expect(third).toMatchObject({ changedSettings: [], restartRequired: false, restarted: false, ready: true, hba: { changed: false } });

    // The role logs in over TCP with the password (so the verifier we computed is right), and the
    // hba entries are in place once each, before the first rule.
    expect(A.psqlTcp(USER, PASSWORD, 'SELECT current_user')).toBe(USER);
    const hba = readFileSync(path.join(A.dataDir, 'pg_hba.conf'), 'utf8').split('\n');
    expect(hba.filter((l) => l.includes(`# tandem-replication slot=${SLOT_B}`))).toHaveLength(1);
    expect(hba.filter((l) => l.includes(`# tandem-rewind slot=${SLOT_B}`))).toHaveLength(1);
    const firstRule = hba.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    expect(hba[firstRule]).toMatch(/^host\s+replication\s+tandem_repl\s+127\.0\.0\.1\/32\s+scram-sha-256/);
    expect(A.psql(`SELECT rolreplication AND rolcanlogin AND NOT rolsuper FROM pg_roles WHERE rolname = '${USER}'`)).toBe('t');
    expect(A.psql(`SELECT slot_type FROM pg_replication_slots WHERE slot_name = '${SLOT_B}'`)).toBe('physical');
  });

  it('cloneTarget: the old target is moved aside, the new one is a streaming hot standby', async () => {
    const res = await cloneTarget({ ...standbyOf(B, A, PASSWORD, SLOT_B), port: B.port });
    expect(res).toMatchObject({ inRecovery: true, streaming: true, stoppedPreviousServer: true, port: B.port });
    expect(res.movedAsideTo).toMatch(new RegExp(`^${B.dataDir}\\.tandem-old-\\d{8}T\\d{6}Z$`));
    expect(existsSync(path.join(res.movedAsideTo!, 'PG_VERSION'))).toBe(true);
    oldB = res.movedAsideTo!;
    expect(existsSync(path.join(B.dataDir, 'standby.signal'))).toBe(true);
    const auto = path.join(B.dataDir, 'postgresql.auto.conf');
    expect(statSync(auto).mode & 0o777).toBe(0o600);
    expect(readFileSync(auto, 'utf8')).toMatch(new RegExp(`^primary_slot_name = '${SLOT_B}'$`, 'm'));
    expect(B.psql('SELECT pg_is_in_recovery()')).toBe('t');
    expect(B.psql(`SELECT count(*) FROM pg_class WHERE relname = 'only_on_old_b'`)).toBe('0');
    expect(A.psql(`SELECT active FROM pg_replication_slots WHERE slot_name = '${SLOT_B}'`)).toBe('t');
  });

  it('rows written on the source appear on the standby; status reports lag on both sides', async () => {
    A.psql(`INSERT INTO t SELECT g, 'from A' FROM generate_series(1, 500) g`);
    await waitFor('rows on B', () => count(B) === 500);

    const primary = await replicationStatus({ instance: { dataDir: A.dataDir } });
    expect(primary.role).toBe('primary');
    expect(primary.primary!.currentLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const s = primary.standbys.find((x) => x.applicationName === SLOT_B);
    expect(s).toMatchObject({ clientAddr: '127.0.0.1', state: 'streaming', user: USER });
    expect(s!.lagBytes).toBeGreaterThanOrEqual(0);
    expect(typeof s!.lagSeconds === 'number' || s!.lagBytes! > 0).toBe(true);
    expect(primary.slots.find((x) => x.name === SLOT_B)).toMatchObject({ active: true });

    const standby = await replicationStatus({ instance: { port: B.port, socketDir: B.socketDir } });
    expect(standby.role).toBe('standby');
    expect(standby.dataDir).toBe(B.dataDir);
    expect(standby.standby!.receiveLsn).toMatch(/\//);
    expect(standby.standby!.replayLsn).toMatch(/\//);
    expect(standby.standby!.lastReplayTimestamp).not.toBeNull();
    expect(standby.standby!.receiver).toMatchObject({ status: 'streaming', senderPort: A.port, slotName: SLOT_B });
    expect(typeof standby.standby!.lagBytes).toBe('number');
    // Caught up and idle: lag seconds is 0 (not the growing age of the last commit).
    await waitFor('the standby to report zero lag', async () => {
      const st = await replicationStatus({ instance: { dataDir: B.dataDir } });
      return st.standby!.lagBytes === 0 && st.standby!.lagSeconds === 0;
    });
  });

  it('promote: the standby becomes a writable primary on a new timeline', async () => {
    const res = await promote({ instance: { dataDir: B.dataDir } });
    expect(res).toMatchObject({ promoted: true, alreadyPrimary: false });
    expect(res.timeline).toBe(2);
    B.psql(`INSERT INTO t VALUES (1001, 'from B')`);
    expect(count(B)).toBe(501);
    expect(await promote({ instance: { dataDir: B.dataDir } })).toMatchObject({ promoted: false, alreadyPrimary: true });
  });

  it('rewindOrReclone: the old primary is rewound into a standby of the new primary', async () => {
    // Split brain: the old primary took a write after the promotion; the rewind discards it.
    A.psql(`INSERT INTO t VALUES (9999, 'lost on A')`);
    const res = await rewindOrReclone(standbyOf(A, B, PASSWORD, SLOT_A));
    expect(res).toMatchObject({ method: 'rewind', rewindSkipped: null, rewindError: null, inRecovery: true, streaming: true, stoppedPreviousServer: true, port: A.port, slotCreated: true });
    expect(A.psql('SELECT pg_is_in_recovery()')).toBe('t');
    expect(count(A, 'id = 9999')).toBe(0);
    // A keeps its own configuration (its port in its own auto.conf), with the standby settings.
    expect(readFileSync(path.join(A.dataDir, 'postgresql.auto.conf'), 'utf8')).toMatch(new RegExp(`^port = '${A.port}'$`, 'm'));
    expect(res.warnings).toEqual([]);

    B.psql(`INSERT INTO t SELECT g, 'from new primary' FROM generate_series(2001, 2100) g`);
    await waitFor('rows from B on A', () => count(A) === 601);
    const st = await replicationStatus({ instance: { dataDir: B.dataDir } });
    expect(st.standbys.map((s) => s.applicationName)).toContain(SLOT_A);
    const sa = await replicationStatus({ instance: { dataDir: A.dataDir } });
    expect(sa).toMatchObject({ role: 'standby', timeline: 2 });
  });

  it('rewindOrReclone in reclone mode: base backup from the new primary, the old directory kept', async () => {
    const res = await rewindOrReclone({
      dataDir: A.dataDir,
      source: { host: '127.0.0.1', port: B.port },
      replicationUser: USER,
      password: PASSWORD,
      slotName: SLOT_A,
      mode: 'reclone',
    });
    expect(res).toMatchObject({ method: 'reclone', rewindSkipped: 'mode reclone', inRecovery: true, streaming: true, port: A.port });
    expect(existsSync(path.join(res.movedAsideTo!, 'PG_VERSION'))).toBe(true);
    B.psql(`INSERT INTO t VALUES (3001, 'after reclone')`);
    await waitFor('rows from B on re-cloned A', () => count(A) === 602);
  });

  it('rewindOrReclone in rewind mode refuses clearly when the old primary has neither checksums nor wal_log_hints', async () => {
    // The moved-aside original B: a plain initdb without either.
    const err: unknown = await rewindOrReclone({
      dataDir: oldB,
      port: await freePort(),
      source: { host: '127.0.0.1', port: B.port },
      replicationUser: USER,
      password: PASSWORD,
      slotName: 'tandem_unused',
      mode: 'rewind',
      createSlot: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresReplicationError);
    expect((err as PostgresReplicationError).code).toBe('unsupported');
    expect((err as Error).message).toMatch(/data checksums or wal_log_hints/);
    expect(existsSync(path.join(oldB, 'PG_VERSION'))).toBe(true); // Untouched.
  });

  it('the password is only in postgresql.auto.conf (0600); no password file is left behind', () => {
    // A fragment no escaping layer changes (conf files double quotes and backslashes).
    const hits = filesContaining(roots.root, passwordFragment());
    expect(hits.length).toBeGreaterThan(0);
    for (const f of hits) {
      expect(path.basename(f), f).toBe('postgresql.auto.conf');
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    const pgpassDirs = readdirSync(tmpdir()).filter((n) => n.startsWith('tandem-pgpass-') && !pgpassDirsBefore.has(n));
    expect(pgpassDirs).toEqual([]);
  });
});
