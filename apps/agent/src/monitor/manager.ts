// The agent's failure monitors, one per protection pair, driven by the control plane's
// `monitor.start | stop | status` commands (see the protocol's monitorStartArgsSchema).
//
// - SOURCE role, method "agent": the pair is answered on a UDP port (responder.ts). Pairs asking
//   for the same port share one socket (dispatch on the pair id in each probe); port 0 (tests)
//   gets a socket of its own, and the port actually bound is returned and remembered, so a
//   restarted agent answers on the same port again. Method "icmp": nothing runs (the OS answers).
// - TARGET role: probes the source's addresses every interval (prober.ts) and sends a
//   `monitor.report` to the runtime's sink on every state change and once per interval.
// - Owned by the agent runtime, not by a gateway connection: monitors keep running while the agent
//   is disconnected (reports are dropped meanwhile; the next one goes out at the next interval,
//   and at once when the connection is back).
// - `monitor.start` for a pair already running with other arguments replaces it; with the same
//   arguments it is left alone. `monitor.stop` stops and forgets.
// - State: `<configDir>/monitor/<pairId>.json` holds the start arguments (and the bound port),
//   mode 0600 in a 0700 directory: they hold the pair key. Monitors with a file start again when the
//   agent starts; one that cannot (port busy) is retried every RETRY_MS.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { monitorStartArgsSchema, type MonitorStartArgs, type MonitorStatus } from '@tandem/protocol';
import { writeSecretFile } from '../config.ts';
import { TargetMonitor, type MonitorReport } from './prober.ts';
import { ProbeResponder } from './responder.ts';
import { KeyedLock } from '../runtime/keyed-lock.ts';

const RETRY_MS = 10_000;

type Log = (msg: string, extra?: Record<string, unknown>) => void;
export type ReportSink = (report: MonitorReport) => void;

const persistedSchema = z.strictObject({
  args: monitorStartArgsSchema,
  /** The port the source bound (differs from args.port only when that is 0). */
  port: z.number().int().min(0).max(65_535).nullable(),
});
type Persisted = z.infer<typeof persistedSchema>;

interface MonitorSession {
  args: MonitorStartArgs;
  fingerprint: string;
  port: number | null;
  target: TargetMonitor | null;
  stop: () => Promise<void>;
}

export interface MonitorManagerOptions {
  /** `<configDir>/monitor`. */
  dir: string;
  log: Log;
}

export class MonitorManager {
  private readonly sessions = new Map<string, MonitorSession>();
  private readonly responders = new Map<string, Promise<ProbeResponder>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** Serialises start/stop of one pair. */
  private readonly locks = new KeyedLock();
  private sink: ReportSink | null = null;
  private shut = false;

  constructor(private readonly opts: MonitorManagerOptions) {}

  /** Where reports go (the current gateway connection), or null while disconnected. */
  setSink(sink: ReportSink | null): void {
    this.sink = sink;
    // A fresh connection hears every target's state at once, not an interval later.
    if (sink) for (const s of this.sessions.values()) this.deliver(s.target?.report() ?? null);
  }

  private deliver(report: MonitorReport | null): void {
    if (report && this.sink) this.sink(report);
  }

  private fileOf(pairId: string): string {
    return path.join(this.opts.dir, `${pairId.toLowerCase()}.json`);
  }

  /** Starts every persisted monitor. */
  async resume(): Promise<void> {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.opts.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.opts.dir, name);
      let saved: Persisted;
      try {
        saved = persistedSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
      } catch (err) {
        this.opts.log('monitor: ignoring a damaged monitor file', { file, error: String(err).slice(0, 300) });
        continue;
      }
      await this.resumeOne(saved);
    }
  }

  private async resumeOne(saved: Persisted): Promise<void> {
    this.retries.delete(saved.args.pairId);
    if (this.shut) return;
    try {
      await this.start(saved.args, { resumePort: saved.port });
      this.opts.log('monitor resumed', { pairId: saved.args.pairId, role: saved.args.role });
    } catch (err) {
      this.opts.log('monitor could not resume; retrying', { pairId: saved.args.pairId, error: (err as Error).message.slice(0, 300) });
      this.retries.set(
        saved.args.pairId,
        setTimeout(() => void this.resumeOne(saved), RETRY_MS),
      );
    }
  }

  /**
   * Starts one side of a pair's monitor (replacing one running with other arguments).
   * `resumePort`: after a restart, the port the source had bound (for args.port 0).
   */
  start(raw: MonitorStartArgs, opts: { resumePort?: number | null } = {}): Promise<{ started: true; port: number | null }> {
    const args = monitorStartArgsSchema.parse(raw);
    const pairId = args.pairId.toLowerCase();
    return this.locks.run(pairId, async () => {
      if (this.shut) throw new Error('the agent is stopping');
      const fingerprint = JSON.stringify(args);
      const running = this.sessions.get(pairId);
      if (running?.fingerprint === fingerprint) return { started: true as const, port: running.port };
      // Arguments that cannot work are refused before a running monitor is touched.
      for (const a of args.addresses) {
        // Addresses reach `ping` as arguments: nothing option-like.
        if (a.startsWith('-') || /\s/.test(a)) throw new Error(`"${a}" is not an address or host name`);
      }
      if (running) {
        this.opts.log('monitor restarting with new arguments', { pairId });
        this.sessions.delete(pairId);
        await running.stop();
      }
      clearTimeout(this.retries.get(pairId));
      this.retries.delete(pairId);
      const resuming = opts.resumePort !== undefined;
      const file = this.fileOf(pairId);
      // Persisted first: if the agent dies while starting, the monitor still resumes.
      if (!resuming) writeSecretFile(file, { args, port: null } satisfies Persisted);
      let session: MonitorSession;
      try {
        session = args.role === 'source' ? await this.startSource(args, opts.resumePort ?? null) : this.startTarget(args);
      } catch (err) {
        // A start the control plane asked for and that failed is not resumed later: it was told.
        if (!resuming) fs.rmSync(file, { force: true });
        throw err;
      }
      session.fingerprint = fingerprint;
      this.sessions.set(pairId, session);
      if (session.port !== null && session.port !== args.port) writeSecretFile(file, { args, port: session.port } satisfies Persisted);
      this.opts.log('monitor started', { pairId, role: args.role, method: args.method, port: session.port });
      return { started: true as const, port: session.port };
    });
  }

  /** Stops a pair's monitor and forgets it. */
  stop(rawPairId: string): Promise<{ stopped: boolean }> {
    const pairId = rawPairId.toLowerCase();
    return this.locks.run(pairId, async () => {
      clearTimeout(this.retries.get(pairId));
      const hadRetry = this.retries.delete(pairId);
      const file = this.fileOf(pairId);
      const persisted = fs.existsSync(file);
      fs.rmSync(file, { force: true });
      const s = this.sessions.get(pairId);
      this.sessions.delete(pairId);
      if (s) await s.stop();
      const stopped = !!s || persisted || hadRetry;
      if (stopped) this.opts.log('monitor stopped', { pairId });
      return { stopped };
    });
  }

  /** Agent shutdown: ends every monitor; they resume at the next start. */
  async shutdown(): Promise<void> {
    this.shut = true;
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    await this.locks.idle();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.stop().catch(() => undefined)));
  }

  status(rawPairId: string): MonitorStatus {
    const pairId = rawPairId.toLowerCase();
    const s = this.sessions.get(pairId);
    if (!s) return { pairId: rawPairId, running: false, role: null, port: null, state: null, addresses: [] };
    if (!s.target) return { pairId: rawPairId, running: true, role: 'source', port: s.port, state: null, addresses: [] };
    return { pairId: rawPairId, running: true, role: 'target', port: null, state: s.target.state, addresses: s.target.evidence() };
  }

  private responder(port: number): Promise<ProbeResponder> {
    // Port 0 always gets a socket of its own.
    const name = port === 0 ? `ephemeral:${Math.random()}` : String(port);
    let r = this.responders.get(name);
    if (!r) {
      r = ProbeResponder.open(port, this.opts.log, () => this.responders.delete(name));
      this.responders.set(name, r);
      r.catch(() => this.responders.delete(name));
    }
    return r;
  }

  private async startSource(args: MonitorStartArgs, resumePort: number | null): Promise<MonitorSession> {
    const base = { args, fingerprint: '', target: null };
    if (args.method === 'icmp') return { ...base, port: null, stop: () => Promise.resolve() };
    let responder = await this.responder(args.port === 0 && resumePort ? resumePort : args.port);
    // A socket closing as its last pair left: wait for the close, then open a new one.
    if (responder.closed) {
      await new Promise((r) => setTimeout(r, 50));
      responder = await this.responder(args.port === 0 && resumePort ? resumePort : args.port);
    }
    responder.add(args.pairId, Buffer.from(args.key, 'base64'));
    return { ...base, port: responder.port, stop: () => responder.remove(args.pairId) };
  }

  private startTarget(args: MonitorStartArgs): MonitorSession {
    const target = new TargetMonitor(args, { log: this.opts.log, onReport: (r) => this.deliver(r) });
    target.start();
    return { args, fingerprint: '', port: null, target, stop: () => target.stop() };
  }
}
