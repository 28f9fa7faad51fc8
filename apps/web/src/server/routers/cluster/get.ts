import { z } from 'zod';
import { OperationKind, OperationStatus } from '@tandem/db';
import { customerProcedure } from '../../trpc';
import { clusterKeyInput, clusterStackSchema, findCluster } from './clusters';
import { isRunning } from './list';

const nullableString = z.string().nullable();

export const clusterDetailOutput = z.object({
  stack: clusterStackSchema,
  name: z.string(),
  quorate: z.boolean().nullable(),
  factsAt: z.string().nullable(),
  reportedBy: z.string(),
  nodes: z.array(z.object({ name: z.string(), online: z.boolean(), serverId: nullableString, agentStatus: nullableString })),
  resources: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      role: nullableString,
      node: nullableString,
      group: nullableString,
      targetRole: nullableString,
      running: z.boolean(),
    }),
  ),
  groups: z.array(z.object({ id: z.string(), resources: z.array(z.string()), node: nullableString })),
  constraints: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['location', 'colocation', 'order', 'ticket']),
      resource: z.string(),
      node: nullableString,
      with: nullableString,
      score: nullableString,
    }),
  ),
  fencing: z.object({ enabled: z.boolean().nullable(), devices: z.number().int() }).nullable(),
  members: z.array(z.object({ serverId: z.string(), hostname: z.string(), agentStatus: z.string(), factsAt: nullableString })),
  /** The latest backups and restores of this cluster. */
  operations: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(OperationKind),
      status: z.enum(OperationStatus),
      dryRun: z.boolean(),
      createdAt: z.string(),
      finishedAt: nullableString,
      error: nullableString,
    }),
  ),
});

/** One cluster: where each resource runs, constraints, fencing, member servers and their agents, recent backups/restores. */
export const getCluster = customerProcedure({ staff: 'viewer' })
  .input(clusterKeyInput)
  .output(clusterDetailOutput)
  .query(async ({ ctx, input }) => {
    const c = await findCluster(ctx.db, input.customerId, input.stack, input.name);
    // A node is matched to a member server by name (short hostnames and FQDNs both occur).
    const short = (h: string) => h.toLowerCase().split('.')[0]!;
    const memberOf = (node: string) => c.members.find((m) => short(m.hostname) === short(node));
    const ops = await ctx.db.operation.findMany({
      where: { customerId: input.customerId, clusterStack: c.stack, clusterName: c.name },
      orderBy: { createdAt: 'desc' },
      take: 10,
      select: { id: true, kind: true, status: true, dryRun: true, createdAt: true, finishedAt: true, error: true },
    });
    return {
      stack: c.stack,
      name: c.name,
      quorate: c.facts.quorate,
      factsAt: c.factsAt?.toISOString() ?? null,
      reportedBy: c.reportedBy,
      nodes: c.facts.nodes.map((n) => ({
        ...n,
        serverId: memberOf(n.name)?.serverId ?? null,
        agentStatus: memberOf(n.name)?.agentStatus ?? null,
      })),
      resources: c.facts.resources.map((r) => ({ ...r, running: isRunning(r) })),
      groups: c.facts.groups,
      constraints: c.facts.constraints,
      fencing: c.facts.fencing,
      members: c.members.map((m) => ({ ...m, factsAt: m.factsAt?.toISOString() ?? null })),
      operations: ops.map((o) => ({
        ...o,
        createdAt: o.createdAt.toISOString(),
        finishedAt: o.finishedAt?.toISOString() ?? null,
      })),
    };
  });
