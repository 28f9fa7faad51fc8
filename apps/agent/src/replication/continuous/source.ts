// Continuous replication, the source's side (overview in ../continuous.ts): after the initial
// mirror it watches its root and streams every change to the target.
// - Watcher: one non-recursive `fs.watch` per directory (watcher.ts; Node 20's recursive mode on
//   Linux loses a file once it was replaced by rename). Events only say "something happened at this
//   path"; they are coalesced per path for
//   `coalesceMs` (default 100 ms), filtered by the set's rules, then queued. Replication is
//   STATE-BASED: when a queued path is processed the source looks at what the path is NOW (file,
//   directory, symlink or absent) and makes the target's path equal to it, so lost, duplicated or
//   reordered events cannot corrupt the target, and re-processing a path is always harmless.
// - Each queued path also queues its parent directory ("meta" kind): processing a directory sends
//   its metadata (after its children, so its mtime ends up right) and RECONCILES its listing with
//   the target's (names present on one side only, or with another type, are queued). That repairs
//   events the watcher missed (e.g. a directory renamed away before its watch existed). A directory
//   reported by the watcher itself ("full" kind: created, renamed in, chmod'ed) queues all of its
//   children, recursively: a renamed directory is re-sent under its new name.
// - Renames are sent as delete (old path) + create (new path): simple and always correct; a renamed
//   big file is re-sent in full (the target has nothing at the new path to diff against).
// - Modified files: the source PROBES the target for the path and gets its block signature back
//   (blocks.ts; the target answers from its signature cache when it is valid for that exact file —
//   same inode, size, mtime and ctime, see signatures.ts — else reads the file), then sends only the
//   blocks that differ, the new size and the metadata. Equal content with other metadata sends META
//   only; equal everything sends nothing. A small file the target does not have travels in one
//   FILE_WHOLE frame. The target answers a probe once the changes it already received for related
//   paths are applied, so the view used for each decision is current. A big file (>= 8 MiB) whose
//   size or mtime differs from the target's announces its delta (FILE_BEGIN) before it is hashed, so
//   the target copies its current file into the temp while the source reads; big files are hashed
//   on the worker pool in parallel ranges and changed blocks leave as each range is hashed
//   (hashpool.ts).
// - No head-of-line blocking: WORKERS changes are handled at once (never two on related paths: the
//   same path, or one below the other), probes carry an id and are answered out of order, and the
//   target applies unrelated changes concurrently (receive.ts). A file that changes while it is read
//   is not waited for: the blocks as read are sent (a consistent-enough snapshot: each block as it
//   was at some moment of the read) and the file is queued again, so a file written all the time
//   reaches the target at the pace it can be read and converges once it pauses.
// - HARD LINKS (links.ts): names of the set sharing an inode share one on the target. A write
//   through one name is reported for that name only; handling it sends the content to one name of
//   the group and LINKs the others to it. A new link is a LINK, an unlinked name a DELETE; a name
//   the source keeps apart but the target still shares is sent whole (a new inode). A file with
//   more names than the index knows (a link made to a file that had one) triggers a walk for them.
// - Queue and journal: the queue is a map path → {seq, kind, since, bytes}. Every queued change and
//   every acknowledgement is appended to `<stateDir>/journal.jsonl` (journal.ts).
// - RESUME RULE (source restart): load the journal (unacknowledged changes become the queue again,
//   with their original timestamps, so lag counts the downtime), start the watcher, then run one
//   mirror session in `differences` mode with block deltas (walk both sides; for files whose size
//   or mtime differ, send only the blocks whose hashes differ from the target's copy; apply
//   deletions per the orphan policy, default delete): that catches whatever changed
//   while nobody was watching, without re-sending unchanged content. Then every journaled change —
//   those that may have been in flight — is processed with a probe, i.e. a checksum pass restricted
//   to them. If the initial mirror had never completed it is re-run in `differences` mode (files
//   land by rename with the source's mtime, so what already arrived is skipped).
// - The same differences pass runs when a directory watch fails (the watchers are re-created first).
// - Reconnect (channel cut, target restart, CRC failure of a control frame): changes sent but not
//   acknowledged go back to the head of the queue in their order and are probed again. The target
//   keeps no position of its own: every change is idempotent and the probe is the check.
// - DIRECTORY ATTRIBUTES: the parent's watch reports a directory's attribute changes, but not the
//   root's own, nor anything lost while a watch was being re-created. So the source also keeps the
//   attributes of every directory of the set as last seen
//   (recorded before the mirror, and whenever a directory is processed) and sweeps them every
//   `dirSweepMs` (default 1 s, at most 5000 lstat per sweep, continuing where the last one
//   stopped): a directory whose attributes moved is queued. This matters most when the root is
//   itself a target (A→B→C), whose applier stamps directory metadata after the children. The root
//   is swept too: its own metadata is replicated (ROOT_META), as rsync -a copies it.
// - Statistics every `statsIntervalMs` (default 2 s) through `onStats`: mirror files/bytes left,
//   queue files/bytes (bytes = size of the queued files when queued), throughput (content bytes/s
//   over the interval), lag (seconds since the oldest change not yet acknowledged by the target,
//   including changes still in the coalescing window; 0 when caught up).
import { constants, lstatSync, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { type z } from 'zod';
import { BLOCK_SIZE, type Signature } from '../blocks.ts';
import { type Channel, ChannelError, type Message } from '../channel.ts';
import { entryFromStats, isTempName, walk } from '../manifest.ts';
import { inPlaceFlag, mirror, type MirrorProgress, readSmall, streamBlocks, WHOLE_MAX } from '../mirror.ts';
import { ackSchema, errorSchema, type MirrorMode, MSG, type OrphanPolicy, probeReplySchema, PROTOCOL_VERSION } from '../protocol.ts';
import { matches, prunable, type ReplicationRule } from '../set.ts';
import { SignatureCache } from '../signatures.ts';
import { type Difference, verify, type VerifyResult } from '../verify.ts';
import { TreeWatcher } from '../watcher.ts';
import { type Change, Journal, type JournalLine, type Kind } from './journal.ts';
import { LinkIndex } from './links.ts';
import { errCode, sleep } from './util.ts';


export interface ReplicationStats {
  phase: 'starting' | 'mirror' | 'continuous' | 'disconnected' | 'stopped';
  connected: boolean;
  mirrorFilesLeft: number;
  mirrorBytesLeft: number;
  queueFiles: number;
  queueBytes: number;
  /** Content bytes per second over the last interval. */
  throughput: number;
  /** Seconds since the oldest change the target has not applied yet; 0 when caught up. */
  lag: number;
  /** Totals since this source object started. */
  contentBytesSent: number;
  changesApplied: number;
  reconnects: number;
  errors: string[];
}

export interface ContinuousSourceOptions {
  root: string;
  rules?: readonly ReplicationRule[];
  /** Where the journal lives (created if missing); must not be inside the root. */
  stateDir: string;
  /** Opens a fresh data channel to the target (called again after every failure). */
  connect: () => Promise<Channel>;
  /** Mode of the very first mirror; default 'full'. Later (resume) mirrors use 'differences'. */
  mode?: MirrorMode;
  /** Orphan policy of the mirrors; default 'delete' (deletions made while the source was down propagate). */
  orphans?: OrphanPolicy;
  coalesceMs?: number;
  statsIntervalMs?: number;
  /** Directory-attribute sweep interval (see the header); default 1000 ms, 0 disables. */
  dirSweepMs?: number;
  onStats?: (s: ReplicationStats) => void;
  /** Reconnect back-off: first delay, doubled up to 2 s; default 100 ms. */
  retryMs?: number;
  /** Deltas of files at least this big are applied in place on the target (receive.ts); unset: never. */
  inPlaceMinBytes?: number;
}

const JOURNAL = 'journal.jsonl';
const MAX_ATTEMPTS = 5;
/** Changes the source handles at once. */
const WORKERS = 4;

/** Files at least this big announce a probable delta before they are hashed (see sendFile). */
const EAGER_BEGIN_BYTES = 8 * 1024 * 1024;

type Probe = (rel: string) => Promise<Message & { corrupt: false }>;
const MTIME_TOLERANCE_MS = 0.005;

const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

/** The source agent's side of continuous replication for one root. */
export class ContinuousSource {
  private readonly rules: readonly ReplicationRule[];
  private readonly coalesceMs: number;
  private readonly queue = new Map<string, Change>();
  private readonly inflight = new Map<number, Change>();
  private readonly window = new Map<string, { kind: Kind; since: number }>();
  private windowTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private sweepCursor = 0;
  /** Directory → `mode:uid:gid:mtimeMs` as last seen (see DIRECTORY ATTRIBUTES). */
  private readonly dirAttrs = new Map<string, string>();
  private watcher: TreeWatcher | undefined;
  private readonly journal: Journal;
  private nextSeq = 1;
  private mirrored = false;
  private mirrorStarted = false;
  private needResync = false;
  private stopped = false;
  private channel: Channel | undefined;
  private readonly wakers: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private lastStatsAt = performance.now();
  private lastStatsBytes = 0;
  private mirrorProgress: MirrorProgress | undefined;
  /** Our own block signatures (signatures.ts): an unchanged file is not read again to be compared. */
  private readonly signatures: SignatureCache;
  /** Which names of the set share an inode (links.ts). */
  private readonly links: LinkIndex;
  /** A walk looking for the other names of linked files (links.ts needsSearch), and the paths to handle again after it (→ since). */
  private linkSearch: Promise<void> | undefined;
  private linkSearchAgain = false;
  private readonly afterLinkSearch = new Map<string, number>();
  readonly state: ReplicationStats = {
    phase: 'starting',
    connected: false,
    mirrorFilesLeft: 0,
    mirrorBytesLeft: 0,
    queueFiles: 0,
    queueBytes: 0,
    throughput: 0,
    lag: 0,
    contentBytesSent: 0,
    changesApplied: 0,
    reconnects: 0,
    errors: [],
  };

  constructor(private readonly opts: ContinuousSourceOptions) {
    this.rules = opts.rules ?? [];
    this.coalesceMs = opts.coalesceMs ?? 100;
    this.signatures = new SignatureCache(path.join(opts.stateDir, 'signatures.json'));
    this.links = new LinkIndex(opts.root);
    this.journal = new Journal(path.join(opts.stateDir, JOURNAL), () => ({
      nextSeq: this.nextSeq,
      mirrored: this.mirrored,
      mirrorStarted: this.mirrorStarted,
      pending: [...this.inflight.values(), ...this.queue.values()],
    }));
  }

  /** Loads the journal, starts watching and replicating; resolves once the watcher is running. */
  async start(): Promise<void> {
    await mkdir(this.opts.stateDir, { recursive: true });
    this.loadJournal();
    await this.signatures.load();
    this.needResync = this.mirrored; // we were down: something may have changed unwatched
    this.startWatcher();
    this.statsTimer = setInterval(() => this.emitStats(), this.opts.statsIntervalMs ?? 2000);
    const sweepMs = this.opts.dirSweepMs ?? 1000;
    if (sweepMs > 0) {
      // Before the mirror walks: a change between this walk and the mirror's is then seen as a change.
      const { entries } = await walk(this.opts.root, { rules: this.rules, ignore: (_r, name) => isTempName(name) });
      for (const e of entries) if (e.type === 'dir' && !this.dirAttrs.has(e.path)) this.dirAttrs.set(e.path, dirKey(e));
      // The root itself too (its own metadata is replicated; no watch reports its attributes).
      const rootSt = await lstat(this.opts.root).catch(() => undefined);
      if (rootSt?.isDirectory() && !this.dirAttrs.has('')) this.dirAttrs.set('', dirKey({ mode: rootSt.mode & 0o7777, uid: rootSt.uid, gid: rootSt.gid, mtimeMs: rootSt.mtimeMs }));
      this.sweepTimer = setInterval(() => void this.sweepDirs(), sweepMs);
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearTimeout(this.windowTimer);
    clearInterval(this.statsTimer);
    clearInterval(this.sweepTimer);
    this.channel?.destroy();
    this.poke();
    await this.loop;
    await this.linkSearch;
    await this.signatures.flush();
    this.state.phase = 'stopped';
    this.journal.close();
  }

  /**
   * Verify on demand (verify.ts) over a channel of its own, alongside the running session: compares
   * the whole root (or `paths`) with the target's copy. Meaningful when lag is 0.
   */
  async verify(paths?: readonly string[]): Promise<VerifyResult> {
    const channel = await this.opts.connect();
    return verify({ channel, root: this.opts.root, rules: this.rules, paths });
  }

  /**
   * Re-sends exactly these paths (e.g. verify's `differing`): each is queued as a change, so the
   * continuous engine probes the target and sends the differing blocks, the metadata, the directory
   * or the deletion. Returns how many paths were queued; lag returns to 0 once they are applied.
   */
  resend(paths: readonly (string | Difference)[]): number {
    const lines: JournalLine[] = [];
    const now = Date.now();
    let n = 0;
    for (const p of paths) {
      const rel = typeof p === 'string' ? p : p.path;
      if (!rel || !matches(this.rules, rel)) continue;
      // 'meta': a directory's listing is reconciled (children missing or extra on the target are
      // queued) without re-probing every child; differing children are listed by verify themselves.
      this.enqueue(rel, 'meta', now, 0, lines);
      n++;
    }
    this.writeJournal(lines);
    this.poke();
    return n;
  }

  /** Queues the directories whose attributes changed since last seen (bounded work per call). */
  private async sweepDirs(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      const all = [...this.dirAttrs.keys()];
      if (this.sweepCursor >= all.length) this.sweepCursor = 0;
      const batch = all.slice(this.sweepCursor, this.sweepCursor + 5000);
      this.sweepCursor += batch.length;
      const lines: JournalLine[] = [];
      const now = Date.now();
      for (const rel of batch) {
        let st: Stats;
        try {
          st = await lstat(path.join(this.opts.root, ...rel.split('/')));
        } catch {
          this.dirAttrs.delete(rel); // gone: the watcher reported the removal
          continue;
        }
        if (!st.isDirectory()) {
          this.dirAttrs.delete(rel);
          continue;
        }
        const key = dirKey({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs });
        if (this.dirAttrs.get(rel) === key) continue;
        this.dirAttrs.set(rel, key);
        if (!this.queue.has(rel)) this.put(rel, 'meta', now, 0, lines);
      }
      if (lines.length) {
        this.writeJournal(lines);
        this.poke();
      }
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * A hint that a path changed, from someone who knows better than the watcher (the applier of a
   * pair whose target is this root: A→B→C). Goes through the same coalescing window, rules and
   * temp-file filter as a watcher event.
   */
  notifyChanged(relPath: string): void {
    if (!this.stopped) this.onEvent(relPath);
  }

  /** Current statistics (also pushed through onStats). */
  stats(): ReplicationStats {
    const now = Date.now();
    let oldest = Infinity;
    let bytes = 0;
    for (const c of this.queue.values()) {
      oldest = Math.min(oldest, c.since);
      bytes += c.bytes;
    }
    for (const c of this.inflight.values()) {
      oldest = Math.min(oldest, c.since);
      bytes += c.bytes;
    }
    for (const w of this.window.values()) oldest = Math.min(oldest, w.since);
    for (const since of this.afterLinkSearch.values()) oldest = Math.min(oldest, since);
    const t = performance.now();
    const s = this.state;
    s.throughput = t > this.lastStatsAt ? ((s.contentBytesSent - this.lastStatsBytes) * 1000) / (t - this.lastStatsAt) : 0;
    s.queueFiles = this.queue.size + this.inflight.size + this.window.size;
    s.queueBytes = bytes;
    s.lag = oldest === Infinity ? 0 : Math.max(0, (now - oldest) / 1000);
    s.mirrorFilesLeft = this.mirrorProgress?.filesLeft ?? 0;
    s.mirrorBytesLeft = this.mirrorProgress?.bytesLeft ?? 0;
    return { ...s, errors: [...s.errors] };
  }

  private emitStats(): void {
    const s = this.stats();
    this.lastStatsAt = performance.now();
    this.lastStatsBytes = this.state.contentBytesSent;
    this.opts.onStats?.(s);
  }

  private note(msg: string): void {
    this.state.errors.push(msg);
    if (this.state.errors.length > 50) this.state.errors.shift();
  }

  // ---- watcher and queue ----

  /**
   * One watch per directory (watcher.ts). A watch can fail (e.g. no inotify watches left): then the
   * watchers are re-created and, since events may have been lost meanwhile, the current session is
   * ended so the run loop does a differences pass first.
   */
  private startWatcher(): void {
    if (this.stopped) return;
    const w = new TreeWatcher(this.opts.root, {
      onChange: (rel) => this.onEvent(rel),
      skipDir: (rel) => prunable(this.rules, rel),
      onError: (err) => {
        if (this.watcher !== w) return;
        this.note(`watcher: ${err.message}; re-watching and rescanning`);
        w.close();
        this.watcher = undefined;
        this.needResync = true;
        this.channel?.destroy();
        this.poke();
        const retry = () => {
          try {
            this.startWatcher();
          } catch (e) {
            this.note(`watcher: ${(e as Error).message}`);
            setTimeout(retry, 500);
          }
        };
        setTimeout(retry, 10);
      },
    });
    this.watcher = w;
    w.start();
  }

  private onEvent(rel: string): void {
    if (!rel || rel.startsWith('../') || !matches(this.rules, rel)) return;
    // An applier's temp file (this root is also the target of another pair, A→B→C): never sent
    // onward; the rename that completes it is an event on the real name.
    if (isTempName(rel.slice(rel.lastIndexOf('/') + 1))) return;
    const now = Date.now();
    const w = this.window.get(rel);
    // An event on a directory itself means created/renamed in/chmod: treat every path as "full";
    // the kind only matters for directories.
    if (w) w.kind = 'full';
    else this.window.set(rel, { kind: 'full', since: now });
    this.windowTimer ??= setTimeout(() => this.flushWindow(), this.coalesceMs);
  }

  private flushWindow(): void {
    this.windowTimer = undefined;
    const batch = [...this.window];
    this.window.clear();
    const lines: JournalLine[] = [];
    for (const [rel, w] of batch) this.enqueue(rel, w.kind, w.since, 0, lines);
    this.writeJournal(lines);
    this.poke();
  }

  /** Queues a path (moving it to the end) and its parent directory after it. */
  private enqueue(rel: string, kind: Kind, since: number, attempts: number, lines: JournalLine[], withParent = true): void {
    this.put(rel, kind, since, attempts, lines);
    if (withParent && rel !== '') {
      const parent = parentOf(rel);
      if (parent === '' || matches(this.rules, parent)) this.put(parent, 'meta', since, 0, lines);
    }
  }

  private put(rel: string, kind: Kind, since: number, attempts: number, lines: JournalLine[]): void {
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
      const st = fstatSafe(path.join(this.opts.root, rel));
      if (st?.isFile()) bytes = st.size;
    } catch {
      // sizes are for statistics only
    }
    const c: Change = { seq: this.nextSeq++, path: rel, kind, since, bytes, attempts };
    this.queue.set(rel, c);
    lines.push({ op: 'add', seq: c.seq, path: rel, kind, t: since });
  }

  /**
   * Walks the root for the names of every linked file (links.ts), then queues `rel` again so it is
   * handled with its whole group. One walk at a time; paths asking meanwhile get the next one.
   */
  private searchLinks(rel: string, since: number): void {
    this.afterLinkSearch.set(rel, Math.min(since, this.afterLinkSearch.get(rel) ?? since));
    if (this.linkSearch) {
      this.linkSearchAgain = true;
      return;
    }
    this.linkSearch = (async () => {
      do {
        this.linkSearchAgain = false;
        const asked = new Map(this.afterLinkSearch);
        const { entries } = await walk(this.opts.root, { rules: this.rules, ignore: (_r, name) => isTempName(name) });
        this.links.reset(entries);
        const lines: JournalLine[] = [];
        for (const [p, since] of asked) {
          this.afterLinkSearch.delete(p);
          if (!this.stopped) this.put(p, 'full', since, 0, lines);
        }
        this.writeJournal(lines);
        this.poke();
      } while (this.linkSearchAgain && !this.stopped);
    })()
      .catch((err: unknown) => this.note(`looking for hard links: ${(err as Error).message}`))
      .finally(() => (this.linkSearch = undefined));
  }

  private poke(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  private complete(c: Change, lines: JournalLine[]): void {
    this.inflight.delete(c.seq);
    this.state.changesApplied++;
    lines.push({ op: 'ack', seq: c.seq });
  }

  /** Puts unacknowledged changes back at the head of the queue, in their order. */
  private requeueInflight(): void {
    if (!this.inflight.size) return;
    const back = [...this.inflight.values()].sort((a, b) => a.seq - b.seq);
    this.inflight.clear();
    const rest = [...this.queue.values()];
    this.queue.clear();
    const newer = new Set(rest.map((r) => r.path));
    for (const c of back) if (!newer.has(c.path)) this.queue.set(c.path, c);
    for (const c of rest) this.queue.set(c.path, c);
  }

  // ---- journal ----

  /** Unacknowledged changes of the last run become the queue again, with their original timestamps. */
  private loadJournal(): void {
    const j = this.journal.read();
    this.nextSeq = Math.max(this.nextSeq, j.nextSeq);
    this.mirrored = j.mirrored;
    this.mirrorStarted = j.mirrorStarted;
    for (const c of j.pending) {
      const old = this.queue.get(c.path);
      if (old) {
        this.queue.delete(c.path);
        c.since = Math.min(c.since, old.since);
        if (old.kind === 'full') c.kind = 'full';
      }
      try {
        const st = fstatSafe(path.join(this.opts.root, c.path));
        if (st?.isFile()) c.bytes = st.size;
      } catch {
        // statistics only
      }
      this.queue.set(c.path, c);
    }
    this.journal.compact();
  }

  private writeJournal(lines: JournalLine[]): void {
    this.journal.append(lines);
  }

  // ---- sessions ----

  private async run(): Promise<void> {
    let delay = this.opts.retryMs ?? 100;
    while (!this.stopped) {
      try {
        if (!this.mirrored || this.needResync) {
          this.state.phase = 'mirror';
          const first = !this.mirrored && !this.mirrorStarted;
          this.needResync = false;
          if (first) {
            this.mirrorStarted = true;
            this.writeJournal([{ op: 'mirror-started' }]);
          }
          const channel = await this.opts.connect();
          this.channel = channel;
          this.state.connected = true;
          const res = await mirror({
            root: this.opts.root,
            rules: this.rules,
            channel,
            mode: first ? (this.opts.mode ?? 'full') : 'differences',
            orphans: this.opts.orphans ?? 'delete',
            delta: !first,
            signatures: this.signatures,
            inPlaceMinBytes: this.opts.inPlaceMinBytes,
            onProgress: (p) => (this.mirrorProgress = p),
            onManifest: (entries) => this.links.reset(entries),
          });
          this.state.contentBytesSent += res.contentBytesSent;
          for (const e of res.errors) this.note(e);
          this.mirrorProgress = undefined;
          if (!this.mirrored) {
            this.mirrored = true;
            this.writeJournal([{ op: 'mirrored' }]);
          }
        }
        if (this.stopped) break;
        this.state.phase = 'continuous';
        const channel = await this.opts.connect();
        this.channel = channel;
        this.state.connected = true;
        delay = this.opts.retryMs ?? 100;
        await this.session(channel);
      } catch (err) {
        if (this.stopped) break;
        if (this.state.phase === 'mirror' && this.mirrored) this.needResync = true;
        this.note(`session: ${(err as Error).message}`);
        this.state.reconnects++;
      } finally {
        this.channel?.destroy();
        this.channel = undefined;
        this.state.connected = false;
        this.requeueInflight();
      }
      if (this.stopped) break;
      this.state.phase = 'disconnected';
      await sleep(delay);
      delay = Math.min(2000, delay * 2);
    }
  }

  private async session(channel: Channel): Promise<void> {
    const probes = new Map<number, { resolve: (m: Message & { corrupt: false }) => void; reject: (e: Error) => void }>();
    let hello: { resolve: (m: Message & { corrupt: false }) => void; reject: (e: Error) => void } | undefined;
    let nextRid = 1;
    let failure: Error | undefined;
    const failAll = (err: Error) => {
      failure ??= err;
      for (const r of probes.values()) r.reject(failure);
      probes.clear();
      hello?.reject(failure);
      this.poke();
    };
    const pump = (async () => {
      for (;;) {
        const m = await channel.receive();
        if (!m) throw new ChannelError('the target closed the data channel');
        if (m.corrupt) throw new ChannelError('a frame from the target failed its CRC');
        if (m.type === MSG.ACK) this.onAck(ackSchema.parse(m.header));
        else if (m.type === MSG.ERROR) throw new ChannelError(`target: ${errorSchema.parse(m.header).message}`);
        else if (m.type === MSG.PROBE_REPLY) {
          const rid = probeReplySchema.parse(m.header).rid ?? -1;
          const r = probes.get(rid);
          if (!r) throw new ChannelError('a probe reply nobody asked for');
          probes.delete(rid);
          r.resolve(m);
        } else if (m.type === MSG.HELLO_OK && hello) {
          hello.resolve(m);
          hello = undefined;
        } else throw new ChannelError(`unexpected message ${m.type} from the target`);
      }
    })().catch((err: unknown) => failAll(err instanceof Error ? err : new Error(String(err))));
    const probe: Probe = (rel) => {
      if (failure) return Promise.reject(failure);
      const rid = nextRid++;
      const p = new Promise<Message & { corrupt: false }>((resolve, reject) => probes.set(rid, { resolve, reject }));
      channel.send(MSG.PROBE, { path: rel, rid }).catch((err: unknown) => failAll(err as Error));
      return p;
    };
    // Probes are small request/reply round trips: Nagle + delayed ACK would add ~40 ms to each.
    channel.socket.setNoDelay(true);
    try {
      const ok = new Promise<Message & { corrupt: false }>((resolve, reject) => (hello = { resolve, reject }));
      await channel.send(MSG.HELLO, { version: PROTOCOL_VERSION });
      await ok;
      // Several workers, so a big or busy file does not hold up the changes queued behind it. Two
      // workers never handle related paths (the same path, or one below the other) at once, which
      // keeps a directory's metadata after its children's changes.
      const busy = new Set<string>();
      const worker = async () => {
        while (!this.stopped && !failure) {
          const c = this.takeNext(busy);
          if (!c) {
            await new Promise<void>((r) => this.wakers.push(r));
            continue;
          }
          busy.add(c.path);
          this.queue.delete(c.path);
          this.inflight.set(c.seq, c);
          try {
            await this.process(channel, c, probe);
          } catch (err) {
            if (err instanceof ChannelError || failure) {
              failAll(err as Error);
              break;
            }
            // A local problem with this path (unreadable, vanished mid-walk): report it, drop the change.
            this.note(`${c.path || '.'}: ${(err as Error).message}`);
            const lines: JournalLine[] = [];
            this.complete(c, lines);
            this.writeJournal(lines);
          } finally {
            busy.delete(c.path);
            this.poke();
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      if (failure) throw failure;
    } finally {
      channel.destroy();
      await pump;
    }
  }

  /**
   * The first queued change whose path is not related to one being handled, and not below a
   * directory queued before it that has to wait: otherwise a file changed all the time would keep
   * overtaking its directory's metadata, which would never be sent.
   */
  private takeNext(busy: Set<string>): Change | undefined {
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

  private onAck(a: z.infer<typeof ackSchema>): void {
    const c = this.inflight.get(a.fid);
    if (!c) return;
    const lines: JournalLine[] = [];
    if (a.ok) this.complete(c, lines);
    else {
      this.inflight.delete(c.seq);
      lines.push({ op: 'ack', seq: c.seq });
      if (c.attempts + 1 >= MAX_ATTEMPTS) this.note(`${c.path}: dropped after ${MAX_ATTEMPTS} attempts: ${a.error ?? 'rejected'}`);
      else if (!this.queue.has(c.path)) this.enqueue(c.path, c.kind, c.since, c.attempts + 1, lines, false);
    }
    this.writeJournal(lines);
  }

  /** Makes the target's copy of one path equal to the source's current state. */
  private async process(
    channel: Channel,
    c: Change,
    ask: Probe,
  ): Promise<void> {
    const lines: JournalLine[] = [];
    const abs = c.path ? path.join(this.opts.root, ...c.path.split('/')) : this.opts.root;
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
    if (mine?.type === 'dir') this.dirAttrs.set(c.path, dirKey(mine));
    else this.dirAttrs.delete(c.path);
    if (mine?.type !== 'file') this.links.forget(c.path, !mine);
    if (!mine) {
      if (theirs && c.path) await send(MSG.DELETE, { fid: c.seq, path: c.path });
      else this.complete(c, lines);
    } else if (mine.type === 'dir') {
      await this.reconcile(c, abs, probe.children ?? [], theirs?.type === 'dir', lines);
      if (c.path) await send(MSG.DIR, { fid: c.seq, entry: mine });
      // The root's own metadata, as rsync -a copies it (its path cannot travel in a DIR entry).
      else if (theirs?.type === 'dir' && sameMeta(theirs, mine, true)) this.complete(c, lines);
      else await send(MSG.ROOT_META, { fid: c.seq, root: { mode: mine.mode, uid: mine.uid, gid: mine.gid, mtimeMs: mine.mtimeMs } });
    } else if (mine.type === 'symlink') {
      if (theirs?.type === 'symlink' && theirs.target === mine.target && sameMeta(theirs, mine, false)) this.complete(c, lines);
      else await send(MSG.SYMLINK, { fid: c.seq, entry: mine });
    } else {
      // Hard links (links.ts): the content goes to the group's primary name, the others are linked to it.
      const group = this.links.group(c.path, st!);
      // More names than we know (a link just made to a file that had one): find them, then handle this path again.
      if (this.links.needsSearch(st!)) this.searchLinks(c.path, c.since);
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
      const outcome = await this.sendFile(channel, rel === c.path ? c : { ...c, path: rel }, rel === c.path ? abs : path.join(this.opts.root, ...rel.split('/')), sig, they, mine.size);
      if (group && outcome !== 'retry') {
        for (const n of group.others) await this.sendLink(channel, c, n, rel);
        // Linking (and content sent to another name) changes those directories on the target: their
        // metadata goes after (c.path's own directory is queued with it already).
        const dirs = new Set([rel, ...group.others].filter((n) => n !== c.path).map(parentOf));
        for (const d of dirs) if (d === '' || matches(this.rules, d)) this.put(d, 'meta', c.since, 0, lines);
      }
      if (outcome === 'equal') this.complete(c, lines);
      else if (outcome === 'retry') {
        this.inflight.delete(c.seq);
        lines.push({ op: 'ack', seq: c.seq });
        if (!this.queue.has(c.path)) this.enqueue(c.path, c.kind, c.since, c.attempts, lines, false);
      } else if (outcome === 'snapshot') {
        // It changed while we read it: what was sent is a mix of versions. Send it again (what was
        // written after the read started may be missing); the ACK completes this change.
        this.put(c.path, c.kind, readStart, 0, lines);
      }
    }
    this.writeJournal(lines);
  }

  /**
   * Makes `name` a hard link to `to` on the target: its own change (acknowledged on its own; on
   * failure `name` is queued and handled again), sent after `to`'s content so the target links to
   * the new file.
   */
  private async sendLink(channel: Channel, c: Change, name: string, to: string): Promise<void> {
    const link: Change = { seq: this.nextSeq++, path: name, kind: 'full', since: c.since, bytes: 0, attempts: c.attempts };
    this.inflight.set(link.seq, link);
    await channel.send(MSG.LINK, { fid: link.seq, path: name, to });
  }

  /** Queues the children that differ between the two listings (all of them for a "full" directory). */
  private async reconcile(c: Change, abs: string, theirList: string[], theyHaveDir: boolean, lines: JournalLine[]): Promise<void> {
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
      if (n.includes('\uFFFD') || isTempName(n) || !matches(this.rules, rel(n))) continue;
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
        if (this.queue.get(rel(n))?.kind !== 'full') this.put(rel(n), 'full', c.since, 0, lines);
        queued = true;
      }
    }
    for (const n of theirs.keys()) {
      if (mineTypes.has(n) || isTempName(n) || !matches(this.rules, rel(n))) continue;
      this.put(rel(n), 'full', c.since, 0, lines);
      queued = true;
    }
    // The directory's metadata must land after its children changed it: queue it again behind them.
    if (queued) this.put(c.path, 'meta', c.since, 0, lines);
  }

  /**
   * Sends a file: whole in one frame when small and new to the target, else the blocks that differ
   * from the target's signature. A file that changes while it is read is NOT waited for: the
   * blocks as read are sent (each one as it was at some moment of the read) and the caller queues
   * the file again ('snapshot'), so a file that is written all the time still reaches the target
   * at the pace it can be read, and converges once it pauses.
   */
  private async sendFile(
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
      this.state.contentBytesSent += st0.size;
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
      const own = this.signatures.own(abs, st0);
      const begin = async () => {
        begun = true;
        await channel.send(MSG.FILE_BEGIN, { fid: c.seq, path: c.path, size: st0.size, delta, ...inPlaceFlag(delta, st0.size, this.opts.inPlaceMinBytes) });
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
          this.state.contentBytesSent += buf.length;
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
      } else if (hashes) this.signatures.set(abs, st0, hashes, fingerprints);
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
}

function dirKey(e: { mode: number; uid: number; gid: number; mtimeMs: number }): string {
  return `${e.mode}:${e.uid}:${e.gid}:${e.mtimeMs}`;
}

function fstatSafe(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function sameMeta(a: { mode: number; uid: number; gid: number; mtimeMs: number }, b: { mode: number; uid: number; gid: number; mtimeMs: number }, withMode: boolean): boolean {
  return (!withMode || a.mode === b.mode) && a.uid === b.uid && a.gid === b.gid && Math.abs(a.mtimeMs - b.mtimeMs) < MTIME_TOLERANCE_MS;
}
