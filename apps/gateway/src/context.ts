// What the gateway's modules share: the running gateway's state (GatewayContext), one agent's
// connection (Session), and the small helpers every module uses to answer an agent (send,
// reject), relay an answer to Redis (relayReply) and log.
import type { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { keys, type CommandReply } from '@tandem/agent-bus';
import { encodeFrame, gatewayMessages, type GatewayMessageType } from '@tandem/protocol';
import type { GatewayEnv } from './env.ts';
import type { createRelayHub } from './relay.ts';
import type { AgentIdentity } from './store.ts';

export interface GatewayContext {
  env: GatewayEnv;
  /** Commands: publishing replies, location keys. */
  redis: Redis;
  /** Connected agents by agent id. */
  sessions: Map<string, Session>;
  relay: ReturnType<typeof createRelayHub>;
  /** Commands this gateway handed to an agent: only that agent may acknowledge or answer them. */
  commands: Map<string, SentCommand>;
  /** Commands the gateway itself sent (fencing) and awaits: their answers stay here, not in Redis. */
  waiting: Map<string, (answer: OwnCommandAnswer) => void>;
}

export type OwnCommandAnswer = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

export interface SentCommand {
  agentId: string;
  /** Forgotten after this (the command's own time limit, plus room for a late answer). */
  until: number;
}

/** Commands remembered at most (a flood of orders must not grow the map without bound). */
const COMMANDS_REMEMBERED = 100_000;

/** Notes that `commandId` went to `agentId` (again, for a re-sent command). */
export function rememberCommand(ctx: GatewayContext, commandId: string, agentId: string, timeoutMs: number) {
  const now = Date.now();
  ctx.commands.delete(commandId); // re-inserted at the end: the map stays roughly in expiry order
  ctx.commands.set(commandId, { agentId, until: now + timeoutMs + 60_000 });
  for (const [id, c] of ctx.commands) {
    if (c.until > now && ctx.commands.size <= COMMANDS_REMEMBERED) break;
    ctx.commands.delete(id);
  }
}

/** Whether this agent was sent this command (and it has not been forgotten). */
export function wasSentTo(ctx: GatewayContext, commandId: string, agentId: string): boolean {
  const c = ctx.commands.get(commandId);
  return !!c && c.agentId === agentId && c.until > Date.now();
}

export interface Session {
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
  /** Pairs this connection was already told to stand down for (fencing runs once per connection and pair). */
  fenced: Set<string>;
}

export interface MonitorWriteState {
  /** When the last report was handled (written or refused), and its state + lostSince. */
  lastAt: number;
  written: string | null;
  windowStart: number;
  windowWrites: number;
}

export const log = (msg: string, extra?: Record<string, unknown>) =>
  console.log(`[gateway] ${msg}${extra ? ' ' + JSON.stringify(extra) : ''}`);

export function send<T extends GatewayMessageType>(s: Session, type: T, payload: z.input<(typeof gatewayMessages)[T]>, replyTo?: string) {
  if (s.ws.readyState === s.ws.OPEN) s.ws.send(encodeFrame(gatewayMessages, type, payload, { replyTo }));
}

export function reject(s: Session, code: string, message: string, offendingId?: string) {
  s.rejected++;
  // Log the first few refusals per connection in full, then one line per hundred: a hostile or
  // broken agent must not be able to flood the log.
  if (s.rejected <= 5 || s.rejected % 100 === 0) {
    log('rejected a frame', { agentId: s.agent.id, code, message: message.slice(0, 300), rejectedSoFar: s.rejected });
  }
  send(s, 'error', { code, message: message.slice(0, 2000), ...(offendingId ? { offendingId } : {}) });
}

/** An answer as published to the sender; null when it cannot be serialised (absurdly deep nesting). */
export function serialiseReply(r: CommandReply): string | null {
  try {
    return JSON.stringify(r);
  } catch {
    return null;
  }
}

/** Relays an answer to whoever sent the command; false when it cannot be serialised. */
export function relayReply(ctx: GatewayContext, commandId: string, r: CommandReply): boolean {
  const body = serialiseReply(r);
  if (body === null) return false;
  void ctx.redis.publish(keys.reply(commandId), body);
  return true;
}
