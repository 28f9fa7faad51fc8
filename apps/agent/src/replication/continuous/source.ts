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
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type z } from 'zod';
import { type Channel } from '../channel.ts';
import { isTempName, walk } from '../manifest.ts';
import { mirror, type MirrorProgress } from '../mirror.ts';
import { type ackSchema, type MirrorMode, type OrphanPolicy } from '../protocol.ts';
import { matches, prunable, type ReplicationRule } from '../set.ts';
import { SignatureCache } from '../signatures.ts';
import { type Difference, verify, type VerifyResult } from '../verify.ts';
import { TreeWatcher } from '../watcher.ts';
import { DirAttrs } from './dir-attrs.ts';
import { type Change, type JournalLine, type Kind } from './journal.ts';
import { LinkIndex } from './links.ts';
import { type PathContext, processChange } from './path-sync.ts';
import { ChangeQueue } from './queue.ts';
import { runSession } from './session.ts';
import { sleep } from './util.ts';


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

/** The source agent's side of continuous replication for one root. */
export class ContinuousSource {
  private readonly rules: readonly ReplicationRule[];
  private readonly coalesceMs: number;
  private readonly window = new Map<string, { kind: Kind; since: number }>();
  private windowTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Directory attributes as last seen, and their sweep (dir-attrs.ts). */
  private readonly dirAttrs: DirAttrs;
  private watcher: TreeWatcher | undefined;
  /** Changes queued and in flight, and their journal (queue.ts). */
  private readonly q: ChangeQueue;
  private mirrored = false;
  private mirrorStarted = false;
  private needResync = false;
  private stopped = false;
  private channel: Channel | undefined;
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
  /** What handling a change needs (path-sync.ts). */
  private readonly paths: PathContext;
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
    this.dirAttrs = new DirAttrs(opts.root, this.rules);
    this.q = new ChangeQueue(opts.root, this.rules, path.join(opts.stateDir, JOURNAL), () => ({ mirrored: this.mirrored, mirrorStarted: this.mirrorStarted }));
    this.paths = {
      root: opts.root,
      rules: this.rules,
      q: this.q,
      dirAttrs: this.dirAttrs,
      links: this.links,
      files: { state: this.state, signatures: this.signatures, inPlaceMinBytes: opts.inPlaceMinBytes },
      complete: (c, lines) => this.complete(c, lines),
      searchLinks: (rel, since) => this.searchLinks(rel, since),
    };
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
      await this.dirAttrs.recordTree();
      this.sweepTimer = setInterval(() => void this.dirAttrs.sweep(this.q, () => this.stopped), sweepMs);
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
    this.q.poke();
    await this.loop;
    await this.linkSearch;
    await this.signatures.flush();
    this.state.phase = 'stopped';
    this.q.close();
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
      this.q.enqueue(rel, 'meta', now, 0, lines);
      n++;
    }
    this.q.write(lines);
    this.q.poke();
    return n;
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
    for (const c of this.q.queue.values()) {
      oldest = Math.min(oldest, c.since);
      bytes += c.bytes;
    }
    for (const c of this.q.inflight.values()) {
      oldest = Math.min(oldest, c.since);
      bytes += c.bytes;
    }
    for (const w of this.window.values()) oldest = Math.min(oldest, w.since);
    for (const since of this.afterLinkSearch.values()) oldest = Math.min(oldest, since);
    const t = performance.now();
    const s = this.state;
    s.throughput = t > this.lastStatsAt ? ((s.contentBytesSent - this.lastStatsBytes) * 1000) / (t - this.lastStatsAt) : 0;
    s.queueFiles = this.q.queue.size + this.q.inflight.size + this.window.size;
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
        this.q.poke();
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
    for (const [rel, w] of batch) this.q.enqueue(rel, w.kind, w.since, 0, lines);
    this.q.write(lines);
    this.q.poke();
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
          if (!this.stopped) this.q.put(p, 'full', since, 0, lines);
        }
        this.q.write(lines);
        this.q.poke();
      } while (this.linkSearchAgain && !this.stopped);
    })()
      .catch((err: unknown) => this.note(`looking for hard links: ${(err as Error).message}`))
      .finally(() => (this.linkSearch = undefined));
  }

  private complete(c: Change, lines: JournalLine[]): void {
    this.q.inflight.delete(c.seq);
    this.state.changesApplied++;
    lines.push({ op: 'ack', seq: c.seq });
  }

  // ---- journal ----

  /** Unacknowledged changes of the last run become the queue again, with their original timestamps. */
  private loadJournal(): void {
    const j = this.q.load();
    this.mirrored = j.mirrored;
    this.mirrorStarted = j.mirrorStarted;
    this.q.compact();
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
            this.q.write([{ op: 'mirror-started' }]);
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
            this.q.write([{ op: 'mirrored' }]);
          }
        }
        if (this.stopped) break;
        this.state.phase = 'continuous';
        const channel = await this.opts.connect();
        this.channel = channel;
        this.state.connected = true;
        delay = this.opts.retryMs ?? 100;
        await runSession(channel, {
          queue: this.q,
          stopped: () => this.stopped,
          onAck: (a) => this.onAck(a),
          process: (ch, c, probe) => processChange(this.paths, ch, c, probe),
          drop: (c, err) => {
            this.note(`${c.path || '.'}: ${err.message}`);
            const lines: JournalLine[] = [];
            this.complete(c, lines);
            this.q.write(lines);
          },
        });
      } catch (err) {
        if (this.stopped) break;
        if (this.state.phase === 'mirror' && this.mirrored) this.needResync = true;
        this.note(`session: ${(err as Error).message}`);
        this.state.reconnects++;
      } finally {
        this.channel?.destroy();
        this.channel = undefined;
        this.state.connected = false;
        this.q.requeueInflight();
      }
      if (this.stopped) break;
      this.state.phase = 'disconnected';
      await sleep(delay);
      delay = Math.min(2000, delay * 2);
    }
  }

  private onAck(a: z.infer<typeof ackSchema>): void {
    const c = this.q.inflight.get(a.fid);
    if (!c) return;
    const lines: JournalLine[] = [];
    if (a.ok) this.complete(c, lines);
    else {
      this.q.inflight.delete(c.seq);
      lines.push({ op: 'ack', seq: c.seq });
      if (c.attempts + 1 >= MAX_ATTEMPTS) this.note(`${c.path}: dropped after ${MAX_ATTEMPTS} attempts: ${a.error ?? 'rejected'}`);
      else if (!this.q.queue.has(c.path)) this.q.enqueue(c.path, c.kind, c.since, c.attempts + 1, lines, false);
    }
    this.q.write(lines);
  }
}
