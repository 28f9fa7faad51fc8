// An operation awaiting approval is planned at once, so the approval page can show what the
// failover would change; it does not run. Once approved (status pending) the same stored plan
// runs: the dry run the approvers saw and the run share one plan.
import { withTenant, type Db } from '@tandem/db';
import type { OperationJob } from '@tandem/jobs';
import { PlanningRefused, planRunbook } from '../operations/plan-runbook.ts';
import type { StepContext } from '../operations/steps.ts';

interface AwaitingOperation {
  id: string;
  kind: string;
  pairId: string | null;
  options: unknown;
  steps: unknown[];
}

/**
 * Plans the awaiting operation (unless it already has its steps). A refusal is kept as a note on
 * the operation and the request stays open: planning is tried again when it is approved.
 * Returns the operation's status afterwards ('pending' when it was approved meanwhile).
 */
export async function planAwaitingApproval(ctx: StepContext, op: AwaitingOperation): Promise<string> {
  if (op.steps.length === 0) {
    try {
      await planRunbook(ctx, { ...op, dryRun: false });
      await ctx.tx((db) => db.operation.updateMany({ where: { id: op.id, status: { in: ['awaiting_approval', 'pending'] } }, data: { error: null } }));
    } catch (err) {
      if (!(err instanceof PlanningRefused)) console.error(`[worker] planning awaiting operation ${op.id} crashed`, err);
      const reason = err instanceof Error ? err.message : String(err);
      await ctx.tx((db) =>
        db.operation.updateMany({ where: { id: op.id, status: 'awaiting_approval' }, data: { error: `The preview could not be planned yet: ${reason}`.slice(0, 2000) } }),
      );
    }
  }
  const now = await ctx.tx((db) => db.operation.findUnique({ where: { id: op.id }, select: { status: true } }));
  return now?.status ?? 'cancelled';
}

/**
 * Awaiting operations whose plan is not stored yet (a worker stopped before planning them), in
 * every tenant: queued again at worker start so their approval pages get the diff.
 */
export async function awaitingUnplanned(db: Db): Promise<OperationJob[]> {
  // approvals_due with a far date lists every open request across tenants (SECURITY DEFINER).
  const open = await db.$queryRaw<{ organizationId: string; customerId: string; operationId: string }[]>`SELECT * FROM approvals_due('infinity'::timestamp)`;
  const jobs: OperationJob[] = [];
  for (const a of open) {
    const op = await withTenant({ organizationId: a.organizationId, customerId: a.customerId, userId: null }, (tx) =>
      tx.operation.findUnique({ where: { id: a.operationId }, select: { status: true, changes: true, _count: { select: { steps: true } } } }), db);
    if (op?.status === 'awaiting_approval' && op.changes === null && op._count.steps === 0) jobs.push({ operationId: a.operationId, organizationId: a.organizationId, customerId: a.customerId });
  }
  return jobs;
}
