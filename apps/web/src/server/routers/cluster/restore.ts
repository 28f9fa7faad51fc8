// Restoring a saved cluster configuration: a dry run first (the worker plans the ordered steps —
// stop the cluster stack on the other nodes, replace the configuration on one, start the others
// and check they took it — and stops there), then the real run, confirmed by typing the cluster's name.
import { z } from 'zod';
import { AppError, clusterRestoreOptionsSchema, idSchema, notFound } from '@tandem/engine';
import type { Actor } from '../../actor';
import type { TenantTx } from '@tandem/db';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { orgProcedure } from '../../trpc';
import { clustersOf, loadVersion, stackLabel } from './clusters';
import { clusterOperationOutput, refuseIfClusterBusy } from './snapshot';

const restoreInput = z.object({
  versionId: idSchema,
  /** The member server to restore on (default: the node the version was read from if its agent is online, else the first online one). */
  restoreOn: idSchema.optional(),
});

async function requestRestore(
  ctx: { db: TenantTx; actor: Extract<Actor, { kind: 'staff' }>; afterCommit: (fn: () => Promise<void>) => void },
  input: z.infer<typeof restoreInput>,
  dryRun: boolean,
  confirmName?: string,
) {
  const version = await loadVersion(ctx.db, input.versionId);
  const cluster = (await clustersOf(ctx.db, version.customerId)).find(
    (c) => c.stack === version.stack && c.name === version.clusterName,
  );
  if (!cluster)
    throw new AppError(
      'CONFLICT',
      `No server of this customer reports cluster "${version.clusterName}" any more; a restore needs its nodes`,
    );
  if (input.restoreOn && !cluster.members.some((m) => m.serverId === input.restoreOn)) throw notFound('Cluster node');
  if (confirmName !== undefined && confirmName.trim() !== cluster.name) {
    throw new AppError('BAD_REQUEST', "Type the cluster's name to confirm", { confirmName: `Type "${cluster.name}" exactly` });
  }
  const online = cluster.members.filter((m) => m.agentStatus === 'online');
  const restoreOn = input.restoreOn ?? (online.find((m) => m.serverId === version.serverId) ?? online[0])?.serverId;
  if (!restoreOn) throw new AppError('CONFLICT', 'No agent of this cluster’s nodes is online to restore the configuration on');
  await refuseIfClusterBusy(ctx.db, version.customerId, cluster.stack, cluster.name);
  const options = clusterRestoreOptionsSchema.parse({ versionId: version.id, serverId: restoreOn });
  const op = await ctx.db.operation.create({
    data: {
      organizationId: ctx.actor.organizationId,
      customerId: version.customerId,
      pairId: null,
      kind: 'cluster_restore',
      dryRun,
      clusterStack: cluster.stack,
      clusterName: cluster.name,
      options,
      requestedById: ctx.actor.userId,
    },
  });
  const taken = version.takenAt.toISOString();
  await audit(ctx.db, ctx.actor, {
    action: dryRun ? 'cluster.restore.preview' : 'cluster.restore.start',
    targetType: 'Cluster',
    targetId: op.id,
    customerId: version.customerId,
    summary: `${dryRun ? 'Previewed a restore (dry run) of' : 'Started restoring'} the configuration of ${stackLabel[cluster.stack]} cluster "${cluster.name}" saved ${taken}`,
    changes: { operationId: op.id, dryRun, ...options },
  });
  ctx.afterCommit(() =>
    startOperation({ operationId: op.id, organizationId: ctx.actor.organizationId, customerId: version.customerId }),
  );
  return { operationId: op.id };
}

/** Plans the restore and shows its steps in order; nothing on the cluster changes. */
export const clusterRestorePreview = orgProcedure('operator')
  .input(restoreInput)
  .output(clusterOperationOutput)
  .mutation(({ ctx, input }) => requestRestore(ctx, input, true));

/** Restores the version on the cluster (authoritative), confirmed by typing the cluster's name. */
export const clusterRestoreStart = orgProcedure('operator')
  .input(restoreInput.extend({ confirmName: z.string().max(255) }))
  .output(clusterOperationOutput)
  .mutation(({ ctx, input }) => requestRestore(ctx, input, false, input.confirmName));
