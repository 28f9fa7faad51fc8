// Test failover copies left behind: a worker that died mid-test may leave a copy (files or a
// running PostgreSQL copy) in a target agent's scratch area. When the worker starts and then
// periodically, every online target agent lists its copies, and those whose operation is finished
// (or unknown in the agent's tenant) are removed. A copy of an operation still running is left to
// that operation, whose teardown removes it (a resumed run does so first).
import { z } from 'zod';
import type { AgentBus } from '@tandem/agent-bus';
import { withTenant, type Db } from '@tandem/db';

const unfinished = new Set(['pending', 'awaiting_approval', 'running']);
/** Agents asked at once. */
const SWEEP_CONCURRENCY = 16;

export interface LeftoverSweep {
  agents: number;
  copies: number;
  removed: number;
  failed: number;
}

export async function removeTestLeftovers(db: Db, bus: AgentBus, opts: { timeoutMs?: number } = {}): Promise<LeftoverSweep> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const agents = await db.$queryRaw<{ agentId: string; organizationId: string; customerId: string }[]>`SELECT * FROM test_copy_agents()`;
  const out: LeftoverSweep = { agents: agents.length, copies: 0, removed: 0, failed: 0 };
  // Agents are asked side by side: one that is away costs its timeout once, not once per agent after it.
  const sweepAgent = async (a: (typeof agents)[number]) => {
    let copies;
    try {
      copies = (await bus.send(a.agentId, 'test.copy-list', {}, { timeoutMs })).copies;
    } catch {
      // Away, or too old to make test copies: nothing of ours can be there to remove now.
      return;
    }
    for (const copy of copies) {
      out.copies++;
      if (!z.uuid().safeParse(copy.id).success) continue;
      const op = await withTenant({ organizationId: a.organizationId, customerId: a.customerId, userId: null }, (tx) => tx.operation.findUnique({ where: { id: copy.id }, select: { status: true } }), db);
      if (op && unfinished.has(op.status)) continue;
      try {
        await bus.send(a.agentId, 'test.copy-remove', { id: copy.id }, { timeoutMs: 120_000 });
        out.removed++;
        console.log(`[worker] removed a test copy left on agent ${a.agentId} (operation ${copy.id}, ${op ? op.status : 'unknown'})`);
      } catch (err) {
        out.failed++;
        console.error(`[worker] could not remove the test copy ${copy.id} on agent ${a.agentId}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  const queue = [...agents];
  const lanes = Array.from({ length: Math.min(SWEEP_CONCURRENCY, queue.length) }, async () => {
    for (let a = queue.shift(); a; a = queue.shift()) await sweepAgent(a);
  });
  await Promise.all(lanes);
  return out;
}
