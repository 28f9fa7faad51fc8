import { z } from 'zod';

// Who decides a pending failover, by when, and what happens if nobody does. Set per customer,
// overridable per pair; the effective policy is copied onto each request and stated on it.

const policyFields = {
  /** msp: MSP operators (operator role or higher); customer: the customer's approvers; any: either. */
  approvers: z.enum(['msp', 'customer', 'any']),
  /** Two different people must approve (either side, within `approvers`). */
  fourEyes: z.boolean(),
  /** Minutes from the request to the deadline. */
  deadlineMinutes: z.number().int().min(1).max(7 * 24 * 60),
  /** At half-time, notify the escalation contacts (and the MSP's admins when none are listed). */
  escalate: z.boolean(),
  escalationEmails: z.array(z.email()).max(20),
  /** When the deadline passes unanswered: run the failover, or abandon the request (the pair stays pending). */
  onDeadline: z.enum(['proceed', 'abandon']),
};

export const approvalPolicySchema = z.object({
  approvers: policyFields.approvers.default('any'),
  fourEyes: policyFields.fourEyes.default(false),
  deadlineMinutes: policyFields.deadlineMinutes.default(15),
  escalate: policyFields.escalate.default(true),
  escalationEmails: policyFields.escalationEmails.default([]),
  onDeadline: policyFields.onDeadline.default('abandon'),
});
export type ApprovalPolicy = z.infer<typeof approvalPolicySchema>;

/** A pair's override: any subset of the policy ({} inherits the customer's). No defaults here, so unset stays unset. */
export const approvalPolicyOverrideSchema = z.object(policyFields).partial();
export type ApprovalPolicyOverride = z.infer<typeof approvalPolicyOverrideSchema>;

export const defaultApprovalPolicy: ApprovalPolicy = approvalPolicySchema.parse({});

/** The customer's policy with the pair's overrides on top (stored JSON read leniently: bad parts fall back to defaults). */
export function effectiveApprovalPolicy(customerPolicy: unknown, pairOverride: unknown): ApprovalPolicy {
  const base = approvalPolicySchema.safeParse(customerPolicy ?? {});
  const over = approvalPolicyOverrideSchema.safeParse(pairOverride ?? {});
  const merged = { ...(base.success ? base.data : defaultApprovalPolicy), ...(over.success ? stripUndefined(over.data) : {}) };
  return approvalPolicySchema.parse(merged);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const requiredApprovals = (p: ApprovalPolicy) => (p.fourEyes ? 2 : 1);

export type ApproverSide = 'msp' | 'customer';

/** May someone on `side` answer under this policy? */
export function sideMayApprove(p: ApprovalPolicy, side: ApproverSide): boolean {
  return p.approvers === 'any' || p.approvers === side;
}

export interface ApprovalVoteInput {
  userId: string;
  side: ApproverSide;
  decision: 'approved' | 'rejected';
}

/**
 * The request's state after these votes: one rejection rejects; approvals from distinct people
 * (on allowed sides) count up to the required number.
 */
export function approvalState(p: ApprovalPolicy, votes: ApprovalVoteInput[]): { decision: 'pending' | 'approved' | 'rejected'; approvals: number; needed: number } {
  const needed = requiredApprovals(p);
  const allowed = votes.filter((v) => sideMayApprove(p, v.side));
  if (allowed.some((v) => v.decision === 'rejected')) return { decision: 'rejected', approvals: 0, needed };
  const approvals = new Set(allowed.filter((v) => v.decision === 'approved').map((v) => v.userId)).size;
  return { decision: approvals >= needed ? 'approved' : 'pending', approvals, needed };
}

/** What the clock says about a pending request: nothing yet, escalate (once, at half-time), or the deadline. */
export function approvalClock(now: number, a: { createdAt: number; deadlineAt: number; escalatedAt: number | null }, p: ApprovalPolicy): 'wait' | 'escalate' | 'deadline' {
  if (now >= a.deadlineAt) return 'deadline';
  const half = a.createdAt + (a.deadlineAt - a.createdAt) / 2;
  if (p.escalate && a.escalatedAt === null && now >= half) return 'escalate';
  return 'wait';
}

/** The policy in one sentence, stated on every request and e-mail. */
export function describeApprovalPolicy(p: ApprovalPolicy): string {
  const who = p.approvers === 'msp' ? 'an MSP operator' : p.approvers === 'customer' ? "one of the customer's approvers" : "an MSP operator or one of the customer's approvers";
  const whoFour = p.approvers === 'msp' ? 'two different MSP operators' : p.approvers === 'customer' ? "two different customer approvers" : 'two different people (MSP operators or customer approvers)';
  const first = `Needs approval from ${p.fourEyes ? whoFour : who} within ${p.deadlineMinutes} minute${p.deadlineMinutes === 1 ? '' : 's'}.`;
  const esc = p.escalate ? ` At half-time the escalation contacts are notified.` : '';
  const end = p.onDeadline === 'proceed' ? ' If nobody answers by then, the failover runs.' : ' If nobody answers by then, the request is abandoned and the pair stays pending.';
  return first + esc + end;
}
