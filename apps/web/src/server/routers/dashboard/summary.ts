import { z } from 'zod';
import { Prisma } from '@tandem/db';
import { lagStatuses, pairStatuses, type PairStatus } from '@tandem/engine';
import { orgProcedure } from '../../trpc';

/** A customer "needs attention" when its worst current lag is above this (or a pair waits, or an agent is offline). */
export const attentionLagSeconds = 300;

const byStatusOutput = z.object(Object.fromEntries(pairStatuses.map((s) => [s, z.number().int()])) as Record<PairStatus, z.ZodNumber>);

export const dashboardCustomerOutput = z.object({
  id: z.string(),
  name: z.string(),
  servers: z.number().int(),
  pairs: z.number().int(),
  /** Pair counts per status; every status present (0 when none). */
  byStatus: byStatusOutput,
  /** The highest lag among the latest samples of replicating pairs (mirroring, protected, failover pending); null: no sample. */
  worstLagSeconds: z.number().nullable(),
  /** Pairs waiting for a failover decision (failover pending). */
  pending: z.number().int(),
  agentsOnline: z.number().int(),
  agentsOffline: z.number().int(),
  /** Servers whose agent never connected (no agent yet, or enrolled and never seen). */
  neverConnected: z.number().int(),
  needsAttention: z.boolean(),
});
export type DashboardCustomer = z.infer<typeof dashboardCustomerOutput>;

export const dashboardSummaryOutput = z.object({
  attentionLagSeconds: z.number(),
  customers: z.array(dashboardCustomerOutput),
  /** The same counts over all customers; needsAttention counts customers. */
  totals: dashboardCustomerOutput.omit({ id: true, name: true, needsAttention: true }).extend({
    customers: z.number().int(),
    needsAttention: z.number().int(),
  }),
});
export type DashboardSummary = z.infer<typeof dashboardSummaryOutput>;

interface Row {
  id: string;
  name: string;
  servers: number;
  pairs: number;
  by_status: Partial<Record<PairStatus, number>> | null;
  worst_lag: number | null;
  pending: number;
  agents_online: number;
  agents_offline: number;
  never_connected: number;
}

const zeroByStatus = () => Object.fromEntries(pairStatuses.map((s) => [s, 0])) as Record<PairStatus, number>;

/**
 * The MSP dashboard: every customer of the organization with its pairs by status, worst current
 * lag, pairs waiting for a failover decision and agents offline, plus totals. One SQL statement
 * (not one query per customer); the whole list is returned (a few hundred small rows) and sorted
 * and filtered in the browser, so sorting and filtering need no round trip.
 *
 * Raw SQL bypasses the Prisma tenant extension: the isolation here is PostgreSQL's row-level
 * security, which applies to every table read below through the tenant transaction's settings.
 */
export const dashboardSummary = orgProcedure('viewer')
  .output(dashboardSummaryOutput)
  .query(async ({ ctx }) => {
    // The latest sample of a pair is one step down the (pairId, at) index. The planner cannot
    // know how selective the row-level security filter on the samples is (it reads settings), so
    // it guesses ~1 row per pair, and then prefers a bitmap scan of every sample of the pair and
    // a sort — 100 heap pages per pair instead of one. Bitmap scans are turned off for the rest
    // of this (read-only) transaction; set_config(…, true) ends with it.
    await ctx.db.$executeRaw`SELECT set_config('enable_bitmapscan', 'off', true)`;
    const rows = await ctx.db.$queryRaw<Row[]>`
      WITH pair_rows AS (
        -- The latest sample of each replicating pair, by a backward scan of (pairId, at).
        SELECT p."customerId", p.status, latest.lag
        FROM "ProtectionPair" p
        LEFT JOIN LATERAL (
          SELECT s."lagSeconds" AS lag
          FROM "ReplicationSample" s
          WHERE s."pairId" = p.id AND p.status::text IN (${Prisma.join([...lagStatuses])})
          ORDER BY s.at DESC
          LIMIT 1
        ) latest ON true
      ), per_status AS (
        SELECT "customerId", status, count(*)::int AS n, max(lag) AS worst_lag
        FROM pair_rows
        GROUP BY "customerId", status
      ), pair_agg AS (
        SELECT "customerId",
               sum(n)::int AS pairs,
               jsonb_object_agg(status, n) AS by_status,
               max(worst_lag) AS worst_lag,
               coalesce(sum(n) FILTER (WHERE status = 'failover_pending'), 0)::int AS pending
        FROM per_status
        GROUP BY "customerId"
      ), server_agg AS (
        SELECT "customerId", count(*)::int AS servers FROM "Server" GROUP BY "customerId"
      ), agent_agg AS (
        -- Agents carry their customer, so no join to servers is needed; a server has at most one.
        SELECT "customerId",
               count(*)::int AS agents,
               count(*) FILTER (WHERE status = 'online')::int AS agents_online,
               count(*) FILTER (WHERE status = 'offline')::int AS agents_offline,
               count(*) FILTER (WHERE status = 'pending' AND "lastSeenAt" IS NULL)::int AS never_seen
        FROM "Agent"
        GROUP BY "customerId"
      )
      SELECT c.id, c.name,
             coalesce(sa.servers, 0) AS servers,
             coalesce(pa.pairs, 0) AS pairs,
             pa.by_status,
             pa.worst_lag,
             coalesce(pa.pending, 0) AS pending,
             coalesce(aa.agents_online, 0) AS agents_online,
             coalesce(aa.agents_offline, 0) AS agents_offline,
             -- Servers without an agent, plus agents enrolled and never seen.
             (coalesce(sa.servers, 0) - coalesce(aa.agents, 0) + coalesce(aa.never_seen, 0)) AS never_connected
      FROM "Customer" c
      LEFT JOIN pair_agg pa ON pa."customerId" = c.id
      LEFT JOIN server_agg sa ON sa."customerId" = c.id
      LEFT JOIN agent_agg aa ON aa."customerId" = c.id
      ORDER BY c.name`;

    const totals: DashboardSummary['totals'] = {
      customers: rows.length,
      needsAttention: 0,
      servers: 0,
      pairs: 0,
      byStatus: zeroByStatus(),
      worstLagSeconds: null,
      pending: 0,
      agentsOnline: 0,
      agentsOffline: 0,
      neverConnected: 0,
    };
    const customers = rows.map((r): DashboardCustomer => {
      const byStatus = { ...zeroByStatus(), ...r.by_status };
      const needsAttention = r.pending > 0 || r.agents_offline > 0 || (r.worst_lag ?? 0) > attentionLagSeconds;
      totals.needsAttention += needsAttention ? 1 : 0;
      totals.servers += r.servers;
      totals.pairs += r.pairs;
      for (const s of pairStatuses) totals.byStatus[s] += byStatus[s];
      if (r.worst_lag !== null && (totals.worstLagSeconds === null || r.worst_lag > totals.worstLagSeconds)) totals.worstLagSeconds = r.worst_lag;
      totals.pending += r.pending;
      totals.agentsOnline += r.agents_online;
      totals.agentsOffline += r.agents_offline;
      totals.neverConnected += r.never_connected;
      return {
        id: r.id,
        name: r.name,
        servers: r.servers,
        pairs: r.pairs,
        byStatus,
        worstLagSeconds: r.worst_lag,
        pending: r.pending,
        agentsOnline: r.agents_online,
        agentsOffline: r.agents_offline,
        neverConnected: r.never_connected,
        needsAttention,
      };
    });
    return { attentionLagSeconds, customers, totals };
  });
