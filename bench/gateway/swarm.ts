// One swarm process of the gateway benchmark: many simulated agents, each a real WebSocket that
// speaks the agent protocol (hello → welcome, then a heartbeat every interval), measuring each
// heartbeat's round trip to its `heartbeat.ack`. Driven over the IPC channel by bench/gateway.ts.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { agentMessages, encodeFrame, gatewayMessages, parseFrame, PROTOCOL_VERSION } from '@tandem/protocol';
import type { DriverMessage, Progress, Report, StartOrder, SwarmMessage } from './ipc.ts';

const tell = (m: SwarmMessage) => process.send?.(m);

interface Agent {
  ws: WebSocket;
  state: 'dialling' | 'hello' | 'ready' | 'done';
  dialledAt: number;
  seq: number;
  pending: { seq: number; at: number; inWindow: boolean } | null;
  timers: NodeJS.Timeout[];
}

const agents = new Set<Agent>();
const queue: string[] = [];
let order: StartOrder | null = null;
let pendingCount = 0;
let welcomed = 0;
let failed = 0;
let rampReported = false;

const helloMs: number[] = [];
const outcomes: Record<string, number> = {};
const errorFrames: Record<string, number> = {};
const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);

// The measuring window.
let measuring = false;
let rtts: number[] = [];
let heartbeatsSent = 0;
let acksReceived = 0;
let missed = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

const progress = (): Progress => ({ welcomed, failed, pending: pendingCount, queued: queue.length });

function settle(a: Agent, ok: boolean, outcome?: string) {
  if (a.state === 'ready' || a.state === 'done') return;
  pendingCount--;
  if (ok) {
    welcomed++;
    helloMs.push(Math.round(performance.now() - a.dialledAt));
  } else {
    failed++;
    if (outcome) count(outcomes, `before welcome: ${outcome}`);
  }
  pump();
}

function pump() {
  while (order && queue.length > 0 && pendingCount < order.maxPending) dial(order, queue.shift()!);
  if (order && !rampReported && queue.length === 0 && pendingCount === 0) {
    rampReported = true;
    tell({ ev: 'ramped', ...progress() });
  }
}

function dial(o: StartOrder, credential: string) {
  pendingCount++;
  const ws = new WebSocket(o.url, {
    headers: { authorization: `Bearer ${credential}` },
    perMessageDeflate: false,
    handshakeTimeout: o.helloTimeoutMs,
  });
  const a: Agent = { ws, state: 'dialling', dialledAt: performance.now(), seq: 0, pending: null, timers: [] };
  agents.add(a);
  const send = (data: string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data);
  };

  const beat = () => {
    if (a.pending && a.pending.inWindow) missed++;
    const seq = ++a.seq;
    a.pending = { seq, at: performance.now(), inWindow: measuring };
    if (measuring) heartbeatsSent++;
    send(encodeFrame(agentMessages, 'heartbeat', { seq, sentAt: Date.now() }));
  };

  a.timers.push(
    setTimeout(() => {
      if (a.state !== 'ready') {
        settle(a, false, 'no welcome in time');
        a.state = 'done';
        ws.terminate();
      }
    }, o.helloTimeoutMs),
  );

  // As the real agent: hello as soon as the socket is open.
  ws.on('open', () => {
    a.state = 'hello';
    send(
      encodeFrame(agentMessages, 'hello', {
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: '0.0.0-bench',
        capabilities: ['facts'],
        hostname: 'bench-agent',
        osFamily: 'linux',
      }),
    );
  });
  ws.on('message', (data: Buffer) => {
    const parsed = parseFrame(gatewayMessages, data);
    if (!parsed.ok) return void count(errorFrames, `unparseable: ${parsed.code}`);
    const m = parsed.message;
    switch (m.type) {
      case 'error':
        count(errorFrames, m.payload.code);
        return;
      case 'welcome': {
        settle(a, true);
        a.state = 'ready';
        // Spread the heartbeats over the interval, as agents that connected at different times are.
        const every = m.payload.heartbeatIntervalMs;
        a.timers.push(
          setTimeout(
            () => {
              beat();
              a.timers.push(setInterval(beat, every));
            },
            Math.random() * every,
          ),
        );
        return;
      }
      case 'heartbeat.ack': {
        if (a.pending && m.payload.seq === a.pending.seq) {
          if (a.pending.inWindow && measuring) {
            rtts.push(Math.round((performance.now() - a.pending.at) * 100) / 100);
            acksReceived++;
          }
          a.pending = null;
        }
        return;
      }
      case 'command':
        return;
    }
  });
  ws.on('error', (err: NodeJS.ErrnoException) => {
    if (a.state !== 'ready' && a.state !== 'done') {
      settle(a, false, `error ${err.code ?? err.message}`);
      a.state = 'done';
    } else {
      count(outcomes, `error ${err.code ?? err.message}`);
    }
  });
  ws.on('close', (code) => {
    for (const t of a.timers) clearTimeout(t);
    if (a.state === 'ready') count(outcomes, `closed after welcome: ${code}`);
    else settle(a, false, `close ${code}`);
    a.state = 'done';
  });
}

function report(): Report {
  let open = 0;
  let unacked = 0;
  for (const a of agents) {
    if (a.state === 'ready' && a.ws.readyState === WebSocket.OPEN) open++;
    if (a.pending?.inWindow) unacked++;
  }
  return {
    open,
    welcomed,
    failed,
    rtts,
    heartbeatsSent,
    acksReceived,
    unacked,
    missed,
    helloMs,
    outcomes,
    errorFrames,
    loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    loopDelayMaxMs: Math.round(loopDelay.max / 1e4) / 100,
  };
}

function stop() {
  for (const a of agents) {
    for (const t of a.timers) clearTimeout(t);
    a.ws.terminate();
  }
  setTimeout(() => process.exit(0), 200);
}

let ticker: NodeJS.Timeout | undefined;
process.on('message', (m: DriverMessage) => {
  switch (m.cmd) {
    case 'start':
      order = m;
      queue.push(...m.credentials);
      ticker = setInterval(() => tell({ ev: 'progress', ...progress() }), 1000);
      pump();
      return;
    case 'measure':
      rtts = [];
      heartbeatsSent = acksReceived = missed = 0;
      loopDelay.reset();
      loopDelay.enable();
      measuring = true;
      return;
    case 'report':
      measuring = false;
      loopDelay.disable();
      clearInterval(ticker);
      tell({ ev: 'report', ...report() });
      return;
    case 'stop':
      stop();
      return;
  }
});
// The driver went away (finished, or crashed): never linger holding sockets.
process.on('disconnect', stop);
tell({ ev: 'ready', pid: process.pid });
