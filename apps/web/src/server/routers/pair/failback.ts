// Failback requests from a failed-over pair: a dry run or the run, created like a failover's
// (options, no steps; the worker plans from the failover it reverses).
import { z } from 'zod';
import { failbackOptionsSchema, idSchema, type FailbackOptions } from '@tandem/engine';
import { orgProcedure } from '../../trpc';
import { checkConfirmName, checkRunbookRequest, loadRunbookPair, operationIdOutput, requestRunbook, requireAgentOnline } from './failover';

const describe = (o: FailbackOptions) =>
  [o.restoreFirst ? 'restore first' : 'no restore', o.reprotect ? 're-protect when done' : 'no re-protection'].join(', ');

export const failbackPreview = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, ...failbackOptionsSchema.shape }))
  .output(operationIdOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadRunbookPair(ctx.db, input.pairId);
    await checkRunbookRequest(ctx.db, pair, 'failback.requested');
    const options = failbackOptionsSchema.parse({ restoreFirst: input.restoreFirst, reprotect: input.reprotect });
    return requestRunbook(ctx, pair, {
      kind: 'failback',
      dryRun: true,
      options,
      event: `previewed a failback (${describe(options)}; dry run, nothing changes)`,
      action: 'pair.failback.preview',
      summary: `Previewed a failback of "${pair.name}" (${describe(options)})`,
    });
  });

/** Starts a failback: the source serves again. Its agent must answer (and the target's too when restoring first). */
export const failbackStart = orgProcedure('operator')
  .input(z.object({ pairId: idSchema, ...failbackOptionsSchema.shape, confirmName: z.string().max(200) }))
  .output(operationIdOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadRunbookPair(ctx.db, input.pairId);
    await checkRunbookRequest(ctx.db, pair, 'failback.requested');
    requireAgentOnline(pair.source, 'the source serves again after a failback, so its agent must answer before one starts');
    if (input.restoreFirst) requireAgentOnline(pair.target, 'restoring first copies from the target, so its agent must answer');
    checkConfirmName(pair, input.confirmName);
    const options = failbackOptionsSchema.parse({ restoreFirst: input.restoreFirst, reprotect: input.reprotect });
    return requestRunbook(ctx, pair, {
      kind: 'failback',
      dryRun: false,
      options,
      event: `started a failback to ${pair.source.hostname} (${describe(options)})`,
      action: 'pair.failback.start',
      summary: `Started a failback of "${pair.name}" to ${pair.source.hostname} (${describe(options)})`,
    });
  });
