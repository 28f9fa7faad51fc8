// The approval policy: the customer's (MSP admins set it) and a pair's override (operators; {}
// inherits). Each answer states the effective policy in words, as every request will.
import { z } from 'zod';
import { approvalPolicyOverrideSchema, approvalPolicySchema, describeApprovalPolicy, effectiveApprovalPolicy, idSchema, notFound } from '@tandem/engine';
import { audit } from '../../services/audit';
import { customerProcedure } from '../../trpc';

const customerPolicyOutput = z.object({
  policy: approvalPolicySchema,
  statement: z.string(),
  /** The recovery point objective: lag above it is alerted and reported. */
  rpoSeconds: z.number().int(),
});

export const getCustomerPolicy = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .output(customerPolicyOutput)
  .query(({ ctx }) => {
    const policy = effectiveApprovalPolicy(ctx.customer.approvalPolicy, {});
    return { policy, statement: describeApprovalPolicy(policy), rpoSeconds: ctx.customer.rpoSeconds };
  });

export const setCustomerPolicy = customerProcedure({ staff: 'admin' })
  .input(z.object({ policy: approvalPolicySchema, rpoSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional() }))
  .output(customerPolicyOutput)
  .mutation(async ({ ctx, input }) => {
    const before = effectiveApprovalPolicy(ctx.customer.approvalPolicy, {});
    const customer = await ctx.db.customer.update({
      where: { id: ctx.customer.id },
      data: { approvalPolicy: input.policy as never, ...(input.rpoSeconds === undefined ? {} : { rpoSeconds: input.rpoSeconds }) },
    });
    const statement = describeApprovalPolicy(input.policy);
    await audit(ctx.db, ctx.actor, {
      action: 'customer.approval_policy',
      targetType: 'Customer',
      targetId: customer.id,
      customerId: customer.id,
      summary: `Set the approval policy of customer "${customer.name}": ${statement}${input.rpoSeconds === undefined || input.rpoSeconds === ctx.customer.rpoSeconds ? '' : ` RPO ${input.rpoSeconds} s (was ${ctx.customer.rpoSeconds} s).`}`,
      changes: { policy: { from: before, to: input.policy }, ...(input.rpoSeconds === undefined ? {} : { rpoSeconds: { from: ctx.customer.rpoSeconds, to: input.rpoSeconds } }) },
    });
    return { policy: input.policy, statement, rpoSeconds: customer.rpoSeconds };
  });

const pairPolicyOutput = z.object({
  override: approvalPolicyOverrideSchema,
  effective: approvalPolicySchema,
  statement: z.string(),
  inherited: z.boolean(),
});

function pairPolicyOf(customerPolicy: unknown, stored: unknown) {
  const parsed = approvalPolicyOverrideSchema.safeParse(stored ?? {});
  const override = parsed.success ? Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) : {};
  const effective = effectiveApprovalPolicy(customerPolicy, override);
  return { override, effective, statement: describeApprovalPolicy(effective), inherited: Object.keys(override).length === 0 };
}

export const getPairPolicy = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .input(z.object({ pairId: idSchema }))
  .output(pairPolicyOutput)
  .query(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findFirst({ where: { id: input.pairId, customerId: ctx.customer.id }, select: { approvalPolicy: true } });
    if (!pair) throw notFound('Protection pair');
    return pairPolicyOf(ctx.customer.approvalPolicy, pair.approvalPolicy);
  });

export const setPairPolicy = customerProcedure({ staff: 'operator' })
  .input(z.object({ pairId: idSchema, override: approvalPolicyOverrideSchema }))
  .output(pairPolicyOutput)
  .mutation(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findFirst({ where: { id: input.pairId, customerId: ctx.customer.id }, select: { id: true, name: true, approvalPolicy: true } });
    if (!pair) throw notFound('Protection pair');
    const override = Object.fromEntries(Object.entries(input.override).filter(([, v]) => v !== undefined));
    await ctx.db.protectionPair.update({ where: { id: pair.id }, data: { approvalPolicy: override as never } });
    const out = pairPolicyOf(ctx.customer.approvalPolicy, override);
    await audit(ctx.db, ctx.actor, {
      action: 'pair.approval_policy',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: ctx.customer.id,
      summary: out.inherited ? `The pair "${pair.name}" now follows the customer's approval policy` : `Set an approval policy override on the pair "${pair.name}": ${out.statement}`,
      changes: { override: { from: pair.approvalPolicy, to: override } },
    });
    return out;
  });
