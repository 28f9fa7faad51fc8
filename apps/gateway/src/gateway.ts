// The gateway: holds agents' outbound WebSockets, authenticates them, keeps their status, and
// relays commands from Redis to them and their answers back. On RELAY_PATH it also joins the
// replication data channels of pairs whose agents cannot reach each other (relay.ts).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { gatewayOrderSchema, keys, LOCATION_TTL_SECONDS, type CommandReply } from '@tandem/agent-bus';
import {
  agentMessages,
  closeCodes,
  encodeFrame,
  gatewayMessages,
  MAX_FRAME_BYTES,
  parseFrame,
  RELAY_PATH,
  SUPPORTED_PROTOCOL_VERSIONS,
  TRANSPORT_MAX_FRAME_BYTES,
  type GatewayMessageType,
} from '@tandem/protocol';
import type { GatewayEnv } from './env.ts';
import { createRelayHub } from './relay.ts';
import {
  enroll,
  EnrollmentError,
  findAgentByCredential,
  markOffline,
  markOnline,
  storeFacts,
  storeMonitorReport,
  storeReplicationSample,
  touchLastSeen,
  type AgentIdentity,
} from './store.ts';

const enrollBody = z.strictObject({
  token: z.string().min(20).max(200),
  hostname: z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'Not a valid host name'),
  osFamily: z.enum(['linux', 'windows']),
  osVersion: z.string().max(200).optional(),
});

/** Deletes the location key only if it still names this gateway (another may have taken over). */
const releaseLocationScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

interface Session {
  agent: AgentIdentity;
  ws: WebSocket;
  ready: boolean;
  lastSeen: number;
  lastLocationRefresh: number;
  rejected: number;
  /** Error frames the agent sent us. */
  reported: number;
  /** hello arrived (its processing may still be running). */
  helloReceived: boolean;
  /** When each pair's last replication sample was accepted. */
  lastSampleAt: Map<string, number>;
  /** Per pair: what the last monitor report wrote, and the writes of the current second. */
  monitorWrites: Map<string, MonitorWriteState>;
  /** Per pair and action: since when the agent runs something the control plane has switched off. */
  leftovers: Map<string, number>;
}

interface MonitorWriteState {
  /** When the last report was handled (written or refused), and its state + lostSince. */
  lastAt: number;
  written: string | null;
  windowStart: number;
  windowWrites: number;
}

/** A report that changes nothing is written at most once a second per pair (the agent sends one per interval). */
const MONITOR_WRITE_EVERY_MS = 1000;
/** State changes are written at once, but a pair flapping faster than this per second is refused. */
const MONITOR_CHANGES_PER_SECOND = 5;
/** Pairs remembered per connection (a hostile agent naming random pairs must not grow it forever). */
const MONITOR_PAIRS_REMEMBERED = 1000;

export interface Gateway {
  port: number;
  close(): Promise<void>;
  sessions: Map<string, Session>;
}

/** The path of a request target (null when it cannot be parsed). */
function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://gateway').pathname;
  } catch {
    return null;
  }
}

const log = (msg: string, extra?: Record<string, unknown>) =>
  console.log(`[gateway] ${msg}${extra ? ' ' + JSON.stringify(extra) : ''}`);

export async function startGateway(env: GatewayEnv): Promise<Gateway> {
  const redis = new Redis(env.REDIS_URL);
  const sub = new Redis(env.REDIS_URL);
  const sessions = new Map<string, Session>();
  const hb = env.HEARTBEAT_INTERVAL_MS;

  const send = <T extends GatewayMessageType>(s: Session, type: T, payload: z.input<(typeof gatewayMessages)[T]>, replyTo?: string) => {
    if (s.ws.readyState === s.ws.OPEN) s.ws.send(encodeFrame(gatewayMessages, type, payload, { replyTo }));
  };

  /** Relays an agent's answer; false when it cannot be serialised (absurdly deep nesting). */
  const reply = (commandId: string, r: CommandReply): boolean => {
    let body: string;
    try {
      body = JSON.stringify(r);
    } catch {
      return false;
    }
    void redis.publish(keys.reply(commandId), body);
    return true;
  };

  // Orders for agents this gateway holds.
  await sub.subscribe(keys.gateway(env.GATEWAY_ID));
  sub.on('message', (_channel: string, raw: string) => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return log('ignored a malformed order (not JSON)');
    }
    const order = gatewayOrderSchema.safeParse(json);
    if (!order.success) return log('ignored a malformed order', { error: z.prettifyError(order.error) });
    const o = order.data;
    const s = sessions.get(o.agentId);
    if (o.kind === 'disconnect') {
      s?.ws.close(o.code, o.reason);
      relay.disconnectAgent(o.agentId, o.code, o.reason);
      return;
    }
    if (!s?.ready) {
      reply(o.commandId, { stage: 'result', ok: false, error: { code: 'agent_offline', message: 'The agent is not connected to this gateway' } });
      return;
    }
    const parsedAction = gatewayMessages.command.shape.action.safeParse(o.action);
    if (!parsedAction.success) {
      reply(o.commandId, { stage: 'result', ok: false, error: { code: 'bad_action', message: `Unknown action ${o.action}` } });
      return;
    }
    send(s, 'command', { commandId: o.commandId, action: parsedAction.data, args: o.args, timeoutMs: o.timeoutMs });
  });

  const server = http.createServer((req, res) => void handleHttp(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: TRANSPORT_MAX_FRAME_BYTES });
  const relay = createRelayHub({ waitMs: env.RELAY_WAIT_MS, idleMs: env.RELAY_IDLE_MS, maxPerPair: env.RELAY_MAX_PER_PAIR, pingMs: env.RELAY_PING_MS, log });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/health') return json(200, { ok: true, gatewayId: env.GATEWAY_ID, agents: sessions.size, relay: relay.stats() });
    if (req.method === 'POST' && req.url === '/enroll') {
      let body = '';
      for await (const chunk of req) {
        body += String(chunk);
        if (body.length > 16_384) return json(413, { error: 'Request too large' });
      }
      let raw: unknown;
      try {
        raw = JSON.parse(body);
      } catch {
        return json(400, { error: 'Body is not JSON' });
      }
      const parsed = enrollBody.safeParse(raw);
      if (!parsed.success) return json(400, { error: z.prettifyError(parsed.error) });
      try {
        const result = await enroll(parsed.data);
        log('agent enrolled', { agentId: result.agentId, serverId: result.serverId });
        return json(200, result);
      } catch (err) {
        if (err instanceof EnrollmentError) return json(err.status, { error: err.message });
        log('enrolment failed', { error: String(err) });
        return json(500, { error: 'Enrolment failed' });
      }
    }
    json(404, { error: 'Not found' });
  }

  server.on('upgrade', (req, socket, head) => {
    if (pathOf(req.url) === RELAY_PATH) {
      relay.handleUpgrade(req, socket, head);
      return;
    }
    if (!req.url?.startsWith('/agent')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void accept(ws, req));
  });

  /** Accepts the socket first, so a refusal can carry a close code and a readable reason. */
  async function accept(ws: WebSocket, req: http.IncomingMessage) {
    // The agent says hello as soon as the socket opens, possibly before the credential lookup
    // below finishes: hold early frames (a few at most) until the session exists.
    const early: (string | Buffer)[] = [];
    let deliver: ((raw: string | Buffer) => void) | null = null;
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const raw = isBinary ? buf : buf.toString('utf8');
      if (deliver) deliver(raw);
      else if (early.length < 16 && buf.length <= MAX_FRAME_BYTES) early.push(raw);
    });
    const header = req.headers.authorization ?? '';
    const credential = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!credential) return ws.close(closeCodes.unauthorized, 'No credential: enrol the agent first');
    let agent: AgentIdentity | null;
    try {
      agent = await findAgentByCredential(credential);
    } catch (err) {
      log('credential lookup failed', { error: String(err) });
      return ws.close(1011, 'Try again later');
    }
    if (!agent) return ws.close(closeCodes.unauthorized, 'Unknown credential: it was rotated or never issued; enrol again');
    if (agent.revokedAt || agent.status === 'revoked') return ws.close(closeCodes.revoked, 'Credential revoked by an operator; enrol again');
    // The socket may have gone while we looked the credential up; then there is nothing to hold.
    if (ws.readyState !== ws.OPEN) return;

    const previous = sessions.get(agent.id);
    if (previous) previous.ws.close(closeCodes.replaced, 'Replaced by a newer connection');
    const s: Session = { agent, ws, ready: false, lastSeen: Date.now(), lastLocationRefresh: 0, rejected: 0, reported: 0, helloReceived: false, lastSampleAt: new Map(), monitorWrites: new Map(), leftovers: new Map() };
    sessions.set(agent.id, s);
    let alive = true;
    ws.on('pong', () => {
      alive = true;
      s.lastSeen = Date.now();
    });
    const pinger = setInterval(() => {
      // No pong for a whole interval after the previous ping: two intervals of silence.
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, hb);
    const helloTimer = setTimeout(() => {
      if (!s.helloReceived) ws.close(closeCodes.unauthorized, 'No hello received');
    }, 10_000);

    // Frames of one agent are handled in order, one at a time.
    let chain = Promise.resolve();
    deliver = (raw) => {
      s.lastSeen = Date.now();
      alive = true;
      chain = chain
        .then(() => onFrame(s, raw))
        .catch((err: unknown) => reject(s, 'internal', `frame could not be handled: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`));
    };
    for (const raw of early.splice(0)) deliver(raw);
    ws.on('error', (err) => log('socket error', { agentId: agent.id, error: err.message }));
    ws.on('close', (code, reason) => {
      clearInterval(pinger);
      clearTimeout(helloTimer);
      if (sessions.get(agent.id) !== s) return; // replaced: the new session owns status and location
      sessions.delete(agent.id);
      void redis.eval(releaseLocationScript, 1, keys.location(agent.id), env.GATEWAY_ID);
      if (s.ready) {
        void markOffline(agent, new Date(s.lastSeen)).catch((err: unknown) => log('marking offline failed', { error: String(err) }));
      }
      log('agent disconnected', { agentId: agent.id, code, reason: reason.toString() });
    });
  }

  /**
   * An agent that was offline when protection or monitoring was switched off still runs the pair
   * when it returns (it persists pairs). Once the state has been seen off for a while (not just
   * in the moment an operation switches it), the gateway tells the agent to stop. The result
   * needs no listener: the agent's answer is logged like any other.
   */
  function stopLeftover(s: Session, pairId: string, action: 'replication.stop' | 'monitor.stop') {
    const key = `${pairId}:${action}`;
    const since = s.leftovers.get(key);
    const now = Date.now();
    if (since === undefined) {
      if (s.leftovers.size > MONITOR_PAIRS_REMEMBERED) s.leftovers.clear();
      s.leftovers.set(key, now);
      return;
    }
    if (now - since < env.LEFTOVER_GRACE_MS) return;
    s.leftovers.set(key, now); // again after another grace period, should the stop be lost
    log('stopping a pair the control plane has switched off', { agentId: s.agent.id, pairId, action });
    send(s, 'command', { commandId: randomUUID(), action, args: { pairId }, timeoutMs: 15_000 });
  }

  function reject(s: Session, code: string, message: string, offendingId?: string) {
    s.rejected++;
    // Log the first few refusals per connection in full, then one line per hundred: a hostile or
    // broken agent must not be able to flood the log.
    if (s.rejected <= 5 || s.rejected % 100 === 0) {
      log('rejected a frame', { agentId: s.agent.id, code, message: message.slice(0, 300), rejectedSoFar: s.rejected });
    }
    send(s, 'error', { code, message: message.slice(0, 2000), ...(offendingId ? { offendingId } : {}) });
  }

  async function onFrame(s: Session, raw: string | Buffer) {
    const parsed = parseFrame(agentMessages, raw);
    if (!parsed.ok) return reject(s, parsed.code, parsed.message, parsed.offendingId);
    const m = parsed.message;
    if (!s.ready && m.type !== 'hello') return reject(s, 'not_ready', 'Send hello first', m.id);
    switch (m.type) {
      case 'hello': {
        if (s.helloReceived) return reject(s, 'already_ready', 'hello was already received', m.id);
        s.helloReceived = true;
        if (!SUPPORTED_PROTOCOL_VERSIONS.includes(m.payload.protocolVersion)) {
          s.ws.close(closeCodes.unsupportedVersion, `Protocol ${m.payload.protocolVersion} not supported; this gateway speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(' and ')}`);
          return;
        }
        await markOnline(s.agent, m.payload);
        if (s.ws.readyState !== s.ws.OPEN) {
          // The socket closed while we were marking it online: undo, as its close handler could not.
          await markOffline(s.agent, new Date());
          return;
        }
        await redis.set(keys.location(s.agent.id), env.GATEWAY_ID, 'EX', LOCATION_TTL_SECONDS);
        s.lastLocationRefresh = Date.now();
        s.ready = true;
        send(s, 'welcome', {
          agentId: s.agent.id,
          serverId: s.agent.serverId,
          protocolVersion: m.payload.protocolVersion,
          heartbeatIntervalMs: hb,
          serverTime: Date.now(),
        }, m.id);
        log('agent online', { agentId: s.agent.id, version: m.payload.agentVersion, hostname: m.payload.hostname });
        return;
      }
      case 'heartbeat': {
        send(s, 'heartbeat.ack', { seq: m.payload.seq, sentAt: m.payload.sentAt, serverTime: Date.now() }, m.id);
        if (Date.now() - s.lastLocationRefresh > (LOCATION_TTL_SECONDS * 1000) / 3) {
          s.lastLocationRefresh = Date.now();
          await redis.set(keys.location(s.agent.id), env.GATEWAY_ID, 'EX', LOCATION_TTL_SECONDS);
        }
        return;
      }
      case 'facts':
        try {
          await storeFacts(s.agent, m.payload.facts);
        } catch {
          // E.g. text PostgreSQL cannot store (NUL characters, lone surrogates).
          return reject(s, 'facts_rejected', 'facts could not be stored (text with NUL characters or invalid Unicode?)', m.id);
        }
        return;
      case 'replication.stats': {
        // At most one sample per pair per second: a runaway agent cannot flood the table.
        const last = s.lastSampleAt.get(m.payload.pairId) ?? 0;
        if (Date.now() - last < 1000) return reject(s, 'too_frequent', 'at most one replication sample per pair per second', m.id);
        s.lastSampleAt.set(m.payload.pairId, Date.now());
        const outcome = await storeReplicationSample(s.agent, m.payload);
        if (outcome === 'not_your_pair') return reject(s, 'not_your_pair', 'this agent is not the source of that pair', m.id);
        if (outcome === 'not_enabled') {
          stopLeftover(s, m.payload.pairId, 'replication.stop');
          stopLeftover(s, m.payload.pairId, 'monitor.stop');
        }
        return;
      }
      case 'monitor.report': {
        const now = Date.now();
        const r = m.payload;
        const change = `${r.state}:${r.lostSince ?? ''}`;
        let w = s.monitorWrites.get(r.pairId);
        if (!w) {
          if (s.monitorWrites.size >= MONITOR_PAIRS_REMEMBERED) s.monitorWrites.clear();
          w = { lastAt: 0, written: null, windowStart: now, windowWrites: 0 };
          s.monitorWrites.set(r.pairId, w);
        }
        const changed = change !== w.written;
        // Nothing new and written less than a second ago: coalesced (the next one carries it).
        if (!changed && now - w.lastAt < MONITOR_WRITE_EVERY_MS) return;
        if (now - w.windowStart >= 1000) {
          w.windowStart = now;
          w.windowWrites = 0;
        }
        if (++w.windowWrites > MONITOR_CHANGES_PER_SECOND) return reject(s, 'too_frequent', 'too many monitor reports for one pair in one second', m.id);
        w.lastAt = now;
        // Remembered for refusals too: the same refused report is not looked up again within the second.
        w.written = change;
        const outcome = await storeMonitorReport(s.agent, r);
        if (outcome === 'not_your_pair') return reject(s, 'not_your_pair', 'this agent is not the target of that pair', m.id);
        if (outcome === 'not_monitored') stopLeftover(s, r.pairId, 'monitor.stop');
        return;
      }
      case 'command.ack':
        reply(m.payload.commandId, { stage: 'ack' });
        return;
      case 'command.result': {
        const relayed = reply(
          m.payload.commandId,
          m.payload.ok ? { stage: 'result', ok: true, result: m.payload.result } : { stage: 'result', ok: false, error: m.payload.error },
        );
        if (!relayed) return reject(s, 'bad_payload', 'command result is nested too deeply to relay', m.id);
        return;
      }
      case 'error':
        s.reported++;
        if (s.reported <= 5 || s.reported % 100 === 0) {
          log('agent reported an error', { agentId: s.agent.id, code: m.payload.code, message: m.payload.message.slice(0, 300), reportedSoFar: s.reported });
        }
        return;
    }
  }

  // Last-seen times reach the database every 30 s (or sooner for short test intervals), never
  // two flushes at once.
  const flushEvery = Math.min(30_000, hb * 3);
  let flushing = false;
  const flusher = setInterval(() => {
    if (flushing) return;
    const batch = [...sessions.values()].filter((s) => s.ready).map((s) => ({ agent: s.agent, at: new Date(s.lastSeen) }));
    if (!batch.length) return;
    flushing = true;
    touchLastSeen(batch)
      .catch((err: unknown) => log('last-seen flush failed', { error: String(err) }))
      .finally(() => (flushing = false));
  }, flushEvery);

  await new Promise<void>((resolve) => server.listen(env.GATEWAY_PORT, env.GATEWAY_HOST, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.GATEWAY_PORT;
  log(`listening on ${env.GATEWAY_HOST}:${port} as ${env.GATEWAY_ID}`);

  return {
    port,
    sessions,
    async close() {
      clearInterval(flusher);
      for (const s of sessions.values()) s.ws.close(closeCodes.shuttingDown, 'Gateway shutting down');
      await relay.close();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      sub.disconnect();
      redis.disconnect();
    },
  };
}
