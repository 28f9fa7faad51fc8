// The agent side of test failover, through runAction with real files, real processes and real
// PostgreSQL 15 clusters:
// - test.copy-create of a replica tree (sparse files, symlinks, odd names, modes, owners, mtimes)
//   compared entry by entry with the replica, which is never written; the reflink method is
//   reported only when this filesystem really clones; idempotent re-create; list; remove.
// - test.files-hash (sample determinism, relative paths only), test.paths-exist, test.tcp-probe.
// - postgresql.test-copy-create from a streaming standby: the copy is promoted, answers queries,
//   takes a write; the standby streams throughout (same WAL receiver, no restart) and after;
//   test.copy-remove stops the copy and removes it.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomUUID } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
  chmodSync,
  lutimesSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import { cloneTarget, prepareSource } from '../../apps/agent/src/replication/postgresql/index.ts';
import { targetPathFor } from '../../apps/agent/src/replication/manager.ts';
import { freePort } from './support/ports.ts';
import { ClusterRoot, PG_BIN, clusterHandle, waitFor, type TempCluster } from './support/postgresql/cluster.ts';
import { REPL_USER, SLOT_TO_B, passwordFragment, standbyOf, trickyPassword } from './support/postgresql/pair.ts';

const execFileAsync = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'tandem-test-copy-'));
// Like an agent's configuration directory (0700, root's): the scratch area lives inside it.
const agentDir = path.join(work, 'agent');
const scratchDir = path.join(agentDir, 'scratch');
const ctx = { hooksDir: path.join(agentDir, 'hooks'), scratchDir };
const targetRoot = path.join(work, 'target');
const ROOTS = ['/srv/share', '/srv/other data'];
const replica = (root: string) => targetPathFor(targetRoot, root);

/** Where a file holds data, as [start, end) ranges (lseek SEEK_DATA/SEEK_HOLE through perl). */
function dataRanges(file: string): string {
  const script =
    'open(my $f, "<", $ARGV[0]) or die $!; my $size = -s $f; my $at = 0; my @r;' +
    ' while ($at < $size) { my $d = sysseek($f, $at, 3); last unless defined $d; my $h = sysseek($f, $d, 4);' +
    ' push @r, ($d + 0) . "-" . ($h + 0); $at = $h } print join(",", @r);';
  return execFileSync('perl', ['-e', script, file], { encoding: 'utf8' });
}

/** Every entry under dir with what a copy must keep (type, mode, owner, mtime, link target, content). */
function describeTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const common = `mode=${(st.mode & 0o7777).toString(8)} uid=${st.uid} gid=${st.gid} mtime=${Math.floor(st.mtimeMs)}`;
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p)} mtime=${Math.floor(st.mtimeMs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${common}`;
        walk(p, r);
      } else if (st.isFile()) {
        const data = st.size > 1024 * 1024 ? ` data=${dataRanges(p)}` : '';
        out[r] = `file ${common} size=${st.size} sha=${createHash('sha256').update(readFileSync(p)).digest('hex')}${data}`;
      }
      else out[r] = `special ${common}`;
    }
  };
  walk(dir, '');
  return out;
}

function sparseFile(file: string, size: number, at: number[]): void {
  const fd = openSync(file, 'w');
  for (const off of at) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, off);
  closeSync(fd);
  execFileSync('truncate', ['-s', String(size), file]);
}

function buildReplica(dir: string, seed: string): void {
  mkdirSync(path.join(dir, 'docs', 'deep', 'er'), { recursive: true });
  writeFileSync(path.join(dir, 'plain.txt'), `hello ${seed}\n`);
  writeFileSync(path.join(dir, 'docs', 'space name é.txt'), `odd ${seed}`);
  writeFileSync(path.join(dir, 'docs', '-rf'), 'leading dash');
  writeFileSync(path.join(dir, 'docs', 'new\nline'), 'newline in name');
  writeFileSync(path.join(dir, 'docs', 'deep', 'er', 'empty'), '');
  for (let i = 0; i < 30; i++) writeFileSync(path.join(dir, 'docs', 'deep', `f${String(i).padStart(2, '0')}.bin`), `${seed}-${i}-`.repeat(100 + i));
  sparseFile(path.join(dir, 'sparse.img'), 8 * 1024 * 1024, [0, 4 * 1024 * 1024]);
  symlinkSync('plain.txt', path.join(dir, 'rel-link'));
  symlinkSync('/etc/hostname', path.join(dir, 'abs-link'));
  symlinkSync('does/not/exist', path.join(dir, 'dangling'));
  execFileSync('mkfifo', [path.join(dir, 'docs', 'fifo')]);
  chmodSync(path.join(dir, 'plain.txt'), 0o640);
  chmodSync(path.join(dir, 'docs', 'deep'), 0o750);
  chownSync(path.join(dir, 'docs', 'space name é.txt'), 65534, 65534);
  utimesSync(path.join(dir, 'plain.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  lutimesSync(path.join(dir, 'rel-link'), new Date('2021-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
  utimesSync(path.join(dir, 'docs'), new Date('2019-05-05T00:00:00Z'), new Date('2019-05-05T00:00:00Z'));
}

/** Whether a process runs (a zombie left to a container's init that does not reap does not count). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Whether this filesystem clones (what test.copy-create must report for method auto). */
function filesystemClones(dir: string): boolean {
  const a = path.join(dir, '.probe-a');
  writeFileSync(a, Buffer.alloc(65536, 1));
  try {
    execFileSync('cp', ['--reflink=always', a, `${a}.clone`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(a, { force: true });
    rmSync(`${a}.clone`, { force: true });
  }
}

const replicaState: Record<string, Record<string, string>> = {};

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (owners are preserved, PostgreSQL runs as postgres)');
  // Like /etc above /etc/tandem-agent: the PostgreSQL owner may pass through (mkdtemp makes it 0700).
  chmodSync(work, 0o755);
  mkdirSync(agentDir, { mode: 0o700 });
  for (const [i, root] of ROOTS.entries()) {
    mkdirSync(replica(root), { recursive: true });
    buildReplica(replica(root), `r${i}`);
    replicaState[root] = describeTree(replica(root));
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

type CreateResult = { path: string; method: 'reflink' | 'copy'; copies: { root: string; copy: string }[]; files: number; bytes: number; durationMs: number };

describe('test.copy-create / list / remove (real files)', () => {
  const id = randomUUID();
  let first: CreateResult;

  it('copies each root’s replica with modes, owners, mtimes, symlinks and holes; method auto reports a reflink only when the filesystem clones', async () => {
    first = (await runAction('test.copy-create', { id, roots: ROOTS, targetRoot, method: 'auto' }, ctx)) as CreateResult;
    expect(first.path).toBe(path.join(scratchDir, id));
    expect(first.method).toBe(filesystemClones(work) ? 'reflink' : 'copy');
    console.log(`test.copy-create on this filesystem: method ${first.method}, ${first.files} files, ${first.bytes} bytes, ${first.durationMs} ms`);
    expect(first.copies).toEqual(ROOTS.map((root, n) => ({ root, copy: path.join(scratchDir, id, 'files', String(n)) })));
    // 30 + plain, space name, -rf, newline, empty, sparse = 36 regular files per root.
    expect(first.files).toBe(72);
    expect(first.bytes).toBeGreaterThan(16 * 1024 * 1024);
    for (const { root, copy } of first.copies) {
      expect(describeTree(copy)).toEqual(replicaState[root]);
      expect(lstatSync(copy).mode & 0o7777).toBe(lstatSync(replica(root)).mode & 0o7777);
    }
    expect(dataRanges(path.join(first.copies[0]!.copy, 'sparse.img'))).toBe(`0-4096,${4 * 1024 * 1024}-${4 * 1024 * 1024 + 4096}`);
    // The replica was only read.
    for (const root of ROOTS) expect(describeTree(replica(root))).toEqual(replicaState[root]);
    // Copies are root's alone, whatever the replica's modes.
    expect(lstatSync(path.join(scratchDir, id, 'files')).mode & 0o777).toBe(0o700);
  });

  it('answers a complete copy again without copying; a partial one is made again', async () => {
    writeFileSync(path.join(first.copies[0]!.copy, 'marker-of-first-copy'), 'x');
    const again = (await runAction('test.copy-create', { id, roots: ROOTS, targetRoot, method: 'auto' }, ctx)) as CreateResult;
    expect(again).toEqual(first);
    expect(existsSync(path.join(first.copies[0]!.copy, 'marker-of-first-copy'))).toBe(true);

    rmSync(path.join(scratchDir, id, 'files.done.json'));
    const redone = (await runAction('test.copy-create', { id, roots: ROOTS, targetRoot, method: 'copy' }, ctx)) as CreateResult;
    expect(redone.method).toBe('copy');
    expect(existsSync(path.join(first.copies[0]!.copy, 'marker-of-first-copy'))).toBe(false);
    for (const { root, copy } of redone.copies) expect(describeTree(copy)).toEqual(replicaState[root]);
  });

  it('lists copies (with partial leftovers) and removes them without following symlinks', async () => {
    const other = randomUUID();
    // A leftover of a crashed create: only meta.json and a half copy.
    mkdirSync(path.join(scratchDir, other, 'files', '0'), { recursive: true });
    writeFileSync(path.join(scratchDir, other, 'meta.json'), JSON.stringify({ kind: 'files', createdAt: '2026-01-01T00:00:00.000Z' }));
    // A symlink inside a copy pointing out of the scratch area must not be followed.
    const outside = path.join(work, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'keep.txt'), 'keep');
    symlinkSync(outside, path.join(scratchDir, other, 'files', '0', 'escape'));
    writeFileSync(path.join(scratchDir, 'not-a-copy'), 'ignored');

    const list = (await runAction('test.copy-list', {}, ctx)) as { copies: { id: string; kind: string; path: string; createdAt: string | null }[] };
    expect(list.copies.map((c) => c.id).sort()).toEqual([id, other].sort());
    expect(list.copies.find((c) => c.id === other)).toEqual({ id: other, kind: 'files', path: path.join(scratchDir, other, 'files'), createdAt: '2026-01-01T00:00:00.000Z' });
    expect(list.copies.find((c) => c.id === id)?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect(await runAction('test.copy-remove', { id: other }, ctx)).toEqual({ removed: ['files'] });
    expect(readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    expect(await runAction('test.copy-remove', { id }, ctx)).toEqual({ removed: ['files'] });
    expect(await runAction('test.copy-remove', { id }, ctx)).toEqual({ removed: [] });
    expect(existsSync(path.join(scratchDir, id))).toBe(false);
    // A copy id that is a symlink to elsewhere: only the link goes.
    const linked = randomUUID();
    symlinkSync(outside, path.join(scratchDir, linked));
    expect(await runAction('test.copy-remove', { id: linked }, ctx)).toEqual({ removed: [] });
    expect(existsSync(path.join(scratchDir, linked))).toBe(false);
    expect(readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    await expect(runAction('test.copy-create', { id: linked, roots: ROOTS, targetRoot, method: 'auto' }, ctx)).resolves.toMatchObject({ files: 72 });
    await runAction('test.copy-remove', { id: linked }, ctx);
    expect((await runAction('test.copy-list', {}, ctx)) as { copies: unknown[] }).toEqual({ copies: [] });
  });

  it('refuses ids that are not UUIDs and replicas that are missing', async () => {
    await expect(runAction('test.copy-remove', { id: '../../etc' }, ctx)).rejects.toThrow(/Invalid arguments for test.copy-remove: "id"/);
    await expect(runAction('test.copy-create', { id: randomUUID(), roots: ['/srv/missing'], targetRoot, method: 'auto' }, ctx)).rejects.toThrow(/replica of \/srv\/missing .* is not a directory/);
    await expect(runAction('test.copy-list', {}, { hooksDir: ctx.hooksDir })).rejects.toThrow(/no scratch directory/);
  });
});

describe('test.files-hash / test.paths-exist / test.tcp-probe', () => {
  type Hashes = { files: { path: string; sha256: string; size: number; mtimeMs: number }[]; missing: string[]; total: number };
  const root = () => replica(ROOTS[0]!);

  it('samples evenly over the sorted tree, the same files every time, skipping special files', async () => {
    const a = (await runAction('test.files-hash', { root: root(), sample: 5 }, ctx)) as Hashes;
    const b = (await runAction('test.files-hash', { root: root(), sample: 5 }, ctx)) as Hashes;
    expect(a).toEqual(b);
    expect(a.total).toBe(36);
    expect(a.files.map((f) => f.path)).toEqual(['docs/-rf', 'docs/deep/f05.bin', 'docs/deep/f12.bin', 'docs/deep/f19.bin', 'docs/deep/f26.bin']);
    const f = a.files[1]!;
    expect(f.sha256).toBe(execFileSync('sha256sum', [path.join(root(), f.path)], { encoding: 'utf8' }).slice(0, 64));
    expect(f.size).toBe(lstatSync(path.join(root(), f.path)).size);
    const all = (await runAction('test.files-hash', { root: root(), sample: 1000 }, ctx)) as Hashes;
    expect(all.files).toHaveLength(36);
    expect(all.files.map((x) => x.path)).not.toContain('docs/fifo');
    expect(all.files.map((x) => x.path)).toContain('docs/new\nline');
  });

  it('hashes named relative paths; missing and non-regular ones are reported; absolute and .. are refused', async () => {
    const r = (await runAction('test.files-hash', { root: root(), paths: ['plain.txt', 'docs/space name é.txt', 'nope', 'docs/fifo', 'docs'] }, ctx)) as Hashes;
    expect(r.files.map((x) => x.path)).toEqual(['plain.txt', 'docs/space name é.txt']);
    expect(r.missing).toEqual(['nope', 'docs/fifo', 'docs']);
    expect(r.total).toBe(2); // Named paths: no walk of the tree, the total is what was found.
    await expect(runAction('test.files-hash', { root: root(), paths: ['/etc/passwd'] }, ctx)).rejects.toThrow(/relative to the root/);
    await expect(runAction('test.files-hash', { root: root(), paths: ['docs/../../../etc/passwd'] }, ctx)).rejects.toThrow(/must not leave the root/);
    // A symlink out of the root is not followed out of it.
    const out = (await runAction('test.files-hash', { root: root(), paths: ['abs-link', 'rel-link'] }, ctx)) as Hashes;
    expect(out.missing).toEqual(['abs-link']);
    expect(out.files.map((x) => x.path)).toEqual(['rel-link']);
  });

  it('paths-exist answers present and missing', async () => {
    expect(await runAction('test.paths-exist', { paths: [path.join(root(), 'plain.txt'), path.join(root(), 'dangling'), path.join(root(), 'gone')] }, ctx)).toEqual({
      present: [path.join(root(), 'plain.txt'), path.join(root(), 'dangling')],
      missing: [path.join(root(), 'gone')],
    });
  });

  it('tcp-probe connects to a real listener and reports a closed port', async () => {
    const srv = net.createServer((s) => s.end());
    const port = await freePort();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    try {
      const ok = (await runAction('test.tcp-probe', { host: '127.0.0.1', port, timeoutMs: 2000 }, ctx)) as { ok: boolean; ms: number; error: string | null };
      expect(ok.ok).toBe(true);
      expect(ok.error).toBeNull();
      expect(ok.ms).toBeGreaterThanOrEqual(0);
    } finally {
      await new Promise((r) => srv.close(r));
    }
    const closed = (await runAction('test.tcp-probe', { host: '127.0.0.1', port, timeoutMs: 2000 }, ctx)) as { ok: boolean; error: string | null };
    expect(closed.ok).toBe(false);
    expect(closed.error).toMatch(/ECONNREFUSED/);
  });
});

describe('postgresql.test-copy-create / query (a real primary and streaming standby)', () => {
  let pgRoots: ClusterRoot | undefined;
  const PASSWORD = trickyPassword('tc');
  let A: TempCluster;
  let B: TempCluster;
  const id = randomUUID();
  type Copy = { dataDir: string; port: number; bytes: number; durationMs: number; standbyCounts: Record<string, number | null> };
  type Rows = { columns: string[]; rows: (string | null)[][]; rowCount: number };
  let copy: Copy;
  const receiver = () => B.psql(`SELECT pid || ' ' || status FROM pg_stat_wal_receiver`);
  const receiverAsync = async () =>
    (
      await execFileAsync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/psql`, '-X', '-A', '-t', '-q', '-h', B.socketDir, '-p', String(B.port), '-d', 'postgres', '-c', `SELECT pid || ' ' || status FROM pg_stat_wal_receiver`], {
        cwd: '/',
        timeout: 30_000,
      })
    ).stdout.trim();
  const postmasterPid = () => readFileSync(path.join(B.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];

  beforeAll(async () => {
    pgRoots = new ClusterRoot(); // Here, not at collection: a filtered run must leave no directory behind.
    [A, B] = await Promise.all([pgRoots.create('primary'), pgRoots.create('standby')]);
    await prepareSource({ dataDir: A.dataDir, replicationUser: REPL_USER, password: PASSWORD, slotName: SLOT_TO_B, targetAddress: '127.0.0.1' });
    const standby = await cloneTarget({ ...standbyOf(B, A, PASSWORD, SLOT_TO_B), port: B.port });
    expect(standby.streaming).toBe(true);
    A.psql(`CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'note ' || g END FROM generate_series(1, 1000) g`);
    await waitFor('the rows on the standby', () => B.psql('SELECT count(*) FROM orders') === '1000');
  }, 120_000);

  afterAll(() => {
    pgRoots?.stopAll();
  });

  it('copies the standby by base backup while it keeps streaming, then starts and promotes the copy on its own port and socket', async () => {
    const before = { receiver: receiver(), postmaster: postmasterPid() };
    expect(before.receiver).toMatch(/ streaming$/);
    // Sampled asynchronously (a synchronous psql every few hundred ms would starve the action's own I/O).
    const samples: string[] = [];
    let creating = true;
    const sampling = (async () => {
      while (creating) {
        samples.push(await receiverAsync().catch((e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      copy = (await runAction(
        'postgresql.test-copy-create',
        { id, standbyDataDir: B.dataDir, standbyPort: B.port, port: 0, countTables: ['orders', 'postgres:public.orders', 'no_such_table', 'nodb:orders'], timeoutMs: 120_000 },
        ctx,
      )) as Copy;
      console.log(`postgresql.test-copy-create: ${copy.bytes} bytes in ${copy.durationMs} ms`);
    } finally {
      creating = false;
      await sampling;
    }
    // The same WAL receiver streamed the whole time; the standby was never restarted.
    expect(samples.length).toBeGreaterThan(0);
    expect(new Set([...samples, receiver()])).toEqual(new Set([before.receiver]));
    expect(postmasterPid()).toBe(before.postmaster);

    expect(copy.dataDir).toBe(path.join(scratchDir, id, 'pgdata'));
    expect(copy.port).not.toBe(B.port);
    expect(copy.standbyCounts).toEqual({ orders: 1000, 'postgres:public.orders': 1000, no_such_table: null, 'nodb:orders': null });
    expect(copy.bytes).toBeGreaterThan(1024 * 1024);
    const c = clusterHandle('copy', copy.dataDir, path.join(scratchDir, id, 'run'), copy.port, path.join(scratchDir, id, 'postgresql.log'));
    expect(c.psql('SELECT pg_is_in_recovery()')).toBe('f');
    expect(c.psql('SELECT count(*) FROM orders')).toBe('1000');
    // Promoted: it takes a write, which reaches neither the standby nor the primary.
    c.psql(`INSERT INTO orders VALUES (5000, 'only in the copy')`);
    expect(c.psql('SELECT count(*) FROM orders')).toBe('1001');
    // It answers on loopback TCP, where the worker's TCP probe looks for it.
    expect(await runAction('test.tcp-probe', { host: '127.0.0.1', port: copy.port, timeoutMs: 5000 }, ctx)).toMatchObject({ ok: true });
    // Nothing ties it to production: no connection to the primary, no slot, no archiving.
    expect(c.psql(`SELECT current_setting('primary_conninfo') || '|' || current_setting('primary_slot_name') || '|' || current_setting('archive_mode')`)).toBe('||off');
    expect(existsSync(path.join(copy.dataDir, 'standby.signal'))).toBe(false);
    expect(readFileSync(path.join(copy.dataDir, 'postgresql.auto.conf'), 'utf8')).not.toContain(passwordFragment());
    expect(A.psql(`SELECT count(*) FROM pg_replication_slots`)).toBe('1');
    expect(A.psql(`SELECT count(*) FROM pg_stat_replication`)).toBe('1');

    // Replication went on: a row written now reaches the standby, and not the copy.
    A.psql(`INSERT INTO orders VALUES (2000, 'during the test')`);
    await waitFor('the new row on the standby', () => B.psql('SELECT count(*) FROM orders WHERE id = 2000') === '1');
    expect(c.psql('SELECT count(*) FROM orders WHERE id = 2000')).toBe('0');
    expect(B.psql('SELECT count(*) FROM orders WHERE id = 5000')).toBe('0');
    expect(receiver()).toBe(before.receiver);
  }, 180_000);

  it('is idempotent: a running copy is answered as is', async () => {
    const again = (await runAction('postgresql.test-copy-create', { id, standbyDataDir: B.dataDir, standbyPort: B.port, countTables: ['orders'] }, ctx)) as Copy;
    expect(again).toEqual(copy);
    const list = (await runAction('test.copy-list', {}, ctx)) as { copies: { id: string; kind: string; path: string }[] };
    expect(list.copies).toEqual([expect.objectContaining({ id, kind: 'postgresql', path: copy.dataDir })]);
  }, 60_000);

  it('runs a query read only on the copy or the standby: columns, rows as strings (nulls kept), the full row count', async () => {
    const q = (on: 'copy' | 'standby', query: string, maxRows = 10) =>
      runAction('postgresql.test-copy-query', { id, on, standbyDataDir: B.dataDir, standbyPort: B.port, database: 'postgres', query, maxRows, timeoutMs: 10_000 }, ctx) as Promise<Rows>;
    expect(await q('copy', 'SELECT count(*) AS n FROM orders;')).toEqual({ columns: ['n'], rows: [['1001']], rowCount: 1 });
    expect(await q('standby', 'SELECT count(*) AS n FROM orders')).toEqual({ columns: ['n'], rows: [['1001']], rowCount: 1 });
    expect(await q('copy', `SELECT id, note, '' AS empty, E'two\\nlines|x' AS odd FROM orders WHERE id <= 1000 ORDER BY id`, 3)).toEqual({
      columns: ['id', 'note', 'empty', 'odd'],
      rows: [
        ['1', 'note 1', '', 'two\nlines|x'],
        ['2', null, '', 'two\nlines|x'],
        ['3', 'note 3', '', 'two\nlines|x'],
      ],
      rowCount: 1000,
    });
    expect(await q('copy', 'SELECT 1 AS a, 2 AS a WHERE false')).toEqual({ columns: ['a', 'a'], rows: [], rowCount: 0 });
    await expect(q('copy', 'SELEC 1')).rejects.toThrow(/the query failed on the test copy: ERROR: {2}syntax error at or near "SELEC"/);
    await expect(q('copy', `INSERT INTO orders VALUES (6000, 'x') RETURNING id`)).rejects.toThrow(/read-only transaction/);
    expect(await q('copy', 'SELECT pg_sleep(0.2) AS slept', 1)).toEqual({ columns: ['slept'], rows: [['']], rowCount: 1 });
    await expect(
      runAction('postgresql.test-copy-query', { id, on: 'copy', database: 'postgres', query: 'SELECT pg_sleep(3)', timeoutMs: 500 }, ctx),
    ).rejects.toThrow(/statement timeout/);
    // Backslash commands in a query are never run by psql.
    const marker = path.join(work, 'psql-shell-escape');
    await expect(q('copy', `SELECT 1 \\! touch ${marker}`)).rejects.toThrow(/the query failed/);
    expect(existsSync(marker)).toBe(false);
    expect(c2Count()).toBe('1001');
    await expect(runAction('postgresql.test-copy-query', { id: randomUUID(), database: 'postgres', query: 'SELECT 1' }, ctx)).rejects.toThrow(/no test copy .* is running/);
  }, 90_000);

  const c2Count = () => clusterHandle('copy', copy.dataDir, path.join(scratchDir, id, 'run'), copy.port, '').psql('SELECT count(*) FROM orders');

  it('test.copy-remove stops the copy and removes it; the standby streams on', async () => {
    const pid = Number(readFileSync(path.join(copy.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(await runAction('test.copy-remove', { id }, ctx)).toEqual({ removed: ['postgresql'] });
    expect(existsSync(path.join(scratchDir, id))).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(await runAction('test.copy-remove', { id }, ctx)).toEqual({ removed: [] });
    A.psql(`INSERT INTO orders VALUES (3000, 'after the test')`);
    await waitFor('the row after the test on the standby', () => B.psql('SELECT count(*) FROM orders WHERE id = 3000') === '1');
    expect(receiver()).toMatch(/ streaming$/);
  }, 90_000);
});
