// One person's answer to a pending failover. One rejection rejects (the pair stays failover-
// pending, with the reason and who gave it); approvals from different people count up to what the
// policy needs (two with four eyes), then the awaiting operation runs the plan the page showed.
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent } from '@tandem/db';
import { AppError, approvalState, idSchema, notFound } from '@tandem/engine';
import { audit } from '../../services/audit';
import { startOperation } from '../../services/operations';
import { memberProcedure } from '../../trpc';
import { lockApproval, policyOf, voterSide } from './shared';

export const decideApprovalInput = z
  .object({
    approvalId: idSchema,
    decision: z.enum(['approved', 'rejected']),
    comment: z.string().trim().max(2000).optional(),
  })
  .refine((v) => v.decision === 'approved' || (v.comment ?? '').length > 0, { message: 'Say why you reject the failover', path: ['comment'] });

export const decideApprovalOutput = z.object({
  decision: z.enum(['pending', 'approved', 'rejected']),
  approvals: z.number().int(),
  needed: z.number().int(),
  /** Set when the approval started the failover. */
  operationId: z.string().nullable(),
});

export const decideApproval = memberProcedure
  .input(decideApprovalInput)
  .output(decideApprovalOutput)
  .mutation(async ({ ctx, input }) => {
    const found = await ctx.db.approval.findUnique({ where: { id: input.approvalId }, select: { id: true } });
    if (!found) throw notFound('Approval request');
    await lockApproval(ctx.db, found.id);
    const a = await ctx.db.approval.findUniqueOrThrow({
      where: { id: found.id },
      include: { votes: true, operation: { select: { id: true, status: true, pair: { select: { id: true, name: true, customer: { select: { name: true } } } } } } },
    });
    if (a.decision !== 'pending' || a.operation.status !== 'awaiting_approval') {
      throw new AppError('CONFLICT', a.decision === 'pending' ? 'The failover is no longer waiting for approval' : `This request is already ${a.decision === 'expired' ? 'closed (expired or withdrawn)' : a.decision}`);
    }
    if (Date.now() >= a.deadlineAt.getTime()) throw new AppError('CONFLICT', 'The deadline of this request has passed; its policy decides what happens now');
    const policy = policyOf(a.policy);
    const may = voterSide(ctx.actor, policy);
    if ('refusal' in may) throw new AppError('FORBIDDEN', may.refusal);
    if (a.votes.some((v) => v.userId === ctx.actor.userId)) {
      throw new AppError('CONFLICT', 'You have already answered this request; four eyes needs a second, different person');
    }
    const comment = input.comment ? input.comment : null;
    await ctx.db.approvalVote.create({
      data: { organizationId: a.organizationId, customerId: a.customerId, approvalId: a.id, userId: ctx.actor.userId, userLabel: ctx.actor.label, side: may.side, decision: input.decision, comment },
    });
    const votes = [...a.votes.map((v) => ({ userId: v.userId, side: v.side as 'msp' | 'customer', decision: v.decision as 'approved' | 'rejected' })), { userId: ctx.actor.userId, side: may.side, decision: input.decision }];
    const state = approvalState(policy, votes);
    const pair = a.operation.pair;
    const now = new Date();
    const who = `${ctx.actor.label}${may.side === 'customer' ? ' (customer)' : ''}`;

    let message: string;
    let started: string | null = null;
    if (state.decision === 'approved') {
      await ctx.db.approval.update({ where: { id: a.id }, data: { decision: 'approved', decidedById: ctx.actor.userId, decidedAt: now, comment } });
      await ctx.db.operation.update({ where: { id: a.operationId }, data: { status: 'pending', requestedById: ctx.actor.userId, error: null } });
      started = a.operationId;
      message = `${who} approved the failover${state.needed > 1 ? ` (${state.approvals} of ${state.needed})` : ''}: it starts now`;
    } else if (state.decision === 'rejected') {
      await ctx.db.approval.update({ where: { id: a.id }, data: { decision: 'rejected', decidedById: ctx.actor.userId, decidedAt: now, comment } });
      await ctx.db.operation.update({ where: { id: a.operationId }, data: { status: 'cancelled', error: `Rejected by ${ctx.actor.label}: ${comment ?? ''}`, finishedAt: now } });
      message = `${who} rejected the failover: ${comment ?? ''}. The pair stays failover-pending.`;
    } else {
      message = `${who} approved the failover (${state.approvals} of ${state.needed}); waiting for another person`;
    }
    await audit(ctx.db, ctx.actor, {
      action: input.decision === 'approved' ? 'approval.approve' : 'approval.reject',
      targetType: 'Approval',
      targetId: a.id,
      customerId: a.customerId,
      summary: `${input.decision === 'approved' ? 'Approved' : 'Rejected'} the failover of "${pair?.name ?? 'a pair'}"${comment ? `: ${comment}` : ''}`,
      changes: { approvalId: a.id, operationId: a.operationId, side: may.side, decision: input.decision, comment, outcome: state.decision, approvals: state.approvals, needed: state.needed },
    });
    await emitEvent(ctx.db, {
      organizationId: a.organizationId,
      customerId: a.customerId,
      pairId: a.pairId,
      type: 'approval.decided',
      severity: state.decision === 'rejected' ? 'warning' : 'info',
      kind: 'operation',
      at: now,
      message,
      subject: { kind: 'approval', id: a.id, name: pair?.name ?? 'Failover approval' },
      customerName: pair?.customer.name,
      pairName: pair?.name,
      data: { approvalId: a.id, operationId: a.operationId, vote: input.decision, by: ctx.actor.label, side: may.side, comment, decision: state.decision, approvals: state.approvals, needed: state.needed },
    });
    if (started) {
      const job = { operationId: a.operationId, organizationId: a.organizationId, customerId: a.customerId };
      ctx.afterCommit(() => startOperation(job));
    }
    if (pair) ctx.afterCommit(() => publishPairChange(a, pair.id, 'operation'));
    return { decision: state.decision, approvals: state.approvals, needed: state.needed, operationId: started };
  });
