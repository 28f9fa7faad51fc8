// The data channel through the gateway's relay, for pairs whose agents cannot reach each other
// (route `relay` in replication.start). Both agents dial out: the gateway's RELAY_PATH, with the
// same Bearer credential as the control session, then a hello naming the pair, the side and the
// stream (the 12 hex digits that end the root's channel identity). Once the gateway has both
// sides it says `relay.paired` and copies binary frames between them unchanged.
//
// The TLS-PSK session of channel.ts then runs over that WebSocket exactly as over TCP: the source
// is the TLS client, the target the TLS server, with the pair key and the root's identity. The
// gateway only ever carries ciphertext; it never holds the key, so it cannot read the data nor
// pass for either agent (a wrong key fails the handshake as it would on a direct connection).
//
// - SOURCE: connectViaRelay() is a drop-in for connect(): one relay socket per channel, so the
//   continuous engine's reconnects (continuous.ts) work unchanged when a relay drops.
// - TARGET: a RelayServer per root keeps one socket waiting at the gateway. When it is paired the
//   TLS handshake runs on it and a new socket is opened at once for the next channel (verify
//   sessions and reconnects). The gateway closes waiting sockets after a while; they are simply
//   opened again. Refusals (pair not relay, not enabled, wrong agent) back off up to 5 s and are
//   reported through onError.
// - Writes are cut into WebSocket messages of at most MESSAGE_BYTES (a data-channel frame can be
//   16 MiB; the gateway forwards at most RELAY_MAX_MESSAGE_BYTES per message).
// - Liveness: the agent pings every PING_MS and drops a relay socket that has been silent (no
//   pong, ping or data) for two intervals; the gateway does the same on its side.
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import WebSocket from 'ws';
import {
  RELAY_MAX_MESSAGE_BYTES,
  RELAY_PATH,
  RELAY_PROTOCOL_VERSION,
  relayCloseCodes,
  relayNoticeSchema,
  type RelayHello,
} from '@tandem/protocol';
import { WakeableDelay } from '../runtime/wakeable-delay.ts';
import { Channel, ChannelError, ChannelServer, PAIR_KEY_BYTES, tlsBase, type ChannelOptions } from './channel.ts';

/** Where the relay is and how to authenticate: read again for every socket (credentials rotate). */
export interface RelayEndpoint {
  /** ws:// or wss:// URL of the gateway's relay path. */
  url: string;
  credential: string;
}

const MESSAGE_BYTES = 256 * 1024;
const PING_MS = Number(process.env.TANDEM_AGENT_RELAY_PING_MS ?? 15_000);
const RETRY_MAX_MS = 5_000;
/**
 * A relayed channel sends a keepalive frame after this long without traffic, so the gateway's idle
 * limit (RELAY_IDLE_MS, 15 min by default) only ends joins whose agents are gone, not quiet pairs.
 */
export const RELAY_KEEPALIVE_MS = Number(process.env.TANDEM_AGENT_RELAY_KEEPALIVE_MS ?? 60_000);
const HANDSHAKE_MS = 10_000;

/** The relay URL beside a gateway URL: `http://gw:3001` → `ws://gw:3001/relay`. */
export function relayUrlOf(gatewayUrl: string): string {
  const u = new URL(gatewayUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/$/, '')}${RELAY_PATH}`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** The gateway closed (or refused) a relay socket before it was paired. */
export class RelayClosed extends ChannelError {
  override name = 'RelayClosed';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function streamOf(identity: string): string {
  return identity.slice(identity.lastIndexOf(':') + 1);
}

function asBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Pings from our side; terminates a socket that has been silent for two intervals. */
function keepAlive(ws: WebSocket): void {
  let heard = Date.now();
  const mark = () => (heard = Date.now());
  ws.on('pong', mark);
  ws.on('ping', mark);
  ws.on('message', mark);
  const timer = setInterval(() => {
    if (Date.now() - heard > 2 * PING_MS) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.ping();
  }, PING_MS);
  timer.unref();
  ws.once('close', () => clearInterval(timer));
}

/**
 * A paired relay socket as a byte stream: binary messages in, writes out cut into messages.
 * A clean close (1000/1005) is the end of the stream; any other close is an error carrying the
 * gateway's code and reason (e.g. 4408 idle, 4410 the other agent's connection failed).
 */
function relayStream(ws: WebSocket): Duplex {
  const sendAll = (buf: Buffer, cb: (err?: Error | null) => void) => {
    if (ws.readyState !== WebSocket.OPEN) return cb(new ChannelError('relay socket closed'));
    if (buf.length === 0) return cb();
    let left = Math.ceil(buf.length / MESSAGE_BYTES);
    let done = false;
    for (let off = 0; off < buf.length; off += MESSAGE_BYTES) {
      ws.send(buf.subarray(off, off + MESSAGE_BYTES), { binary: true }, (err) => {
        if (done) return;
        if (err) {
          done = true;
          cb(err);
        } else if (--left === 0) {
          done = true;
          cb();
        }
      });
    }
  };
  const duplex = new Duplex({
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _encoding, cb) {
      sendAll(chunk, cb);
    },
    writev(chunks, cb) {
      sendAll(Buffer.concat(chunks.map((c) => c.chunk as Buffer)), cb);
    },
    final(cb) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'Channel closed');
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      cb(err);
    },
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      duplex.destroy(new ChannelError('relay: a text frame arrived after pairing'));
      return;
    }
    if (!duplex.push(asBuffer(data))) ws.pause();
  });
  ws.on('close', (code, reason) => {
    if (code === 1000 || code === 1005) duplex.push(null);
    else duplex.destroy(new ChannelError(`relay closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
  });
  ws.on('error', (err) => duplex.destroy(new ChannelError(`relay: ${err.message}`)));
  return duplex;
}

/**
 * Opens a relay socket, says hello and resolves with its byte stream once the gateway paired it;
 * rejects with RelayClosed when the gateway closes it first, or on timeout (0 = wait as long as the
 * gateway keeps it). `onSocket` receives the socket at once (so that it can be closed while waiting).
 */
function openRelay(
  endpoint: RelayEndpoint,
  hello: RelayHello,
  timeoutMs: number,
  onSocket?: (ws: WebSocket) => void,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(endpoint.url, {
      headers: { authorization: `Bearer ${endpoint.credential}` },
      maxPayload: RELAY_MAX_MESSAGE_BYTES,
      handshakeTimeout: HANDSHAKE_MS,
    });
    onSocket?.(ws);
    keepAlive(ws);
    let settled = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () =>
              fail(
                new ChannelError(
                  `relay: the ${hello.role === 'source' ? 'target' : 'source'} did not join within ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          )
        : undefined;
    const cleanup = () => {
      clearTimeout(timer);
      ws.off('open', onOpen);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      ws.off('error', onError);
    };
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      cleanup();
      ws.on('error', () => undefined); // a late error of the socket being dropped is not news
      ws.terminate();
      reject(err);
    }
    function onOpen() {
      ws.send(JSON.stringify(hello));
    }
    function onMessage(data: WebSocket.RawData, isBinary: boolean) {
      if (isBinary) return fail(new ChannelError('relay: data arrived before the gateway paired the socket'));
      const notice = relayNoticeSchema.safeParse(
        (() => {
          try {
            return JSON.parse(asBuffer(data).toString('utf8')) as unknown;
          } catch {
            return null;
          }
        })(),
      );
      if (!notice.success) return fail(new ChannelError('relay: the gateway sent a notice this agent does not understand'));
      if (notice.data.type === 'relay.waiting') return;
      settled = true;
      cleanup();
      // Synchronously, inside this event: the peer's first bytes may be the very next message.
      resolve(relayStream(ws));
    }
    function onClose(code: number, reason: Buffer) {
      fail(new RelayClosed(code, `relay closed by the gateway (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
    }
    function onError(err: Error) {
      fail(new ChannelError(`relay: ${err.message}`));
    }
    ws.on('open', onOpen);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
  });
}

export interface RelayConnectOptions extends ChannelOptions {
  endpoint: RelayEndpoint;
  pairId: string;
  /** The channel identity (`<pairId>:<12 hex>`): the TLS-PSK identity and, by its tail, the relay stream. */
  identity: string;
  key: Buffer;
  /** For the target to join and the handshake to finish; default 10 s. */
  timeoutMs?: number;
}

/** The SOURCE side through the relay: resolves with an authenticated channel, like connect(). */
export async function connectViaRelay(opts: RelayConnectOptions): Promise<Channel> {
  if (opts.key.length !== PAIR_KEY_BYTES) throw new ChannelError(`a pair key is ${PAIR_KEY_BYTES} bytes`);
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const stream = await openRelay(
    opts.endpoint,
    {
      type: 'relay.hello',
      version: RELAY_PROTOCOL_VERSION,
      pairId: opts.pairId,
      role: 'source',
      stream: streamOf(opts.identity),
    },
    Math.max(1, deadline - Date.now()),
  );
  const socket = tls.connect({
    ...tlsBase(),
    socket: stream,
    pskCallback: () => ({ psk: opts.key, identity: opts.identity }),
    checkServerIdentity: () => undefined,
  });
  socket.once('close', () => stream.destroy());
  const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), Math.max(1000, deadline - Date.now()));
  try {
    await once(socket, 'secureConnect');
  } catch (err) {
    socket.destroy();
    throw new ChannelError(`data channel handshake through the relay failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return new Channel(socket, opts.identity, { keepaliveMs: RELAY_KEEPALIVE_MS, ...opts });
}

export interface RelayServerOptions extends ChannelOptions {
  /** Read for every new socket (the agent's credential may have been rotated). */
  endpoint: () => RelayEndpoint;
  pairId: string;
  identity: string;
  key: Buffer;
  /** Refusals and failed handshakes (the same message is reported once until it changes). */
  onError?: (err: Error) => void;
}

/**
 * The TARGET side through the relay: a ChannelServer (ContinuousTarget accepts from it) that keeps
 * one socket waiting at the gateway and hands out a channel for every source that joins it.
 */
export class RelayServer extends ChannelServer {
  private closed = false;
  private waitingSocket: WebSocket | undefined;
  private readonly open = new Set<Channel>();
  private readonly handshakes = new Set<tls.TLSSocket>();
  private loop: Promise<void> | undefined;
  private readonly backoff = new WakeableDelay();
  private lastError = '';

  constructor(private readonly ropts: RelayServerOptions) {
    // Nothing listens on this agent: the tls.Server the base class keeps is never started.
    super(tls.createServer());
    this.port = 0;
    if (ropts.key.length !== PAIR_KEY_BYTES) throw new ChannelError(`a pair key is ${PAIR_KEY_BYTES} bytes`);
  }

  /** Starts keeping a socket at the gateway. */
  start(): this {
    this.loop ??= this.run();
    return this;
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.backoff.wake();
    this.waitingSocket?.terminate();
    for (const s of this.handshakes) s.destroy();
    for (const c of this.open) c.destroy();
    this.open.clear();
    await this.loop;
  }

  private report(err: Error): void {
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.ropts.onError?.(err);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        const stream = await openRelay(
          this.ropts.endpoint(),
          {
            type: 'relay.hello',
            version: RELAY_PROTOCOL_VERSION,
            pairId: this.ropts.pairId,
            role: 'target',
            stream: streamOf(this.ropts.identity),
          },
          0,
          (ws) => (this.waitingSocket = ws),
        );
        this.waitingSocket = undefined;
        attempt = 0;
        this.lastError = '';
        if (this.closed) {
          stream.destroy();
          break;
        }
        this.handshake(stream);
      } catch (err) {
        this.waitingSocket = undefined;
        if (this.closed) break;
        // The gateway's wait ran out: the normal cycle of an idle target, wait again at once.
        if (err instanceof RelayClosed && err.code === relayCloseCodes.timedOut) continue;
        this.report(err as Error);
        const delay = Math.min(RETRY_MAX_MS, 100 * 2 ** attempt++) * (0.5 + Math.random() / 2);
        await this.backoff.wait(delay);
      }
    }
  }

  /** TLS server side on a paired stream; only this root's identity and the pair key are accepted. */
  private handshake(stream: Duplex): void {
    const options: tls.TLSSocketOptions & Pick<tls.TlsOptions, 'pskCallback'> = {
      ...tlsBase(),
      isServer: true,
      pskCallback: (_socket, identity) => (identity === this.ropts.identity ? this.ropts.key : null),
    };
    const socket = new tls.TLSSocket(stream, options);
    this.handshakes.add(socket);
    socket.once('close', () => stream.destroy());
    const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), HANDSHAKE_MS);
    const done = () => {
      clearTimeout(timer);
      this.handshakes.delete(socket);
    };
    socket.once('secure', () => {
      done();
      socket.off('error', onError);
      if (this.closed) return void socket.destroy();
      const channel = new Channel(socket, this.ropts.identity, { keepaliveMs: RELAY_KEEPALIVE_MS, ...this.ropts });
      this.open.add(channel);
      socket.once('close', () => this.open.delete(channel));
      this.offer(channel);
    });
    const onError = (err: Error) => {
      done();
      const e = new ChannelError(`relay handshake failed: ${err.message}`);
      this.refused.push(e);
      if (this.refused.length > 50) this.refused.shift();
      this.report(e);
      socket.destroy();
    };
    socket.once('error', onError);
  }
}
