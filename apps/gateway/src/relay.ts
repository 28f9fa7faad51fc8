// The replication relay: for pairs whose two agents cannot reach each other, both agents dial
// this gateway on RELAY_PATH (packages/protocol relay.ts) and the gateway joins the two sockets.
//
// - Authentication is the control session's: `Authorization: Bearer <agent credential>`, looked up
//   as a SHA-256 hash; revoked credentials are refused. The hello names a pair, a side (source or
//   target) and a stream (one per replication root: the end of the channel's TLS-PSK identity).
//   The pair is looked up in the agent's own tenant: the agent's server must be that side of it,
//   the pair must be set to the relay route and its protection enabled (store.ts relayAccess).
// - Waiting sockets are kept per (pair, stream, side): one each. A second hello for the same three
//   REPLACES the first (closed with 4409): the newest socket is the one whose agent is alive (a
//   reconnecting agent must not be locked out by its own half-dead socket). The two sides of a
//   (pair, stream) are joined as soon as both wait. Joined sockets are not replaced: a pair may
//   run several at once (one per root, plus verify sessions beside the replication session), up
//   to `maxPerPair` sockets in total per pair; more are refused with 4429.
// - After `relay.paired` every binary frame is copied unchanged to the other socket, so the two
//   agents' TLS-PSK session runs end to end: the gateway never holds the pair key, sees only
//   ciphertext and cannot impersonate either side. Back-pressure: a sender is paused while more
//   than HIGH_WATER bytes wait to be written to its peer.
// - Limits: the hello must arrive within HELLO_TIMEOUT_MS; a socket waits at most `waitMs` for its
//   other side; a joined pair that relays no byte in either direction for `idleMs` is closed
//   (4408); a socket that answers neither pings nor sends anything for two `pingMs` intervals is
//   dropped. Closing one side closes the other (1000 when it closed cleanly, 4410 when it failed).
// - Relayed bytes are counted per join (logged when it ends) and in total (`stats()`, /health).
//   Every refusal is logged with the agent (or address) and the reason, at most REFUSALS_LOGGED
//   lines per ten seconds; the remainder is counted.
// - The permission is checked when a socket says hello, not again while it relays: disabling a
//   pair stops replication on both agents, which closes their sockets; a revoked agent's sockets
//   are closed with its control session.
// - A join happens inside one gateway process: when several gateways run, both agents of a relay
//   pair must reach the same one for /relay (route it to one gateway, or make it sticky).
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  closeReason,
  parseRelayHello,
  RELAY_MAX_MESSAGE_BYTES,
  relayCloseCodes,
  relayNoticeSchema,
  type RelayHello,
  type RelayNotice,
} from '@tandem/protocol';
import { findAgentByCredential, relayAccess, type AgentIdentity, type RelayAccess } from './store.ts';

const HELLO_TIMEOUT_MS = 10_000;
const REFUSALS_LOGGED = 50;
/** Bytes queued towards one agent before the other agent's socket is paused, and resumed below LOW_WATER. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;

export interface RelayOptions {
  /** How long a socket waits for the other side of its pair. */
  waitMs: number;
  /** A joined relay with no byte in either direction for this long is closed. */
  idleMs: number;
  /** Relay sockets (waiting or joined) one pair may hold. */
  maxPerPair: number;
  /** Liveness pings; a socket silent for two intervals is dropped. */
  pingMs: number;
  log: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface RelayStats {
  /** Sockets waiting for their other side. */
  waiting: number;
  /** Joined pairs of sockets. */
  active: number;
  /** Joins since the gateway started. */
  joined: number;
  /** Bytes copied between agents since the gateway started (both directions). */
  bytesRelayed: number;
  /** Sockets refused (credential, hello, pair, limits). */
  refused: number;
}

interface Member {
  ws: WebSocket;
  agent: AgentIdentity;
  hello: RelayHello;
  /** new: hello accepted, not registered yet (or refused by a limit). */
  state: 'new' | 'waiting' | 'joined' | 'closed';
  join?: Join;
  waitTimer?: NodeJS.Timeout;
  /** Paused because its peer has too much queued. */
  paused: boolean;
}

interface Join {
  pairId: string;
  stream: string;
  source: Member;
  target: Member;
  startedAt: number;
  lastActivity: number;
  toTarget: number;
  toSource: number;
  ended: boolean;
}

export interface RelayHub {
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): RelayStats;
  /** Closes every relay socket of this agent (a disconnect order, e.g. its credential was revoked). */
  disconnectAgent(agentId: string, code: number, reason: string): void;
  close(): Promise<void>;
}

const opposite = (role: 'source' | 'target') => (role === 'source' ? 'target' : 'source');

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

const refusals: Record<Exclude<RelayAccess, 'ok'>, { code: number; reason: (h: RelayHello) => string }> = {
  not_your_pair: { code: relayCloseCodes.notYourPair, reason: (h) => `This agent is not the ${h.role} of pair ${h.pairId}` },
  not_relay: { code: relayCloseCodes.notAllowed, reason: () => 'The pair is not set to the relay route' },
  not_enabled: { code: relayCloseCodes.notAllowed, reason: () => 'Protection of the pair is not enabled' },
};

export function createRelayHub(opts: RelayOptions): RelayHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: RELAY_MAX_MESSAGE_BYTES });
  /** Waiting members per `pairId/stream`, one per side. */
  const waiting = new Map<string, { source?: Member; target?: Member }>();
  /** Registered members (waiting or joined) per pair. */
  const perPair = new Map<string, number>();
  const members = new Set<Member>();
  const joins = new Set<Join>();
  /** Every relay socket, from the upgrade on; `true` while it showed signs of life this interval. */
  const alive = new Map<WebSocket, boolean>();
  const totals = { joined: 0, bytesRelayed: 0, refused: 0 };
  let closing = false;

  const send = (ws: WebSocket, notice: RelayNotice) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(relayNoticeSchema.parse(notice)));
  };
  const closeWs = (ws: WebSocket, code: number, reason: string) => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, closeReason(reason));
  };
  // Refusals are logged, but at most REFUSALS_LOGGED per ten seconds: a client reconnecting in a
  // loop must not be able to flood the log (the rest are counted and summed up).
  const logWindow = { start: 0, logged: 0, skipped: 0 };
  const refuse = (ws: WebSocket, code: number, reason: string, about: Record<string, unknown> = {}) => {
    totals.refused++;
    const now = Date.now();
    if (now - logWindow.start > 10_000) {
      if (logWindow.skipped) opts.log('relay refusals not logged in the last window', { count: logWindow.skipped });
      logWindow.start = now;
      logWindow.logged = 0;
      logWindow.skipped = 0;
    }
    if (++logWindow.logged <= REFUSALS_LOGGED) opts.log('relay refused', { ...about, code, reason });
    else logWindow.skipped++;
    closeWs(ws, code, reason);
  };

  // One timer for both checks: idle joins (every quarter of idleMs, at most every pingMs) and
  // liveness (every pingMs).
  let lastPing = Date.now();
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const j of joins) {
        if (now - j.lastActivity > opts.idleMs && !j.ended) {
          const reason = `Relay idle: no data for ${Math.round(opts.idleMs / 1000)} s`;
          opts.log('relay idle; closing it', {
            pairId: j.pairId,
            stream: j.stream,
            idleSeconds: Math.round((now - j.lastActivity) / 1000),
          });
          j.lastActivity = now; // logged once; the close follows
          closeWs(j.source.ws, relayCloseCodes.timedOut, reason);
          closeWs(j.target.ws, relayCloseCodes.timedOut, reason);
        }
      }
      if (now - lastPing < opts.pingMs) return;
      lastPing = now;
      for (const [ws, live] of alive) {
        if (!live) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        if (ws.readyState === ws.OPEN) ws.ping();
      }
    },
    Math.max(100, Math.min(opts.pingMs, Math.floor(opts.idleMs / 4))),
  );

  function unregister(m: Member) {
    const registered = m.state === 'waiting' || m.state === 'joined';
    if (m.state === 'waiting') {
      const key = `${m.hello.pairId}/${m.hello.stream}`;
      const slot = waiting.get(key);
      if (slot?.[m.hello.role] === m) {
        delete slot[m.hello.role];
        if (!slot.source && !slot.target) waiting.delete(key);
      }
    }
    clearTimeout(m.waitTimer);
    m.state = 'closed';
    members.delete(m);
    if (registered) {
      const n = (perPair.get(m.hello.pairId) ?? 1) - 1;
      if (n <= 0) perPair.delete(m.hello.pairId);
      else perPair.set(m.hello.pairId, n);
    }
  }

  function endJoin(j: Join, by: Member, code: number, reason: string) {
    if (j.ended) return;
    j.ended = true;
    joins.delete(j);
    const other = by === j.source ? j.target : j.source;
    const clean = code === 1000 || code === 1005;
    // Anything still queued towards the other agent is written before the close frame.
    closeWs(
      other.ws,
      clean ? relayCloseCodes.peerClosed : relayCloseCodes.peerLost,
      clean ? 'The other agent closed the relay' : `The other agent's relay connection failed (${code})`,
    );
    opts.log('relay ended', {
      pairId: j.pairId,
      stream: j.stream,
      closedBy: by.hello.role,
      code,
      reason: reason.slice(0, 200),
      bytesToTarget: j.toTarget,
      bytesToSource: j.toSource,
      seconds: Math.round((Date.now() - j.startedAt) / 100) / 10,
    });
  }

  function join(a: Member, b: Member) {
    const source = a.hello.role === 'source' ? a : b;
    const target = source === a ? b : a;
    const j: Join = {
      pairId: a.hello.pairId,
      stream: a.hello.stream,
      source,
      target,
      startedAt: Date.now(),
      lastActivity: Date.now(),
      toTarget: 0,
      toSource: 0,
      ended: false,
    };
    for (const m of [source, target]) {
      clearTimeout(m.waitTimer);
      m.state = 'joined';
      m.join = j;
    }
    joins.add(j);
    totals.joined++;
    const forward = (from: Member, to: Member, count: (n: number) => void) => (data: RawData, isBinary: boolean) => {
      alive.set(from.ws, true);
      if (j.ended) return;
      if (!isBinary) {
        refuse(from.ws, relayCloseCodes.badHello, 'Only binary frames may follow relay.paired', {
          agentId: from.agent.id,
          pairId: j.pairId,
        });
        return;
      }
      const buf = asBuffer(data);
      count(buf.length);
      totals.bytesRelayed += buf.length;
      j.lastActivity = Date.now();
      if (to.ws.readyState !== to.ws.OPEN) return;
      to.ws.send(buf, { binary: true }, () => {
        if (from.paused && to.ws.bufferedAmount < LOW_WATER) {
          from.paused = false;
          from.ws.resume();
        }
      });
      if (!from.paused && to.ws.bufferedAmount > HIGH_WATER) {
        from.paused = true;
        from.ws.pause();
      }
    };
    source.ws.removeAllListeners('message');
    target.ws.removeAllListeners('message');
    source.ws.on(
      'message',
      forward(source, target, (n) => (j.toTarget += n)),
    );
    target.ws.on(
      'message',
      forward(target, source, (n) => (j.toSource += n)),
    );
    // Both handlers are in place before either agent hears that it may send.
    send(source.ws, { type: 'relay.paired' });
    send(target.ws, { type: 'relay.paired' });
    opts.log('relay joined', {
      pairId: j.pairId,
      stream: j.stream,
      sourceAgentId: source.agent.id,
      targetAgentId: target.agent.id,
    });
  }

  function register(m: Member) {
    const { pairId, stream, role } = m.hello;
    const key = `${pairId}/${stream}`;
    const slot = waiting.get(key) ?? {};
    const same = slot[role];
    if (same) {
      unregister(same);
      closeWs(same.ws, relayCloseCodes.replaced, 'Replaced by a newer relay connection for the same pair, side and stream');
      opts.log('relay replaced', { pairId, stream, role, agentId: m.agent.id });
    }
    const count = perPair.get(pairId) ?? 0;
    if (count >= opts.maxPerPair) {
      refuse(m.ws, relayCloseCodes.tooMany, `Pair ${pairId} already holds ${count} relay connections`, {
        agentId: m.agent.id,
        pairId,
        role,
      });
      return;
    }
    perPair.set(pairId, count + 1);
    members.add(m);
    m.state = 'waiting';
    const other = slot[opposite(role)];
    if (other) {
      delete slot[opposite(role)];
      if (!slot.source && !slot.target) waiting.delete(key);
      join(other, m);
      return;
    }
    slot[role] = m;
    waiting.set(key, slot);
    m.ws.removeAllListeners('message');
    m.ws.on('message', () =>
      refuse(m.ws, relayCloseCodes.badHello, 'Nothing may be sent before relay.paired', { agentId: m.agent.id, pairId, role }),
    );
    m.waitTimer = setTimeout(
      () => closeWs(m.ws, relayCloseCodes.timedOut, `No ${opposite(role)} joined within ${Math.round(opts.waitMs / 1000)} s`),
      opts.waitMs,
    );
    send(m.ws, { type: 'relay.waiting', waitMs: opts.waitMs });
  }

  async function accept(ws: WebSocket, req: http.IncomingMessage) {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', (err) => opts.log('relay socket error', { error: err.message }));
    /** Set once the hello passed every check (the close handler needs it). */
    const held: { member?: Member } = {};
    const helloTimer = setTimeout(
      () =>
        refuse(ws, relayCloseCodes.badHello, `No relay hello within ${HELLO_TIMEOUT_MS / 1000} s`, {
          remoteAddress: req.socket.remoteAddress ?? null,
        }),
      HELLO_TIMEOUT_MS,
    );
    ws.on('close', (code, reason) => {
      alive.delete(ws);
      clearTimeout(helloTimer);
      const member = held.member;
      if (!member) return;
      const j = member.join;
      unregister(member);
      if (j) endJoin(j, member, code, reason.toString());
    });

    // The hello may arrive while the credential is being looked up: keep the first frame.
    let first: { data: Buffer; isBinary: boolean } | undefined;
    let extra = false;
    let gotFirst: (() => void) | undefined;
    ws.on('message', (data, isBinary) => {
      alive.set(ws, true);
      if (first) {
        extra = true;
        return;
      }
      first = { data: asBuffer(data), isBinary };
      gotFirst?.();
    });

    const from = { remoteAddress: req.socket.remoteAddress ?? null };
    const header = req.headers.authorization ?? '';
    const credential = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!credential) return refuse(ws, relayCloseCodes.unauthorized, 'No credential: enrol the agent first', from);
    let agent: AgentIdentity | null;
    try {
      agent = await findAgentByCredential(credential);
    } catch (err) {
      opts.log('relay credential lookup failed', { error: String(err) });
      return closeWs(ws, 1011, 'Try again later');
    }
    if (!agent) return refuse(ws, relayCloseCodes.unauthorized, 'Unknown credential: it was rotated or never issued', from);
    if (agent.revokedAt || agent.status === 'revoked')
      return refuse(ws, relayCloseCodes.revoked, 'Credential revoked by an operator', { agentId: agent.id });

    if (ws.readyState !== ws.OPEN) return; // gone while its credential was looked up
    if (!first) {
      await new Promise<void>((resolve) => {
        gotFirst = resolve;
        ws.once('close', () => resolve());
      });
    }
    clearTimeout(helloTimer);
    if (ws.readyState !== ws.OPEN || !first) return;
    const parsed = parseRelayHello(first.data, first.isBinary);
    if (!parsed.ok) return refuse(ws, relayCloseCodes.badHello, parsed.message, { agentId: agent.id });
    const hello = parsed.hello;
    const about = { agentId: agent.id, pairId: hello.pairId, role: hello.role, stream: hello.stream };
    if (extra) return refuse(ws, relayCloseCodes.badHello, 'Nothing may be sent after the hello before relay.paired', about);

    let access: RelayAccess;
    try {
      access = await relayAccess(agent, hello.pairId, hello.role);
    } catch (err) {
      opts.log('relay pair lookup failed', { ...about, error: String(err) });
      return closeWs(ws, 1011, 'Try again later');
    }
    if (access !== 'ok') return refuse(ws, refusals[access].code, refusals[access].reason(hello), about);
    if (ws.readyState !== ws.OPEN) return;
    if (extra) return refuse(ws, relayCloseCodes.badHello, 'Nothing may be sent after the hello before relay.paired', about);
    if (closing) return closeWs(ws, relayCloseCodes.shuttingDown, 'Gateway shutting down');
    held.member = { ws, agent, hello, state: 'new', paused: false };
    register(held.member);
  }

  return {
    handleUpgrade(req, socket, head) {
      if (closing) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => void accept(ws, req));
    },
    stats() {
      let w = 0;
      for (const slot of waiting.values()) w += (slot.source ? 1 : 0) + (slot.target ? 1 : 0);
      return {
        waiting: w,
        active: joins.size,
        joined: totals.joined,
        bytesRelayed: totals.bytesRelayed,
        refused: totals.refused,
      };
    },
    disconnectAgent(agentId, code, reason) {
      for (const m of members) if (m.agent.id === agentId) closeWs(m.ws, code, reason);
    },
    async close() {
      closing = true;
      clearInterval(timer);
      for (const ws of alive.keys()) closeWs(ws, relayCloseCodes.shuttingDown, 'Gateway shutting down');
      await new Promise((r) => setTimeout(r, 100));
      for (const ws of alive.keys()) ws.terminate();
      wss.close();
    },
  };
}
