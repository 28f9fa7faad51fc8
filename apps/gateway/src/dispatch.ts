// Frame dispatch: what the gateway does with each frame an agent sends once its socket is
// accepted (hello, heartbeats, facts, replication samples, monitor reports, command answers),
// with the per-connection rate limits, and stopping pairs the control plane has switched off.
import { randomUUID } from 'node:crypto';
import { LOCATION_TTL_SECONDS, keys } from '@tandem/agent-bus';
import { agentMessages, closeCodes, parseFrame, SUPPORTED_PROTOCOL_VERSIONS } from '@tandem/protocol';
import { log, reject, relayReply, rememberCommand, send, serialiseReply, wasSentTo, type GatewayContext, type Session } from './context.ts';
import { fenceReturnedSource } from './fencing.ts';
import { isRevoked, markOffline, markOnline, storeFacts, storeMonitorReport, storeReplicationSample } from './store.ts';

/** A report that changes nothing is written at most once a second per pair (the agent sends one per interval). */
const MONITOR_WRITE_EVERY_MS = 1000;
/** State changes are written at once, but a pair flapping faster than this per second is refused. */
const MONITOR_CHANGES_PER_SECOND = 5;
/** Pairs remembered per connection (a hostile agent naming random pairs must not grow it forever). */
const MONITOR_PAIRS_REMEMBERED = 1000;

/**
 * An agent that was offline when protection or monitoring was switched off still runs the pair
 * when it returns (it persists pairs). Once the state has been seen off for a while (not just
 * in the moment an operation switches it), the gateway tells the agent to stop. The result
 * needs no listener: the agent's answer is logged like any other.
 */
function stopLeftover(ctx: GatewayContext, s: Session, pairId: string, action: 'replication.stop' | 'monitor.stop') {
  const key = `${pairId}:${action}`;
  const since = s.leftovers.get(key);
  const now = Date.now();
  if (since === undefined) {
    if (s.leftovers.size > MONITOR_PAIRS_REMEMBERED) s.leftovers.clear();
    s.leftovers.set(key, now);
    return;
  }
  if (now - since < ctx.env.LEFTOVER_GRACE_MS) return;
  s.leftovers.set(key, now); // again after another grace period, should the stop be lost
  log('stopping a pair the control plane has switched off', { agentId: s.agent.id, pairId, action });
  const commandId = randomUUID();
  rememberCommand(ctx, commandId, s.agent.id, 15_000);
  send(s, 'command', { commandId, action, args: { pairId }, timeoutMs: 15_000 });
}

function refuseRevoked(s: Session) {
  log('refused a revoked agent', { agentId: s.agent.id });
  s.ws.close(closeCodes.revoked, 'Credential revoked by an operator; enrol again');
}

export async function onFrame(ctx: GatewayContext, s: Session, raw: string | Buffer) {
  const { env, redis } = ctx;
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
      if (!(await markOnline(s.agent, m.payload))) return refuseRevoked(s);
      if (s.ws.readyState !== s.ws.OPEN) {
        // The socket closed while we were marking it online: undo, as its close handler could not.
        await markOffline(s.agent, new Date());
        return;
      }
      await redis.set(keys.location(s.agent.id), env.GATEWAY_ID, 'EX', LOCATION_TTL_SECONDS);
      // A revocation commits, then orders whichever gateway the location names to disconnect. One
      // that committed before the location above was set may have found no location (or an old
      // one): look again now that it is set, so one of the two always catches the other.
      if (await isRevoked(s.agent)) return refuseRevoked(s);
      if (s.ws.readyState !== s.ws.OPEN) {
        // Closed while we looked: its close handler saw a session not yet ready and left the status to us.
        await markOffline(s.agent, new Date());
        return;
      }
      s.lastLocationRefresh = Date.now();
      s.ready = true;
      send(s, 'welcome', {
        agentId: s.agent.id,
        serverId: s.agent.serverId,
        protocolVersion: m.payload.protocolVersion,
        heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
        serverTime: Date.now(),
      }, m.id);
      log('agent online', { agentId: s.agent.id, version: m.payload.agentVersion, hostname: m.payload.hostname });
      // An old source returning while its target serves is told to stand down at once.
      fenceReturnedSource(ctx, s);
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
      if (outcome === 'source_replaced') {
        // Fenced once per connection; replication still reported after that is stopped again after the grace.
        fenceReturnedSource(ctx, s, m.payload.pairId);
        stopLeftover(ctx, s, m.payload.pairId, 'replication.stop');
        return;
      }
      if (outcome === 'not_enabled') {
        stopLeftover(ctx, s, m.payload.pairId, 'replication.stop');
        stopLeftover(ctx, s, m.payload.pairId, 'monitor.stop');
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
      if (outcome === 'not_monitored') stopLeftover(ctx, s, r.pairId, 'monitor.stop');
      return;
    }
    case 'command.ack':
      // Only the agent a command was sent to may answer it: another agent (of any tenant) naming
      // its id must not be able to feed the sender a result.
      if (!wasSentTo(ctx, m.payload.commandId, s.agent.id)) return reject(s, 'unknown_command', 'no such command was sent to this agent', m.id);
      relayReply(ctx, m.payload.commandId, { stage: 'ack' });
      return;
    case 'command.result': {
      const body = serialiseReply(m.payload.ok ? { stage: 'result', ok: true, result: m.payload.result } : { stage: 'result', ok: false, error: m.payload.error });
      if (body === null) return reject(s, 'bad_payload', 'command result is nested too deeply to relay', m.id);
      if (!wasSentTo(ctx, m.payload.commandId, s.agent.id)) return reject(s, 'unknown_command', 'no such command was sent to this agent', m.id);
      // A command the gateway sent itself (fencing) is answered here, not through Redis.
      const waiter = ctx.waiting.get(m.payload.commandId);
      if (waiter) return waiter(m.payload.ok ? { ok: true, result: m.payload.result } : { ok: false, error: m.payload.error });
      await redis.publish(keys.reply(m.payload.commandId), body);
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
