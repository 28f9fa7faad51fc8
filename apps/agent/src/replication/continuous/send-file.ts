// Sending one file's content to the target for the continuous source (source.ts header, "Modified
// files"): whole in one frame when small and new to the target, else the blocks that differ from
// the target's signature, with the eager FILE_BEGIN for big files and the snapshot rule for a file
// that changes while it is read.
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { type Signature } from '../blocks.ts';
import { type Channel } from '../channel.ts';
import { inPlaceFlag, readSmall, streamBlocks, WHOLE_MAX } from '../mirror.ts';
import { MSG } from '../protocol.ts';
import { type SignatureCache } from '../signatures.ts';
import { type Change } from './journal.ts';

/** Files at least this big announce a probable delta before they are hashed (see sendFile). */
const EAGER_BEGIN_BYTES = 8 * 1024 * 1024;

const MTIME_TOLERANCE_MS = 0.005;

/** What sendFile needs from the source. */
export interface FileSender {
  /** Statistics: content bytes sent are added here. */
  state: { contentBytesSent: number };
  /** Our own block signatures (signatures.ts). */
  signatures: SignatureCache;
  inPlaceMinBytes: number | undefined;
}

/**
 * Sends a file: whole in one frame when small and new to the target, else the blocks that differ
 * from the target's signature. A file that changes while it is read is NOT waited for: the
 * blocks as read are sent (each one as it was at some moment of the read) and the caller queues
 * the file again ('snapshot'), so a file that is written all the time still reaches the target
 * at the pace it can be read, and converges once it pauses.
 */
export async function sendFile(
  ctx: FileSender,
  channel: Channel,
  c: Change,
  abs: string,
  sig: Signature | undefined,
  theirs: { size: number; mode: number; uid: number; gid: number; mtimeMs: number } | undefined,
  sizeHint: number,
): Promise<'sent' | 'equal' | 'retry' | 'snapshot'> {
  if (!sig && sizeHint <= WHOLE_MAX) {
    const small = await readSmall(abs);
    if (!small || small.read !== small.st0.size || small.st0.size > WHOLE_MAX) return 'retry';
    const { st0, st1, data } = small;
    ctx.state.contentBytesSent += st0.size;
    const meta = { mode: st0.mode & 0o7777, uid: st0.uid, gid: st0.gid, mtimeMs: st0.mtimeMs };
    await channel.send(MSG.FILE_WHOLE, { fid: c.seq, path: c.path, size: st0.size, ...meta }, data);
    const moved = st1.size !== st0.size || st1.mtimeMs !== st0.mtimeMs || st1.ctimeMs !== st0.ctimeMs;
    return moved ? 'snapshot' : 'sent';
  }
  let fh: FileHandle;
  try {
    fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return 'retry'; // gone or replaced since the lstat: look again
  }
  let begun = false;
  try {
    const st0 = await fh.stat();
    if (!st0.isFile()) return 'retry';
    const meta = { mode: st0.mode & 0o7777, uid: st0.uid, gid: st0.gid, mtimeMs: st0.mtimeMs };
    const moved = (st1: Stats) => st1.size !== st0.size || st1.mtimeMs !== st0.mtimeMs || st1.ctimeMs !== st0.ctimeMs;
    const delta = !!sig;
    const own = ctx.signatures.own(abs, st0);
    const begin = async () => {
      begun = true;
      await channel.send(MSG.FILE_BEGIN, { fid: c.seq, path: c.path, size: st0.size, delta, ...inPlaceFlag(delta, st0.size, ctx.inPlaceMinBytes) });
    };
    if (sig && theirs && !own.exact && st0.size >= EAGER_BEGIN_BYTES && (theirs.size !== st0.size || Math.abs(theirs.mtimeMs - st0.mtimeMs) >= MTIME_TOLERANCE_MS)) {
      // A big file whose size or mtime moved has most likely changed: let the target start
      // copying its current file into the temp now, while we read and hash (a delta needs the
      // copy whatever blocks changed). If nothing did, FILE_END with no changed block makes the
      // target drop the copy and apply the metadata only.
      await begin();
    }
    const { changed, read, hashes, fingerprints } = await streamBlocks(
      fh,
      st0,
      sig,
      own,
      async (buf, off) => {
        if (!begun) await begin();
        ctx.state.contentBytesSent += buf.length;
        await channel.send(MSG.DATA, { fid: c.seq, off }, buf);
      },
    );
    const st1 = await fh.stat();
    if (read !== st0.size) {
      if (begun) await channel.send(MSG.FILE_ABORT, { fid: c.seq });
      return 'retry';
    }
    if (moved(st1)) {
      if (!begun && !changed.length) return 'retry';
    } else if (hashes) ctx.signatures.set(abs, st0, hashes, fingerprints);
    if (!begun && !changed.length && sig && sig.size === st0.size && theirs) {
      if (sameMeta(theirs, meta, true)) return 'equal';
      await channel.send(MSG.META, { fid: c.seq, entry: { path: c.path, type: 'file', size: st0.size, ...meta } });
      return 'sent';
    }
    if (!begun) await begin();
    await channel.send(MSG.FILE_END, { fid: c.seq, path: c.path, size: st0.size, ...meta, ...(delta ? { changed } : {}) });
    return moved(st1) ? 'snapshot' : 'sent';
  } finally {
    await fh.close();
  }
}

export function sameMeta(a: { mode: number; uid: number; gid: number; mtimeMs: number }, b: { mode: number; uid: number; gid: number; mtimeMs: number }, withMode: boolean): boolean {
  return (!withMode || a.mode === b.mode) && a.uid === b.uid && a.gid === b.gid && Math.abs(a.mtimeMs - b.mtimeMs) < MTIME_TOLERANCE_MS;
}
