// Messages between the benchmark driver (bench/replication.ts) and its agent processes
// (bench/replication/agent.ts), over Node's IPC channel.
import type { ApplyResult } from '../../apps/agent/src/replication/mirror.ts';

export type AgentRole =
  | { role: 'mirror-target'; root: string; key: string }
  | { role: 'continuous-target'; root: string; stateDir: string; key: string }
  | { role: 'continuous-source'; root: string; stateDir: string; key: string; port: number };

export interface StatsSample {
  /** Driver-independent clock: epoch ms when the sample was taken. */
  t: number;
  phase: string;
  lag: number;
  queueFiles: number;
  contentBytesSent: number;
  changesApplied: number;
  errors: number;
}

export type AgentMessage =
  | { type: 'ready'; port?: number }
  | { type: 'done'; result?: ApplyResult; error?: string; ms: number; wireBytesSent: number; wireBytesReceived: number }
  | { type: 'stats'; sample: StatsSample }
  | { type: 'stopped'; errors: string[] }
  | { type: 'fatal'; error: string };

export type DriverMessage = { type: 'stop' };

export const PAIR_ID = 'bench-pair';
