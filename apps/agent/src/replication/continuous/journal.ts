// The continuous source's journal: `<stateDir>/journal.jsonl`, one JSON object per line.
// - `{"op":"add","seq","path","kind","t"}`: a change was queued (t = epoch ms of its oldest event);
// - `{"op":"ack","seq"}`: the target acknowledged it (or it was replaced by a newer change);
// - `{"op":"mirror-started"}` / `{"op":"mirrored"}`: the initial mirror began / completed;
// - `{"op":"seq","next"}`: the next sequence number.
// The file is compacted (rewritten with only the pending changes, then renamed over) when it grows
// past 4 MiB. It is not fsync'ed: a kill -9 of the agent loses nothing (the page cache survives the
// process); a power loss may lose the tail, which the source's restart rule (a differences pass
// before the journaled changes) still covers for anything whose size or mtime moved.
import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { errCode } from './util.ts';

export type Kind = 'full' | 'meta';

export interface Change {
  seq: number;
  path: string;
  kind: Kind;
  /** Epoch ms of the oldest event this change covers. */
  since: number;
  bytes: number;
  attempts: number;
}

export type JournalLine =
  | { op: 'add'; seq: number; path: string; kind: Kind; t: number }
  | { op: 'ack'; seq: number }
  | { op: 'mirrored' }
  | { op: 'mirror-started' }
  | { op: 'seq'; next: number };

/** What the journal records, as the source holds it. */
export interface JournalState {
  nextSeq: number;
  mirrored: boolean;
  mirrorStarted: boolean;
  /** Changes not acknowledged yet (queued or in flight), in any order. */
  pending: Change[];
}

const COMPACT_AT = 4 * 1024 * 1024;

export class Journal {
  private fd = -1;
  private bytes = 0;

  /** `snapshot` gives the source's current state whenever the journal is compacted. */
  constructor(
    private readonly file: string,
    private readonly snapshot: () => JournalState,
  ) {}

  /** Reads the file: unacknowledged changes in sequence order (a path may appear more than once). */
  read(): JournalState {
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    }
    const state: JournalState = { nextSeq: 1, mirrored: false, mirrorStarted: false, pending: [] };
    const adds = new Map<number, Change>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      let j: JournalLine;
      try {
        j = JSON.parse(line) as JournalLine;
      } catch {
        continue; // a torn last line
      }
      if (j.op === 'add') {
        adds.set(j.seq, { seq: j.seq, path: j.path, kind: j.kind, since: j.t, bytes: 0, attempts: 0 });
        state.nextSeq = Math.max(state.nextSeq, j.seq + 1);
      } else if (j.op === 'ack') adds.delete(j.seq);
      else if (j.op === 'mirrored') state.mirrored = true;
      else if (j.op === 'mirror-started') state.mirrorStarted = true;
      else if (j.op === 'seq') state.nextSeq = Math.max(state.nextSeq, j.next);
    }
    state.pending = [...adds.values()].sort((a, b) => a.seq - b.seq);
    return state;
  }

  /** Rewrites the file with only what is pending (temp + rename), and reopens it for appending. */
  compact(): void {
    const s = this.snapshot();
    const lines: JournalLine[] = [{ op: 'seq', next: s.nextSeq }];
    if (s.mirrored) lines.push({ op: 'mirrored' });
    else if (s.mirrorStarted) lines.push({ op: 'mirror-started' });
    for (const c of [...s.pending].sort((a, b) => a.seq - b.seq)) lines.push({ op: 'add', seq: c.seq, path: c.path, kind: c.kind, t: c.since });
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    writeFileSync(this.file + '.tmp', text);
    renameSync(this.file + '.tmp', this.file);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    this.bytes = Buffer.byteLength(text);
  }

  /** Appends lines (nothing once closed); compacts when the file has grown too big. */
  append(lines: JournalLine[]): void {
    if (!lines.length || this.fd < 0) return;
    const buf = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeSync(this.fd, buf);
    this.bytes += buf.length;
    if (this.bytes > COMPACT_AT) this.compact();
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
