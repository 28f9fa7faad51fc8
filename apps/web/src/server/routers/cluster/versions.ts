import { z } from 'zod';
import { customerProcedure } from '../../trpc';
import { clusterKeyInput } from './clusters';

export const versionOutput = z.object({
  id: z.string(),
  reason: z.string(),
  takenAt: z.string(),
  epoch: z.string().nullable(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  serverId: z.string(),
  /** The node it was read from (null: that server is gone). */
  hostname: z.string().nullable(),
  operationId: z.string().nullable(),
});
export type ClusterVersionView = z.infer<typeof versionOutput>;

/** Saved configurations of one cluster, newest first (without their content: the diff shows it). */
export const clusterVersions = customerProcedure({ staff: 'viewer' })
  .input(clusterKeyInput)
  .output(z.array(versionOutput))
  .query(async ({ ctx, input }) => {
    const rows = await ctx.db.clusterConfigVersion.findMany({
      where: { customerId: input.customerId, stack: input.stack, clusterName: input.name },
      orderBy: [{ takenAt: 'desc' }, { id: 'asc' }],
      take: 500,
      select: {
        id: true,
        reason: true,
        takenAt: true,
        epoch: true,
        sizeBytes: true,
        sha256: true,
        serverId: true,
        operationId: true,
      },
    });
    const servers = await ctx.db.server.findMany({
      where: { id: { in: [...new Set(rows.map((r) => r.serverId))] } },
      select: { id: true, hostname: true },
    });
    return rows.map((r) => ({
      ...r,
      takenAt: r.takenAt.toISOString(),
      hostname: servers.find((s) => s.id === r.serverId)?.hostname ?? null,
    }));
  });
