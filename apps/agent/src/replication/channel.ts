// The data channel carries replication bytes agent to agent: the TARGET listens (default port 6320
// on the pair's route address), the SOURCE connects. Why each layer:
// - TLS 1.2 with a pre-shared key (PSK-AES256-GCM-SHA384): the control plane issues each pair a
//   32-byte random key and both agents prove they hold it in the handshake (identity = pair id).
//   No certificates to distribute or expire, mutual authentication, encryption, and a peer with
//   the wrong key fails the handshake before a single frame is read. TLS 1.3 PSK in Node needs
//   session-ticket plumbing; 1.2 PSK is what Node supports directly.
// - Frames `[u32 length][u8 type][payload][u32 crc32(type+payload)]`, big-endian; length counts
//   type+payload. The CRC catches corruption that TLS cannot: bugs and bit flips after decryption,
//   in our buffers or a middlebox terminating TLS. A frame whose CRC fails is delivered as a
//   `corrupt` message WITHOUT its payload, so the protocol layer never applies it (the mirror then
//   re-sends the whole file — see mirror.ts). A length above MAX_FRAME means framing itself is
//   lost: the connection is torn down and the session retried.
// - Payload = `[u32 header length][JSON header][binary body]`: small self-describing headers and raw
//   blocks without base64.
// - Compression per frame (off | fast = deflateRaw level 1 | best = level 9), flagged by the type's
//   high bit; kept only when it actually shrinks the frame. The CRC covers the bytes on the wire.
// - Back-pressure: send() resolves only once socket.write() accepted the frame or 'drain' fired;
//   the receiver pauses the socket while its queue of undelivered frames is long.
// - Bandwidth limit: a token bucket on wire bytes sent, in bytes per second.
// Agents that cannot reach each other run the same TLS session through the gateway's relay
// (relay.ts); a Channel only needs a TLSSocket, whatever carries it.
import { once } from 'node:events';
import tls from 'node:tls';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export const DEFAULT_DATA_PORT = 6320;
export const PSK_CIPHER = 'PSK-AES256-GCM-SHA384';
export const PAIR_KEY_BYTES = 32;
/** Largest frame accepted (type + payload): a block plus headroom for headers/signatures. */
export const MAX_FRAME = 16 * 1024 * 1024;
const COMPRESSED = 0x80;
/** Frame type of a keepalive: sent by the channel itself when asked to, dropped by the receiving channel. */
export const KEEPALIVE = 0x7f;
const QUEUE_HIGH = 64;
/** Bytes the socket may buffer before send() waits for it to drain. */
const SEND_BUFFER = 4 * 1024 * 1024;
/** Frames at least this big are built in recycled buffers (see FramePool). */
const POOLED_MIN = 64 * 1024;
/** Recycled buffers kept per size class. */
const POOL_PER_CLASS = 8;

/**
 * Recycled frame buffers, by power-of-two size class. Why: a mirror sends gigabytes in ~1 MiB
 * frames, and a fresh ArrayBuffer per frame makes V8 run a full mark of the heap every few dozen
 * MiB of external memory. A buffer returns to the pool in the socket write's callback, which runs
 * only after TLS has consumed (encrypted) the bytes, so a buffer is never reused under a pending write.
 */
class FramePool {
  private readonly classes = new Map<number, Buffer[]>();
  take(size: number): Buffer {
    const cap = Math.max(POOLED_MIN, 2 ** Math.ceil(Math.log2(size)));
    const buf = this.classes.get(cap)?.pop() ?? Buffer.allocUnsafeSlow(cap);
    return buf.subarray(0, size);
  }
  give(frame: Buffer): void {
    const whole = Buffer.from(frame.buffer, frame.byteOffset, frame.buffer.byteLength - frame.byteOffset);
    let list = this.classes.get(whole.length);
    if (!list) this.classes.set(whole.length, (list = []));
    if (list.length < POOL_PER_CLASS) list.push(whole);
  }
}

export type Compression = 'off' | 'fast' | 'best';

export interface ChannelOptions {
  compression?: Compression;
  /** Bytes per second on the wire, sending direction; unset or 0 = unlimited. */
  bandwidthLimit?: number;
  /**
   * Send a keepalive frame when nothing was sent for this long (off when unset). For paths that cut
   * quiet connections, such as the gateway relay's idle limit; the peer's channel drops them.
   */
  keepaliveMs?: number;
  /** Test hook: return true to flip a byte of this outgoing frame AFTER its CRC was computed. */
  corruptOutgoing?: (info: { type: number; seq: number; header: Record<string, unknown> }) => boolean;
}

export type Message =
  | { corrupt: false; type: number; header: Record<string, unknown>; body: Buffer }
  | { corrupt: true; type: number };

export class ChannelError extends Error {
  override name = 'ChannelError';
}

export interface ChannelStats {
  wireBytesSent: number;
  wireBytesReceived: number;
  framesSent: number;
  framesReceived: number;
  crcErrors: number;
}

const deflateRaw = promisify(zlib.deflateRaw);

/** A token bucket: take(n) waits until n bytes may go out at `rate` bytes/s (burst = rate/20, ≥16 KiB). */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly burst: number;
  constructor(private readonly rate: number) {
    this.burst = Math.max(16 * 1024, rate / 20);
    this.tokens = this.burst;
  }
  async take(n: number): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n; // may go into debt: a big frame waits for the debt to be repaid
    if (this.tokens < 0) await new Promise((r) => setTimeout(r, Math.ceil((-this.tokens / this.rate) * 1000)));
  }
}

export function encodePayload(header: Record<string, unknown>, body?: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(json.length);
  return body && body.length ? Buffer.concat([len, json, body]) : Buffer.concat([len, json]);
}

function decodePayload(payload: Buffer): { header: Record<string, unknown>; body: Buffer } {
  if (payload.length < 4) throw new ChannelError('payload too short');
  const n = payload.readUInt32BE(0);
  if (4 + n > payload.length) throw new ChannelError('payload header overruns the frame');
  const header = JSON.parse(payload.subarray(4, 4 + n).toString('utf8')) as Record<string, unknown>;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new ChannelError('payload header is not an object');
  return { header, body: payload.subarray(4 + n) };
}

/** One authenticated, framed connection between the two agents of a pair. */
export class Channel {
  readonly stats: ChannelStats = { wireBytesSent: 0, wireBytesReceived: 0, framesSent: 0, framesReceived: 0, crcErrors: 0 };
  private readonly level: number | undefined;
  private readonly bucket: TokenBucket | undefined;
  private tail: Promise<void> = Promise.resolve();
  private seq = 0;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Message[] = [];
  private waiter: { resolve: (m: Message | null) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  private failure: Error | undefined;
  private corked = false;
  private lastSent = performance.now();
  private readonly pool = new FramePool();
  private keepalive: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: tls.TLSSocket,
    /** The pair id both ends authenticated with. */
    readonly pairId: string,
    private readonly opts: ChannelOptions = {},
  ) {
    this.level = opts.compression === 'fast' ? 1 : opts.compression === 'best' ? 9 : undefined;
    this.bucket = opts.bandwidthLimit ? new TokenBucket(opts.bandwidthLimit) : undefined;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.finish());
    socket.on('close', () => {
      clearInterval(this.keepalive);
      this.finish();
    });
    const every = opts.keepaliveMs;
    if (every && every > 0) {
      this.keepalive = setInterval(() => {
        if (performance.now() - this.lastSent >= every && !this.failure && !this.socket.destroyed) this.send(KEEPALIVE, {}).catch(() => undefined);
      }, Math.max(10, Math.floor(every / 2)));
      this.keepalive.unref();
    }
    socket.on('error', (err: Error) => this.fail(new ChannelError(`data channel: ${err.message}`)));
  }

  /** Sends one message; resolves once the socket accepted it (back-pressure). Sends keep their order. */
  send(type: number, header: Record<string, unknown>, body?: Buffer): Promise<void> {
    const run = this.tail.then(() => this.sendNow(type, header, body));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async sendNow(type: number, header: Record<string, unknown>, body?: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.socket.destroyed) throw new ChannelError('data channel closed');
    let t = type & 0x7f;
    let frame: Buffer;
    let payloadLength: number;
    let pooled = false;
    const json = Buffer.from(JSON.stringify(header));
    const bodyLength = body?.length ?? 0;
    let compressed: Buffer | undefined;
    if (this.level !== undefined && 4 + json.length + bodyLength > 64) {
      const plain = encodePayload(header, body);
      const z = await deflateRaw(plain, { level: this.level });
      compressed = z.length < plain.length ? z : plain;
      if (z.length < plain.length) t |= COMPRESSED;
    }
    if (compressed) {
      payloadLength = compressed.length;
      if (payloadLength + 1 > MAX_FRAME) throw new ChannelError(`frame of ${payloadLength} bytes exceeds the limit`);
      frame = Buffer.allocUnsafe(4 + 1 + payloadLength + 4);
      compressed.copy(frame, 5);
    } else {
      // One (recycled, for big frames) buffer, one copy of the body: [len][type][json len][json][body][crc].
      payloadLength = 4 + json.length + bodyLength;
      if (payloadLength + 1 > MAX_FRAME) throw new ChannelError(`frame of ${payloadLength} bytes exceeds the limit`);
      const size = 4 + 1 + payloadLength + 4;
      frame = size >= POOLED_MIN ? this.pool.take(size) : Buffer.allocUnsafe(size);
      pooled = size >= POOLED_MIN;
      frame.writeUInt32BE(json.length, 5);
      json.copy(frame, 9);
      if (body) body.copy(frame, 9 + json.length);
    }
    frame.writeUInt32BE(1 + payloadLength, 0);
    frame[4] = t;
    frame.writeUInt32BE(zlib.crc32(frame.subarray(4, 5 + payloadLength)), 5 + payloadLength);
    const seq = this.seq++;
    if (this.opts.corruptOutgoing?.({ type: type & 0x7f, seq, header })) frame[5 + Math.floor(payloadLength / 2)]! ^= 0x5a;
    if (this.bucket) await this.bucket.take(frame.length);
    this.stats.wireBytesSent += frame.length;
    this.stats.framesSent++;
    this.lastSent = performance.now();
    // Frames sent in the same turn of the event loop (acks, small files) go out in one TLS record
    // and one syscall instead of one each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    // Wait for 'drain' only once a few MiB are buffered: waiting whenever write() returns false
    // (above 16 KiB) would send one frame per event-loop turn and stall the pipeline.
    const written = pooled ? this.socket.write(frame, () => this.pool.give(frame)) : this.socket.write(frame);
    if (!written && this.socket.writableLength > SEND_BUFFER) {
      const socket = this.socket;
      await new Promise<void>((resolve, reject) => {
        const cleanup = () => {
          socket.off('drain', onDrain);
          socket.off('close', onClose);
        };
        const onDrain = () => {
          cleanup();
          resolve();
        };
        const onClose = () => {
          cleanup();
          reject(new ChannelError('data channel closed while sending'));
        };
        socket.on('drain', onDrain);
        socket.on('close', onClose);
      });
    }
  }

  /** Next message, or null once the peer closed the channel cleanly. */
  receive(): Promise<Message | null> {
    const m = this.queue.shift();
    if (m) {
      if (this.queue.length < QUEUE_HIGH / 2 && this.socket.isPaused()) this.socket.resume();
      return Promise.resolve(m);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Puts a received message back at the head of the queue (lets a dispatcher peek at the first message). */
  unshift(m: Message): void {
    this.queue.unshift(m);
  }

  /** Flushes queued sends and closes our side. */
  async close(): Promise<void> {
    await this.tail;
    if (!this.socket.destroyed) {
      this.socket.end();
      await Promise.race([once(this.socket, 'close'), new Promise((r) => setTimeout(r, 2000))]);
      this.socket.destroy();
    }
  }

  /** Tears the connection down (with an error the peer sees as a reset). */
  destroy(err?: Error): void {
    if (err) this.fail(err instanceof ChannelError ? err : new ChannelError(err.message));
    this.socket.destroy();
  }

  private deliver(m: Message): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(m);
      return;
    }
    this.queue.push(m);
    if (this.queue.length >= QUEUE_HIGH) this.socket.pause();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiter && !this.failure && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(null);
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    this.stats.wireBytesReceived += chunk.length;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      for (;;) {
        if (this.buffered < 4) return;
        if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
        const len = this.chunks[0]!.readUInt32BE(0);
        if (len < 1 || len > MAX_FRAME) throw new ChannelError(`frame length ${len} is out of range: framing lost`);
        const total = 4 + len + 4;
        if (this.buffered < total) return;
        const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
        const frame = all.subarray(0, total);
        const rest = all.subarray(total);
        this.chunks = rest.length ? [rest] : [];
        this.buffered = rest.length;
        this.onFrame(frame, len);
      }
    } catch (err) {
      this.fail(err instanceof ChannelError ? err : new ChannelError(String(err)));
      this.socket.destroy();
    }
  }

  private onFrame(frame: Buffer, len: number): void {
    this.stats.framesReceived++;
    const t = frame[4]!;
    const body = frame.subarray(4, 4 + len);
    const crc = frame.readUInt32BE(4 + len);
    if (zlib.crc32(body) !== crc) {
      this.stats.crcErrors++;
      this.deliver({ corrupt: true, type: t & 0x7f });
      return;
    }
    if ((t & 0x7f) === KEEPALIVE) return;
    // The socket hands out a fresh buffer per read, so the message may keep a view of it (no copy).
    let payload = body.subarray(1);
    if (t & COMPRESSED) payload = zlib.inflateRawSync(payload, { maxOutputLength: MAX_FRAME });
    const { header, body: bin } = decodePayload(payload);
    this.deliver({ corrupt: false, type: t & 0x7f, header, body: bin });
  }
}

/** TLS settings of both ends of a data channel (also used over the relay, relay.ts). */
export function tlsBase() {
  return { ciphers: PSK_CIPHER, minVersion: 'TLSv1.2' as const, maxVersion: 'TLSv1.2' as const };
}

export interface ListenOptions extends ChannelOptions {
  /** Address to bind (the pair's route address); default all interfaces. */
  host?: string;
  /** Default 6320; 0 picks a free port. */
  port?: number;
  /** The key the control plane issued for this pair id, or undefined to refuse the identity. */
  keyFor: (pairId: string) => Buffer | undefined;
}

/** The target side: a listening socket handing out authenticated channels. */
export class ChannelServer {
  /** Handshakes that failed (wrong key, unknown pair, not TLS): kept for diagnostics and tests. */
  readonly refused: Error[] = [];
  private readonly pending: Channel[] = [];
  private readonly waiters: ((c: Channel) => void)[] = [];
  /** The bound port (useful with port 0). */
  port = 0;
  constructor(readonly server: tls.Server) {}
  /** Called by the server for each authenticated connection. */
  offer(c: Channel): void {
    const w = this.waiters.shift();
    if (w) w(c);
    else this.pending.push(c);
  }
  /** The next authenticated channel. */
  accept(): Promise<Channel> {
    const c = this.pending.shift();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function listen(opts: ListenOptions): Promise<ChannelServer> {
  const identities = new WeakMap<tls.TLSSocket, string>();
  const server = tls.createServer(
    {
      ...tlsBase(),
      pskCallback: (socket, identity) => {
        const key = opts.keyFor(identity);
        if (!key || key.length !== PAIR_KEY_BYTES) return null;
        identities.set(socket, identity);
        return key;
      },
    },
    (socket) => {
      const id = identities.get(socket);
      if (!id) {
        socket.destroy();
        return;
      }
      holder.offer(new Channel(socket, id, opts));
    },
  );
  const holder = new ChannelServer(server);
  server.on('tlsClientError', (err) => holder.refused.push(err));
  server.listen(opts.port ?? DEFAULT_DATA_PORT, opts.host);
  await once(server, 'listening');
  const addr = server.address();
  holder.port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? DEFAULT_DATA_PORT);
  return holder;
}

export interface ConnectOptions extends ChannelOptions {
  host: string;
  port?: number;
  pairId: string;
  key: Buffer;
  timeoutMs?: number;
}

/** The source side: connects and completes the PSK handshake, or rejects (wrong key → handshake error). */
export async function connect(opts: ConnectOptions): Promise<Channel> {
  if (opts.key.length !== PAIR_KEY_BYTES) throw new ChannelError(`a pair key is ${PAIR_KEY_BYTES} bytes`);
  const socket = tls.connect({
    ...tlsBase(),
    host: opts.host,
    port: opts.port ?? DEFAULT_DATA_PORT,
    pskCallback: () => ({ psk: opts.key, identity: opts.pairId }),
    checkServerIdentity: () => undefined,
  });
  const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), opts.timeoutMs ?? 10_000);
  try {
    await once(socket, 'secureConnect');
  } catch (err) {
    socket.destroy();
    throw new ChannelError(`data channel handshake failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return new Channel(socket, opts.pairId, opts);
}
