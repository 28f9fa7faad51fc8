// replication.check-set: before protection is enabled, whether each root of a replication set
// exists on this (source) server and is a directory. A missing root is an answer, not an error.
import fs from 'node:fs/promises';
import type { ActionResult } from '@tandem/protocol';

type RootCheck = ActionResult<'replication.check-set'>['roots'][number];

export async function checkReplicationSet(roots: readonly string[]): Promise<ActionResult<'replication.check-set'>> {
  return { roots: await Promise.all(roots.map(checkRoot)) };
}

async function checkRoot(root: string): Promise<RootCheck> {
  try {
    // stat follows symbolic links: a root that is a link to a directory is replicated as one.
    const st = await fs.stat(root);
    return { root, exists: true, directory: st.isDirectory(), error: null };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Missing (or a path through a file): the plain answer is "does not exist".
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return { root, exists: false, directory: false, error: null };
    // Anything else (permissions, I/O): unknown, so say why.
    return { root, exists: false, directory: false, error: `${e.code ?? 'error'}: ${e.message}`.slice(0, 2000) };
  }
}
