// The continuous source's change queue (source.ts header, "Queue and journal"): the changes waiting
// to be sent (path → change, in order), those in flight (sent, not yet acknowledged), the journal
// they are written to, and the wake-up of the session's workers waiting for work.
import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { matches, type ReplicationRule } from '../set.ts';
import { type Change, Journal, type JournalLine, type Kind } from './journal.ts';

export const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

export class ChangeQueue {
  readonly queue = new Map<string, Change>();
  readonly inflight = new Map<number, Change>();
  nextSeq = 1;
  private readonly wakers: (() => void)[] = [];
  private readonly journal: Journal;

  /** `flags`: the source's mirror state, recorded with the pending changes when the journal is compacted. */
  constructor(
    private readonly root: string,
    private readonly rules: readonly ReplicationRule[],
    journalFile: string,
    flags: () => { mirrored: boolean; mirrorStarted: boolean },
  ) {
    this.journal = new Journal(journalFile, () => {
      const f = flags();
      return {
        nextSeq: this.nextSeq,
        mirrored: f.mirrored,
        mirrorStarted: f.mirrorStarted,
        pending: [...this.inflight.values(), ...this.queue.values()],
      };
    });
  }

  /** Queues a path (moving it to the end) and its parent directory after it. */
  enqueue(rel: string, kind: Kind, since: number, attempts: number, lines: JournalLine[], withParent = true): void {
    this.put(rel, kind, since, attempts, lines);
    if (withParent && rel !== '') {
      const parent = parentOf(rel);
      if (parent === '' || matches(this.rules, parent)) this.put(parent, 'meta', since, 0, lines);
    }
  }

  put(rel: string, kind: Kind, since: number, attempts: number, lines: JournalLine[]): void {
    const old = this.queue.get(rel);
    if (old) {
      this.queue.delete(rel);
      if (old.kind === 'full') kind = 'full';
      since = Math.min(since, old.since);
      attempts = Math.max(attempts, old.attempts);
      lines.push({ op: 'ack', seq: old.seq });
    }
    let bytes = 0;
    try {
      const st = fstatSafe(path.join(this.root, rel));
      if (st?.isFile()) bytes = st.size;
    } catch {
      // sizes are for statistics only
    }
    const c: Change = { seq: this.nextSeq++, path: rel, kind, since, bytes, attempts };
    this.queue.set(rel, c);
    lines.push({ op: 'add', seq: c.seq, path: rel, kind, t: since });
  }

  /** Wakes the workers waiting for a change. */
  poke(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  /** Resolves at the next poke(). */
  wait(): Promise<void> {
    return new Promise<void>((r) => this.wakers.push(r));
  }

  /** Puts unacknowledged changes back at the head of the queue, in their order. */
  requeueInflight(): void {
    if (!this.inflight.size) return;
    const back = [...this.inflight.values()].sort((a, b) => a.seq - b.seq);
    this.inflight.clear();
    const rest = [...this.queue.values()];
    this.queue.clear();
    const newer = new Set(rest.map((r) => r.path));
    for (const c of back) if (!newer.has(c.path)) this.queue.set(c.path, c);
    for (const c of rest) this.queue.set(c.path, c);
  }

  /**
   * The first queued change whose path is not related to one being handled, and not below a
   * directory queued before it that has to wait: otherwise a file changed all the time would keep
   * overtaking its directory's metadata, which would never be sent.
   */
  takeNext(busy: Set<string>): Change | undefined {
    if (!busy.size) return this.queue.values().next().value;
    const related = (a: string, b: string) => a === b || a === '' || b === '' || a.startsWith(b + '/') || b.startsWith(a + '/');
    const under = (p: string, dir: string) => dir === '' || p.startsWith(dir + '/');
    const waiting: string[] = [];
    for (const c of this.queue.values()) {
      let free = true;
      for (const b of busy) {
        if (related(b, c.path)) {
          free = false;
          break;
        }
      }
      if (free && waiting.some((w) => under(c.path, w))) free = false;
      if (free) return c;
      if (c.kind === 'meta' || c.path === '') waiting.push(c.path);
    }
    return undefined;
  }

  /**
   * Unacknowledged changes of the last run become the queue again, with their original timestamps.
   * Returns the journal's mirror state; the caller restores it, then calls compact().
   */
  load(): { mirrored: boolean; mirrorStarted: boolean } {
    const j = this.journal.read();
    this.nextSeq = Math.max(this.nextSeq, j.nextSeq);
    for (const c of j.pending) {
      const old = this.queue.get(c.path);
      if (old) {
        this.queue.delete(c.path);
        c.since = Math.min(c.since, old.since);
        if (old.kind === 'full') c.kind = 'full';
      }
      try {
        const st = fstatSafe(path.join(this.root, c.path));
        if (st?.isFile()) c.bytes = st.size;
      } catch {
        // statistics only
      }
      this.queue.set(c.path, c);
    }
    return { mirrored: j.mirrored, mirrorStarted: j.mirrorStarted };
  }

  compact(): void {
    this.journal.compact();
  }

  write(lines: JournalLine[]): void {
    this.journal.append(lines);
  }

  close(): void {
    this.journal.close();
  }
}

function fstatSafe(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
