// MariaDB facts from a real, temporary MariaDB server (mariadb-install-db + mariadbd as the mysql
// user, on a free port with its own socket, binary log and server id), found by the agent through
// /proc and queried over the socket as root (unix_socket authentication).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApplicationFacts } from '@tandem/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectFacts } from '../../apps/agent/src/facts/index.ts';
import { defaultIO } from '../../apps/agent/src/facts/io.ts';
import { processSockets } from '../../apps/agent/src/facts/linux-proc.ts';
import { freePort } from './support/ports';

const root = mkdtempSync(path.join(tmpdir(), 'tandem-maria-'));
const dataDir = path.join(root, 'data');
const socket = path.join(root, 'mysql.sock');
const serverId = 4000 + (process.pid % 1000);
const dbName = `tandem_facts_${process.pid}`;
const userName = `tandem_u_${process.pid}`;
let port = 0;
let server: ChildProcess | undefined;


const client = (sql: string) =>
  execFileSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', '-e', sql], {
    encoding: 'utf8',
    timeout: 15_000,
  });

async function waitForServer(deadline: number) {
  for (;;) {
    try {
      execFileSync('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '-uroot', 'ping'], {
        stdio: 'ignore',
        timeout: 5_000,
      });
      return;
    } catch {
      if (Date.now() > deadline || server?.exitCode !== null)
        throw new Error(`mariadbd did not start (exit ${server?.exitCode})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  const uid = Number(execFileSync('id', ['-u', 'mysql'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'mysql'], { encoding: 'utf8' }));
  // The mysql user must reach and write the directory (socket, pid file, data).
  chmodSync(root, 0o755);
  chownSync(root, uid, gid);
  port = await freePort();
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', '--user=mysql', `--datadir=${dataDir}`, '--auth-root-authentication-method=socket', '--skip-test-db'],
    { stdio: 'ignore', timeout: 60_000 },
  );
  server = spawn(
    'mariadbd',
    [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${dataDir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${path.join(root, 'mariadbd.pid')}`,
      `--log-error=${path.join(root, 'error.log')}`,
      `--server-id=${serverId}`,
      '--log-bin=binlog',
      '--binlog-format=ROW',
      '--innodb-buffer-pool-size=32M',
    ],
    { stdio: 'ignore' },
  );
  await waitForServer(Date.now() + 30_000);
  client(`CREATE DATABASE ${dbName}; CREATE USER '${userName}'@'10.0.0.%' IDENTIFIED BY 'not-a-secret'`);
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    try {
      execFileSync('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '-uroot', 'shutdown'], {
        stdio: 'ignore',
        timeout: 20_000,
      });
    } catch {
      server.kill('SIGKILL');
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

describe('MariaDB facts (real temporary server)', () => {
  it('finds the running server with its port, version, server id, binary log, users and databases', async () => {
    const facts = await collectFacts({ capabilities: [], agentVersion: 'test', protocolVersion: 1, clockOffsetMs: null });
    expect(facts.applications.status).toBe('ok');
    const apps = facts.applications.status === 'ok' ? facts.applications.data : [];
    const mine = apps.find(
      (a): a is Extract<ApplicationFacts, { kind: 'mariadb' }> =>
        a.kind === 'mariadb' && a.dataDirectory === realpathSync(dataDir),
    );
    expect(mine, JSON.stringify(apps)).toBeDefined();
    expect(mine).toMatchObject({ flavor: 'mariadb', running: true, port, serverId, binlog: { enabled: true, format: 'ROW' } });
    expect(mine!.version).toMatch(/^\d+\.\d+\.\d+-MariaDB/);
    expect(mine!.users).toEqual(
      expect.arrayContaining([
        { user: 'root', host: 'localhost' },
        { user: userName, host: '10.0.0.%' },
      ]),
    );
    expect(mine!.databases).toEqual(expect.arrayContaining([dbName, 'mysql', 'information_schema']));
  });

  it('reports the server from its command line when the client cannot connect', async () => {
    const { runCommand } = await import('../../apps/agent/src/exec.ts');
    const facts = await collectFacts({
      capabilities: [],
      agentVersion: 'test',
      protocolVersion: 1,
      clockOffsetMs: null,
      run: (cmd, args, opts) =>
        /^(mariadb|mysql)$/.test(path.basename(cmd))
          ? Promise.reject(new Error('client: simulated failure'))
          : runCommand(cmd, args, opts),
    });
    const apps = facts.applications.status === 'ok' ? facts.applications.data : [];
    const mine = apps.find((a) => a.kind === 'mariadb' && a.dataDirectory === realpathSync(dataDir));
    expect(mine).toMatchObject({ kind: 'mariadb', flavor: 'mariadb', running: true, port });
    expect(mine).not.toHaveProperty('users');
    // The version comes from `mariadbd --version` instead.
    expect((mine as { version: string | null }).version).toMatch(/^\d+\.\d+\.\d+-MariaDB/);
  });

  it("finds a server's listening port and socket from /proc (used when the command line lacks them)", async () => {
    const sockets = await processSockets(defaultIO(), server!.pid!);
    expect(sockets.tcpPorts).toContain(port);
    expect(sockets.unixPaths).toContain(socket);
  });
});
