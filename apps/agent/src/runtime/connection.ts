// The agent's side of the connection: connects outbound, says hello, heartbeats, reports facts,
// runs commands, and reconnects with jittered exponential backoff whenever the link breaks.
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import {
  actionNames,
  actionResults,
  agentMessages,
  closeCodes,
  encodeFrame,
  gatewayMessages,
  parseFrame,
  PROTOCOL_VERSION,
  RELAY_CAPABILITY,
  TRANSPORT_MAX_FRAME_BYTES,
  type AgentMessageType,
  type GatewayPayload,
} from '@tandem/protocol';
import { parseActionArgs, runAction } from '../actions/index.ts';
import { defaultScratchDir, writeSecretFile, writeStatus, type AgentConfig, type AgentStatus } from '../config.ts';
import { collectFacts } from '../facts/index.ts';
import { MonitorManager } from '../monitor/manager.ts';
import { ReplicationManager } from '../replication/manager.ts';
import { relayUrlOf } from '../replication/relay.ts';
import { AGENT_VERSION } from '../version.ts';
import { CommandMemory, type CommandOutcome } from './command-memory.ts';
import { WakeableDelay } from './wakeable-delay.ts';

export const capabilities = ['facts', ...actionNames, RELAY_CAPABILITY];

/** How often facts are refreshed without being asked. */
const FACTS_INTERVAL_MS = 15 * 60_000;
const BACKOFF_BASE_MS = Number(process.env.TANDEM_AGENT_BACKOFF_BASE_MS ?? 500);
const BACKOFF_MAX_MS = Number(process.env.TANDEM_AGENT_BACKOFF_MAX_MS ?? 60_000);
/** Command outcomes kept in memory (the on-disk memory, command-memory.ts, outlives restarts). */
const COMMAND_MEMORY = 1000;

export function wsUrlOf(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/$/, '')}/agent`;
  return u.toString();
}

/** Full jitter: a random delay up to the exponential bound, so agents do not return in lockstep. */
export function backoffDelay(attempt: number, random = Math.random): number {
  return Math.floor(random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
}

const log = (msg: string, extra?: Record<string, unknown>) =>
  console.log(`${new Date().toISOString()} [agent] ${msg}${extra ? ' ' + JSON.stringify(extra) : ''}`);

export class AgentRuntime {
  private ws: WebSocket | null = null;
  private stopped = false;
  /** stop() ends the wait at once: a service stop never waits out the backoff. */
  private readonly backoff = new WakeableDelay();
  private attempt = 0;
  private clockOffsetMs: number | null = null;
  private readonly commands = new Map<string, Promise<CommandOutcome>>();
  /** Run-once memory on disk: a command id re-sent after a restart is answered, not run again. */
  private readonly memory: CommandMemory;
  private status: AgentStatus;
  /** File-replication sessions: they outlive gateway connections (only statistics need one). */
  readonly replication: ReplicationManager;
  /** Failure monitors: keep probing (or answering) while disconnected; only reports need a connection. */
  readonly monitor: MonitorManager;

  constructor(
    private config: AgentConfig,
    private readonly configPath: string,
  ) {
    this.replication = new ReplicationManager({
      dir: path.join(path.dirname(configPath), 'replication'),
      log,
      // Read at every relay connection: a rotated credential is used from then on.
      relay: () => ({ url: relayUrlOf(this.config.url), credential: this.config.credential }),
    });
    this.monitor = new MonitorManager({ dir: path.join(path.dirname(configPath), 'monitor'), log });
    this.memory = new CommandMemory(path.join(path.dirname(configPath), 'commands'), log);
    this.status = {
      state: 'starting',
      since: new Date().toISOString(),
      version: AGENT_VERSION,
      pid: process.pid,
      gateway: config.url,
      lastHeartbeatAt: null,
      lastError: null,
    };
    this.saveStatus({});
  }

  private saveStatus(change: Partial<AgentStatus>) {
    if (change.state && change.state !== this.status.state) change.since = new Date().toISOString();
    this.status = { ...this.status, ...change };
    try {
      writeStatus(this.configPath, this.status);
    } catch (err) {
      log('could not write the status file', { error: String(err) });
    }
  }

  async run(): Promise<void> {
    // Pairs started before the agent stopped resume at once, connected to Tandem or not.
    await this.replication.resume().catch((err: unknown) => log('could not resume replication pairs', { error: String(err) }));
    await this.monitor.resume().catch((err: unknown) => log('could not resume monitors', { error: String(err) }));
    while (!this.stopped) {
      const connectedFor = await this.connectOnce();
      if (this.stopped) break;
      // A connection that lasted a while resets the backoff.
      if (connectedFor > 30_000) this.attempt = 0;
      const delay = backoffDelay(this.attempt++);
      log('reconnecting', { inMs: delay });
      await this.backoff.wait(delay);
    }
    await this.replication.shutdown();
    await this.monitor.shutdown();
    this.saveStatus({ state: 'stopped' });
  }

  stop() {
    this.stopped = true;
    this.backoff.wake();
    this.ws?.close(1000, 'Agent stopping');
  }

  /** One connection, from dialling to close. Resolves with how long it was connected. */
  private connectOnce(): Promise<number> {
    return new Promise((resolve) => {
      this.saveStatus({ state: 'connecting' });
      const ws = new WebSocket(wsUrlOf(this.config.url), {
        headers: { authorization: `Bearer ${this.config.credential}` },
        maxPayload: TRANSPORT_MAX_FRAME_BYTES,
        handshakeTimeout: 10_000,
      });
      this.ws = ws;
      let openedAt = 0;
      let heartbeat: NodeJS.Timeout | undefined;
      let factsTimer: NodeJS.Timeout | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      let lastFrameAt = Date.now();
      let seq = 0;
      let factsDue = false;

      const send = <T extends AgentMessageType>(type: T, payload: z.input<(typeof agentMessages)[T]>, replyTo?: string) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(agentMessages, type, payload, { replyTo }));
      };

      const sendFacts = async () => {
        const facts = await collectFacts({
          capabilities,
          agentVersion: AGENT_VERSION,
          protocolVersion: PROTOCOL_VERSION,
          clockOffsetMs: this.clockOffsetMs,
        });
        send('facts', { facts });
        return facts.collectedAt;
      };

      ws.on('open', () => {
        openedAt = Date.now();
        send('hello', {
          protocolVersion: PROTOCOL_VERSION,
          agentVersion: AGENT_VERSION,
          capabilities,
          hostname: os.hostname(),
          osFamily: process.platform === 'win32' ? 'windows' : 'linux',
        });
      });
      ws.on('ping', () => {
        lastFrameAt = Date.now();
      });
      ws.on('message', (data: WebSocket.RawData) => {
        lastFrameAt = Date.now();
        const parsed = parseFrame(gatewayMessages, Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
        if (!parsed.ok) {
          log('rejected a frame from the gateway', { code: parsed.code, message: parsed.message.slice(0, 300) });
          send('error', { code: parsed.code, message: parsed.message.slice(0, 2000) });
          return;
        }
        const m = parsed.message;
        switch (m.type) {
          case 'welcome': {
            this.saveStatus({ state: 'connected', lastError: null });
            log('connected', { agentId: m.payload.agentId, gateway: this.config.url });
            const every = m.payload.heartbeatIntervalMs;
            heartbeat = setInterval(() => send('heartbeat', { seq: seq++, sentAt: Date.now() }), every);
            // Two intervals without any frame from the gateway: the link is dead, start over.
            watchdog = setInterval(() => {
              if (Date.now() - lastFrameAt > 2 * every + 1000) {
                log('gateway silent for two heartbeat intervals; reconnecting');
                ws.terminate();
              }
            }, every);
            factsTimer = setInterval(() => void sendFacts().catch((e: unknown) => log('facts failed', { error: String(e) })), FACTS_INTERVAL_MS);
            // A first heartbeat at once: its answer measures the clock offset the facts report.
            factsDue = true;
            send('heartbeat', { seq: seq++, sentAt: Date.now() });
            this.replication.setSink((stats) => send('replication.stats', stats));
            this.monitor.setSink((report) => send('monitor.report', report));
            return;
          }
          case 'heartbeat.ack': {
            const now = Date.now();
            this.clockOffsetMs = Math.round((m.payload.sentAt + now) / 2 - m.payload.serverTime);
            this.saveStatus({ lastHeartbeatAt: new Date(now).toISOString() });
            if (factsDue) {
              factsDue = false;
              void sendFacts().catch((e: unknown) => log('facts failed', { error: String(e) }));
            }
            return;
          }
          case 'command':
            void this.handleCommand(m.payload, send, sendFacts);
            return;
          case 'error':
            log('the gateway refused a frame', { code: m.payload.code, message: m.payload.message.slice(0, 300) });
            return;
        }
      });
      ws.on('error', (err) => {
        this.saveStatus({ lastError: err.message });
      });
      ws.on('close', (code, reasonBuf) => {
        // Statistics while disconnected are dropped (the next sample reports the current state).
        if (this.ws === ws) {
          this.replication.setSink(null);
          this.monitor.setSink(null);
        }
        clearInterval(heartbeat);
        clearInterval(factsTimer);
        clearInterval(watchdog);
        const reason = reasonBuf.toString();
        const refused = code === closeCodes.unauthorized || code === closeCodes.revoked || code === closeCodes.unsupportedVersion;
        if (refused) log('the gateway refused this agent', { code, reason });
        else log('disconnected', { code, reason });
        this.saveStatus({
          state: refused ? 'refused' : 'disconnected',
          ...(reason || refused ? { lastError: `${code}: ${reason || 'connection closed'}` } : {}),
        });
        resolve(openedAt ? Date.now() - openedAt : 0);
      });
    });
  }

  private async handleCommand(
    cmd: GatewayPayload<'command'>,
    send: <T extends AgentMessageType>(type: T, payload: z.input<(typeof agentMessages)[T]>, replyTo?: string) => void,
    sendFacts: () => Promise<string>,
  ) {
    send('command.ack', { commandId: cmd.commandId });
    let outcome = this.commands.get(cmd.commandId);
    if (!outcome) {
      // Set before anything awaits: a duplicate arriving meanwhile shares this outcome.
      outcome = this.executeOnce(cmd, sendFacts);
      this.commands.set(cmd.commandId, outcome);
      if (this.commands.size > COMMAND_MEMORY) this.commands.delete(this.commands.keys().next().value!);
    }
    const done = await outcome;
    send('command.result', done.ok ? { commandId: cmd.commandId, ok: true, result: done.result } : { commandId: cmd.commandId, ok: false, error: done.error });
  }

  private async executeOnce(cmd: GatewayPayload<'command'>, sendFacts: () => Promise<string>): Promise<CommandOutcome> {
    const remembered = this.memory.recall(cmd.commandId);
    if (remembered) {
      log('command answered from memory', { commandId: cmd.commandId, action: cmd.action });
      return remembered;
    }
    const startedAt = this.memory.started(cmd.commandId, cmd.action);
    const outcome = await this.execute(cmd, sendFacts);
    this.memory.finished(cmd.commandId, cmd.action, startedAt, outcome);
    return outcome;
  }

  private async execute(cmd: GatewayPayload<'command'>, sendFacts: () => Promise<string>): Promise<CommandOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${cmd.timeoutMs} ms`)), cmd.timeoutMs);
    });
    try {
      const work = (async (): Promise<unknown> => {
        switch (cmd.action) {
          case 'facts.collect':
            return { collectedAt: await sendFacts() };
          case 'credential.rotate': {
            const { credential } = z.object({ credential: z.string().min(32).max(256) }).parse(cmd.args);
            // Saved before answering. The control plane accepts the new credential (as pending)
            // before sending it and retires the old one only after this answer, so whenever the
            // agent restarts, the credential it saved works (apps/web .../agent/rotate.ts).
            this.config = { ...this.config, credential };
            writeSecretFile(this.configPath, this.config);
            return { saved: true };
          }
          case 'replication.start':
            return actionResults['replication.start'].parse(await this.replication.start(parseActionArgs('replication.start', cmd.args)));
          case 'replication.stop':
            return actionResults['replication.stop'].parse(await this.replication.stop(parseActionArgs('replication.stop', cmd.args).pairId));
          case 'replication.status':
            return actionResults['replication.status'].parse(this.replication.status(parseActionArgs('replication.status', cmd.args).pairId));
          case 'replication.verify': {
            const { pairId, paths } = parseActionArgs('replication.verify', cmd.args);
            return actionResults['replication.verify'].parse(await this.replication.verify(pairId, paths));
          }
          case 'replication.restore':
            return actionResults['replication.restore'].parse(await this.replication.restore(parseActionArgs('replication.restore', cmd.args)));
          case 'replication.resend': {
            const { pairId, items } = parseActionArgs('replication.resend', cmd.args);
            return actionResults['replication.resend'].parse(this.replication.resend(pairId, items));
          }
          case 'monitor.start':
            return actionResults['monitor.start'].parse(await this.monitor.start(parseActionArgs('monitor.start', cmd.args)));
          case 'monitor.stop':
            return actionResults['monitor.stop'].parse(await this.monitor.stop(parseActionArgs('monitor.stop', cmd.args).pairId));
          case 'monitor.status':
            return actionResults['monitor.status'].parse(this.monitor.status(parseActionArgs('monitor.status', cmd.args).pairId));
          default:
            return runAction(cmd.action, cmd.args, { hooksDir: this.config.hooksDir, scratchDir: this.config.scratchDir ?? defaultScratchDir(this.configPath) });
        }
      })();
      const result = await Promise.race([work, timeout]);
      log('command done', { commandId: cmd.commandId, action: cmd.action });
      return { ok: true, result };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log('command failed', { commandId: cmd.commandId, action: cmd.action, error: message.slice(0, 300) });
      return { ok: false, error: { code: message.startsWith('timed out') ? 'timeout' : 'failed', message: message.slice(0, 2000) } };
    } finally {
      clearTimeout(timer);
    }
  }
}
