// Continuous replication, the target's side (overview in ../continuous.ts).
// - Serves sessions on a ChannelServer: a session starting with ROUND is a mirror (apply.ts), one
//   starting with HELLO is continuous. A new session replaces the previous one (one source per pair).
// - CONSISTENCY: per-file atomic. File content goes to a temp file beside the destination and is
//   renamed over it once complete, CRC-intact and stamped with mode/owner/mtime, so a reader sees
//   the old or the new file, never a mix (receive.ts, shared with the mirror applier). Exception, by
//   the pair's choice (`inPlaceMinBytes`): deltas of big files are written into the file in place;
//   a reader may then see one half applied, and one cut short is redone by the resume/probe rules
//   below (its writes moved its mtime and ctime). Metadata-only
//   changes are applied in place. Changes to related paths are applied in the order they arrive,
//   unrelated ones concurrently; there is NO cross-file ordering or snapshot
//   guarantee relative to the order the application wrote them (coalescing reorders), and a
//   directory may briefly hold a new file before an older change to another file arrives.
// - Temp files are logged in `<stateDir>/inflight.log` before they are created; a restarted target
//   removes them (inflight-log.ts). Writes are not fsync'ed (same reasoning as the mirror: after a machine crash the
//   source's restart rule re-checks sizes and mtimes).
// - HARD LINKS: a LINK frame makes a name a link to another file (link() to a temp name beside it,
//   renamed over it), after the changes to that file sent before it; the probe of a file with
//   several names says how many, so the source can give a name it keeps apart an inode of its own.
// - A change that fails on the target is acknowledged with an error; the source retries it up to 5
//   times, then drops it and reports the error.
import { type Stats } from 'node:fs';
import { link, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { type Channel, ChannelError, type ChannelServer, type Message } from '../channel.ts';
import { entryFromStats } from '../manifest.ts';
import { applyMirror } from '../mirror.ts';
import { deleteSchema, entryChangeSchema, helloSchema, linkSchema, MSG, probeSchema, PROTOCOL_VERSION, rootChangeSchema } from '../protocol.ts';
import { applyMeta, FileReceiver } from '../receive.ts';
import { SignatureCache } from '../signatures.ts';
import { serveVerify } from '../verify.ts';
import { InflightLog } from './inflight-log.ts';
import { errCode, sleep } from './util.ts';

export interface ContinuousTargetOptions {
  root: string;
  server: ChannelServer;
  /** Holds inflight.log (temp files to clean after a crash); must not be inside the root. */
  stateDir: string;
  orphansDir?: string;
  onError?: (err: Error) => void;
  /**
   * Called with each path this target changed (files, directories, symlinks, metadata, deletions),
   * by mirror and continuous sessions. MULTI-POINT (A→B→C): B's agent wires it to the onward pair's
   * `ContinuousSource.notifyChanged`: a hint as soon as the change lands, before the watcher (and
   * for what a watcher can miss, e.g. while a directory watch is being re-created).
   */
  onApplied?: (relPath: string) => void;
}


let tempSeq = 1_000_000_000 + randomInt(1_000_000_000);
const TEMP_RE = /^\.tandem-\d+-[0-9a-f]+\.tmp$/;

/** The target agent's side: serves mirror and continuous sessions for one root. */
export class ContinuousTarget {
  private readonly root: string;
  private stopped = false;
  private current: { channel: Channel; done: Promise<void> } | undefined;
  /** Channels whose first message has not arrived yet, and verify sessions (they run beside the replication session). */
  private readonly pending = new Set<Channel>();
  private readonly sideSessions = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private readonly inflightLog: InflightLog;
  private safeDirs = new Set<string>();
  /** Block signatures of the files it holds, kept across sessions and restarts (signatures.ts). */
  private readonly signatures: SignatureCache;
  /** Changes applied by continuous sessions (for tests and statistics). */
  applied = 0;

  constructor(private readonly opts: ContinuousTargetOptions) {
    this.root = path.resolve(opts.root);
    this.signatures = new SignatureCache(path.join(opts.stateDir, 'signatures.json'));
    this.inflightLog = new InflightLog(path.join(opts.stateDir, 'inflight.log'), this.root);
  }

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await mkdir(this.opts.stateDir, { recursive: true });
    // Temp files of changes a crash (or a stop) interrupted; a temp that cannot be removed is
    // reported, not fatal: the target must start whatever the log holds.
    const recovered = await this.inflightLog.recover();
    for (const e of recovered.errors) this.opts.onError?.(new Error(`leftover temp file: ${e}`));
    await this.signatures.load();
    this.loop = this.acceptLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.pending) c.destroy();
    this.current?.channel.destroy();
    await this.current?.done;
    await Promise.all(this.sideSessions);
    await this.opts.server.close();
    await this.signatures.flush();
    this.inflightLog.close();
  }

  private async acceptLoop(): Promise<void> {
    let next = this.opts.server.accept();
    while (!this.stopped) {
      const channel = await Promise.race([next, sleep(200).then(() => undefined)]);
      if (!channel) continue;
      next = this.opts.server.accept();
      if (this.stopped) {
        channel.destroy();
        break;
      }
      void this.dispatch(channel);
    }
  }

  /**
   * Looks at a new channel's first message: a VERIFY session runs beside the replication session
   * (it only reads); a mirror or continuous session replaces the previous one (one source per pair).
   */
  private async dispatch(channel: Channel): Promise<void> {
    this.pending.add(channel);
    let first: Message | null;
    try {
      first = await channel.receive();
    } catch {
      first = null;
    } finally {
      this.pending.delete(channel);
    }
    if (!first || this.stopped) {
      channel.destroy();
      return;
    }
    channel.unshift(first);
    if (!first.corrupt && first.type === MSG.VERIFY) {
      const done = serveVerify({ channel, root: this.root }).then(
        () => undefined,
        (err: unknown) => this.opts.onError?.(err as Error),
      );
      this.sideSessions.add(done);
      await done;
      this.sideSessions.delete(done);
      return;
    }
    const prev = this.current;
    const entry = {
      channel,
      done: (async () => {
        if (prev) {
          prev.channel.destroy();
          await prev.done;
        }
        await this.serve(channel);
      })().catch((err: unknown) => this.opts.onError?.(err as Error)),
    };
    this.current = entry;
  }

  private async serve(channel: Channel): Promise<void> {
    const first = await channel.receive();
    if (!first) return;
    channel.unshift(first);
    if (!first.corrupt && first.type === MSG.ROUND) {
      await applyMirror({ root: this.root, channel, orphansDir: this.opts.orphansDir, onApplied: this.opts.onApplied, signatures: this.signatures });
      return;
    }
    await this.continuous(channel);
  }

  private abs(rel: string): string {
    return rel ? path.join(this.root, ...rel.split('/')) : this.root;
  }

  /** Whether every ancestor of `rel` is a real directory (never follow a symlink out of the root). */
  private async ancestorsSafe(rel: string, create: boolean): Promise<boolean> {
    const parts = rel.split('/');
    let sofar = '';
    for (let i = 0; i < parts.length - 1; i++) {
      sofar = sofar ? `${sofar}/${parts[i]}` : parts[i]!;
      if (this.safeDirs.has(sofar)) continue;
      let st: Stats | undefined;
      try {
        st = await lstat(this.abs(sofar));
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
      }
      if (!st?.isDirectory()) {
        if (!create) return false;
        if (st) await rm(this.abs(sofar), { force: true });
        // Changes are applied concurrently: another one may have just created it.
        await mkdir(this.abs(sofar), { mode: 0o700 }).catch(async (err: unknown) => {
          if (errCode(err) !== 'EEXIST' || !(await lstat(this.abs(sofar))).isDirectory()) throw err;
        });
      }
      this.safeDirs.add(sofar);
    }
    return true;
  }

  private tempName(rel: string): string {
    return path.join(path.dirname(this.abs(rel)), `.tandem-${tempSeq++}-${process.pid.toString(16)}.tmp`);
  }

  private async continuous(channel: Channel): Promise<void> {
    channel.socket.setNoDelay(true);
    this.safeDirs = new Set();
    const ack = async (fid: number, ok: boolean, error?: string) => {
      if (ok) this.applied++;
      await channel.send(MSG.ACK, error ? { fid, ok, error } : { fid, ok }).catch(() => undefined);
    };
    // File content is applied by the module the mirror applier uses too (receive.ts); changes to
    // unrelated paths proceed at once, changes to related paths (same path, or one below the other)
    // in the order they arrived.
    const receiver = new FileReceiver({
      root: this.root,
      ensureParents: (rel) => this.ancestorsSafe(rel, true).then(() => undefined),
      tempPath: (rel) => this.tempName(rel),
      onTemp: (tmp) => this.inflightLog.add(tmp),
      onTempDone: (tmp) => this.inflightLog.done(tmp),
      onDirReplaced: (rel) => this.forgetDirs(rel),
      signatures: this.signatures,
      onResult: async (fid, rel, r) => {
        if (r.ok) this.opts.onApplied?.(rel);
        await ack(fid, r.ok, r.ok ? undefined : r.error);
      },
    });
    /** A change other than file content, ordered after related changes, answered with ACK. */
    const change = (fid: number, rel: string, fn: () => Promise<void>) =>
      receiver.run(rel, async () => {
        try {
          await fn();
          this.opts.onApplied?.(rel);
          await ack(fid, true);
        } catch (err) {
          await ack(fid, false, `${rel}: ${(err as Error).message}`);
        }
      });
    try {
      for (;;) {
        const m = await channel.receive();
        if (!m) return;
        if (m.corrupt) {
          // Only a file's frames can be lost without losing the session: its FILE_END is then answered with an error.
          if (m.type === MSG.DATA && receiver.hasOpen()) {
            receiver.poisonOpen();
            continue;
          }
          throw new ChannelError('a control frame from the source failed its CRC; session aborted');
        }
        // A file's own frames (begin, data, abort, end, whole) go to the shared receiver.
        if (await receiver.handleFileFrame(m)) continue;
        switch (m.type) {
          case MSG.HELLO:
            helloSchema.parse(m.header);
            await channel.send(MSG.HELLO_OK, { version: PROTOCOL_VERSION });
            break;
          case MSG.PROBE: {
            const { path: rel, rid } = probeSchema.parse(m.header);
            await receiver.run(rel, async () => {
              const { header, body } = await this.probe(rel).catch((err: unknown) => {
                channel.destroy(err as Error);
                throw err;
              });
              await channel.send(MSG.PROBE_REPLY, rid === undefined ? header : { ...header, rid }, body).catch(() => undefined);
            });
            break;
          }
          case MSG.DELETE: {
            const d = deleteSchema.parse(m.header);
            await change(d.fid, d.path, async () => {
              if (!(await this.ancestorsSafe(d.path, false))) return;
              await rm(this.abs(d.path), { recursive: true, force: true });
              this.forgetDirs(d.path);
            });
            break;
          }
          case MSG.DIR: {
            const { fid, entry } = entryChangeSchema.parse(m.header);
            await change(fid, entry.path, async () => {
              await this.ancestorsSafe(entry.path, true);
              const p = this.abs(entry.path);
              const st = await lstat(p).catch(() => undefined);
              if (st && !st.isDirectory()) await rm(p, { force: true });
              if (!st?.isDirectory()) {
                await mkdir(p, { mode: 0o700 }).catch(async (err: unknown) => {
                  if (errCode(err) !== 'EEXIST' || !(await lstat(p)).isDirectory()) throw err;
                });
              }
              await applyMeta(p, entry);
            });
            break;
          }
          case MSG.SYMLINK: {
            const { fid, entry } = entryChangeSchema.parse(m.header);
            await change(fid, entry.path, async () => {
              await this.ancestorsSafe(entry.path, true);
              const p = this.abs(entry.path);
              const st = await lstat(p).catch(() => undefined);
              if (st?.isDirectory()) {
                await rm(p, { recursive: true, force: true });
                this.forgetDirs(entry.path);
              }
              const tmp = this.tempName(entry.path);
              this.inflightLog.add(tmp);
              try {
                await symlink(entry.target ?? '', tmp);
                await rename(tmp, p);
              } catch (err) {
                await rm(tmp, { force: true });
                throw err;
              } finally {
                this.inflightLog.done(tmp);
              }
              await applyMeta(p, entry);
            });
            break;
          }
          case MSG.ROOT_META: {
            const { fid, root } = rootChangeSchema.parse(m.header);
            await change(fid, '', () => applyMeta(this.root, { type: 'dir', ...root }));
            break;
          }
          case MSG.META: {
            const { fid, entry } = entryChangeSchema.parse(m.header);
            await change(fid, entry.path, async () => {
              if (!(await this.ancestorsSafe(entry.path, false))) throw new Error('parent is not a directory');
              await applyMeta(this.abs(entry.path), entry);
            });
            break;
          }
          case MSG.LINK: {
            const l = linkSchema.parse(m.header);
            await receiver.run(
              l.path,
              async () => {
                try {
                  await this.link(l.path, l.to);
                  this.opts.onApplied?.(l.path);
                  await ack(l.fid, true);
                } catch (err) {
                  await ack(l.fid, false, `${l.path}: ${(err as Error).message}`);
                }
              },
              l.to,
            );
            break;
          }
          case MSG.ERROR:
            throw new ChannelError(`source: ${String(m.header.message)}`);
          default:
            throw new ChannelError(`unexpected message ${m.type} from the source`);
        }
      }
    } catch (err) {
      await channel.send(MSG.ERROR, { message: (err as Error).message }).catch(() => undefined);
      throw err;
    } finally {
      channel.destroy();
      await receiver.dispose();
    }
  }

  private forgetDirs(rel: string): void {
    for (const d of this.safeDirs) if (d === rel || d.startsWith(rel + '/')) this.safeDirs.delete(d);
  }

  /** Makes `rel` a hard link to the file at `to` (nothing to do when they already share an inode). */
  private async link(rel: string, to: string): Promise<void> {
    if (!(await this.ancestorsSafe(to, false))) throw new Error(`cannot link to ${to}: it is not here`);
    const target = await lstat(this.abs(to)).catch(() => undefined);
    if (!target?.isFile()) throw new Error(`cannot link to ${to}: it is not a file here`);
    await this.ancestorsSafe(rel, true);
    const p = this.abs(rel);
    const st = await lstat(p).catch(() => undefined);
    if (st && st.dev === target.dev && st.ino === target.ino) return;
    if (st?.isDirectory()) {
      await rm(p, { recursive: true, force: true });
      this.forgetDirs(rel);
    }
    // Beside the name, then renamed over it: a reader sees the old file or the linked one.
    const tmp = this.tempName(rel);
    this.inflightLog.add(tmp);
    try {
      await link(this.abs(to), tmp);
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    } finally {
      this.inflightLog.done(tmp);
    }
  }

  private async probe(rel: string): Promise<{ header: Record<string, unknown>; body?: Buffer }> {
    if (rel && !(await this.ancestorsSafe(rel, false))) return { header: { path: rel } };
    const p = this.abs(rel);
    let st: Stats;
    try {
      st = await lstat(p);
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return { header: { path: rel } };
      throw err;
    }
    const target = st.isSymbolicLink() ? await readlink(p) : undefined;
    const e = entryFromStats(rel || '.', st, target);
    if (!e) return { header: { path: rel } };
    const { path: _p, ...entry } = e;
    if (e.type === 'file') {
      try {
        const sig = await this.signatures.sign(p, st);
        return { header: { path: rel, entry, sigSize: sig.size, ...(st.nlink > 1 ? { nlink: st.nlink } : {}) }, body: sig.hashes };
      } catch {
        return { header: { path: rel, entry } };
      }
    }
    if (e.type === 'dir') {
      const children: string[] = [];
      for (const d of await readdir(p, { withFileTypes: true })) {
        if (TEMP_RE.test(d.name)) continue;
        const t = d.isDirectory() ? 'd' : d.isSymbolicLink() ? 'l' : d.isFile() ? 'f' : undefined;
        if (t) children.push(`${t}:${d.name}`);
      }
      return { header: { path: rel, entry, children } };
    }
    return { header: { path: rel, entry } };
  }
}
