// Test failover requests: a dry run (the plan, nothing made) or the real test. Like failover, both
// create a test_failover Operation with NO steps; the worker plans it (planTestFailover) and,
// unless it is a dry run, runs it. A test never touches the source or the live replica, but it
// does make a copy on the target, so MSP operators may start one, and so may the approvers of the
// pair's own customer (self-service: they prove their own recovery); customer viewers may not.
import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { AppError, forbidden, idSchema, orgRoleAtLeast, pairStatusInfo, testFailoverMethods, testFailoverStatuses, type PairSettings } from '@tandem/engine';
import { storedSettings } from '../../services/pairs';
import { memberProcedure } from '../../trpc';
import { loadRunbookPair, operationIdOutput, requestRunbook, requireAgentOnline } from './failover';
import { refuseIfBusy } from './protection';

/** Replication methods whose test copy the agents know how to make. */

type RunbookPair = Awaited<ReturnType<typeof loadRunbookPair>>;

/**
 * MSP operators and up, or an approver of a customer. Which pairs a customer user reaches is
 * decided by the tenant scope: another customer's pair is simply not found.
 */
const testRequester = memberProcedure.use(({ ctx, next }) => {
  const a = ctx.actor;
  if (a.kind === 'staff' && !orgRoleAtLeast(a.role, 'operator')) throw forbidden('This needs the operator role or higher');
  if (a.kind === 'customer' && a.role !== 'approver') throw forbidden('Only approvers of your company can request a test failover');
  return next();
});

/**
 * The checks every test request passes, dry run or not: a protected pair (the target holds a
 * complete replica that keeps up), a method that can be tested, a complete configuration, and
 * nothing else running on the pair (its row stays locked until the transaction ends).
 */
async function checkTestRequest(db: TenantTx, pair: RunbookPair): Promise<PairSettings> {
  if (!(testFailoverStatuses as readonly string[]).includes(pair.status)) {
    const label = pairStatusInfo[pair.status]?.label.toLowerCase() ?? pair.status.replace(/_/g, ' ');
    throw new AppError('CONFLICT', `A test failover needs a protected pair (replicating, with the initial copy complete); the pair is ${label}`);
  }
  if (!testFailoverMethods.includes(pair.replicationMethod)) {
    throw new AppError('CONFLICT', 'Test failover is available for file and PostgreSQL pairs only');
  }
  const settings = storedSettings(pair);
  if (!settings) throw new AppError('CONFLICT', 'The pair has no complete configuration; edit it first');
  await refuseIfBusy(db, pair.id);
  return settings;
}

/** Plans a test failover without making anything: the operation's steps and changes show what a test would do. */
export const testFailoverPreview = testRequester
  .input(z.object({ pairId: idSchema }))
  .output(operationIdOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadRunbookPair(ctx.db, input.pairId);
    await checkTestRequest(ctx.db, pair);
    return requestRunbook(ctx, pair, {
      kind: 'test_failover',
      dryRun: true,
      options: {},
      event: 'previewed a test failover (dry run, nothing is copied)',
      action: 'pair.testFailover.preview',
      summary: `Previewed a test failover of "${pair.name}"`,
    });
  });

/**
 * Starts a test failover: a copy of the replica on the target is probed and removed; the source
 * and replication are untouched. Refused before it starts (pair not protected, another operation
 * in flight, target agent offline).
 */
export const testFailoverStart = testRequester
  .input(z.object({ pairId: idSchema }))
  .output(operationIdOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await loadRunbookPair(ctx.db, input.pairId);
    await checkTestRequest(ctx.db, pair);
    requireAgentOnline(pair.target, 'the test copy is made and probed there');
    return requestRunbook(ctx, pair, {
      kind: 'test_failover',
      dryRun: false,
      options: {},
      event: `started a test failover on ${pair.target.hostname} (the source and replication are untouched)`,
      action: 'pair.testFailover.start',
      summary: `Started a test failover of "${pair.name}" on ${pair.target.hostname}`,
    });
  });
