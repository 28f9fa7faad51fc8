// The agent's run-once memory on disk: what each command id came to, so a command re-sent after a
// worker or agent crash is answered instead of carried out twice.
//
// One file per command id in <data dir>/commands (mode 0700; files 0600, written to a temp file
// and renamed, so a crash leaves the old entry or the new one, never half of one). A file per id
// keeps each write small; a single file of all outcomes would be rewritten whole on every command.
//
// - Before a command runs its entry says "started"; when it ends, "done" with its outcome.
// - After a restart, a "started" entry with no outcome is treated as not remembered: the command
//   runs again. Runbook steps are desired state ("address present", "service running"), so
//   running one again after a crash converges instead of doing the thing twice, and the
//   alternative (answering "unknown" forever) would leave a failover stuck on one step.
// - Bounded: the newest MAX_ENTRIES entries, none older than MAX_AGE_MS.
// - Results can be large (a zone transfer, hook output): an outcome whose JSON is over
//   MAX_ENTRY_BYTES is not kept. Its entry says so, and the command, re-sent after a restart, is
//   answered with an error saying it ran but its result was not kept (the caller retries as after
//   any failure, with a new id, and desired-state steps converge).
import fs from 'node:fs';
import path from 'node:path';

export type CommandOutcome = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

export const MAX_ENTRIES = 1000;
export const MAX_AGE_MS = 7 * 24 * 3600_000;
export const MAX_ENTRY_BYTES = 1024 * 1024;
/** Pruning lists the directory: done at start and then once every this many writes. */
const PRUNE_EVERY = 50;

interface StartedEntry {
  commandId: string;
  action: string;
  state: 'started';
  startedAt: string;
  pid: number;
}
interface DoneEntry {
  commandId: string;
  action: string;
  state: 'done';
  startedAt: string;
  finishedAt: string;
  /** null when the outcome was too large to keep (`tooLarge` holds its size). */
  outcome: CommandOutcome | null;
  tooLarge?: number;
}
type Entry = StartedEntry | DoneEntry;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class CommandMemory {
  private writes = 0;

  constructor(
    readonly dir: string,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void = () => undefined,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    this.prune();
  }

  private fileOf(commandId: string): string | null {
    const id = commandId.toLowerCase();
    return UUID.test(id) ? path.join(this.dir, `${id}.json`) : null;
  }

  /** The finished outcome of a command id, or null (never seen, or started and never finished). */
  recall(commandId: string): CommandOutcome | null {
    const file = this.fileOf(commandId);
    if (!file) return null;
    let entry: Entry;
    try {
      entry = JSON.parse(fs.readFileSync(file, 'utf8')) as Entry;
    } catch {
      return null; // Not remembered (or unreadable: running again is the safe reading, see above).
    }
    if (entry.state !== 'done') return null;
    if (entry.outcome) return entry.outcome;
    return {
      ok: false,
      error: {
        code: 'result_not_kept',
        message: `command ${commandId} (${entry.action}) already ran (finished ${entry.finishedAt}); its result (${entry.tooLarge ?? '?'} bytes) was too large to keep, so it is not answered again`,
      },
    };
  }

  started(commandId: string, action: string): string {
    const startedAt = new Date().toISOString();
    this.write(commandId, { commandId, action, state: 'started', startedAt, pid: process.pid }, false);
    return startedAt;
  }

  finished(commandId: string, action: string, startedAt: string, outcome: CommandOutcome): void {
    const entry: DoneEntry = { commandId, action, state: 'done', startedAt, finishedAt: new Date().toISOString(), outcome };
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (size > MAX_ENTRY_BYTES) {
      entry.outcome = null;
      entry.tooLarge = size;
    }
    this.write(commandId, entry, true);
  }

  private write(commandId: string, entry: Entry, sync: boolean) {
    const file = this.fileOf(commandId);
    if (!file) return;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w', 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(entry));
        // The outcome must survive a machine crash too; a lost "started" only means a re-run.
        if (sync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch (err) {
      // Memory is a safety net: a full disk must not fail the command itself.
      this.log('could not record a command outcome', { commandId, error: String(err) });
      fs.rmSync(tmp, { force: true });
    }
    if (++this.writes % PRUNE_EVERY === 0) this.prune();
  }

  /** Keeps the newest MAX_ENTRIES entries younger than MAX_AGE_MS; removes stray temp files. */
  prune(now = Date.now()) {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    const entries: { file: string; mtime: number }[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      try {
        const mtime = fs.statSync(file).mtimeMs;
        if (name.endsWith('.tmp')) {
          // A temp file of a process that died mid-write (this process's own are never left behind).
          if (now - mtime > 60_000) fs.rmSync(file, { force: true });
        } else if (name.endsWith('.json')) entries.push({ file, mtime });
      } catch {
        // Gone meanwhile.
      }
    }
    entries.sort((a, b) => b.mtime - a.mtime);
    entries.forEach((e, i) => {
      if (i >= MAX_ENTRIES || now - e.mtime > MAX_AGE_MS) fs.rmSync(e.file, { force: true });
    });
  }
}
