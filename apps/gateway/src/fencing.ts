// Fencing: the old source of a failed-over pair must not come back as a primary. Its agent
// persists pairs and would restart their replication (and the machine its services) when it
// returns; the gateway is the first to know it is back, so it tells the agent to stand down:
// stop the pair's replication and monitor, stop the protected services and set them to manual
// start. The pair records when this happened (sourceHeldAt) and says so in its events.
import { randomUUID } from 'node:crypto';
import type { ActionName } from '@tandem/protocol';
import { log, rememberCommand, send, type GatewayContext, type OwnCommandAnswer, type Session } from './context.ts';
import { markSourceHeld, pairsToFence, type PairToFence } from './store.ts';

/** Sends one command to the agent on this connection and waits for its answer. */
function ask(ctx: GatewayContext, s: Session, action: ActionName, args: unknown, timeoutMs: number): Promise<OwnCommandAnswer> {
  const commandId = randomUUID();
  rememberCommand(ctx, commandId, s.agent.id, timeoutMs);
  return new Promise<OwnCommandAnswer>((resolve) => {
    const timer = setTimeout(() => {
      ctx.waiting.delete(commandId);
      resolve({ ok: false, error: { code: 'timeout', message: `no answer within ${Math.round(timeoutMs / 1000)} s` } });
    }, timeoutMs + 5_000);
    ctx.waiting.set(commandId, (answer) => {
      clearTimeout(timer);
      ctx.waiting.delete(commandId);
      resolve(answer);
    });
    send(s, 'command', { commandId, action, args, timeoutMs });
  });
}

async function fenceOne(ctx: GatewayContext, s: Session, pair: PairToFence) {
  log('holding a returned source stopped', { agentId: s.agent.id, pairId: pair.pairId });
  const problems: string[] = [];
  const step = async (what: string, action: ActionName, args: unknown, timeoutMs: number) => {
    if (s.ws.readyState !== s.ws.OPEN) return problems.push(`${what}: the agent disconnected`);
    const answer = await ask(ctx, s, action, args, timeoutMs);
    if (!answer.ok) problems.push(`${what}: ${answer.error.message}`);
  };
  // Replication first: nothing the old source writes from now on may reach the target.
  await step('stopping replication', 'replication.stop', { pairId: pair.pairId }, 15_000);
  await step('stopping the monitor', 'monitor.stop', { pairId: pair.pairId }, 15_000);
  const serviceMs = pair.serviceTimeoutSeconds * 1000;
  for (const name of pair.services) {
    await step(`stopping ${name}`, 'service.ensure', { name, state: 'stopped', timeoutMs: serviceMs }, serviceMs);
    await step(`setting ${name} to manual start`, 'service.set-startup-mode', { name, mode: 'manual' }, 30_000);
  }
  // A PostgreSQL source would otherwise come back as a second primary (its service may not be listed).
  if (pair.databaseDataDir) await step('stopping PostgreSQL', 'postgresql.stop', { dataDir: pair.databaseDataDir, mode: 'fast' }, 150_000);
  if (s.ws.readyState !== s.ws.OPEN) {
    // Gone again before it heard everything: it is fenced again when it next connects.
    s.fenced.delete(pair.pairId);
    return;
  }
  const services = [pair.services.length ? ` and its services (${pair.services.join(', ')}) stopped and set to manual start` : '', pair.databaseDataDir ? `; PostgreSQL (${pair.databaseDataDir}) stopped` : ''].join('');
  const message = problems.length
    ? `The old source ${pair.sourceHostname} came back; Tandem told it to stand down, but not everything succeeded: ${problems.join('; ')}. Check it before clients reach it.`
    : `The old source ${pair.sourceHostname} came back and is held stopped: replication and monitoring of this pair stopped${services}.`;
  await markSourceHeld(s.agent, pair, problems.length ? 'warning' : 'info', message.slice(0, 4000));
}

/**
 * Fences every pair the agent is the old source of (on hello), or one pair it reported on.
 * Runs beside the frame handling (it waits for the agent's answers, which arrive as frames).
 */
export function fenceReturnedSource(ctx: GatewayContext, s: Session, onlyPairId?: string) {
  if (onlyPairId && s.fenced.has(onlyPairId)) return;
  void (async () => {
    const pairs = (await pairsToFence(s.agent, onlyPairId)).filter((p) => !s.fenced.has(p.pairId));
    for (const p of pairs) s.fenced.add(p.pairId);
    for (const p of pairs) await fenceOne(ctx, s, p);
  })().catch((err: unknown) => log('fencing failed', { agentId: s.agent.id, error: err instanceof Error ? err.message : String(err) }));
}
