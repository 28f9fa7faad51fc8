import { z } from 'zod';
import { ApprovalDecision } from '@tandem/db';
import { describeApprovalPolicy, idSchema, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { policyOf, voterSide } from './shared';

export const approvalSummaryOutput = z.object({
  id: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  pairId: z.string().nullable(),
  pairName: z.string().nullable(),
  operationId: z.string(),
  decision: z.enum(ApprovalDecision),
  approvals: z.number().int(),
  requiredApprovals: z.number().int(),
  policyStatement: z.string(),
  deadlineAt: z.string(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  /** The caller may still answer it. */
  canVote: z.boolean(),
});

/**
 * Pending requests first, then the most recent decided ones. Customer users see their own
 * customer's (row-level security); staff see all of their organization's, or one customer's.
 */
export const listApprovals = memberProcedure
  .input(z.object({ customerId: idSchema.optional(), limit: z.number().int().min(1).max(200).default(50) }).default({ limit: 50 }))
  .output(z.array(approvalSummaryOutput))
  .query(async ({ ctx, input }) => {
    if (input.customerId && !(await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } }))) throw notFound('Customer');
    const where = input.customerId ? { customerId: input.customerId } : {};
    const include = { votes: { select: { userId: true, decision: true } }, operation: { select: { pair: { select: { name: true, customer: { select: { name: true } } } } } } } as const;
    const pending = await ctx.db.approval.findMany({ where: { ...where, decision: 'pending' }, include, orderBy: { deadlineAt: 'asc' } });
    const recent = await ctx.db.approval.findMany({ where: { ...where, decision: { not: 'pending' } }, include, orderBy: { createdAt: 'desc' }, take: input.limit });
    const customers = new Map((await ctx.db.customer.findMany({ select: { id: true, name: true } })).map((c) => [c.id, c.name]));
    return [...pending, ...recent].map((a) => {
      const policy = policyOf(a.policy);
      const may = voterSide(ctx.actor, policy);
      return {
        id: a.id,
        customerId: a.customerId,
        customerName: customers.get(a.customerId) ?? a.operation.pair?.customer.name ?? '',
        pairId: a.pairId,
        pairName: a.operation.pair?.name ?? null,
        operationId: a.operationId,
        decision: a.decision,
        approvals: new Set(a.votes.filter((v) => v.decision === 'approved').map((v) => v.userId)).size,
        requiredApprovals: a.requiredApprovals,
        policyStatement: describeApprovalPolicy(policy),
        deadlineAt: a.deadlineAt.toISOString(),
        createdAt: a.createdAt.toISOString(),
        decidedAt: a.decidedAt?.toISOString() ?? null,
        canVote: a.decision === 'pending' && 'side' in may && !a.votes.some((v) => v.userId === ctx.actor.userId),
      };
    });
  });
