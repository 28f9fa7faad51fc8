// Real processes for agent tests: gateways (apps/gateway) and agents (the bundled tandem-agent).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ownerDb, type Tenant } from '@tandem/db/testing';
import { randomToken, sha256Hex } from '@tandem/security';
import { freePort } from './ports';

const root = path.resolve(import.meta.dirname, '../../..');
export const agentBundle = process.env.TANDEM_AGENT_BUNDLE ?? path.join(root, 'apps/agent/dist/tandem-agent.mjs');

export { freePort };

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

export interface ProcessHandle {
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

function track(child: ChildProcess): ProcessHandle {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill(signal);
      }),
  };
}

export interface GatewayHandle extends ProcessHandle {
  port: number;
  id: string;
  url: string;
}

/** Starts a real gateway process and waits until it answers. */
export async function startGateway(opts: { port?: number; id?: string; heartbeatMs?: number } = {}): Promise<GatewayHandle> {
  const port = opts.port ?? (await freePort());
  const id = opts.id ?? `gw-test-${randomUUID().slice(0, 8)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/gateway/src/main.ts')], {
    cwd: root,
    env: { ...process.env, GATEWAY_PORT: String(port), GATEWAY_ID: id, HEARTBEAT_INTERVAL_MS: String(opts.heartbeatMs ?? 2000) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const h = track(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`gateway ${id} on ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`gateway exited: ${h.output()}`);
    const res = await fetch(`${url}/health`).catch(() => null);
    return res?.ok;
    // tsx compiles the gateway at start: on a busy machine (parallel test files) that takes over 15 s.
  }, 45_000);
  return { ...h, port, id, url };
}

export interface AgentHandle extends ProcessHandle {
  dir: string;
  configPath: string;
}

/** Runs the real bundled agent with `run`, from a config written by `enroll` (or given). */
export function startAgent(dir: string, env: Record<string, string> = {}): AgentHandle {
  const configPath = path.join(dir, 'agent.json');
  const child = spawn(process.execPath, [agentBundle, 'run', '--config', configPath], {
    env: { ...process.env, TANDEM_AGENT_BACKOFF_BASE_MS: '100', TANDEM_AGENT_BACKOFF_MAX_MS: '1000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { ...track(child), dir, configPath };
}

/** Runs a one-shot agent command (enroll, status) and returns its exit code and output. */
export function agentCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [agentBundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // 'close', not 'exit': exit can come before the last of stdout/stderr has been read.
    child.on('close', (code) => resolve({ code, output }));
  });
}

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tandem-${label}-`));
}

/** An enrolment token for a customer, written straight to the database (the portal's job). */
export async function enrollmentToken(customer: { id: string; organizationId: string }, expiresInMs = 3600_000): Promise<string> {
  const token = randomToken();
  await ownerDb().enrollmentToken.create({
    data: { organizationId: customer.organizationId, customerId: customer.id, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + expiresInMs) },
  });
  return token;
}

/** An agent credential for a tenant's server, without going through enrolment. */
export async function agentCredential(t: Tenant, server = t.serverX): Promise<{ agentId: string; credential: string }> {
  const credential = randomToken();
  const agent = await ownerDb().agent.create({
    data: { organizationId: t.org.id, customerId: server.customerId, serverId: server.id, credentialHash: sha256Hex(credential) },
  });
  return { agentId: agent.id, credential };
}
