// One real agent behind a real gateway for the validation tests (validate.facts and the fixes).
// The gateway heartbeats at its production interval (5 s): the agent collects its standing facts
// right after connecting, which on a busy test machine can hold its event loop past the 1 s a
// 500 ms test heartbeat allows, and the agent would then reconnect (and collect) over and over.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { AgentBus } from '@tandem/agent-bus';
import { createTenant, ownerDb } from '@tandem/db/testing';
import { startGateway, waitFor } from './agents';
import { ReplicationHarness, type Enrolled } from './replication/agents';

const repo = path.resolve(import.meta.dirname, '../../..');

export async function validationAgent(label: string): Promise<{ h: ReplicationHarness; agent: Enrolled }> {
  const h = new ReplicationHarness(label);
  execFileSync(process.execPath, [path.join(repo, 'apps/agent/build.mjs')], { cwd: repo, stdio: 'inherit' });
  h.bus = new AgentBus(process.env.REDIS_URL!);
  h.t = await createTenant();
  h.gw = await startGateway({ heartbeatMs: 5_000 });
  h.running.push(h.gw);
  const agent = await h.enrolAndRun('agent');
  await h.online(agent.agentId);
  // Commands wait until the first standing facts are in (the agent is busiest collecting them).
  await waitFor('the first facts', async () => (await ownerDb().server.findUnique({ where: { id: agent.serverId } }))?.factsAt, 90_000);
  return { h, agent };
}
