// Test failover copies of a file pair's replica: `test.copy-create` copies the replica of each
// source root (targetPathFor(targetRoot, root)) into `<scratch>/<id>/files/<n>/` with GNU cp -a
// (modes, owners, timestamps, symlinks, holes). The replica is only ever read.
// - method auto: cp --reflink=auto. It reports `reflink` only when a probe clone (cp
//   --reflink=always of a file the agent writes in the copy directory) succeeded and the replica
//   is on the same filesystem as the scratch area, i.e. when the clones really share extents;
//   otherwise cp falls back to copying and the method says `copy`. method copy: --reflink=never.
// - Idempotent per id: `files.done.json` (written last) holds the result; a complete copy is
//   answered again without copying, a partial one (no marker) is removed and done again.
// - Replication keeps running: entries deleted from the replica while cp runs are left out (cp's
//   "No such file or directory" alone is not a failure).
// `test.copy-remove` removes the files copy and a PostgreSQL copy (stopped first) of the id.
import { mkdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ActionArgs, ActionResult } from '@tandem/protocol';
import { runCommand, type CommandRunner } from '../exec.ts';
import { removePostgresTestCopy } from '../replication/postgresql/test-copy.ts';
import { targetPathFor } from '../replication/manager.ts';
import { copyPath, ensureCopyDir, isCopyDir, listCopies, readJson, removeNoFollow, treeSize, withCopyLock, writeJsonAtomic } from './test/scratch.ts';

const DONE = 'files.done.json';
/** cp of a large replica: bounded by the longest agent command (1 h). */
const COPY_TIMEOUT_MS = 3_600_000;

export interface TestCopyContext {
  scratchDir: string;
  run?: CommandRunner;
}

/** Whether a copy-on-write clone works from `replica` into `dir` (same filesystem, and it clones). */
async function reflinkWorks(run: CommandRunner, replica: string, dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(replica), stat(dir)]);
  if (a.dev !== b.dev) return false;
  const src = path.join(dir, '.reflink-probe');
  const dst = path.join(dir, '.reflink-probe.clone');
  try {
    await writeFile(src, Buffer.alloc(64 * 1024, 7));
    const r = await run('cp', ['--reflink=always', '--', src, dst], { timeoutMs: 30_000 });
    return r.code === 0;
  } finally {
    await rm(src, { force: true });
    await rm(dst, { force: true });
  }
}

/**
 * Whether cp's complaints are all about entries that vanished while it copied: replication keeps
 * running, so a file deleted on the source may leave the replica between cp's listing and its
 * copying. The copy is then the replica at that moment, which is what a test copy is.
 */
export function onlyVanished(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 0 && lines.every((l) => /^cp: cannot (stat|open|access) .*: No such file or directory$/.test(l));
}

type CreateResult = ActionResult<'test.copy-create'>;

export async function createFilesCopy(args: ActionArgs<'test.copy-create'>, ctx: TestCopyContext): Promise<CreateResult> {
  // GNU cp does the copying (modes, owners, holes, reflinks); Windows targets have no such tool here.
  if (process.platform === 'win32') throw new Error('test copies of files are made on Linux targets only');
  return withCopyLock(args.id, async () => {
    const started = Date.now();
    const run = ctx.run ?? runCommand;
    const dir = copyPath(ctx.scratchDir, args.id);
    const done = (await isCopyDir(dir)) ? await readJson<CreateResult>(path.join(dir, DONE)) : null;
    if (done) return done;
    const replicas = await Promise.all(
      args.roots.map(async (root) => {
        const replica = targetPathFor(args.targetRoot, root);
        const real = await realpath(replica).catch(() => null);
        if (real === null || !(await stat(real)).isDirectory()) throw new Error(`the replica of ${root} (${replica}) is not a directory on this agent`);
        return { root, replica: real };
      }),
    );
    await ensureCopyDir(ctx.scratchDir, args.id, 'files');
    const filesDir = path.join(dir, 'files');
    await removeNoFollow(filesDir); // A partial copy from an interrupted attempt.
    await mkdir(filesDir, { mode: 0o700 });

    let method: 'reflink' | 'copy' = 'copy';
    if (args.method === 'auto') {
      const probes = await Promise.all(replicas.map((r) => reflinkWorks(run, r.replica, dir)));
      method = probes.every(Boolean) ? 'reflink' : 'copy';
    }
    const copies: { root: string; copy: string }[] = [];
    // Files and bytes are counted on each replica while cp copies it (a second walk of the copy
    // afterwards cost a third of the copy's own time); a file replication changes meanwhile may
    // make the numbers differ from the copy by that file.
    const sizes: Promise<{ files: number; bytes: number }>[] = [];
    for (const [n, { root, replica }] of replicas.entries()) {
      sizes.push(treeSize(replica).catch(() => ({ files: 0, bytes: 0 })));
      const copy = path.join(filesDir, String(n));
      // `cp -a SRC DEST` with DEST absent makes DEST the copy of SRC (its own mode and owner too).
      const r = await run('cp', ['-a', `--reflink=${args.method === 'auto' ? 'auto' : 'never'}`, '--', replica, copy], { timeoutMs: COPY_TIMEOUT_MS });
      if (r.code !== 0 && !(r.code === 1 && onlyVanished(r.stderr))) throw new Error(`copying the replica of ${root} failed (cp exit ${r.code}): ${r.stderr.trim().slice(-1500)}`);
      if (!(await isCopyDir(copy))) throw new Error(`the replica of ${root} (${replica}) vanished while it was copied`);
      copies.push({ root, copy });
    }
    let files = 0;
    let bytes = 0;
    for (const s of await Promise.all(sizes)) {
      files += s.files;
      bytes += s.bytes;
    }
    const result: CreateResult = { path: dir, method, copies, files, bytes, durationMs: Date.now() - started };
    await writeJsonAtomic(path.join(dir, DONE), result);
    return result;
  });
}

export async function removeCopy(args: ActionArgs<'test.copy-remove'>, ctx: TestCopyContext): Promise<ActionResult<'test.copy-remove'>> {
  return withCopyLock(args.id, async () => {
    const dir = copyPath(ctx.scratchDir, args.id);
    if (!(await isCopyDir(dir))) {
      // A symlink in its place is removed (never followed); nothing was a copy.
      await removeNoFollow(dir);
      return { removed: [] };
    }
    const removed: ('files' | 'postgresql')[] = [];
    if (await removePostgresTestCopy(dir, { run: ctx.run })) removed.push('postgresql');
    if (await removeNoFollow(path.join(dir, 'files'))) removed.push('files');
    await removeNoFollow(dir);
    return { removed };
  });
}

export async function listTestCopies(ctx: TestCopyContext): Promise<ActionResult<'test.copy-list'>> {
  return { copies: await listCopies(ctx.scratchDir) };
}
