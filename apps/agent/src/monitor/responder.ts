// The source side of the failure monitor: a UDP socket that answers valid probes.
//
// One socket per port, shared by every pair that asks for that port (each probe names its pair,
// so the socket dispatches on the pair id and checks the MAC with that pair's key). Port 0 (tests)
// always gets a socket of its own. The socket is dual-stack (IPv6 and IPv4) where the host allows,
// IPv4 only otherwise. It closes when its last pair leaves.
import dgram from 'node:dgram';
import { decodeDatagram, encodeDatagram, RefusalLog } from './probe.ts';

type Log = (msg: string, extra?: Record<string, unknown>) => void;

function bind(type: 'udp4' | 'udp6', port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, ipv6Only: false });
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, type === 'udp6' ? '::' : '0.0.0.0', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function bindDualStack(port: number): Promise<dgram.Socket> {
  try {
    return await bind('udp6', port);
  } catch (err) {
    // A busy or forbidden port is busy for IPv4 too; only a host without IPv6 falls back.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') throw err;
    return bind('udp4', port);
  }
}

export class ProbeResponder {
  /** Pair id (lower case) → the pair's key. */
  private readonly pairs = new Map<string, Buffer>();
  private readonly refusals: RefusalLog;
  closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    log: Log,
    private readonly onEmpty: () => void,
  ) {
    this.refusals = new RefusalLog(log, 'monitor: ignored bad datagrams', 60_000);
    socket.on('message', (msg, rinfo) => this.answer(msg, rinfo));
    socket.on('error', (err) => log('monitor: responder socket error', { port, error: err.message }));
  }

  static async open(port: number, log: Log, onEmpty: () => void): Promise<ProbeResponder> {
    const socket = await bindDualStack(port);
    return new ProbeResponder(socket, socket.address().port, log, onEmpty);
  }

  private answer(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const decoded = decodeDatagram(msg, (pairId) => this.pairs.get(pairId));
    if (!decoded.ok || decoded.datagram.kind !== 'probe') {
      this.refusals.note({ port: this.port, from: `${rinfo.address}:${rinfo.port}`, reason: decoded.ok ? 'not-a-probe' : decoded.reason, bytes: msg.length });
      return;
    }
    const { pairId, nonce } = decoded.datagram;
    const key = this.pairs.get(pairId)!;
    const reply = encodeDatagram({ kind: 'answer', pairId, nonce, at: Date.now() }, key);
    this.socket.send(reply, rinfo.port, rinfo.address, () => undefined);
  }

  add(pairId: string, key: Buffer): void {
    if (this.closed) throw new Error(`the monitor socket on port ${this.port} is closing; try again`);
    const id = pairId.toLowerCase();
    if (this.pairs.has(id)) throw new Error(`pair ${pairId} is already answered on port ${this.port}`);
    this.pairs.set(id, key);
  }

  /** Unregisters a pair; the last one out closes the socket. */
  async remove(pairId: string): Promise<void> {
    this.pairs.delete(pairId.toLowerCase());
    if (this.pairs.size > 0 || this.closed) return;
    this.closed = true;
    this.onEmpty();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
