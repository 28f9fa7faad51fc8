// Sessions: accepting an agent's WebSocket (credential check, one session per agent, liveness
// pings, frames handed to dispatch.ts in order), cleaning up when it closes, and the batched
// last-seen writes for every connected agent.
import type http from 'node:http';
import type { WebSocket } from 'ws';
import { keys } from '@tandem/agent-bus';
import { closeCodes, MAX_FRAME_BYTES } from '@tandem/protocol';
import { log, reject, type GatewayContext, type Session } from './context.ts';
import { onFrame } from './dispatch.ts';
import { findAgentByCredential, markOffline, touchLastSeen, type AgentIdentity } from './store.ts';

/** Deletes the location key only if it still names this gateway (another may have taken over). */
const releaseLocationScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Accepts the socket first, so a refusal can carry a close code and a readable reason. */
export async function acceptAgent(ctx: GatewayContext, ws: WebSocket, req: http.IncomingMessage) {
  const { sessions, env } = ctx;
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
  const s: Session = { agent, ws, ready: false, lastSeen: Date.now(), lastLocationRefresh: 0, rejected: 0, reported: 0, helloReceived: false, lastSampleAt: new Map(), monitorWrites: new Map(), leftovers: new Map(), fenced: new Set() };
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
  }, env.HEARTBEAT_INTERVAL_MS);
  const helloTimer = setTimeout(() => {
    if (!s.helloReceived) ws.close(closeCodes.unauthorized, 'No hello received');
  }, 10_000);

  // Frames of one agent are handled in order, one at a time.
  let chain = Promise.resolve();
  deliver = (raw) => {
    s.lastSeen = Date.now();
    alive = true;
    chain = chain
      .then(() => onFrame(ctx, s, raw))
      .catch((err: unknown) => reject(s, 'internal', `frame could not be handled: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`));
  };
  for (const raw of early.splice(0)) deliver(raw);
  ws.on('error', (err) => log('socket error', { agentId: agent.id, error: err.message }));
  ws.on('close', (code, reason) => {
    clearInterval(pinger);
    clearTimeout(helloTimer);
    if (sessions.get(agent.id) !== s) return; // replaced: the new session owns status and location
    sessions.delete(agent.id);
    void ctx.redis.eval(releaseLocationScript, 1, keys.location(agent.id), env.GATEWAY_ID);
    if (s.ready) {
      void markOffline(agent, new Date(s.lastSeen)).catch((err: unknown) => log('marking offline failed', { error: String(err) }));
    }
    log('agent disconnected', { agentId: agent.id, code, reason: reason.toString() });
  });
}

/**
 * Last-seen times reach the database every 30 s (or sooner for short test intervals), never two
 * flushes at once. Returns the timer (cleared on close).
 */
export function startLastSeenFlusher(ctx: GatewayContext): NodeJS.Timeout {
  const flushEvery = Math.min(30_000, ctx.env.HEARTBEAT_INTERVAL_MS * 3);
  let flushing = false;
  return setInterval(() => {
    if (flushing) return;
    const batch = [...ctx.sessions.values()].filter((s) => s.ready).map((s) => ({ agent: s.agent, at: new Date(s.lastSeen) }));
    if (!batch.length) return;
    flushing = true;
    touchLastSeen(batch)
      .catch((err: unknown) => log('last-seen flush failed', { error: String(err) }))
      .finally(() => (flushing = false));
  }, flushEvery);
}
