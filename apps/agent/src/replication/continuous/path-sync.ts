// Handling one queued change on the continuous source (source.ts header): look at what the path is
// now, probe the target, and send whatever makes the target's copy equal — a deletion, a directory
// (reconciling its listing), a symlink, or a file's content with its hard links (links.ts).
import { type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { BLOCK_SIZE, type Signature } from '../blocks.ts';
import { type Channel, ChannelError } from '../channel.ts';
import { entryFromStats, isTempName } from '../manifest.ts';
import { MSG, probeReplySchema } from '../protocol.ts';
import { matches, type ReplicationRule } from '../set.ts';
import { type DirAttrs } from './dir-attrs.ts';
import { type Change, type JournalLine } from './journal.ts';
import { type LinkIndex } from './links.ts';
import { type ChangeQueue, parentOf } from './queue.ts';
import { type FileSender, sameMeta, sendFile } from './send-file.ts';
import { type Probe } from './session.ts';
import { errCode } from './util.ts';

/** What handling a change needs from the source. */
export interface PathContext {
  root: string;
  rules: readonly ReplicationRule[];
  q: ChangeQueue;
  dirAttrs: DirAttrs;
  links: LinkIndex;
  files: FileSender;
  /** The change is done: counted and acknowledged in the journal. */
  complete(c: Change, lines: JournalLine[]): void;
  /** Walks for the other names of linked files, then queues `rel` again (source.ts searchLinks). */
  searchLinks(rel: string, since: number): void;
}

/** Makes the target's copy of one path equal to the source's current state. */
export async function processChange(
  ctx: PathContext,
  channel: Channel,
  c: Change,
  ask: Probe,
): Promise<void> {
  const lines: JournalLine[] = [];
  const abs = c.path ? path.join(ctx.root, ...c.path.split('/')) : ctx.root;
  let st: Stats | undefined;
  try {
    st = await lstat(abs);
  } catch (err) {
    if (errCode(err) !== 'ENOENT' && errCode(err) !== 'ENOTDIR') throw err;
  }
  const reply = await ask(c.path);
  if (reply.type !== MSG.PROBE_REPLY) throw new ChannelError(`expected PROBE_REPLY, got ${reply.type}`);
  const probe = probeReplySchema.parse(reply.header);
  if (probe.path !== c.path) throw new ChannelError('probe reply for another path');
  const theirs = probe.entry;
  const send = async (type: number, header: Record<string, unknown>) => {
    await channel.send(type, header); // the ACK completes it
  };
  let target: string | undefined;
  if (st?.isSymbolicLink()) target = await readlink(abs).catch(() => undefined);
  const mine = st ? entryFromStats(c.path, st, target) : undefined;
  if (mine?.type === 'dir') ctx.dirAttrs.set(c.path, mine);
  else ctx.dirAttrs.delete(c.path);
  if (mine?.type !== 'file') ctx.links.forget(c.path, !mine);
  if (!mine) {
    if (theirs && c.path) await send(MSG.DELETE, { fid: c.seq, path: c.path });
    else ctx.complete(c, lines);
  } else if (mine.type === 'dir') {
    await reconcile(ctx, c, abs, probe.children ?? [], theirs?.type === 'dir', lines);
    if (c.path) await send(MSG.DIR, { fid: c.seq, entry: mine });
    // The root's own metadata, as rsync -a copies it (its path cannot travel in a DIR entry).
    else if (theirs?.type === 'dir' && sameMeta(theirs, mine, true)) ctx.complete(c, lines);
    else await send(MSG.ROOT_META, { fid: c.seq, root: { mode: mine.mode, uid: mine.uid, gid: mine.gid, mtimeMs: mine.mtimeMs } });
  } else if (mine.type === 'symlink') {
    if (theirs?.type === 'symlink' && theirs.target === mine.target && sameMeta(theirs, mine, false)) ctx.complete(c, lines);
    else await send(MSG.SYMLINK, { fid: c.seq, entry: mine });
  } else {
    // Hard links (links.ts): the content goes to the group's primary name, the others are linked to it.
    const group = ctx.links.group(c.path, st!);
    // More names than we know (a link just made to a file that had one): find them, then handle this path again.
    if (ctx.links.needsSearch(st!)) ctx.searchLinks(c.path, c.since);
    let rel = c.path;
    let about = { probe, body: reply.body };
    if (group && group.primary !== c.path) {
      rel = group.primary;
      const r = await ask(rel);
      const p = probeReplySchema.parse(r.header);
      if (r.type !== MSG.PROBE_REPLY || p.path !== rel) throw new ChannelError('probe reply for another path');
      about = { probe: p, body: r.body };
    }
    const they = about.probe.entry;
    // The target's copy shares its inode with names the source keeps apart: only a whole new file
    // (a new inode) separates them; a delta of equal content would just restamp the shared inode.
    const apart = !group && (about.probe.nlink ?? 1) > 1;
    const sig: Signature | undefined =
      they?.type === 'file' && about.probe.sigSize !== undefined && !apart ? { blockSize: BLOCK_SIZE, size: about.probe.sigSize, hashes: about.body } : undefined;
    const readStart = Date.now();
    const outcome = await sendFile(ctx.files, channel, rel === c.path ? c : { ...c, path: rel }, rel === c.path ? abs : path.join(ctx.root, ...rel.split('/')), sig, they, mine.size);
    if (group && outcome !== 'retry') {
      for (const n of group.others) await sendLink(ctx, channel, c, n, rel);
      // Linking (and content sent to another name) changes those directories on the target: their
      // metadata goes after (c.path's own directory is queued with it already).
      const dirs = new Set([rel, ...group.others].filter((n) => n !== c.path).map(parentOf));
      for (const d of dirs) if (d === '' || matches(ctx.rules, d)) ctx.q.put(d, 'meta', c.since, 0, lines);
    }
    if (outcome === 'equal') ctx.complete(c, lines);
    else if (outcome === 'retry') {
      ctx.q.inflight.delete(c.seq);
      lines.push({ op: 'ack', seq: c.seq });
      if (!ctx.q.queue.has(c.path)) ctx.q.enqueue(c.path, c.kind, c.since, c.attempts, lines, false);
    } else if (outcome === 'snapshot') {
      // It changed while we read it: what was sent is a mix of versions. Send it again (what was
      // written after the read started may be missing); the ACK completes this change.
      ctx.q.put(c.path, c.kind, readStart, 0, lines);
    }
  }
  ctx.q.write(lines);
}

/**
 * Makes `name` a hard link to `to` on the target: its own change (acknowledged on its own; on
 * failure `name` is queued and handled again), sent after `to`'s content so the target links to
 * the new file.
 */
async function sendLink(ctx: PathContext, channel: Channel, c: Change, name: string, to: string): Promise<void> {
  const link: Change = { seq: ctx.q.nextSeq++, path: name, kind: 'full', since: c.since, bytes: 0, attempts: c.attempts };
  ctx.q.inflight.set(link.seq, link);
  await channel.send(MSG.LINK, { fid: link.seq, path: name, to });
}

/** Queues the children that differ between the two listings (all of them for a "full" directory). */
async function reconcile(ctx: PathContext, c: Change, abs: string, theirList: string[], theyHaveDir: boolean, lines: JournalLine[]): Promise<void> {
  let names: string[];
  try {
    names = await readdir(abs);
  } catch {
    return;
  }
  const theirs = new Map(theirList.map((t) => [t.slice(2), t[0]]));
  const rel = (n: string) => (c.path ? `${c.path}/${n}` : n);
  let queued = false;
  const mineTypes = new Map<string, string>();
  for (const n of names) {
    if (n.includes('\uFFFD') || isTempName(n) || !matches(ctx.rules, rel(n))) continue;
    let t = '?';
    try {
      const s = await lstat(path.join(abs, n));
      t = s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : s.isFile() ? 'f' : '?';
    } catch {
      continue;
    }
    if (t === '?') continue;
    mineTypes.set(n, t);
    const full = c.kind === 'full' || !theyHaveDir;
    if (full || theirs.get(n) !== t) {
      // A child already queued as 'meta' (as the parent of a change below it) must become
      // 'full' too. Otherwise the "everything below" walk stops there: the target may already
      // hold that directory and deeper ones, created by ancestorsSafe (mode 0o700, mtime of the
      // moment) for a deeper change that overtook them, so a 'meta' pass sees matching types,
      // queues nothing below, and those directories never get their metadata (nor their
      // missing entries).
      if (ctx.q.queue.get(rel(n))?.kind !== 'full') ctx.q.put(rel(n), 'full', c.since, 0, lines);
      queued = true;
    }
  }
  for (const n of theirs.keys()) {
    if (mineTypes.has(n) || isTempName(n) || !matches(ctx.rules, rel(n))) continue;
    ctx.q.put(rel(n), 'full', c.since, 0, lines);
    queued = true;
  }
  // The directory's metadata must land after its children changed it: queue it again behind them.
  if (queued) ctx.q.put(c.path, 'meta', c.since, 0, lines);
}
