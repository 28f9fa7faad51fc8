// Restore (failback): the same mirror engine with the roles swapped. The machine that was the
// TARGET of the pair sends; the original SOURCE receives. Used by failback after a failover, when
// the replica has become the live copy and its changes must flow back before the pair resumes in
// its original direction.
//
// - The original source LISTENS (receiveRestore, on the pair's route address and a port the control
//   plane gives it; same per-pair key, identity `<pairId>` unless told otherwise) and applies with
//   applyMirror: atomic per file (temp + rename), sparse files, metadata, orphans.
// - The original target CONNECTS and runs `restore()`, which is mirror() over its copy with the
//   pair's rules: the same three modes and the same progress callback (bytes and files left per
//   round). The default mode is `checksum` — the original source normally still holds most of the
//   data, so only differing blocks travel — and the default orphan policy is `delete`, so what was
//   deleted on the replica while it was live is deleted on the source too (use `move-aside` to
//   keep a copy).
// - Stop the pair's continuous replication (both ends) before restoring: the original source's
//   watcher would otherwise replicate the restored files straight back. After the restore, the
//   pair restarts in its original direction; the source's resume rule (differences pass with block
//   deltas) then finds both sides equal and sends nothing.
// - The receiver is given the set's rules: the original source holds files the set leaves out, and
//   those are never orphans.
// - Hard links come back as links (mirror.ts): names sharing an inode on the replica share one on
//   the original source; a name the set leaves out keeps whatever inode it has.
// - RestoreJob is one agent's part of a pair's restore (`replication.restore`, manager.ts): every
//   root at once, with the progress and outcome `replication.status` reports.
import { type ReplicationRestoreState } from '@tandem/protocol';
import { type ChannelServer } from './channel.ts';
import { applyMirror, type ApplyResult, mirror, type MirrorOptions, type MirrorProgress, type MirrorResult } from './mirror.ts';
import { type MirrorMode, type OrphanPolicy } from './protocol.ts';
import { type ReplicationRule } from './set.ts';

export interface RestoreOptions extends Omit<MirrorOptions, 'mode' | 'orphans'> {
  /** Default 'checksum'. */
  mode?: MirrorMode;
  /** Entries on the original source that the replica no longer has; default 'delete'. */
  orphans?: OrphanPolicy;
}

/** On the ORIGINAL TARGET: sends its copy (`root`) back to the original source over `channel`. */
export async function restore(opts: RestoreOptions): Promise<MirrorResult> {
  return mirror({ ...opts, mode: opts.mode ?? 'checksum', orphans: opts.orphans ?? 'delete' });
}

export interface RestoreReceiverOptions {
  /** The original source's root (the copy being restored). */
  root: string;
  /** A listener on the original source (channel.ts listen()). */
  server: ChannelServer;
  /** Where move-aside puts orphans (see apply.ts). */
  orphansDir?: string;
  /** The set's rules: only the paths they select can be orphans here. */
  rules?: readonly ReplicationRule[];
  /** Give up if no sender connects within this time; default 60 s. */
  acceptTimeoutMs?: number;
  /** Gives up waiting for the sender (a session already accepted ends when its channel is destroyed). */
  signal?: AbortSignal;
}

/** On the ORIGINAL SOURCE: accepts the restore session and applies it; resolves when the sender says goodbye. */
export async function receiveRestore(opts: RestoreReceiverOptions): Promise<ApplyResult> {
  const timeoutMs = opts.acceptTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const channel = await Promise.race([
    opts.server.accept(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`restore: no sender connected within ${timeoutMs} ms`)), timeoutMs);
      onAbort = () => reject(new Error('restore: stopped before the sender connected'));
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    }),
  ]).finally(() => {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  });
  return applyMirror({ root: opts.root, channel, orphansDir: opts.orphansDir, rules: opts.rules });
}

/** One root's part of a job: resolves with its result; reports progress as it goes (sender). */
export type RestoreRootRun = (onProgress: (p: MirrorProgress) => void) => Promise<MirrorResult | ApplyResult>;

const MAX_ERRORS = 50;

/** One agent's part of a pair's restore: its roots run side by side; `snapshot()` is what status reports. */
export class RestoreJob {
  private readonly progress = new Map<string, MirrorProgress>();
  private readonly state: ReplicationRestoreState;
  readonly finished: Promise<void>;

  constructor(
    role: ReplicationRestoreState['role'],
    roots: readonly { root: string; run: RestoreRootRun }[],
    /** Ends whatever is still open (channels, listener routes): at the end, and first on stop(); must bear a second call. */
    private readonly cleanup: () => Promise<void>,
  ) {
    this.state = { role, state: 'running', startedAt: Date.now(), finishedAt: null, bytesLeft: 0, filesLeft: 0, bytesSent: 0, filesApplied: 0, orphans: 0, errors: [] };
    const multi = roots.length > 1;
    const note = (root: string, msg: string) => {
      this.state.errors.push((multi ? `${root}: ${msg}` : msg).slice(0, 2000));
      if (this.state.errors.length > MAX_ERRORS) this.state.errors.shift();
    };
    this.finished = Promise.all(
      roots.map(async ({ root, run }) => {
        try {
          const res = await run((p) => this.progress.set(root, p));
          this.progress.delete(root);
          this.state.orphans += res.orphans;
          if ('filesSent' in res) {
            this.state.bytesSent += res.contentBytesSent;
            this.state.filesApplied += res.filesSent;
            if (!res.converged) note(root, `did not converge: still changing or failing: ${res.unstable.slice(0, 5).join(', ')}`);
          } else this.state.filesApplied += res.filesApplied;
          for (const e of res.errors) note(root, e);
          return !('filesSent' in res) || res.converged;
        } catch (err) {
          note(root, (err as Error).message);
          return false;
        }
      }),
    ).then(async (ok) => {
      await this.cleanup().catch(() => undefined);
      this.state.state = ok.every(Boolean) && this.state.errors.length === 0 ? 'done' : 'failed';
      this.state.finishedAt = Date.now();
    });
  }

  get running(): boolean {
    return this.state.state === 'running';
  }

  snapshot(): ReplicationRestoreState {
    const left = [...this.progress.values()];
    return {
      ...this.state,
      bytesLeft: left.reduce((n, p) => n + p.bytesLeft, 0),
      filesLeft: left.reduce((n, p) => n + p.filesLeft, 0),
      errors: [...this.state.errors],
    };
  }

  /** Cuts the job short (agent shutdown): it ends `failed`. */
  async stop(): Promise<void> {
    await this.cleanup().catch(() => undefined);
    await this.finished;
  }
}
