// Validate: a `validate` Operation the worker runs (fresh facts from the agents, the DNS executor,
// directory and cluster; evaluate; store the run and its findings). One run at a time per pair:
// asking while one is queued or running joins it.
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import { AppError, idSchema, operationInFlightStatuses } from '@tandem/engine';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { pairEvent } from '../../services/pairs';
import { orgProcedure } from '../../trpc';
import { lockPair } from '../pair/protection';
import { loadPair } from './shared';

export const startInput = z.object({ pairId: idSchema });
export const startOutput = z.object({ operationId: z.string(), joined: z.boolean() });

export const validationStart = orgProcedure('operator')
  .input(startInput)
  .output(startOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadPair(ctx.db, input.pairId);
    // The row stays locked until the transaction ends: two clicks cannot both start a run.
    await lockPair(ctx.db, pair.id);
    const running = await ctx.db.operation.findFirst({
      where: { pairId: pair.id, status: { in: [...operationInFlightStatuses] } },
      orderBy: { createdAt: 'desc' },
    });
    if (running?.kind === 'validate') return { operationId: running.id, joined: true };
    if (running)
      throw new AppError(
        'CONFLICT',
        `Another operation (${running.kind.replaceAll('_', ' ')}) is still running on this pair; validate once it has finished`,
      );
    const op = await ctx.db.operation.create({
      data: {
        organizationId: pair.organizationId,
        customerId: pair.customerId,
        pairId: pair.id,
        kind: 'validate',
        options: { trigger: 'manual' },
        requestedById: ctx.actor.userId,
      },
    });
    await pairEvent(ctx.db, pair, { kind: 'operation', message: `${ctx.actor.label} started a validation run` });
    await audit(ctx.db, ctx.actor, {
      action: 'pair.validate',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Validated "${pair.name}"`,
      changes: { operationId: op.id },
    });
    ctx.afterCommit(() =>
      startOperation({ operationId: op.id, organizationId: pair.organizationId, customerId: pair.customerId }),
    );
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'operation'));
    return { operationId: op.id, joined: false };
  });
