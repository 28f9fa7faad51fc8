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
import { type ChannelServer } from './channel.ts';
import { applyMirror, type ApplyResult, mirror, type MirrorOptions, type MirrorResult } from './mirror.ts';
import { type MirrorMode, type OrphanPolicy } from './protocol.ts';

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
  /** Give up if no sender connects within this time; default 60 s. */
  acceptTimeoutMs?: number;
}

/** On the ORIGINAL SOURCE: accepts the restore session and applies it; resolves when the sender says goodbye. */
export async function receiveRestore(opts: RestoreReceiverOptions): Promise<ApplyResult> {
  const timeoutMs = opts.acceptTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const channel = await Promise.race([
    opts.server.accept(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`restore: no sender connected within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return applyMirror({ root: opts.root, channel, orphansDir: opts.orphansDir });
}
