// The agent's file-replication sessions, one per protection pair, driven by the control plane's
// `replication.start | stop | status` commands (see the protocol's replicationStartArgsSchema).
//
// - Owned by the agent runtime, not by a gateway connection: replication keeps running while the
//   agent is disconnected from Tandem; only the statistics need the connection (dropped meanwhile).
// - TARGET role: the pair's roots are served on a data-channel listener (`listen`, default port
//   6320). Listeners are shared: several pairs (and the several roots of one pair) can use the same
//   host:port; each TLS-PSK identity routes to its own ContinuousTarget. Source root R lands at
//   `targetRoot + R` (see targetPathFor). With route `relay` nothing listens: each root keeps a
//   socket waiting at the gateway's relay instead (relay.ts RelayServer).
// - SOURCE role: one ContinuousSource per root (initial mirror, then continuous replication with
//   journal and resume; continuous.ts). The bandwidth limit is split evenly between the roots.
//   With route `relay` each connection goes through the gateway's relay (relay.ts
//   connectViaRelay); a dropped relay is a dropped connection, retried like a direct one.
// - One channel identity per root: `<pairId>:<12 hex of sha256(root)>`, authenticated with the pair's
//   key. Both sides derive it from the same root path, so the order of the roots does not matter and
//   a root the target does not know is refused at the handshake.
// - State lives under `<configDir>/replication/<pairId>/`: `pair.json` (the start arguments, mode
//   0600 in a 0700 directory: they hold the key) and `source/<tag>/` or `target/<tag>/` (journal,
//   in-flight log). Pairs with a pair.json are started again when the agent starts (resume); a pair
//   that cannot start (root missing, port busy) is retried every RETRY_MS. `replication.stop`
//   removes pair.json but keeps the journal, so starting the pair again resumes with a differences
//   pass instead of a full mirror. The replica itself is never deleted by stop.
// - `replication.verify | resend` (source agent only, running pair): verify compares each root with
//   the target's copy over a channel of its own (verify.ts), resend queues paths into the root's
//   continuous engine. Differences are reported with the source root they belong to.
// - `replication.restore` (failback; restore.ts): the pair's data back from the target's copy to the
//   source, one RestoreJob per pair, refused while the pair replicates on this agent (and a start is
//   refused while its restore runs). The receiver serves each root on the shared listeners under the
//   root's usual identity; the sender connects to it. Not persisted: a restore cut short by an agent
//   restart ends `failed` and the control plane runs it again.
// - Statistics: every STATS_INTERVAL_MS the runtime's sink receives one `replication.stats` payload
//   per SOURCE pair (only the source's agent may report a pair).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  type AgentPayload,
  DEFAULT_REPLICATION_PORT,
  replicationRestoreArgsSchema,
  type ReplicationRestoreArgs,
  replicationStartArgsSchema,
  type ReplicationStartArgs,
  MAX_VERIFY_DIFFERING,
  type ReplicationDifference,
  type ReplicationStatus,
  type ReplicationVerifyResult,
} from '@tandem/protocol';
import { connect, listen, ChannelServer, type Channel } from './channel.ts';
import { connectViaRelay, RelayServer, type RelayEndpoint } from './relay.ts';
import { ContinuousSource, ContinuousTarget } from './continuous.ts';
import { receiveRestore, restore, RestoreJob, type RestoreRootRun } from './restore.ts';
import { validateSet, type ReplicationRule } from './set.ts';
import { writeSecretFile } from '../config.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';

export const STATS_INTERVAL_MS = Number(process.env.TANDEM_AGENT_REPLICATION_STATS_MS ?? 3000);
const RETRY_MS = 10_000;
/** How long a restore receiver waits for the sender to connect each root. */
const RESTORE_ACCEPT_MS = 120_000;
/** A restore sender's connection attempts (the receiver may still be starting to listen). */
const RESTORE_CONNECT_TRIES = 6;
const PAIR_FILE = 'pair.json';

type Log = (msg: string, extra?: Record<string, unknown>) => void;
export type StatsSink = (payload: AgentPayload<'replication.stats'>) => void;

/** The channel identity of one root of a pair. */
export function identityFor(pairId: string, root: string): string {
  return `${pairId}:${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
}

/**
 * Where the target keeps a source root: under targetRoot at the root's own path.
 * `/srv/data` → `<targetRoot>/srv/data`, `C:\data` → `<targetRoot>/C/data`,
 * `\\host\share\x` → `<targetRoot>/UNC/host/share/x`, `/` → `<targetRoot>`.
 */
export function targetPathFor(targetRoot: string, sourceRoot: string): string {
  let parts: string[];
  if (sourceRoot.startsWith('/') && !sourceRoot.startsWith('//')) {
    parts = path.posix.normalize(sourceRoot).split('/');
  } else {
    const norm = path.win32.normalize(sourceRoot);
    const unc = /^\\\\([^\\]+)\\(.*)$/.exec(norm);
    if (unc) parts = ['UNC', unc[1]!, ...unc[2]!.split('\\')];
    else {
      const drive = /^([A-Za-z]):(.*)$/.exec(norm);
      parts = drive ? [drive[1]!.toUpperCase(), ...drive[2]!.split('\\')] : norm.split('\\');
    }
  }
  parts = parts.filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`root ${sourceRoot} cannot be mapped under the target root`);
  return path.join(targetRoot, ...parts);
}

// ---------------------------------------------------------------- shared listeners

interface Route {
  key: Buffer;
  server: RoutedServer;
}

/** A ChannelServer view of one identity on a shared listener; close() only unregisters it. */
class RoutedServer extends ChannelServer {
  /** Channels handed to this route and still open: closed with the route (none may outlive it). */
  private readonly open = new Set<Channel>();
  private closed = false;

  constructor(
    private readonly listener: SharedListener,
    private readonly identity: string,
  ) {
    super(listener.server.server);
    this.port = listener.server.port;
  }

  override offer(c: Channel): void {
    if (this.closed) return c.destroy();
    this.open.add(c);
    c.socket.once('close', () => this.open.delete(c));
    super.offer(c);
  }

  override async close(): Promise<void> {
    this.closed = true;
    for (const c of this.open) c.destroy();
    this.open.clear();
    await this.listener.remove(this.identity);
  }
}

class SharedListener {
  closed = false;

  private constructor(
    readonly server: ChannelServer,
    readonly routes: Map<string, Route>,
    private readonly onEmpty: () => void,
  ) {}

  static async open(host: string | undefined, port: number, onEmpty: () => void): Promise<SharedListener> {
    const routes = new Map<string, Route>();
    const server = await listen({ host, port, keyFor: (id) => routes.get(id)?.key });
    const self = new SharedListener(server, routes, onEmpty);
    void self.dispatch();
    return self;
  }

  private async dispatch(): Promise<void> {
    while (!this.closed) {
      const channel: Channel = await this.server.accept();
      const route = this.routes.get(channel.pairId);
      if (!route || this.closed) channel.destroy();
      else route.server.offer(channel);
    }
  }

  add(identity: string, key: Buffer): RoutedServer {
    if (this.closed) throw new Error(`the listener on port ${this.server.port} is closing; try again`);
    if (this.routes.has(identity)) throw new Error(`identity ${identity} is already served on port ${this.server.port}`);
    const server = new RoutedServer(this, identity);
    this.routes.set(identity, { key, server });
    return server;
  }

  async remove(identity: string): Promise<void> {
    this.routes.delete(identity);
    if (this.routes.size === 0 && !this.closed) {
      this.closed = true;
      this.onEmpty();
      // close() stops listening at once (the port is free again); its callback waits for the
      // remaining connections, which are being destroyed: do not wait for it forever.
      await Promise.race([this.server.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
  }
}

// ---------------------------------------------------------------- sessions

interface SourceRoot {
  root: string;
  source: ContinuousSource;
  /** Reached continuous replication since this session started (until then lag is unknown). */
  caughtUp: boolean;
}

interface PairSession {
  args: ReplicationStartArgs;
  fingerprint: string;
  startedAt: number;
  sources: SourceRoot[];
  targets: ContinuousTarget[];
  port: number | null;
  targetErrors: string[];
  lastBytes: number;
  lastAt: number;
  throughputBps: number;
  stop: () => Promise<void>;
}

export interface ReplicationManagerOptions {
  /** `<configDir>/replication`. */
  dir: string;
  log: Log;
  statsIntervalMs?: number;
  /** The gateway's relay and this agent's credential, for pairs with route `relay`. */
  relay?: () => RelayEndpoint;
}

export class ReplicationManager {
  private readonly sessions = new Map<string, PairSession>();
  private readonly listeners = new Map<string, Promise<SharedListener>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** The latest restore of each pair since the agent started (running or finished). */
  private readonly restores = new Map<string, RestoreJob>();
  /** Serialises start/stop/restore of one pair. */
  private readonly locks = new KeyedLock();
  private sink: StatsSink | null = null;
  private timer: NodeJS.Timeout | undefined;
  private shut = false;

  constructor(private readonly opts: ReplicationManagerOptions) {}

  /** Where statistics go (the current gateway connection), or null while disconnected. */
  setSink(sink: StatsSink | null): void {
    this.sink = sink;
  }

  /** Starts every persisted pair and the statistics timer. */
  async resume(): Promise<void> {
    this.timer ??= setInterval(() => this.tick(), this.opts.statsIntervalMs ?? STATS_INTERVAL_MS);
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.opts.dir);
    } catch {
      return;
    }
    for (const pairId of names) {
      const file = path.join(this.opts.dir, pairId, PAIR_FILE);
      if (!fs.existsSync(file)) continue;
      let args: ReplicationStartArgs;
      try {
        args = replicationStartArgsSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
      } catch (err) {
        this.opts.log('ignoring a damaged replication pair file', { file, error: String(err).slice(0, 300) });
        continue;
      }
      await this.resumeOne(args);
    }
  }

  private async resumeOne(args: ReplicationStartArgs): Promise<void> {
    this.retries.delete(args.pairId);
    if (this.shut) return;
    try {
      await this.start(args, { persist: false });
      this.opts.log('replication pair resumed', { pairId: args.pairId, role: args.role });
    } catch (err) {
      this.opts.log('replication pair could not resume; retrying', { pairId: args.pairId, error: (err as Error).message.slice(0, 300) });
      this.retries.set(
        args.pairId,
        setTimeout(() => void this.resumeOne(args), RETRY_MS),
      );
    }
  }

  /** Starts one side of a pair; a pair already running with the same arguments is left alone. */
  start(raw: ReplicationStartArgs, opts: { persist?: boolean } = {}): Promise<{ started: true; port: number | null }> {
    const args = replicationStartArgsSchema.parse(raw);
    return this.locks.run(args.pairId, async () => {
      if (this.shut) throw new Error('the agent is stopping');
      if (this.restores.get(args.pairId)?.running) throw new Error(`a restore of pair ${args.pairId} is running on this agent; start replication when it has ended`);
      const fingerprint = JSON.stringify(args);
      const running = this.sessions.get(args.pairId);
      if (running?.fingerprint === fingerprint) return { started: true as const, port: running.port };
      // Arguments that cannot work are refused before a running session is touched.
      precheck(args);
      if (running) {
        this.opts.log('replication pair restarting with new arguments', { pairId: args.pairId });
        this.sessions.delete(args.pairId);
        await running.stop();
      }
      clearTimeout(this.retries.get(args.pairId));
      this.retries.delete(args.pairId);
      const dir = path.join(this.opts.dir, args.pairId);
      // Persisted first: if the agent dies while starting, the pair still resumes.
      if (opts.persist !== false) writeSecretFile(path.join(dir, PAIR_FILE), args);
      let session: PairSession;
      try {
        session = args.role === 'target' ? await this.startTarget(args, dir) : await this.startSource(args, dir);
      } catch (err) {
        // A start the control plane asked for and that failed is not resumed later: it was told.
        if (opts.persist !== false) fs.rmSync(path.join(dir, PAIR_FILE), { force: true });
        throw err;
      }
      session.fingerprint = fingerprint;
      this.sessions.set(args.pairId, session);
      this.opts.log('replication pair started', { pairId: args.pairId, role: args.role, port: session.port });
      return { started: true as const, port: session.port };
    });
  }

  /** Stops a pair and forgets its arguments (the journal and the replica stay). */
  stop(pairId: string): Promise<{ stopped: boolean }> {
    return this.locks.run(pairId, async () => {
      clearTimeout(this.retries.get(pairId));
      const hadRetry = this.retries.delete(pairId);
      const file = path.join(this.opts.dir, pairId, PAIR_FILE);
      const persisted = fs.existsSync(file);
      fs.rmSync(file, { force: true });
      const s = this.sessions.get(pairId);
      this.sessions.delete(pairId);
      if (s) await s.stop();
      if (s || persisted || hadRetry) this.opts.log('replication pair stopped', { pairId });
      return { stopped: !!s || persisted || hadRetry };
    });
  }

  /** Agent shutdown: ends every session; the pairs resume at the next start. */
  async shutdown(): Promise<void> {
    this.shut = true;
    clearInterval(this.timer);
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    await this.locks.idle();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all([...all.map((s) => s.stop().catch(() => undefined)), ...[...this.restores.values()].map((j) => j.stop())]);
  }

  /** Starts this agent's part of a restore (see replicationRestoreArgsSchema); returns once it listens (receiver) or has begun (sender). */
  restore(raw: ReplicationRestoreArgs): Promise<{ started: true; port: number | null }> {
    const args = replicationRestoreArgsSchema.parse(raw);
    return this.locks.run(args.pairId, async () => {
      if (this.shut) throw new Error('the agent is stopping');
      if (this.sessions.has(args.pairId) || this.retries.has(args.pairId)) {
        throw new Error(`replication of pair ${args.pairId} runs on this agent: stop it (replication.stop) before a restore`);
      }
      if (this.restores.get(args.pairId)?.running) throw new Error(`a restore of pair ${args.pairId} is already running on this agent`);
      const key = Buffer.from(args.key, 'base64');
      const job = args.role === 'receiver' ? await this.restoreReceiver(args, key) : this.restoreSender(args, key);
      this.restores.set(args.pairId, job.job);
      this.opts.log('replication restore started', { pairId: args.pairId, role: args.role, port: job.port });
      void job.job.finished.then(() => {
        const st = job.job.snapshot();
        this.opts.log(`replication restore ${st.state}`, { pairId: args.pairId, role: args.role, errors: st.errors.slice(0, 5) });
      });
      return { started: true as const, port: job.port };
    });
  }

  /** The original source: one listener route per root, each applying what the sender mirrors into the root. */
  private async restoreReceiver(args: ReplicationRestoreArgs, key: Buffer): Promise<{ job: RestoreJob; port: number }> {
    const listener = await this.listener(args.listen?.host, args.listen?.port ?? DEFAULT_REPLICATION_PORT);
    const servers: ChannelServer[] = [];
    const abort = new AbortController();
    const roots: { root: string; run: RestoreRootRun }[] = [];
    try {
      for (const root of args.source.roots) {
        const server = listener.add(identityFor(args.pairId, root), key);
        servers.push(server);
        const rules = withStateExcluded(args.source.rules, root, this.opts.dir);
        roots.push({ root, run: () => receiveRestore({ root, server, rules, acceptTimeoutMs: RESTORE_ACCEPT_MS, signal: abort.signal }) });
      }
    } catch (err) {
      await Promise.all(servers.map((x) => x.close()));
      throw err;
    }
    const job = new RestoreJob('receiver', roots, async () => {
      abort.abort();
      await Promise.all(servers.map((x) => x.close()));
    });
    return { job, port: listener.server.port };
  }

  /** The original target: each root's copy mirrored to the receiver over a channel of its own. */
  private restoreSender(args: ReplicationRestoreArgs, key: Buffer): { job: RestoreJob; port: null } {
    const to = args.connect!;
    const copies = args.source.roots.map((root) => ({ root, copy: targetPathFor(args.targetRoot, root) }));
    for (const { root, copy } of copies) {
      if (!fs.statSync(copy, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`the copy of ${root} (${copy}) is not a directory on this agent`);
    }
    const limit = args.bandwidthLimitBps ? Math.max(1024, Math.floor(args.bandwidthLimitBps / copies.length)) : undefined;
    const channels = new Set<Channel>();
    let stopped = false;
    const roots = copies.map(({ root, copy }) => ({
      root,
      run: async (onProgress: Parameters<RestoreRootRun>[0]) => {
        const channel = await connectWithRetry(
          () => stopped,
          () => connect({ host: to.host, port: to.port, pairId: identityFor(args.pairId, root), key, compression: args.compression, bandwidthLimit: limit, timeoutMs: 10_000 }),
        );
        channels.add(channel);
        try {
          return await restore({ root: copy, rules: withStateExcluded(args.source.rules, copy, this.opts.dir), channel, mode: args.mode, orphans: args.orphans, onProgress });
        } finally {
          channels.delete(channel);
          channel.destroy();
        }
      },
    }));
    const job = new RestoreJob('sender', roots, () => {
      stopped = true;
      for (const c of channels) c.destroy();
      return Promise.resolve();
    });
    return { job, port: null };
  }

  status(pairId: string): ReplicationStatus {
    const s = this.sessions.get(pairId);
    const base: ReplicationStatus = {
      pairId,
      running: false,
      role: null,
      state: 'not-running',
      connected: false,
      at: Date.now(),
      mirrorBytesLeft: 0,
      mirrorFilesLeft: 0,
      queueBytes: 0,
      queueFiles: 0,
      throughputBps: 0,
      lagSeconds: null,
      port: null,
      changesApplied: 0,
      errors: [],
      restore: this.restores.get(pairId)?.snapshot() ?? null,
    };
    if (!s) return base;
    if (s.args.role === 'target') {
      return {
        ...base,
        running: true,
        role: 'target',
        state: 'listening',
        port: s.port,
        changesApplied: s.targets.reduce((n, t) => n + t.applied, 0),
        errors: s.targetErrors.slice(-50).map((e) => e.slice(0, 2000)),
      };
    }
    const stats = s.sources.map((r) => ({ r, st: r.source.stats() }));
    for (const { r, st } of stats) if (st.phase === 'continuous') r.caughtUp = true;
    const phases = stats.map(({ st }) => st.phase);
    const state = phases.includes('disconnected')
      ? 'disconnected'
      : phases.includes('starting')
        ? 'starting'
        : phases.includes('mirror')
          ? 'mirror'
          : 'continuous';
    const multi = s.sources.length > 1;
    const errors = stats.flatMap(({ r, st }) => st.errors.map((e) => (multi ? `${r.root}: ${e}` : e)));
    return {
      ...base,
      running: true,
      role: 'source',
      state,
      connected: stats.every(({ st }) => st.connected),
      mirrorBytesLeft: sum(stats.map(({ st }) => st.mirrorBytesLeft)),
      mirrorFilesLeft: sum(stats.map(({ st }) => st.mirrorFilesLeft)),
      queueBytes: sum(stats.map(({ st }) => st.queueBytes)),
      queueFiles: sum(stats.map(({ st }) => st.queueFiles)),
      throughputBps: s.throughputBps,
      lagSeconds: s.sources.every((r) => r.caughtUp) ? Math.max(0, ...stats.map(({ st }) => st.lag)) : null,
      errors: errors.slice(-50).map((e) => e.slice(0, 2000)),
    };
  }

  /** The running SOURCE session of a pair, or a readable refusal. */
  private sourceSession(pairId: string, what: string): PairSession {
    const s = this.sessions.get(pairId);
    if (!s) throw new Error(`replication pair ${pairId} is not running on this agent`);
    if (s.args.role !== 'source') throw new Error(`${what} runs on the pair's source agent; this agent is its target`);
    return s;
  }

  /** Verify on demand: every root (or only `paths`, relative to each root) against the target's copy. */
  async verify(pairId: string, paths?: readonly string[]): Promise<ReplicationVerifyResult> {
    const s = this.sourceSession(pairId, 'replication.verify');
    const out: ReplicationVerifyResult = { checkedFiles: 0, checkedBytes: 0, differing: [], truncated: false };
    // One root after the other: verify hashes every file on both sides.
    for (const r of [...s.sources]) {
      let res;
      try {
        res = await r.source.verify(paths);
      } catch (err) {
        throw new Error(`verify of ${r.root} failed: ${(err as Error).message}`, { cause: err });
      }
      out.checkedFiles += res.checkedFiles;
      out.checkedBytes += res.checkedBytes;
      for (const d of res.differing) {
        if (out.differing.length >= MAX_VERIFY_DIFFERING) {
          out.truncated = true;
          break;
        }
        out.differing.push({ root: r.root, path: d.path, kind: d.kind, detail: d.detail || null } satisfies ReplicationDifference);
      }
      if (res.skipped.length) this.opts.log('replication verify skipped entries', { pairId, root: r.root, count: res.skipped.length, first: res.skipped.slice(0, 5) });
    }
    this.opts.log('replication verify done', { pairId, checkedFiles: out.checkedFiles, differing: out.differing.length, truncated: out.truncated });
    return out;
  }

  /** Queues these paths (per source root) for re-sending by the continuous engine. */
  resend(pairId: string, items: readonly { root: string; path: string }[]): { queued: number } {
    const s = this.sourceSession(pairId, 'replication.resend');
    const byRoot = new Map<SourceRoot, string[]>();
    for (const item of items) {
      const r = s.sources.find((x) => x.root === item.root);
      if (!r) throw new Error(`${item.root} is not a root of replication pair ${pairId}`);
      const list = byRoot.get(r) ?? [];
      list.push(item.path);
      byRoot.set(r, list);
    }
    let queued = 0;
    for (const [r, list] of byRoot) queued += r.source.resend(list);
    this.opts.log('replication resend queued', { pairId, requested: items.length, queued });
    return { queued };
  }

  /** Runs every statistics interval: throughput, then one payload per source pair to the sink. */
  private tick(): void {
    const now = performance.now();
    for (const s of this.sessions.values()) {
      if (s.args.role !== 'source') continue;
      const bytes = sum(s.sources.map((r) => r.source.state.contentBytesSent));
      s.throughputBps = now > s.lastAt ? Math.max(0, ((bytes - s.lastBytes) * 1000) / (now - s.lastAt)) : 0;
      s.lastBytes = bytes;
      s.lastAt = now;
      if (!this.sink) continue;
      const st = this.status(s.args.pairId);
      try {
        this.sink({
          pairId: s.args.pairId,
          at: st.at,
          mirrorBytesLeft: st.mirrorBytesLeft,
          mirrorFilesLeft: st.mirrorFilesLeft,
          queueBytes: st.queueBytes,
          throughputBps: Math.round(st.throughputBps),
          lagSeconds: st.lagSeconds === null ? null : Math.round(st.lagSeconds * 1000) / 1000,
        });
      } catch (err) {
        this.opts.log('could not send replication statistics', { pairId: s.args.pairId, error: String(err).slice(0, 300) });
      }
    }
  }

  private async listener(host: string | undefined, port: number): Promise<SharedListener> {
    // Port 0 (tests) always gets a listener of its own.
    const name = port === 0 ? `ephemeral:${Math.random()}` : `${host ?? '*'}:${port}`;
    let l = this.listeners.get(name);
    if (l && (await l.catch(() => null))?.closed) l = undefined;
    if (!l) {
      l = SharedListener.open(host, port, () => this.listeners.delete(name));
      this.listeners.set(name, l);
      l.catch(() => this.listeners.delete(name));
    }
    return l;
  }

  private relayEndpoint(): () => RelayEndpoint {
    const relay = this.opts.relay;
    if (!relay) throw new Error('this agent has no gateway relay configured; the pair needs route "direct"');
    return relay;
  }

  private async startTarget(args: ReplicationStartArgs, dir: string): Promise<PairSession> {
    const key = Buffer.from(args.key, 'base64');
    // Map every root first: a root that cannot be mapped fails the start before anything listens.
    const roots = args.source.roots.map((root) => ({ root, identity: identityFor(args.pairId, root), dest: targetPathFor(args.targetRoot, root) }));
    const relay = args.route === 'relay' ? this.relayEndpoint() : null;
    const listener = relay ? null : await this.listener(args.listen?.host, args.listen?.port ?? DEFAULT_REPLICATION_PORT);
    const targets: ContinuousTarget[] = [];
    const targetErrors: string[] = [];
    const session: PairSession = {
      args,
      fingerprint: '',
      startedAt: Date.now(),
      sources: [],
      targets,
      port: listener ? listener.server.port : null,
      targetErrors,
      lastBytes: 0,
      lastAt: performance.now(),
      throughputBps: 0,
      stop: async () => {
        await Promise.all(targets.map((t) => t.stop().catch(() => undefined)));
      },
    };
    try {
      for (const { root, identity, dest } of roots) {
        const noteError = (err: Error) => {
          targetErrors.push(`${root}: ${err.message}`);
          if (targetErrors.length > 50) targetErrors.shift();
        };
        const server = listener
          ? listener.add(identity, key)
          : new RelayServer({
              endpoint: relay!,
              pairId: args.pairId,
              identity,
              key,
              onError: (err) => {
                noteError(err);
                this.opts.log('replication relay problem', { pairId: args.pairId, root, error: err.message.slice(0, 300) });
              },
            }).start();
        const target = new ContinuousTarget({
          root: dest,
          server,
          stateDir: path.join(dir, 'target', identity.slice(-12)),
          onError: noteError,
        });
        try {
          await target.start();
        } catch (err) {
          await server.close();
          throw err;
        }
        targets.push(target);
      }
    } catch (err) {
      await session.stop();
      throw err;
    }
    return session;
  }

  private async startSource(args: ReplicationStartArgs, dir: string): Promise<PairSession> {
    precheck(args);
    const key = Buffer.from(args.key, 'base64');
    const relay = args.route === 'relay' ? this.relayEndpoint() : null;
    const to = args.connect;
    if (!relay && !to) throw new Error('a source with route "direct" needs "connect"');
    const sources: SourceRoot[] = [];
    const session: PairSession = {
      args,
      fingerprint: '',
      startedAt: Date.now(),
      sources,
      targets: [],
      port: null,
      targetErrors: [],
      lastBytes: 0,
      lastAt: performance.now(),
      throughputBps: 0,
      stop: async () => {
        await Promise.all(sources.map((r) => r.source.stop().catch(() => undefined)));
      },
    };
    const limit = args.bandwidthLimitBps ? Math.max(1024, Math.floor(args.bandwidthLimitBps / args.source.roots.length)) : undefined;
    try {
      for (const root of args.source.roots) {
        const identity = identityFor(args.pairId, root);
        const stateDir = path.join(dir, 'source', identity.slice(-12));
        const source = new ContinuousSource({
          root,
          rules: withStateExcluded(args.source.rules, root, this.opts.dir),
          stateDir,
          mode: args.mode,
          orphans: args.orphans,
          inPlaceMinBytes: args.inPlaceMinBytes,
          connect: () =>
            relay
              ? connectViaRelay({
                  endpoint: relay(),
                  pairId: args.pairId,
                  identity,
                  key,
                  compression: args.compression,
                  bandwidthLimit: limit,
                  timeoutMs: 10_000,
                })
              : connect({
                  host: to!.host,
                  port: to!.port,
                  pairId: identity,
                  key,
                  compression: args.compression,
                  bandwidthLimit: limit,
                  timeoutMs: 10_000,
                }),
        });
        await source.start();
        sources.push({ root, source, caughtUp: false });
      }
    } catch (err) {
      await session.stop();
      throw err;
    }
    return session;
  }
}

/** Checks what can be checked on this machine: the set (source: roots exist) and the root mapping (target). */
function precheck(args: ReplicationStartArgs): void {
  if (args.role === 'source') {
    const checked = validateSet(args.source);
    if (!checked.ok) throw new Error(`invalid replication set: ${checked.errors.join('; ')}`);
  } else {
    for (const root of args.source.roots) targetPathFor(args.targetRoot, root);
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function connectWithRetry(stopped: () => boolean, dial: () => Promise<Channel>): Promise<Channel> {
  for (let attempt = 1; ; attempt++) {
    if (stopped()) throw new Error('the restore was stopped');
    try {
      return await dial();
    } catch (err) {
      if (attempt >= RESTORE_CONNECT_TRIES || stopped()) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** A root containing the agent's own replication state (e.g. `/`) must not replicate its journal. */
function withStateExcluded(rules: readonly ReplicationRule[], root: string, stateDir: string): ReplicationRule[] {
  const rel = path.relative(path.resolve(root), path.resolve(stateDir));
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return [...rules];
  return [...rules, { pattern: rel.split(path.sep).join('/'), include: false, recursive: true }];
}
