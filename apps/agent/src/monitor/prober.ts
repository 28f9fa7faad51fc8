// The target side of the failure monitor: probes each source address every interval and keeps
// the verdict the control plane reads.
//
// Per address, each interval: if the probe sent one interval ago has no valid answer, that is one
// more miss; `missed` misses in a row make the address unreachable, one valid answer makes it
// reachable again. Every address starts reachable (no evidence yet is not evidence of loss). The
// pair's source is lost when all addresses (trigger "all") or any address (trigger "any") are
// unreachable; lostSince is when that first became true.
//
// method "agent": a signed UDP probe to address:port, answered by the source agent (probe.ts).
// method "icmp": the system's `ping -c 1` (iputils-ping on Debian); the OS answers, not the agent.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import type { AgentPayload, MonitorAddressState, MonitorStartArgs } from '@tandem/protocol';
import { runCommand } from '../exec.ts';
import { decodeDatagram, encodeDatagram, NONCE_BYTES, RefusalLog } from './probe.ts';

type Log = (msg: string, extra?: Record<string, unknown>) => void;
export type MonitorReport = AgentPayload<'monitor.report'>;

interface AddressProbe {
  address: string;
  reachable: boolean;
  missed: number;
  lastOkAt: number | null;
  /** The probe of the current interval, until a valid answer arrives (then null). */
  pending: { nonce: Buffer } | null;
}

export interface TargetMonitorOptions {
  log: Log;
  /** Called on every state change and once per interval. */
  onReport: (report: MonitorReport) => void;
}

export class TargetMonitor {
  private readonly addresses: AddressProbe[];
  private readonly key: Buffer;
  private readonly sockets: { udp4?: dgram.Socket; udp6?: dgram.Socket } = {};
  private readonly badAnswers: RefusalLog;
  private readonly sendFailures: RefusalLog;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private stopped = false;
  state: 'ok' | 'lost' = 'ok';
  lostSince: number | null = null;

  constructor(
    private readonly args: MonitorStartArgs,
    private readonly opts: TargetMonitorOptions,
  ) {
    this.key = Buffer.from(args.key, 'base64');
    this.addresses = args.addresses.map((address) => ({ address, reachable: true, missed: 0, lastOkAt: null, pending: null }));
    this.badAnswers = new RefusalLog(opts.log, 'monitor: ignored bad answers', 60_000);
    this.sendFailures = new RefusalLog(opts.log, 'monitor: could not send a probe', 60_000);
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.args.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(
      Object.values(this.sockets).map((s) => new Promise<void>((resolve) => {
        try {
          s.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      })),
    );
  }

  /** The per-address evidence, as reported. */
  evidence(): MonitorAddressState[] {
    return this.addresses.map((a) => ({ address: a.address, reachable: a.reachable, missed: a.missed, lastOkAt: a.lastOkAt }));
  }

  /** The current report, or null before the first interval has passed (nothing observed yet). */
  report(): MonitorReport | null {
    if (this.ticks < 2) return null;
    return { pairId: this.args.pairId, at: Date.now(), state: this.state, lostSince: this.lostSince, addresses: this.evidence() };
  }

  private emit(): void {
    const r = this.report();
    if (!r) return;
    try {
      this.opts.onReport(r);
    } catch (err) {
      this.opts.log('monitor: could not send a report', { pairId: this.args.pairId, error: String(err).slice(0, 300) });
    }
  }

  /** Re-evaluates the pair's state; true when it changed. */
  private evaluate(now: number): boolean {
    const unreachable = this.addresses.filter((a) => !a.reachable).length;
    const lost = this.args.trigger === 'all' ? unreachable === this.addresses.length : unreachable > 0;
    const next = lost ? 'lost' : 'ok';
    if (next === this.state) return false;
    this.state = next;
    this.lostSince = lost ? now : null;
    this.opts.log(lost ? 'monitor: source lost' : 'monitor: source reachable again', {
      pairId: this.args.pairId,
      unreachable: this.addresses.filter((a) => !a.reachable).map((a) => a.address),
    });
    return true;
  }

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.ticks++;
    // Last interval's probes that are still unanswered are misses.
    for (const a of this.addresses) {
      if (!a.pending) continue;
      a.missed++;
      if (a.missed >= this.args.missed) a.reachable = false;
    }
    this.evaluate(now);
    // Every interval, changed or not: the control plane stops believing an old report.
    this.emit();
    for (const a of this.addresses) {
      const probe = { nonce: randomBytes(NONCE_BYTES) };
      a.pending = probe;
      const sent = this.args.method === 'icmp' ? this.ping(a, probe) : this.sendProbe(a, probe);
      sent.catch((err: unknown) => this.sendFailures.note({ pairId: this.args.pairId, address: a.address, error: String(err).slice(0, 300) }));
    }
  }

  /** A valid answer to the current probe of an address. */
  private answered(a: AddressProbe, probe: { nonce: Buffer }): void {
    if (this.stopped || a.pending !== probe) return; // late: that interval is already counted
    a.pending = null;
    a.missed = 0;
    a.reachable = true;
    a.lastOkAt = Date.now();
    if (this.evaluate(a.lastOkAt)) this.emit();
  }

  // ---------------------------------------------------------------- method "agent"

  private socket(family: 4 | 6): dgram.Socket {
    const type = family === 6 ? 'udp6' : 'udp4';
    let s = this.sockets[type];
    if (!s) {
      s = dgram.createSocket(type);
      s.on('message', (msg) => this.onAnswer(msg));
      s.on('error', (err) => this.sendFailures.note({ pairId: this.args.pairId, error: err.message }));
      this.sockets[type] = s;
    }
    return s;
  }

  private onAnswer(msg: Buffer): void {
    const pairId = this.args.pairId.toLowerCase();
    const decoded = decodeDatagram(msg, (id) => (id === pairId ? this.key : undefined));
    if (!decoded.ok || decoded.datagram.kind !== 'answer') {
      this.badAnswers.note({ pairId: this.args.pairId, reason: decoded.ok ? 'not-an-answer' : decoded.reason, bytes: msg.length });
      return;
    }
    const nonce = decoded.datagram.nonce;
    const a = this.addresses.find((x) => x.pending?.nonce.equals(nonce));
    if (a) this.answered(a, a.pending!);
  }

  private async sendProbe(a: AddressProbe, probe: { nonce: Buffer }): Promise<void> {
    // Names are resolved every time: a source's address may change.
    const family = net.isIP(a.address);
    const target = family ? { address: a.address, family: family as 4 | 6 } : ((await dns.lookup(a.address)) as { address: string; family: 4 | 6 });
    if (this.stopped || a.pending !== probe) return;
    const datagram = encodeDatagram({ kind: 'probe', pairId: this.args.pairId.toLowerCase(), nonce: probe.nonce, at: Date.now() }, this.key);
    await new Promise<void>((resolve, reject) =>
      this.socket(target.family).send(datagram, this.args.port, target.address, (err) => (err ? reject(err) : resolve())),
    );
  }

  // ---------------------------------------------------------------- method "icmp"

  private async ping(a: AddressProbe, probe: { nonce: Buffer }): Promise<void> {
    // -W takes whole seconds; the interval bounds the wait anyway (the command is killed then).
    const waitSeconds = Math.max(1, Math.ceil(this.args.intervalMs / 1000));
    const r = await runCommand('ping', ['-n', '-q', '-c', '1', '-W', String(waitSeconds), a.address], { timeoutMs: this.args.intervalMs }).catch((err: unknown) => {
      const message = String(err);
      if (message.includes('ENOENT')) throw new Error('ping is not installed (Debian: apt-get install iputils-ping)');
      return null; // timed out: no answer this interval
    });
    if (r?.code === 0) this.answered(a, probe);
  }
}
