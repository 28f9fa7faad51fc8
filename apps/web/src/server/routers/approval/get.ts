import { z } from 'zod';
import { ApprovalDecision, OperationStatus } from '@tandem/db';
import { approvalPolicySchema, describeApprovalPolicy, idSchema, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { operationDetailOutput } from '../pair/operation';
import { policyOf, voterSide } from './shared';

export const approvalDetailOutput = z.object({
  id: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  pair: z.object({ id: z.string(), name: z.string(), status: z.string(), source: z.string(), target: z.string() }).nullable(),
  operation: z.object({ id: z.string(), status: z.enum(OperationStatus), mode: z.string().nullable(), changes: operationDetailOutput.shape.changes, pointOfNoReturn: z.number().int().nullable(), note: z.string().nullable() }),
  /** What detection saw (the latest detection line of the pair's history before the request). */
  happened: z.object({ at: z.string(), message: z.string() }).nullable(),
  decision: z.enum(ApprovalDecision),
  policy: approvalPolicySchema,
  policyStatement: z.string(),
  requiredApprovals: z.number().int(),
  approvals: z.number().int(),
  deadlineAt: z.string(),
  escalatedAt: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  comment: z.string().nullable(),
  votes: z.array(z.object({ who: z.string(), side: z.string(), decision: z.string(), comment: z.string().nullable(), at: z.string() })),
  /** Whether the caller may answer now, and if not, why. */
  canVote: z.boolean(),
  cannotVoteReason: z.string().nullable(),
});

export const getApproval = memberProcedure
  .input(z.object({ approvalId: idSchema }))
  .output(approvalDetailOutput)
  .query(async ({ ctx, input }) => {
    const a = await ctx.db.approval.findUnique({
      where: { id: input.approvalId },
      include: {
        votes: { orderBy: { createdAt: 'asc' } },
        operation: { select: { id: true, status: true, options: true, changes: true, pointOfNoReturn: true, error: true, pair: { select: { id: true, name: true, status: true, source: { select: { hostname: true } }, target: { select: { hostname: true } } } } } },
      },
    });
    if (!a) throw notFound('Approval request');
    const customer = await ctx.db.customer.findUnique({ where: { id: a.customerId }, select: { name: true } });
    const policy = policyOf(a.policy);
    const pair = a.operation.pair;
    const detection = pair
      ? await ctx.db.pairEvent.findFirst({ where: { pairId: pair.id, kind: 'detection', at: { lte: a.createdAt } }, orderBy: { at: 'desc' }, select: { at: true, message: true } })
      : null;
    const changes = operationDetailOutput.shape.changes.safeParse(a.operation.changes);
    const may = voterSide(ctx.actor, policy);
    const voted = a.votes.some((v) => v.userId === ctx.actor.userId);
    const cannotVoteReason =
      a.decision !== 'pending' ? `This request is ${a.decision === 'expired' ? 'closed (expired or withdrawn)' : a.decision}` : 'refusal' in may ? may.refusal : voted ? 'You have already answered this request' : null;
    const mode = (a.operation.options as { mode?: unknown } | null)?.mode;
    return {
      id: a.id,
      customerId: a.customerId,
      customerName: customer?.name ?? '',
      pair: pair ? { id: pair.id, name: pair.name, status: pair.status, source: pair.source.hostname, target: pair.target.hostname } : null,
      operation: {
        id: a.operation.id,
        status: a.operation.status,
        mode: typeof mode === 'string' ? mode : null,
        changes: changes.success ? changes.data : null,
        pointOfNoReturn: a.operation.pointOfNoReturn,
        note: a.operation.error,
      },
      happened: detection ? { at: detection.at.toISOString(), message: detection.message } : null,
      decision: a.decision,
      policy,
      policyStatement: describeApprovalPolicy(policy),
      requiredApprovals: a.requiredApprovals,
      approvals: new Set(a.votes.filter((v) => v.decision === 'approved').map((v) => v.userId)).size,
      deadlineAt: a.deadlineAt.toISOString(),
      escalatedAt: a.escalatedAt?.toISOString() ?? null,
      createdAt: a.createdAt.toISOString(),
      decidedAt: a.decidedAt?.toISOString() ?? null,
      comment: a.comment,
      votes: a.votes.map((v) => ({ who: v.userLabel, side: v.side, decision: v.decision, comment: v.comment, at: v.createdAt.toISOString() })),
      canVote: cannotVoteReason === null,
      cannotVoteReason,
    };
  });
