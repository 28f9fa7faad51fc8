// PostgreSQL streaming replication driven through the control path: one gateway, two bundled
// tandem-agent processes (servers "a" and "b" on this machine), each owning one real temporary
// PostgreSQL 15 cluster on loopback, and the postgresql.* actions sent through Redis (AgentBus)
// as the control plane would, with the command timeouts postgresqlCommandTimeoutMs gives.
// Flow: bad input refused (nothing changes) → prepare-source on A → clone-standby on B → rows
// flow A→B → status on both sides reports lag in bytes and seconds (replay paused on B), then
// zero → promote B → prepare-source on B → rewind-or-reclone A into a standby of B → rows flow B→A.
// The password never shows in an error message or in either agent's log.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError } from '@tandem/agent-bus';
import { actionResults, postgresqlCommandTimeoutMs, type actionArgs, type ActionName, type ActionResult } from '@tandem/protocol';
import type { z } from 'zod';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import { ClusterRoot, filesContaining, waitFor, type TempCluster } from './support/postgresql/cluster.ts';
import { REPL_USER as USER, SLOT_TO_A as SLOT_A, SLOT_TO_B as SLOT_B, passwordFragment, standbyOf, trickyPassword } from './support/postgresql/pair.ts';
import { ReplicationHarness, type Enrolled } from './support/replication/agents.ts';

// Through JSON, Redis, the gateway and the agent's parsing too.
const PASSWORD = trickyPassword('ag');

const h = new ReplicationHarness('pgrepl');
const roots = new ClusterRoot();
let A: TempCluster;
let B: TempCluster;
let agentA: Enrolled;
let agentB: Enrolled;
const pgpassDirsBefore = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('tandem-pgpass-')));

beforeAll(async () => {
  await h.setup();
  [A, B] = await Promise.all([roots.create('a'), roots.create('b')]);
  A.psql('CREATE TABLE t (id int PRIMARY KEY, v text)');
  B.psql('CREATE TABLE only_on_old_b (x int)');
  agentA = await h.enrolAndRun('pg-a');
  agentB = await h.enrolAndRun('pg-b');
  await Promise.all([h.online(agentA.agentId), h.online(agentB.agentId)]);
}, 120_000);

afterAll(async () => {
  roots.stopAll();
  await h.teardown();
});

/** Sends a postgresql.* action with the command timeout the protocol recommends for it; checks the result against the protocol. */
async function send<A extends Extract<ActionName, `postgresql.${string}`>>(agent: Enrolled, action: A, args: z.input<(typeof actionArgs)[A]>): Promise<ActionResult<A>> {
  const result = await h.bus.send(agent.agentId, action, args, { timeoutMs: postgresqlCommandTimeoutMs(action, args) });
  return actionResults[action].parse(result) as ActionResult<A>;
}
const rejection = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);
const count = (c: TempCluster, where = 'true') => Number(c.psql(`SELECT count(*) FROM t WHERE ${where}`));
const logs = () => `--- agent a ---\n${agentA.handle.output().slice(-3000)}\n--- agent b ---\n${agentB.handle.output().slice(-3000)}`;

describe('PostgreSQL streaming replication through real agents and the bus', () => {
  it('refuses bad input with a clear message and changes nothing', async () => {
    const good = { dataDir: A.dataDir, replicationUser: USER, password: PASSWORD, slotName: SLOT_B, targetAddress: '127.0.0.1' };
    // Schema violations are refused before anything is sent…
    const bad = await rejection(send(agentA, 'postgresql.prepare-source', { ...good, slotName: 'Bad-Slot' }));
    expect(bad).toBeInstanceOf(CommandError);
    expect((bad as CommandError).code).toBe('bad_args');
    expect(bad!.message).toMatch(/slotName/);
    expect(bad!.message).toMatch(/lowercase letters/);
    // …and by the agent itself, with the same schema, should a sender not check.
    await expect(runAction('postgresql.prepare-source', { ...good, targetAddress: 'not-an-ip', password: `${PASSWORD}\n` }, { hooksDir: tmpdir() })).rejects.toThrow(
      /^Invalid arguments for postgresql\.prepare-source: "password": cannot contain NUL or line breaks; "targetAddress": must be an IP address or CIDR/,
    );
    // Valid arguments the agent refuses: a data directory that is not one; a standby of itself.
    const notPg = await rejection(send(agentA, 'postgresql.prepare-source', { ...good, dataDir: `${roots.root}/nothing-here` }));
    expect(notPg!.message).toMatch(/^failed: postgresql\.prepare-source failed \(invalid-input\): .*is not a PostgreSQL data directory/);
    const itself = await rejection(
      send(agentB, 'postgresql.clone-standby', { dataDir: B.dataDir, port: B.port, source: { host: '127.0.0.1', port: B.port }, replicationUser: USER, password: PASSWORD, slotName: SLOT_B }),
    );
    expect(itself!.message).toMatch(/^failed: postgresql\.clone-standby failed \(unsafe\): cloneTarget: the source is this very server/);
    for (const e of [bad, notPg, itself]) expect(e!.message).not.toContain(passwordFragment());

    // Nothing changed: no role or slot on A, B still a primary with its own table, nothing moved aside.
    expect(A.psql(`SELECT count(*) FROM pg_roles WHERE rolname = '${USER}'`)).toBe('0');
    expect(A.psql('SELECT count(*) FROM pg_replication_slots')).toBe('0');
    expect(B.psql('SELECT pg_is_in_recovery()')).toBe('f');
    expect(B.psql(`SELECT count(*) FROM pg_class WHERE relname = 'only_on_old_b'`)).toBe('1');
    expect(readdirSync(roots.root).filter((n) => n.includes('tandem-old'))).toEqual([]);
  });

  it('prepare source → clone standby → rows flow → lag → promote → rewind the old primary', { timeout: 180_000 }, async () => {
    // Prepare A (wal_log_hints needs the restart allowRestart permits: A stays rewindable).
    const prepared = await send(agentA, 'postgresql.prepare-source', {
      dataDir: A.dataDir,
      replicationUser: USER,
      password: PASSWORD,
      slotName: SLOT_B,
      targetAddress: '127.0.0.1',
      walLogHints: true,
      walKeepSizeMB: 64,
      allowRestart: true,
    });
    expect(prepared, logs()).toMatchObject({ restarted: true, restartRequired: false, ready: true, rewindCapable: true, rewindGrants: true, slot: { name: SLOT_B, created: true } });
    expect(prepared.role).toEqual({ name: USER, created: true, altered: false, passwordChanged: true });

    // Clone B from A: the old B is moved aside, the new one streams.
    const cloned = await send(agentB, 'postgresql.clone-standby', { ...standbyOf(B, A, PASSWORD, SLOT_B), port: B.port });
    expect(cloned, logs()).toMatchObject({ inRecovery: true, streaming: true, stoppedPreviousServer: true, port: B.port, dataDir: B.dataDir });
    expect(cloned.movedAsideTo).toMatch(/\.tandem-old-\d{8}T\d{6}Z$/);

    A.psql(`INSERT INTO t SELECT g, 'from A' FROM generate_series(1, 300) g`);
    await waitFor('rows on B', () => count(B) === 300);

    // Lag: with replay paused on B, writes on A leave B behind in bytes and in seconds, on both sides.
    const status = (agent: Enrolled, c: TempCluster) => send(agent, 'postgresql.status', { instance: { dataDir: c.dataDir } });
    B.psql('SELECT pg_wal_replay_pause()');
    await new Promise((r) => setTimeout(r, 1100));
    A.psql(`INSERT INTO t SELECT g, 'while paused' FROM generate_series(301, 400) g`);
    const behind = await waitFor('B to receive what it does not replay', async () => {
      const st = await status(agentB, B);
      return st.standby!.lagBytes! > 0 ? st : null;
    });
    expect(behind).toMatchObject({ role: 'standby', dataDir: B.dataDir, standby: { receiver: { status: 'streaming', senderPort: A.port, slotName: SLOT_B } } });
    expect(behind.standby!.lagSeconds).toBeGreaterThanOrEqual(1);
    const primary = await status(agentA, A);
    expect(primary.role).toBe('primary');
    const seen = primary.standbys.find((s) => s.applicationName === SLOT_B);
    expect(seen).toMatchObject({ clientAddr: '127.0.0.1', state: 'streaming', user: USER });
    expect(seen!.lagBytes).toBeGreaterThan(0);
    expect(primary.slots.find((s) => s.name === SLOT_B)).toMatchObject({ active: true });
    B.psql('SELECT pg_wal_replay_resume()');
    await waitFor('zero lag on B', async () => {
      const st = await status(agentB, B);
      return st.standby!.lagBytes === 0 && st.standby!.lagSeconds === 0;
    });
    expect(count(B)).toBe(400);

    // Fail over to B.
    const promoted = await send(agentB, 'postgresql.promote', { instance: { port: B.port, socketDir: B.socketDir } });
    expect(promoted).toMatchObject({ promoted: true, alreadyPrimary: false, timeline: 2 });
    B.psql(`INSERT INTO t VALUES (1001, 'from B')`);

    // B now feeds A: its own slot and pg_hba entries (the role came from A, the password matches).
    const preparedB = await send(agentB, 'postgresql.prepare-source', { dataDir: B.dataDir, replicationUser: USER, password: PASSWORD, slotName: SLOT_A, targetAddress: '127.0.0.1' });
    expect(preparedB).toMatchObject({ inRecovery: false, ready: true, restartRequired: false, rewindCapable: true, slot: { name: SLOT_A, created: true } });
    expect(preparedB.role).toEqual({ name: USER, created: false, altered: false, passwordChanged: false });

    // A, the old primary, took a write after the promotion (split brain): the rewind discards it.
    A.psql(`INSERT INTO t VALUES (9999, 'lost on A')`);
    const rewound = await send(agentA, 'postgresql.rewind-or-reclone', standbyOf(A, B, PASSWORD, SLOT_A));
    expect(rewound, logs()).toMatchObject({ method: 'rewind', rewindSkipped: null, rewindError: null, inRecovery: true, streaming: true, stoppedPreviousServer: true, port: A.port });
    expect(count(A, 'id = 9999')).toBe(0);
    B.psql(`INSERT INTO t SELECT g, 'from new primary' FROM generate_series(2001, 2050) g`);
    await waitFor('rows from B on A', () => count(A) === 451);
    expect(await status(agentA, A)).toMatchObject({ role: 'standby', timeline: 2, standby: { receiver: { senderPort: B.port, slotName: SLOT_A } } });
    expect((await status(agentB, B)).standbys.map((s) => s.applicationName)).toContain(SLOT_A);
  });

  it('the password is in no agent log, only in postgresql.auto.conf files, and no password file is left behind', () => {
    for (const a of [agentA, agentB]) expect(a.handle.output()).not.toContain(passwordFragment());
    for (const f of filesContaining(roots.root, passwordFragment())) expect(f).toMatch(/\/postgresql\.auto\.conf$/);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('tandem-pgpass-') && !pgpassDirsBefore.has(n))).toEqual([]);
  });
});
