import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { AppError, clusterBackupOptionsSchema, operationInFlightStatuses } from '@tandem/engine';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { customerProcedure } from '../../trpc';
import { clusterKeyInput, findCluster, stackLabel } from './clusters';

export const clusterOperationOutput = z.object({ operationId: z.string() });

/**
 * One backup or restore at a time per cluster: the customer's row is locked until the request's
 * transaction ends, so two requests cannot both find the cluster idle.
 */
export async function refuseIfClusterBusy(db: TenantTx, customerId: string, stack: string, name: string) {
  await db.$queryRaw`SELECT 1 FROM "Customer" WHERE id = ${customerId} FOR UPDATE`;
  const running = await db.operation.findFirst({
    where: { customerId, clusterStack: stack, clusterName: name, status: { in: [...operationInFlightStatuses] } },
    select: { kind: true },
  });
  if (running)
    throw new AppError(
      'CONFLICT',
      `Another operation (${running.kind.replace(/_/g, ' ')}) is still running on this cluster; wait for it to finish`,
    );
}

/** Takes a backup of the cluster's configuration now (a `manual` version); the worker reads it from a node. */
export const clusterSnapshot = customerProcedure({ staff: 'operator' })
  .input(clusterKeyInput)
  .output(clusterOperationOutput)
  .mutation(async ({ ctx, input }) => {
    const cluster = await findCluster(ctx.db, input.customerId, input.stack, input.name);
    if (!cluster.members.some((m) => m.agentStatus === 'online'))
      throw new AppError('CONFLICT', 'No agent of this cluster’s nodes is online to read its configuration');
    await refuseIfClusterBusy(ctx.db, input.customerId, cluster.stack, cluster.name);
    const op = await ctx.db.operation.create({
      data: {
        organizationId: ctx.actor.organizationId,
        customerId: input.customerId,
        pairId: null,
        kind: 'cluster_backup',
        clusterStack: cluster.stack,
        clusterName: cluster.name,
        options: clusterBackupOptionsSchema.parse({ serverId: null }),
        requestedById: ctx.actor.userId,
      },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'cluster.snapshot',
      targetType: 'Cluster',
      targetId: op.id,
      customerId: input.customerId,
      summary: `Started a configuration backup of ${stackLabel[cluster.stack]} cluster "${cluster.name}"`,
      changes: { operationId: op.id, stack: cluster.stack, cluster: cluster.name },
    });
    ctx.afterCommit(() =>
      startOperation({ operationId: op.id, organizationId: ctx.actor.organizationId, customerId: input.customerId }),
    );
    return { operationId: op.id };
  });
