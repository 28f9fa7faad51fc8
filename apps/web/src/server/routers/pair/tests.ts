// A pair's test failovers (dry runs left out) with their results, and the test settings (probes,
// copy method) changed on their own: they only matter to test failovers, so unlike the rest of
// the configuration they may change while the pair is protected.
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import { OperationStatus } from '@tandem/db';
import { AppError, fieldErrors, idSchema, inFlightStatuses, notFound, pairSettingsSchema, settingsToColumns, testReportSchema, testSettingsSchema } from '@tandem/engine';
import { audit } from '../../services/audit';
import { pairEvent, storedSettings } from '../../services/pairs';
import { memberProcedure, orgProcedure } from '../../trpc';

const testOutput = z.object({
  id: z.string(),
  status: z.enum(OperationStatus),
  /** From the evidence report: null until the test has ended (or when it ended without one). */
  result: z.enum(['passed', 'failed']).nullable(),
  probes: z.object({ passed: z.number().int(), total: z.number().int() }).nullable(),
  /** false: the teardown did not remove every copy (the report says what is left). */
  cleanedUp: z.boolean().nullable(),
  hasReport: z.boolean(),
  error: z.string().nullable(),
  /** A person's name, "Scheduled drill", or for customer users "Your service provider". */
  startedBy: z.string(),
  drill: z.boolean(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** The pair's test failovers, newest first, and when a test last passed. Customer users see their own pairs' tests. */
export const pairTests = memberProcedure
  .input(z.object({ pairId: idSchema, limit: z.number().int().min(1).max(100).default(20) }))
  .output(z.object({ lastTestSucceededAt: z.string().nullable(), tests: z.array(testOutput) }))
  .query(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, select: { id: true, lastTestSucceededAt: true } });
    if (!pair) throw notFound('Protection pair');
    const ops = await ctx.db.operation.findMany({
      where: { pairId: pair.id, kind: 'test_failover', dryRun: false },
      orderBy: { createdAt: 'desc' },
      take: input.limit,
    });
    const ids = [...new Set(ops.map((o) => o.requestedById).filter((id): id is string => id !== null))];
    const names = new Map((await ctx.db.user.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((u) => [u.id, u.name]));
    return {
      lastTestSucceededAt: iso(pair.lastTestSucceededAt),
      tests: ops.map((o) => {
        const report = o.report === null ? null : testReportSchema.safeParse(o.report);
        if (report && !report.success) console.error(`[pair.tests] operation ${o.id} has a report of an unexpected shape`, report.error.issues[0]);
        const r = report?.success ? report.data : null;
        const drill = o.drillScheduleId !== null;
        // Customer users do not see MSP staff (row-level security): they read "Your service provider".
        const startedBy = o.requestedById
          ? (names.get(o.requestedById) ?? (ctx.actor.kind === 'customer' ? 'Your service provider' : 'A former member'))
          : drill
            ? 'Scheduled drill'
            : 'Tandem (automatic)';
        return {
          id: o.id,
          status: o.status,
          result: r?.result ?? null,
          probes: r ? { passed: r.probes.filter((p) => p.passed).length, total: r.probes.length } : null,
          cleanedUp: r?.cleanedUp ?? null,
          hasReport: r !== null,
          error: o.error,
          startedBy,
          drill,
          createdAt: o.createdAt.toISOString(),
          startedAt: iso(o.startedAt),
          finishedAt: iso(o.finishedAt),
        };
      }),
    };
  });

/**
 * Changes only the test settings (probes, copy method). Allowed while protected: replication and
 * failover never read them; a test already planned keeps the probes it was planned with. Probes
 * must fit the pair's application (the same rule the full settings form applies).
 */
export const updatePairTesting = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, testing: testSettingsSchema }))
  .output(z.object({ id: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId } });
    if (!pair) throw notFound('Protection pair');
    if (inFlightStatuses.includes(pair.status)) {
      throw new AppError('CONFLICT', `The pair is ${pair.status.replace(/_/g, ' ')}: change its test settings when that has finished`);
    }
    const before = storedSettings(pair);
    if (!before) throw new AppError('CONFLICT', 'The pair has no complete configuration; edit it first');
    const checked = pairSettingsSchema.safeParse({ ...before, testing: input.testing });
    if (!checked.success) {
      const fields = Object.fromEntries(Object.entries(fieldErrors(checked.error)).filter(([k]) => k.startsWith('testing.')));
      const first = Object.values(fields)[0] ?? checked.error.issues[0]?.message ?? 'The test settings are not valid';
      throw new AppError('BAD_REQUEST', first, fields);
    }
    const testing = checked.data.testing;
    if (JSON.stringify(testing) === JSON.stringify(before.testing)) return { id: pair.id };
    await ctx.db.protectionPair.update({
      where: { id: pair.id },
      data: { testSettings: settingsToColumns(checked.data).testSettings, configChangedAt: new Date() },
    });
    const what = testing.probes.length === 0 ? 'default probes' : `${testing.probes.length} probe${testing.probes.length === 1 ? '' : 's'}`;
    await pairEvent(ctx.db, pair, { kind: 'configuration', message: `Test failover settings changed by ${ctx.actor.label}: ${what}, ${testing.copyMethod === 'auto' ? 'copy-on-write where possible' : 'plain copy'}` });
    await audit(ctx.db, ctx.actor, {
      action: 'pair.testing.update',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Changed the test failover settings of "${pair.name}" (${what})`,
      changes: { from: before.testing, to: testing },
    });
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'settings'));
    return { id: pair.id };
  });
