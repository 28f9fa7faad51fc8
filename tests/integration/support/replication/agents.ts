// A gateway and real enrolled agents for replication tests that go through the control path
// (AgentBus → Redis → gateway → agent). Used by replication-agents and replication-verify-agents.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { AgentBus } from '@tandem/agent-bus';
import { createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { agentCli, enrollmentToken, startAgent, startGateway, tempDir, waitFor, type AgentHandle, type GatewayHandle } from '../agents';
import { sleep } from './continuous';
import { diffManifests, hashManifest } from './tree';

const repo = path.resolve(import.meta.dirname, '../../../..');

export interface Enrolled {
  dir: string;
  agentId: string;
  serverId: string;
  handle: AgentHandle;
}

export class ReplicationHarness {
  readonly running: { stop: () => Promise<void> }[] = [];
  readonly cleanup: string[] = [];
  bus!: AgentBus;
  gw!: GatewayHandle;
  t!: Tenant;

  constructor(private readonly label: string) {}

  /** Rebuilds the agent bundle (the tests run it), then a tenant, a bus and a gateway. */
  async setup() {
    execFileSync(process.execPath, [path.join(repo, 'apps/agent/build.mjs')], { cwd: repo, stdio: 'inherit' });
    this.bus = new AgentBus(process.env.REDIS_URL!);
    this.t = await createTenant();
    this.gw = await startGateway();
    this.running.push(this.gw);
  }

  async teardown() {
    for (const p of this.running.reverse()) await p.stop();
    this.bus?.close();
    for (const d of this.cleanup) fs.rmSync(d, { recursive: true, force: true });
  }

  /** Enrols an agent for customer X through the gateway and runs it. */
  async enrolAndRun(name: string): Promise<Enrolled> {
    const dir = tempDir(name);
    this.cleanup.push(dir);
    const configPath = path.join(dir, 'agent.json');
    const token = await enrollmentToken(this.t.customerX);
    const hostname = `${this.label}-${name}-${crypto.randomUUID().slice(0, 6)}`;
    const res = await agentCli(['enroll', '--url', this.gw.url, `--token=${token}`, '--config', configPath, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', hostname]);
    expect(res.output).toContain('Enrolled as agent');
    const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { agentId: string; serverId: string };
    return { dir, agentId: config.agentId, serverId: config.serverId, handle: this.run(dir) };
  }

  /** Starts (or restarts) the agent whose configuration is in `dir`. */
  run(dir: string): AgentHandle {
    const h = startAgent(dir);
    this.running.push(h);
    return h;
  }

  online(agentId: string) {
    return waitFor(`agent ${agentId} online`, async () => (await this.bus.locate(agentId)) !== null);
  }

  /**
   * Two online agents, a ProtectionPair between their servers, and the directories: `src` on the
   * source, `targetRoot` given to the target, `dst` where the replica of `src` appears.
   */
  async twoAgentPair() {
    const source = await this.enrolAndRun('source');
    const target = await this.enrolAndRun('target');
    await this.online(source.agentId);
    await this.online(target.agentId);
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: this.t.org.id,
        customerId: this.t.customerX.id,
        name: `${this.label}-${crypto.randomUUID().slice(0, 8)}`,
        sourceServerId: source.serverId,
        targetServerId: target.serverId,
        application: 'file_server',
        // These tests start replication on the agents directly; in the control plane's eyes the
        // pair is enabled (a disabled pair that reports is stopped by the gateway).
        status: 'mirroring',
      },
    });
    const data = tempDir(`${this.label}-data`);
    this.cleanup.push(data);
    const src = path.join(data, 'source', 'share');
    const targetRoot = path.join(data, 'replica');
    // The target keeps each source root at its own path under targetRoot.
    return { source, target, pair, src, targetRoot, dst: path.join(targetRoot, src) };
  }
}

/** Waits until the trees' hash manifests are equal; returns the last difference ([] = equal). */
export async function waitEqual(src: string, dst: string, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  let diff: string[] = ['not compared'];
  while (Date.now() < end) {
    try {
      diff = diffManifests(await hashManifest(src), await hashManifest(dst));
      if (diff.length === 0) return diff;
    } catch (err) {
      // A file renamed or deleted between the walk and its hashing (the target is still applying).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      diff = [`changing: ${(err as Error).message}`];
    }
    await sleep(250);
  }
  return diff;
}

/** A small tree with Unicode names and binary files under `root/prefix`. */
export function writeFiles(root: string, prefix: string, n: number): void {
  fs.mkdirSync(path.join(root, prefix, 'nested dir', 'ünïcødé'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const rel = i % 3 === 0 ? path.join(prefix, 'nested dir', 'ünïcødé', `f${i}.bin`) : path.join(prefix, `file ${i}.txt`);
    fs.writeFileSync(path.join(root, rel), i % 3 === 0 ? randomBytes(10_000 + i * 100) : `${prefix} ${i}\n`.repeat(1 + i));
  }
}
