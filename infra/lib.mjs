// Shared set-up for `npm start` and `npm test`.
// Plain Node (no npm dependencies) on purpose: it runs before `npm install` has happened.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const dataDir = path.join(root, '.data');

/** Fixed loopback ports, away from the defaults so a system PostgreSQL/Redis does not collide. */
export const ports = { postgres: 54329, redis: 63799, web: 3000, gateway: 3001, webTest: 3100, gatewayTest: 3101 };

const isRoot = process.getuid?.() === 0;

export function log(msg) {
  process.stdout.write(`\x1b[36m[tandem]\x1b[0m ${msg}\n`);
}

export function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}`);
  }
  return res;
}

function quiet(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', cwd: root, ...opts });
}

// ---------------------------------------------------------------------------------------------
// Debian packages

export function ensureAptPackages(pkgs) {
  const missing = pkgs.filter((p) => {
    const r = quiet('dpkg-query', ['-W', '-f=${Status}', p]);
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
  if (missing.length === 0) return;
  if (!isRoot) {
    throw new Error(
      `Missing Debian packages: ${missing.join(' ')}. Install them as root: apt-get install -y ${missing.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')} (once)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Packages must not start their system services (PostgreSQL, Redis, sshd on 0.0.0.0): we run our
  // own instances on loopback. Debian's hook for that is a policy-rc.d that answers 101.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy) fs.writeFileSync(policy, '#!/bin/sh\n# written by Tandem infra while installing packages\nexit 101\n', { mode: 0o755 });
  try {
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// npm packages and generated code

function newestMtime(files) {
  let newest = 0;
  for (const f of files) {
    try {
      newest = Math.max(newest, fs.statSync(path.join(root, f)).mtimeMs);
    } catch {
      /* a missing file is simply not newer */
    }
  }
  return newest;
}

export function ensureNpmPackages() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const manifests = ['package.json', 'package-lock.json', ...workspaceManifests()];
  const installed = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0;
  if (installed === 0 || newestMtime(manifests) > installed) {
    const hasLock = fs.existsSync(path.join(root, 'package-lock.json'));
    log(`installing npm packages (${hasLock ? 'npm ci' : 'npm install'})`);
    run('npm', [hasLock && installed === 0 ? 'ci' : 'install', '--no-audit', '--no-fund']);
  }
  ensurePrismaClient();
}

function workspaceManifests() {
  const out = [];
  for (const dir of ['apps', 'packages']) {
    for (const name of fs.readdirSync(path.join(root, dir))) {
      out.push(path.join(dir, name, 'package.json'));
    }
  }
  out.push('e2e/package.json');
  return out;
}

export function ensurePrismaClient() {
  const generated = path.join(root, 'packages/db/generated/prisma/client.ts');
  const schema = path.join(root, 'prisma/schema.prisma');
  if (fs.existsSync(generated) && fs.statSync(generated).mtimeMs >= fs.statSync(schema).mtimeMs) return;
  log('generating the Prisma client');
  run(process.execPath, [path.join(root, 'infra/prisma.mjs'), 'generate'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

// ---------------------------------------------------------------------------------------------
// Secrets kept across runs (so a second `npm start` keeps sessions and encrypted data readable)

export function localSecrets() {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'secrets.json');
  let secrets = {};
  if (fs.existsSync(file)) secrets = JSON.parse(fs.readFileSync(file, 'utf8'));
  const want = {
    authSecret: () => randomBytes(32).toString('base64url'),
    encryptionKey: () => randomBytes(32).toString('base64'),
    ownerPassword: () => randomBytes(18).toString('base64url'),
    appPassword: () => randomBytes(18).toString('base64url'),
    // Redis: the password of its one user, and the key that signs orders to agents on it.
    redisPassword: () => randomBytes(24).toString('hex'),
    busKey: () => randomBytes(32).toString('base64'),
  };
  let changed = false;
  for (const [k, make] of Object.entries(want)) {
    if (!secrets[k]) {
      secrets[k] = make();
      changed = true;
    }
  }
  if (changed) fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

// ---------------------------------------------------------------------------------------------
// Servers

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing answered on 127.0.0.1:${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export function portOpen(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function pgBin(name) {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`PostgreSQL's ${name} not found under ${base}`);
}

/** Runs a command as the given OS user when we are root (PostgreSQL refuses to run as root). */
function asUser(user, cmd, args, opts = {}) {
  if (isRoot) return quiet('runuser', ['-u', user, '--', cmd, ...args], opts);
  return quiet(cmd, args, opts);
}

function chownTo(user, dir) {
  // The real directory: `.data/<name>` may be a link to /var/lib/tandem, and chown -R leaves a link's target alone.
  if (isRoot) execFileSync('chown', ['-R', `${user}:`, fs.realpathSync(dir)]);
}

/**
 * Where a server run as another OS user keeps its files: `.data/<name>`, unless that user cannot
 * reach it (a checkout under a private home directory) or a socket path would be too long; then
 * a directory under /var/lib/tandem, linked from `.data/<name>`.
 */
function serviceDir(name, user) {
  fs.mkdirSync(dataDir, { recursive: true });
  const local = path.join(dataDir, name);
  const reachable = !isRoot || quiet('runuser', ['-u', user, '--', 'test', '-x', dataDir]).status === 0;
  if (reachable && local.length < 80) return local;
  const alt = path.join('/var/lib/tandem', createHash('sha256').update(root).digest('hex').slice(0, 12), name);
  fs.mkdirSync(alt, { recursive: true });
  for (let p = path.dirname(alt); p !== '/'; p = path.dirname(p)) fs.chmodSync(p, 0o755);
  if (!fs.existsSync(local)) fs.symlinkSync(alt, local);
  return alt;
}

// Resolved on first use: the OS users exist only once the Debian packages are installed.
const memo = (fn) => {
  let v;
  return () => (v ??= fn());
};
const pgDirOf = memo(() => serviceDir('postgres', 'postgres'));
const pgSocketDirOf = memo(() => serviceDir('run', 'postgres'));
const redisDirOf = memo(() => serviceDir('redis', 'redis'));

export function psqlSuper(sql, database = 'postgres') {
  const r = asUser('postgres', pgBin('psql'), [
    '-h', pgSocketDirOf(), '-p', String(ports.postgres), '-U', 'postgres', '-d', database,
    '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql,
  ]);
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function startPostgres() {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(pgSocketDirOf(), { recursive: true });
  chownTo('postgres', pgSocketDirOf());
  if (!fs.existsSync(path.join(pgDirOf(), 'PG_VERSION'))) {
    log('initialising PostgreSQL data directory in .data/postgres');
    fs.mkdirSync(pgDirOf(), { recursive: true });
    chownTo('postgres', pgDirOf());
    const r = asUser('postgres', pgBin('initdb'), [
      '-D', pgDirOf(), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8',
    ]);
    if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr}`);
  }
  if (await portOpen(ports.postgres)) return false;
  const opts = [
    `-p ${ports.postgres}`,
    `-c listen_addresses=127.0.0.1`,
    `-c unix_socket_directories=${pgSocketDirOf()}`,
    `-c max_connections=200`,
  ];
  if (process.env.TANDEM_FAST_PG === '1') {
    // Test runs only: durability does not matter, speed does.
    opts.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  }
  const r = asUser('postgres', pgBin('pg_ctl'), [
    '-D', pgDirOf(), '-l', path.join(pgDirOf(), 'server.log'), '-o', opts.join(' '), '-w', '-t', '60', 'start',
  ]);
  if (r.status !== 0) throw new Error(`PostgreSQL did not start: ${r.stderr || r.stdout}\nsee .data/postgres/server.log`);
  await waitForPort(ports.postgres, 30_000);
  return true;
}

function stopPostgres() {
  asUser('postgres', pgBin('pg_ctl'), ['-D', pgDirOf(), '-m', 'fast', '-w', 'stop']);
}


// Redis runs with authentication: the `default` user (no password) is switched off and one user,
// `tandem`, has the generated password (stored as its SHA-256 only, in the server's config).
const REDIS_USER = 'tandem';

function redisAclRules(password) {
  return [REDIS_USER, 'on', `#${createHash('sha256').update(password).digest('hex')}`, '~*', '&*', '+@all'];
}

/** redis-cli against our port, authenticated when a password is given (passed in the environment, not argv). */
function redisCli(args, password) {
  const auth = password ? ['--user', REDIS_USER, '--no-auth-warning'] : [];
  return quiet('redis-cli', ['-h', '127.0.0.1', '-p', String(ports.redis), ...auth, ...args], {
    env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
  });
}

const answers = (r, want) => r.status === 0 && r.stdout.trim() === want;

/**
 * A Redis already listening on our port: fine when our user gets in. One started before Redis
 * had authentication (no password) is given it now, without a restart: our user is added and
 * the password-less default user switched off.
 */
function ensureRedisAuth(password) {
  // WHOAMI, not PING: redis-cli carries on as the default user when its AUTH is refused.
  if (answers(redisCli(['ACL', 'WHOAMI'], password), REDIS_USER)) return;
  if (!answers(redisCli(['ACL', 'WHOAMI']), 'default')) {
    throw new Error(
      `Redis on 127.0.0.1:${ports.redis} refuses the password in .data/secrets.json. Stop it (npm run servers:down, or kill it) and try again, or set REDIS_URL.`,
    );
  }
  log('Redis was running without authentication: turning it on');
  const add = redisCli(['ACL', 'SETUSER', ...redisAclRules(password)]);
  if (!answers(add, 'OK')) throw new Error(`could not add the Redis user: ${add.stderr || add.stdout}`);
  const off = redisCli(['ACL', 'SETUSER', 'default', 'off'], password);
  if (!answers(off, 'OK')) throw new Error(`could not switch off Redis's default user: ${off.stderr || off.stdout}`);
}

async function startRedis(password) {
  fs.mkdirSync(redisDirOf(), { recursive: true });
  if (await portOpen(ports.redis)) {
    ensureRedisAuth(password);
    return false;
  }
  const user = isRoot ? 'redis' : null;
  // The users live in a config file readable by Redis alone (the password is in it only as a hash).
  const conf = path.join(redisDirOf(), 'auth.conf');
  fs.writeFileSync(conf, `user default off\nuser ${redisAclRules(password).join(' ')}\n`, { mode: 0o600 });
  if (user) chownTo(user, redisDirOf());
  const args = [
    conf,
    '--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(ports.redis),
    '--dir', redisDirOf(), '--pidfile', path.join(redisDirOf(), 'redis.pid'), '--logfile', path.join(redisDirOf(), 'redis.log'),
    // BullMQ must never lose jobs to eviction.
    '--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--save', '',
  ];
  const r = user ? asUser(user, 'redis-server', args) : quiet('redis-server', args);
  if (r.status !== 0) throw new Error(`Redis did not start: ${r.stderr || r.stdout}`);
  await waitForPort(ports.redis, 15_000);
  return true;
}

function stopRedis() {
  // With our password if we have one; a Redis still without authentication takes none.
  let password;
  try {
    password = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).redisPassword;
  } catch {
    /* no secrets yet */
  }
  if (password && answers(redisCli(['ACL', 'WHOAMI'], password), REDIS_USER)) redisCli(['shutdown', 'nosave'], password);
  else redisCli(['shutdown', 'nosave']);
}

/**
 * Brings PostgreSQL and Redis up (unless DATABASE_URL / REDIS_URL point elsewhere), installing
 * them first where missing, and returns the connection settings plus a `stop()` that stops
 * exactly what this call started.
 */
export async function serversUp({ database, fresh = false }) {
  let ownerUrl = process.env.DATABASE_URL;
  let appUrl = process.env.APP_DATABASE_URL;
  let redisUrl = process.env.REDIS_URL;
  ensureAptPackages([...(ownerUrl ? [] : ['postgresql', 'postgresql-client']), ...(redisUrl ? [] : ['redis-server'])]);
  const secrets = localSecrets();
  const started = [];

  if (!ownerUrl) {
    if (await startPostgres()) {
      started.push('postgres');
      log(`PostgreSQL started on 127.0.0.1:${ports.postgres}`);
    }
    ensureLocalRoles(secrets);
    if (fresh) dropDatabase(database);
    ensureDatabase(database);
    ownerUrl = `postgresql://tandem_owner:${secrets.ownerPassword}@127.0.0.1:${ports.postgres}/${database}`;
  }
  if (!appUrl) {
    const u = new URL(ownerUrl);
    u.username = 'tandem_app';
    u.password = secrets.appPassword;
    appUrl = u.toString();
  }
  if (!redisUrl) {
    if (await startRedis(secrets.redisPassword)) {
      started.push('redis');
      log(`Redis started on 127.0.0.1:${ports.redis}`);
    }
    redisUrl = `redis://${REDIS_USER}:${secrets.redisPassword}@127.0.0.1:${ports.redis}/${database.endsWith('_test') ? 1 : 0}`;
  }

  const stop = () => {
    if (started.includes('redis')) stopRedis();
    if (started.includes('postgres')) stopPostgres();
    if (started.length) log(`stopped ${started.join(' and ')}`);
    started.length = 0;
  };
  return { ownerUrl, appUrl, redisUrl, secrets, stop };
}

function sqlLiteral(s) {
  return `'${String(s).replaceAll("'", "''")}'`;
}

function ensureLocalRoles(secrets) {
  // The owner runs migrations and owns the tables; the app role is subject to row-level security.
  psqlSuper(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tandem_owner') THEN
      CREATE ROLE tandem_owner LOGIN CREATEROLE PASSWORD ${sqlLiteral(secrets.ownerPassword)};
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tandem_app') THEN
      CREATE ROLE tandem_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD ${sqlLiteral(secrets.appPassword)};
    END IF;
  END $$;`);
  // CREATEDB lets Prisma create its shadow database when a developer writes a migration.
  psqlSuper(`ALTER ROLE tandem_owner CREATEDB`);
}

function ensureDatabase(database) {
  const exists = psqlSuper(`SELECT 1 FROM pg_database WHERE datname = ${sqlLiteral(database)}`);
  if (!exists) psqlSuper(`CREATE DATABASE "${database}" OWNER tandem_owner`);
}

export function dropDatabase(database) {
  psqlSuper(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** Fails clearly when something else already listens where we want to. */
export async function assertPortFree(port, what) {
  if (await portOpen(port)) {
    throw new Error(`Port ${port} (for ${what}) is already in use on 127.0.0.1. Stop whatever listens there (is Tandem already running?) and try again.`);
  }
}

export function spawnService(name, cmd, args, { env, cwd = root, logFile } = {}) {
  const out = logFile ? fs.openSync(logFile, 'a') : 'inherit';
  const child = spawn(cmd, args, {
    cwd,
    env,
    stdio: ['ignore', out, out],
    detached: true, // own process group, so we can stop it with everything it spawned
  });
  child.serviceName = name;
  return child;
}

export function stopService(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      resolve();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export async function waitForHttp(url, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${child.serviceName} exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

/** The environment every Tandem process gets. */
export function tandemEnv(servers, extra = {}) {
  const env = {
    ...process.env,
    DATABASE_URL: servers.ownerUrl,
    APP_DATABASE_URL: servers.appUrl,
    REDIS_URL: servers.redisUrl,
    AUTH_SECRET: process.env.AUTH_SECRET ?? servers.secrets.authSecret,
    TANDEM_ENCRYPTION_KEY: process.env.TANDEM_ENCRYPTION_KEY ?? servers.secrets.encryptionKey,
    TANDEM_BUS_KEY: process.env.TANDEM_BUS_KEY ?? servers.secrets.busKey,
    AUTH_TRUST_HOST: 'true',
    // Everything these scripts start runs on loopback, the demo's and the tests' webhook receivers
    // too; a hosted worker leaves it unset (denied).
    TANDEM_WEBHOOK_PRIVATE_ADDRESSES: process.env.TANDEM_WEBHOOK_PRIVATE_ADDRESSES ?? 'allow',
    ...extra,
  };
  // next-auth's base URL (its redirects and callback URLs) is the address the app prints, not
  // whatever host name Next.js derives for itself (it said localhost).
  if (env.TANDEM_PUBLIC_URL && !process.env.AUTH_URL) env.AUTH_URL = env.TANDEM_PUBLIC_URL;
  return env;
}

export function tsx(script, args = [], opts = {}) {
  return run(process.execPath, ['--import', 'tsx', script, ...args], opts);
}

/** Stops the project's local PostgreSQL and Redis, whoever started them (`npm run servers:down`). */
export function stopAllLocal() {
  stopRedis();
  if (fs.existsSync(path.join(pgDirOf(), 'postmaster.pid'))) stopPostgres();
  log('local PostgreSQL and Redis stopped');
}
