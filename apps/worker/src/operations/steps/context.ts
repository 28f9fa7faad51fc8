// What every step executor works with: the pair, its settings, the bus, short tenant
// transactions, and the step being run (its command ids derive from it). Sending a command goes
// through `command`, which retries transient failures within the step's deadline.
import { CommandError, type AgentBus } from '@tandem/agent-bus';
import type { TenantTx } from '@tandem/db';
import { openSecret } from '@tandem/security';
import { pairKeyContext, type PairSettings, type Side } from '@tandem/engine';
import type { ActionInput, ActionName, ActionResult } from '@tandem/protocol';
import { commandId } from '../command-ids.ts';

export interface LoadedPair {
  id: string;
  organizationId: string;
  customerId: string;
  name: string;
  pairKeyEnc: string | null;
  sourceServerId: string;
  targetServerId: string;
  source: { hostname: string; agent: AgentRow | null };
  target: { hostname: string; agent: AgentRow | null };
}
export interface AgentRow {
  id: string;
  status: string;
  capabilities: string[];
  lastSeenAt: Date | null;
}

/** The stored step being executed. */
export interface StepRun {
  id: string;
  operationId: string;
  position: number;
  phase: 'run' | 'undo';
  /** OperationStep.attempts: part of every command id; raised (in the database first) before a retry after a definite failure. */
  attempts: number;
  optional: boolean;
  /** At or after the operation's point of no return (a failing hook is then a warning). */
  pastPointOfNoReturn: boolean;
  /** When the step first started (a run after a crash keeps it). */
  startedAt: Date;
  /** The next sub-command index (commands of a step are numbered in the order they are sent). */
  sub: number;
}

export interface StepContext {
  pair: LoadedPair;
  settings: PairSettings;
  bus: AgentBus;
  /** Runs database work in the operation's tenant, in a short transaction of its own. */
  tx: <T>(fn: (db: TenantTx) => Promise<T>) => Promise<T>;
  /** The same in the organization's scope, for organization-wide rows (a shared DNS credential). */
  orgTx: <T>(fn: (db: TenantTx) => Promise<T>) => Promise<T>;
  now: () => Date;
  /** Absent for commands sent outside a stored step (the undo of an enable). */
  step?: StepRun;
  /**
   * How long a command waits for an offline or silent agent by default: failover and failback
   * ride out a brief outage (60 s); enable, disable and the rest fail at once, as before.
   */
  agentWaitMs?: number;
}

export class StepError extends Error {
  /** What the step found before it failed (kept with the step, e.g. a failing hook's output). */
  constructor(
    message: string,
    readonly output?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const sideOf = (ctx: StepContext, side: Side) => (side === 'source' ? ctx.pair.source : ctx.pair.target);
export const serverIdOf = (ctx: StepContext, side: Side) => (side === 'source' ? ctx.pair.sourceServerId : ctx.pair.targetServerId);

export function pairKey(ctx: StepContext): string {
  if (!ctx.pair.pairKeyEnc) throw new StepError('The pair has no key; enable protection again');
  return openSecret(ctx.pair.pairKeyEnc, pairKeyContext(ctx.pair.id));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Command errors worth sending again with the same id: the agent was not reached or did not answer in time. */
export const transientCodes: ReadonlySet<string> = new Set(['agent_offline', 'no_ack', 'timeout']);

export interface SendOptions {
  /** How long the action may run on the agent (the bus's timeout). */
  timeoutMs?: number;
  /**
   * How long, in all, to keep trying while the agent is offline or does not answer (default
   * ctx.agentWaitMs; an optional step's offline agent is not waited for: best effort means now).
   */
  deadlineMs?: number;
  /** A definite failure answer that is worth a new attempt (e.g. a DNS server that did not answer). */
  retryFailure?: (message: string) => boolean;
  /** A read-only poll: a fresh id every time, since it must see the current state, not a remembered answer. */
  fresh?: boolean;
}

/** What sending a command needs: the bus, short transactions, the step (for command ids). Cluster operations have no pair. */
export type CommandContext = Pick<StepContext, 'bus' | 'tx' | 'step' | 'agentWaitMs'>;

/** The agent of a server, read again from the database (its status changes while a step waits). */
async function agentOf(ctx: CommandContext, serverId: string): Promise<{ hostname: string; agent: AgentRow | null }> {
  const row = await ctx.tx((db) =>
    db.server.findUnique({ where: { id: serverId }, select: { hostname: true, agent: { select: { id: true, status: true, capabilities: true, lastSeenAt: true } } } }),
  );
  if (!row) throw new StepError('The server of this step no longer exists');
  return row;
}

/**
 * Sends one command of the current step to a server's agent. Its id is derived from the step
 * (command-ids.ts), so a step run again after a crash re-sends the same ids. An agent that is
 * offline or does not answer is waited for (backoff) until the deadline; a definite failure is
 * retried only when `retryFailure` says so, with the step's attempt raised first.
 */
export async function commandTo<A extends ActionName>(ctx: CommandContext, serverId: string, action: A, args: ActionInput<A>, opts: SendOptions = {}): Promise<ActionResult<A>> {
  const step = ctx.step;
  const sub = opts.fresh || !step ? null : step.sub++;
  const deadline = Date.now() + (opts.deadlineMs ?? ctx.agentWaitMs ?? 0);
  let delay = 250;
  let resentNotKept = false;
  const backoff = async () => {
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 5_000);
  };
  for (;;) {
    const server = await agentOf(ctx, serverId);
    const agent = server.agent;
    if (!agent) throw new StepError(`${server.hostname} has no agent`);
    if (agent.status !== 'online') {
      if (step?.optional || Date.now() >= deadline) {
        const seen = agent.lastSeenAt ? ` (last seen ${agent.lastSeenAt.toISOString()})` : '';
        throw new StepError(`The agent on ${server.hostname} is ${agent.status}${seen}`);
      }
      await backoff();
      continue;
    }
    const id = step && sub !== null ? commandId({ operationId: step.operationId, position: step.position, phase: step.phase, sub, attempt: step.attempts }) : undefined;
    try {
      // The bus checks the result against the action's schema (a wrong shape is a CommandError).
      return await ctx.bus.send(agent.id, action, args, { timeoutMs: opts.timeoutMs ?? 30_000, ...(id ? { commandId: id } : {}) });
    } catch (err) {
      const text = `${server.hostname}: ${message(err)}`;
      if (!(err instanceof CommandError)) throw new StepError(text);
      const more = Date.now() < deadline && !(step?.optional && err.code === 'agent_offline');
      if (transientCodes.has(err.code) && more) {
        await backoff();
        continue;
      }
      // result_not_kept: the agent ran this id before (a crash re-send) but its answer was too big
      // to remember; every step states desired state, so a new attempt is safe and answers again.
      const notKept: boolean = err.code === 'failed' && /result_not_kept/.test(err.message) && !resentNotKept;
      if (notKept || (err.code === 'failed' && more && opts.retryFailure?.(err.message))) {
        resentNotKept ||= notKept;
        // A new attempt is a new command: the agent's memory of the failed one must not answer it.
        if (step) {
          await ctx.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { attempts: { increment: 1 } } }));
          step.attempts += 1;
        }
        await backoff();
        continue;
      }
      throw new StepError(text);
    }
  }
}

/** commandTo the agent on one side of the pair. */
export function command<A extends ActionName>(ctx: StepContext, side: Side, action: A, args: ActionInput<A>, timeoutMsOrOpts: number | SendOptions = {}): Promise<ActionResult<A>> {
  const opts = typeof timeoutMsOrOpts === 'number' ? { timeoutMs: timeoutMsOrOpts } : timeoutMsOrOpts;
  return commandTo(ctx, serverIdOf(ctx, side), action, args, opts);
}
