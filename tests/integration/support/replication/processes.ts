// Child-process agents for the fault tests (see agent-runner.ts) and a TCP proxy whose
// connections can be cut to simulate a broken data channel.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type ReplicationStats } from '../../../../apps/agent/src/replication/continuous.ts';

const RUNNER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'agent-runner.ts');

export interface Agent {
  child: ChildProcess;
  /** Latest stats line (source only). */
  last: () => ReplicationStats | undefined;
  samples: ReplicationStats[];
  kill9: () => Promise<void>;
  stop: () => Promise<void>;
}

export async function spawnAgent(cfg: { role: 'source' | 'target'; root: string; stateDir: string; port: number; keyHex: string; pairId: string; inPlaceMinBytes?: number }): Promise<Agent> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const samples: ReplicationStats[] = [];
  let ready: (() => void) | undefined;
  const readyP = new Promise<void>((r) => (ready = r));
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg: { stats?: ReplicationStats; ready?: unknown; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.stats) samples.push(msg.stats);
    if (msg.ready !== undefined) ready?.();
  });
  const exited = once(child, 'exit');
  await Promise.race([readyP, exited.then(() => Promise.reject(new Error(`${cfg.role} agent exited before it was ready`)))]);
  const kill = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(sig);
      await exited;
    }
  };
  return { child, samples, last: () => samples.at(-1), kill9: () => kill('SIGKILL'), stop: () => kill('SIGTERM') };
}

export function newPairKey(): string {
  return randomBytes(32).toString('hex');
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A TCP proxy 127.0.0.1:port → 127.0.0.1:to; cut() resets every connection through it. */
export async function startProxy(to: number): Promise<{ port: number; cut: () => number; close: () => Promise<void> }> {
  const live = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(to, '127.0.0.1');
    // Like the agents, no Nagle: probes are small request/reply round trips.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    live.add(client);
    live.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      const n = live.size / 2;
      for (const s of live) s.resetAndDestroy();
      live.clear();
      return n;
    },
    close: async () => {
      for (const s of live) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
