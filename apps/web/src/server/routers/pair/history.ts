import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';

const windows = { hour: { ms: 3600_000, bucketSeconds: 15 }, day: { ms: 86_400_000, bucketSeconds: 300 } } as const;

/**
 * Lag and queue over the last hour or day, in fixed buckets (worst lag, largest queue, mean
 * throughput per bucket), so a chart gets a few hundred points whatever the sample rate.
 */
export const pairHistory = memberProcedure
  .input(z.object({ pairId: idSchema, window: z.enum(['hour', 'day']).default('hour') }))
  .output(
    z.object({
      bucketSeconds: z.number(),
      from: z.string(),
      to: z.string(),
      points: z.array(z.object({ at: z.string(), lagSeconds: z.number().nullable(), queueBytes: z.number(), throughputBps: z.number() })),
    }),
  )
  .query(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, select: { id: true } });
    if (!pair) throw notFound('Protection pair');
    const { ms, bucketSeconds } = windows[input.window];
    const to = new Date();
    const from = new Date(to.getTime() - ms);
    // Row-level security limits this to the tenant; the pair was found in it above.
    const rows = await ctx.db.$queryRaw<{ bucket: Date; lag: number | null; queue: bigint | null; throughput: number | null }[]>`
      SELECT to_timestamp(floor(extract(epoch FROM at) / ${bucketSeconds}) * ${bucketSeconds}) AT TIME ZONE 'UTC' AS bucket,
             max("lagSeconds") AS lag, max("queueBytes") AS queue, avg("throughputBps") AS throughput
      FROM "ReplicationSample"
      WHERE "pairId" = ${pair.id}
        AND at > (${from.toISOString()}::timestamptz AT TIME ZONE 'UTC') AND at <= (${to.toISOString()}::timestamptz AT TIME ZONE 'UTC')
      GROUP BY 1 ORDER BY 1`;
    return {
      bucketSeconds,
      from: from.toISOString(),
      to: to.toISOString(),
      points: rows.map((r) => ({
        at: r.bucket.toISOString(),
        lagSeconds: r.lag === null ? null : Number(r.lag),
        queueBytes: Number(r.queue ?? 0),
        throughputBps: Number(r.throughput ?? 0),
      })),
    };
  });
