// Messages between bench/gateway.ts (the driver) and its swarm processes (bench/gateway/swarm.ts).

export interface StartOrder {
  cmd: 'start';
  /** ws://host:port/agent */
  url: string;
  credentials: string[];
  /** Handshakes (connect → welcome) in flight at once: the ramp's pace follows the gateway's. */
  maxPending: number;
  heartbeatMs: number;
  /** An agent without a welcome this long after dialling counts as failed. */
  helloTimeoutMs: number;
}

export type DriverMessage = StartOrder | { cmd: 'measure' } | { cmd: 'report' } | { cmd: 'stop' };

export interface Progress {
  welcomed: number;
  failed: number;
  pending: number;
  queued: number;
}

export interface Report {
  /** Agents that completed hello/welcome and whose socket is still open. */
  open: number;
  welcomed: number;
  failed: number;
  /** Heartbeat round trips (send → matching ack) completed during the measuring window, in ms. */
  rtts: number[];
  heartbeatsSent: number;
  acksReceived: number;
  /** Heartbeats sent in the window still without an ack (at most one per agent: the last). */
  unacked: number;
  /** Heartbeats whose ack never came before the next heartbeat was due. */
  missed: number;
  /** open → welcome, in ms, for every welcomed agent. */
  helloMs: number[];
  /** How closes and failures happened: "close 4401", "error ECONNRESET", "timeout", ... */
  outcomes: Record<string, number>;
  errorFrames: Record<string, number>;
  /** This process's own event-loop delay in the window (it adds to the measured round trips). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type SwarmMessage =
  | { ev: 'ready'; pid: number }
  | ({ ev: 'progress' } & Progress)
  | ({ ev: 'ramped' } & Progress)
  | ({ ev: 'report' } & Report);
