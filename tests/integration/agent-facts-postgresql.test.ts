// PostgreSQL facts from a real, temporary PostgreSQL 15 cluster: initdb'd and started as the
// postgres OS user on a free port with its own socket directory, found by the agent through
// /proc and postmaster.pid and queried over the socket as the data directory's owner.
import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApplicationFacts } from '@tandem/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectFacts } from '../../apps/agent/src/facts/index.ts';
import { freePort } from './support/ports';

const BIN = '/usr/lib/postgresql/15/bin';
const root = mkdtempSync(path.join(tmpdir(), 'tandem-pg-'));
const dataDir = path.join(root, 'data');
const socketDir = path.join(root, 'run');
const logFile = path.join(root, 'server.log');
const roleName = `tandem_repl_${process.pid}`;
const dbName = `tandem_facts_${process.pid}`;
let port = 0;
let started = false;


/** Runs a command as the postgres OS user. */
function asPostgres(cmd: string, args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', timeout: 30_000, cwd: '/' });
}

const psql = (sql: string) =>
  asPostgres(`${BIN}/psql`, [
    '-X',
    '-q',
    '-h',
    socketDir,
    '-p',
    String(port),
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    sql,
  ]);

beforeAll(async () => {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  chmodSync(root, 0o755);
  chownSync(root, uid, gid);
  mkdirSync(socketDir, { mode: 0o700 });
  chownSync(socketDir, uid, gid);
  port = await freePort();
  asPostgres(`${BIN}/initdb`, [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--auth-local=peer',
    '--auth-host=scram-sha-256',
    '--no-sync',
    '--no-instructions',
  ]);
  asPostgres(`${BIN}/pg_ctl`, [
    '-D',
    dataDir,
    '-l',
    logFile,
    '-w',
    '-t',
    '30',
    '-o',
    `-p ${port} -k ${socketDir} -c listen_addresses='' -c wal_level=logical -c max_wal_senders=7 -c hot_standby=off`,
    'start',
  ]);
  started = true;
  psql(`CREATE ROLE ${roleName} WITH LOGIN REPLICATION`);
  psql(`CREATE DATABASE ${dbName} OWNER ${roleName}`);
});

afterAll(() => {
  if (started) {
    try {
      asPostgres(`${BIN}/pg_ctl`, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already stopped.
    }
  }
  rmSync(root, { recursive: true, force: true });
});

describe('PostgreSQL facts (real temporary cluster)', () => {
  it('finds the running instance with its port, version, settings, roles and databases', async () => {
    const facts = await collectFacts({ capabilities: [], agentVersion: 'test', protocolVersion: 1, clockOffsetMs: null });
    expect(facts.applications.status).toBe('ok');
    const apps = facts.applications.status === 'ok' ? facts.applications.data : [];
    const mine = apps.find(
      (a): a is Extract<ApplicationFacts, { kind: 'postgresql' }> =>
        a.kind === 'postgresql' && a.dataDirectory === realpathSync(dataDir),
    );
    expect(mine, JSON.stringify(apps)).toBeDefined();
    expect(mine).toMatchObject({ running: true, port });
    expect(mine!.version).toMatch(/^15\.\d+/);
    expect(mine!.settings).toMatchObject({
      port: String(port),
      data_directory: dataDir,
      wal_level: 'logical',
      max_wal_senders: '7',
      hot_standby: 'off',
      archive_mode: 'off',
      listen_addresses: '',
      in_recovery: 'off',
    });
    expect(mine!.settings!.server_version).toBe(mine!.version);
    expect(mine!.roles).toEqual(
      expect.arrayContaining([
        { name: 'postgres', superuser: true, replication: true, canLogin: true },
        { name: roleName, superuser: false, replication: true, canLogin: true },
      ]),
    );
    expect(mine!.roles!.some((r) => r.name.startsWith('pg_'))).toBe(false); // Built-in roles left out.
    const db = mine!.databases!.find((d) => d.name === dbName);
    expect(db?.sizeBytes).toBeGreaterThan(1_000_000);
    expect(mine!.databases!.map((d) => d.name)).toEqual(expect.arrayContaining(['postgres', 'template1', dbName]));
    // Only the postmaster is reported, not its backends.
    expect(apps.filter((a) => a.kind === 'postgresql' && a.dataDirectory === realpathSync(dataDir))).toHaveLength(1);
  });

  it('still reports the instance (without query data) when psql cannot run', async () => {
    const facts = await collectFacts({
      capabilities: [],
      agentVersion: 'test',
      protocolVersion: 1,
      clockOffsetMs: null,
      run: (cmd, args, opts) => {
        if (path.basename(cmd) === 'psql') return Promise.reject(new Error('psql: simulated failure'));
        return import('../../apps/agent/src/exec.ts').then((m) => m.runCommand(cmd, args, opts));
      },
    });
    const apps = facts.applications.status === 'ok' ? facts.applications.data : [];
    const mine = apps.find((a) => a.kind === 'postgresql' && a.dataDirectory === realpathSync(dataDir));
    expect(mine).toEqual({ kind: 'postgresql', version: '15', dataDirectory: realpathSync(dataDir), port, running: true });
  });
});
