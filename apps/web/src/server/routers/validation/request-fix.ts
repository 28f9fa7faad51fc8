// Persisting a fix: a `fix` Operation carrying the findings it settles and the digest of the plan
// the person saw. Like the runbooks it has no steps yet: the worker re-plans from the same run
// (and re-validates first if the facts moved on), runs the actions through the agents and ends
// with a validation run. Audited with the actor and the plan.
import { publishPairChange } from '@tandem/agent-bus/live';
import type { TenantTx } from '@tandem/db';
import { AppError, operationInFlightStatuses } from '@tandem/engine';
import type { Actor } from '../../actor';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { pairEvent } from '../../services/pairs';
import { lockPair } from '../pair/protection';
import type { PlanView } from './plan';
import type { ValidationPair } from './shared';

/** What a fix operation's `options` hold (the worker reads them). */
export interface FixOperationInput {
  runId: string;
  findingIds: string[];
  fixAll: boolean;
  planDigest: string;
  /** Fix All: findings the person took out of the plan. */
  deselected: string[];
  /** Fix: an owner or admin confirmed the privileged actions among them. */
  confirmPrivileged: boolean;
}

export async function requestFix(
  ctx: { db: TenantTx; actor: Actor; afterCommit: (fn: () => Promise<void>) => void },
  pair: ValidationPair,
  plan: PlanView,
  input: Omit<FixOperationInput, 'runId' | 'findingIds' | 'planDigest'>,
) {
  await lockPair(ctx.db, pair.id);
  const running = await ctx.db.operation.findFirst({
    where: { pairId: pair.id, status: { in: [...operationInFlightStatuses] } },
  });
  if (running)
    throw new AppError(
      'CONFLICT',
      `Another operation (${running.kind.replaceAll('_', ' ')}) is still running on this pair; wait for it to finish`,
    );
  const findingIds = [...new Set(plan.phases.flatMap((p) => p.nodes.flatMap((n) => n.items.flatMap((i) => i.findingIds))))];
  const options: FixOperationInput = { runId: plan.runId, findingIds, planDigest: plan.digest, ...input };
  const op = await ctx.db.operation.create({
    data: {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId: pair.id,
      kind: 'fix',
      options: options as never,
      requestedById: ctx.actor.userId,
    },
  });
  const what = input.fixAll
    ? `Fix All (${plan.actions} action${plan.actions === 1 ? '' : 's'})`
    : `a fix of ${findingIds.length} finding${findingIds.length === 1 ? '' : 's'}`;
  await pairEvent(ctx.db, pair, { kind: 'operation', message: `${ctx.actor.label} started ${what}` });
  await audit(ctx.db, ctx.actor, {
    action: input.fixAll ? 'pair.fixAll' : 'pair.fix',
    targetType: 'ProtectionPair',
    targetId: pair.id,
    customerId: pair.customerId,
    summary: `Started ${what} on "${pair.name}"`,
    changes: {
      operationId: op.id,
      ...options,
      actions: plan.phases.flatMap((p) =>
        p.nodes.flatMap((n) =>
          n.items.map((i) => ({
            phase: p.phase,
            runsOn: n.runsOn,
            action: i.action.action,
            before: i.action.before,
            after: i.action.after,
          })),
        ),
      ),
    },
  });
  ctx.afterCommit(() => startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }));
  ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
  return { operationId: op.id, planDigest: plan.digest };
}
