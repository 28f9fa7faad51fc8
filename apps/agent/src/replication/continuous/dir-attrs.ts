// The continuous source's record of directory attributes (source.ts header, "DIRECTORY
// ATTRIBUTES"): every directory of the set (and the root) as `mode:uid:gid:mtimeMs` when last
// seen, and the bounded sweep that queues the directories whose attributes moved.
import { type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { isTempName, walk } from '../manifest.ts';
import { type ReplicationRule } from '../set.ts';
import { type JournalLine } from './journal.ts';
import { type ChangeQueue } from './queue.ts';

type Attrs = { mode: number; uid: number; gid: number; mtimeMs: number };

export class DirAttrs {
  /** Directory → `mode:uid:gid:mtimeMs` as last seen. */
  private readonly seen = new Map<string, string>();
  private sweeping = false;
  private cursor = 0;

  constructor(
    private readonly root: string,
    private readonly rules: readonly ReplicationRule[],
  ) {}

  /** Records every directory not known yet, and the root. */
  async recordTree(): Promise<void> {
    // Before the mirror walks: a change between this walk and the mirror's is then seen as a change.
    const { entries } = await walk(this.root, { rules: this.rules, ignore: (_r, name) => isTempName(name) });
    for (const e of entries) if (e.type === 'dir' && !this.seen.has(e.path)) this.seen.set(e.path, dirKey(e));
    // The root itself too (its own metadata is replicated; no watch reports its attributes).
    const rootSt = await lstat(this.root).catch(() => undefined);
    if (rootSt?.isDirectory() && !this.seen.has('')) this.seen.set('', dirKey({ mode: rootSt.mode & 0o7777, uid: rootSt.uid, gid: rootSt.gid, mtimeMs: rootSt.mtimeMs }));
  }

  /** A directory as just seen by the source. */
  set(rel: string, e: Attrs): void {
    this.seen.set(rel, dirKey(e));
  }

  /** A path that is not (or no longer) a directory. */
  delete(rel: string): void {
    this.seen.delete(rel);
  }

  /** Queues the directories whose attributes changed since last seen (bounded work per call). */
  async sweep(q: ChangeQueue, stopped: () => boolean): Promise<void> {
    if (this.sweeping || stopped()) return;
    this.sweeping = true;
    try {
      const all = [...this.seen.keys()];
      if (this.cursor >= all.length) this.cursor = 0;
      const batch = all.slice(this.cursor, this.cursor + 5000);
      this.cursor += batch.length;
      const lines: JournalLine[] = [];
      const now = Date.now();
      for (const rel of batch) {
        let st: Stats;
        try {
          st = await lstat(path.join(this.root, ...rel.split('/')));
        } catch {
          this.seen.delete(rel); // gone: the watcher reported the removal
          continue;
        }
        if (!st.isDirectory()) {
          this.seen.delete(rel);
          continue;
        }
        const key = dirKey({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs });
        if (this.seen.get(rel) === key) continue;
        this.seen.set(rel, key);
        if (!q.queue.has(rel)) q.put(rel, 'meta', now, 0, lines);
      }
      if (lines.length) {
        q.write(lines);
        q.poke();
      }
    } finally {
      this.sweeping = false;
    }
  }
}

function dirKey(e: { mode: number; uid: number; gid: number; mtimeMs: number }): string {
  return `${e.mode}:${e.uid}:${e.gid}:${e.mtimeMs}`;
}
