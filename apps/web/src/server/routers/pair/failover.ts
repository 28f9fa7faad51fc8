// Failover requests: a dry run (the plan and its diff, nothing changed) or the real run. Both
// create a failover Operation with its options and NO steps; the worker plans it (one plan for
// the preview and the run) and, unless it is a dry run, executes it.
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import type { OperationKind, TenantTx } from '@tandem/db';
import { AppError, failoverOptionsSchema, idSchema, notFound, transition, type LifecycleEvent, type PairSettings } from '@tandem/engine';
import type { Actor } from '../../actor';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { pairEvent, storedSettings } from '../../services/pairs';
import { orgProcedure } from '../../trpc';
import { refuseIfBusy } from './protection';

const failoverModeSchema = failoverOptionsSchema.shape.mode;

export const operationIdOutput = z.object({ operationId: z.string() });

export async function loadRunbookPair(db: TenantTx, pairId: string) {
  const pair = await db.protectionPair.findUnique({
    where: { id: pairId },
    include: { source: { include: { agent: true } }, target: { include: { agent: true } } },
  });
  if (!pair) throw notFound('Protection pair');
  return pair;
}
type RunbookPair = Awaited<ReturnType<typeof loadRunbookPair>>;

/**
 * The checks every failover/failback request passes, preview or run: the lifecycle allows it,
 * the pair is fully configured, and no other operation runs on it (the pair row stays locked
 * until the request's transaction ends, so two requests cannot both pass).
 */
export async function checkRunbookRequest(db: TenantTx, pair: RunbookPair, event: LifecycleEvent): Promise<PairSettings> {
  const allowed = transition(pair.status, event);
  if ('refusal' in allowed) throw new AppError('CONFLICT', allowed.refusal);
  const settings = storedSettings(pair);
  if (!settings) throw new AppError('CONFLICT', 'The pair has no complete configuration; edit it first');
  await refuseIfBusy(db, pair.id);
  return settings;
}

/** The typed name must be the pair's (whitespace around it forgiven, case not). */
export function checkConfirmName(pair: { name: string }, confirmName: string) {
  if (confirmName.trim() !== pair.name) {
    throw new AppError('BAD_REQUEST', "Type the pair's name to confirm", { confirmName: `Type "${pair.name}" exactly` });
  }
}

export function requireAgentOnline(server: { hostname: string; agent: { status: string } | null }, why: string) {
  if (server.agent?.status !== 'online') throw new AppError('CONFLICT', `The agent on ${server.hostname} is not online; ${why}`);
}

/** Creates the operation (no steps: the worker plans it), records it, and hands it to the worker after commit. */
export async function requestRunbook(
  ctx: { db: TenantTx; actor: Actor; afterCommit: (fn: () => Promise<void>) => void },
  pair: RunbookPair,
  r: { kind: Extract<OperationKind, 'failover' | 'failback' | 'test_failover'>; dryRun: boolean; options: Record<string, unknown>; event: string; action: string; summary: string },
) {
  const op = await ctx.db.operation.create({
    data: {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId: pair.id,
      kind: r.kind,
      dryRun: r.dryRun,
      options: r.options as never,
      requestedById: ctx.actor.userId,
    },
  });
  await pairEvent(ctx.db, pair, { kind: 'operation', message: `${ctx.actor.label} ${r.event}` });
  await audit(ctx.db, ctx.actor, {
    action: r.action,
    targetType: 'ProtectionPair',
    targetId: pair.id,
    customerId: pair.customerId,
    summary: r.summary,
    changes: { operationId: op.id, dryRun: r.dryRun, options: r.options },
  });
  ctx.afterCommit(() => startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }));
  ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
  return { operationId: op.id };
}

/**
 * A failover already waiting for approval is not started a second time: the operator is sent to
 * the request (where an operator may approve it, if its policy lets MSP staff answer).
 */
async function refuseIfAwaitingApproval(db: TenantTx, pairId: string) {
  const pending = await db.approval.findFirst({ where: { pairId, decision: 'pending' }, select: { id: true } });
  if (pending) {
    throw new AppError('CONFLICT', `A failover of this pair is already waiting for approval: open the request (/approvals/${pending.id}) to approve it instead`, { approvalId: pending.id });
  }
}

/** "a graceful" / "an immediate". */
const aMode = (mode: string) => `${/^[aeiou]/.test(mode) ? 'an' : 'a'} ${mode}`;

function refuseIfFailoverOff(settings: PairSettings) {
  if (!settings.failover.enabled) throw new AppError('CONFLICT', 'Failover is turned off in this pair’s settings');
}

/** Plans a failover without changing anything: the operation's `changes` show what a run would do. */
export const failoverPreview = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, mode: failoverModeSchema.optional() }))
  .output(operationIdOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadRunbookPair(ctx.db, input.pairId);
    const settings = await checkRunbookRequest(ctx.db, pair, 'failover.requested');
    refuseIfFailoverOff(settings);
    const options = failoverOptionsSchema.parse({ mode: input.mode ?? settings.failover.mode });
    return requestRunbook(ctx, pair, {
      kind: 'failover',
      dryRun: true,
      options,
      event: `previewed ${aMode(options.mode)} failover (dry run, nothing changes)`,
      action: 'pair.failover.preview',
      summary: `Previewed ${aMode(options.mode)} failover of "${pair.name}"`,
    });
  });

/**
 * Starts a failover. Refused before it starts (pair not protected and not pending, another
 * operation in flight, target agent offline, wrong confirmation); once started it runs to its end.
 */
export const failoverStart = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, mode: failoverModeSchema, confirmName: z.string().max(200) }))
  .output(operationIdOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadRunbookPair(ctx.db, input.pairId);
    await refuseIfAwaitingApproval(ctx.db, pair.id);
    const settings = await checkRunbookRequest(ctx.db, pair, 'failover.requested');
    refuseIfFailoverOff(settings);
    requireAgentOnline(pair.target, 'the target takes over, so its agent must answer before a failover starts');
    checkConfirmName(pair, input.confirmName);
    const options = failoverOptionsSchema.parse({ mode: input.mode });
    return requestRunbook(ctx, pair, {
      kind: 'failover',
      dryRun: false,
      options,
      event: `started ${aMode(options.mode)} failover to ${pair.target.hostname}`,
      action: 'pair.failover.start',
      summary: `Started ${aMode(options.mode)} failover of "${pair.name}" to ${pair.target.hostname}`,
    });
  });
