import { z } from 'zod';
import { customerProcedure } from '../../trpc';
import { clustersOf, clusterStackSchema } from './clusters';

export const clusterSummaryOutput = z.object({
  stack: clusterStackSchema,
  name: z.string(),
  quorate: z.boolean().nullable(),
  nodes: z.array(z.object({ name: z.string(), online: z.boolean() })),
  resources: z.number().int(),
  /** Resources running (a role of Started/Promoted/Unpromoted/Online, or a node). */
  running: z.number().int(),
  fencing: z.object({ enabled: z.boolean().nullable(), devices: z.number().int() }).nullable(),
  members: z.array(z.object({ serverId: z.string(), hostname: z.string(), agentStatus: z.string() })),
  factsAt: z.string().nullable(),
  latestVersionAt: z.string().nullable(),
  versions: z.number().int(),
});

const runningRoles = /^(started|promoted|unpromoted|master|slave|online)$/i;
export const isRunning = (r: { role: string | null; node: string | null }) =>
  r.role ? runningRoles.test(r.role) : r.node !== null;

/** The customer's clusters (from the members' facts), with their saved configuration versions counted. */
export const listClusters = customerProcedure({ staff: 'viewer' })
  .output(z.array(clusterSummaryOutput))
  .query(async ({ ctx, input }) => {
    const clusters = await clustersOf(ctx.db, input.customerId);
    const counts = await ctx.db.clusterConfigVersion.groupBy({
      by: ['stack', 'clusterName'],
      where: { customerId: input.customerId },
      _count: { _all: true },
      _max: { takenAt: true },
    });
    return clusters.map((c) => {
      const v = counts.find((x) => x.stack === c.stack && x.clusterName === c.name);
      return {
        stack: c.stack,
        name: c.name,
        quorate: c.facts.quorate,
        nodes: c.facts.nodes,
        resources: c.facts.resources.length,
        running: c.facts.resources.filter(isRunning).length,
        fencing: c.facts.fencing,
        members: c.members.map((m) => ({ serverId: m.serverId, hostname: m.hostname, agentStatus: m.agentStatus })),
        factsAt: c.factsAt?.toISOString() ?? null,
        latestVersionAt: v?._max.takenAt?.toISOString() ?? null,
        versions: v?._count._all ?? 0,
      };
    });
  });
