import { describe, expect, it } from 'vitest';
import { approvalClock, approvalState, defaultApprovalPolicy, describeApprovalPolicy, effectiveApprovalPolicy, sideMayApprove, type ApprovalPolicy } from './approval-policy.ts';

const policy = (p: Partial<ApprovalPolicy> = {}): ApprovalPolicy => ({ ...defaultApprovalPolicy, ...p });

describe('approval policy', () => {
  it('defaults: anyone allowed, one approval, 15 minutes, escalation on, abandon at the deadline', () => {
    expect(defaultApprovalPolicy).toEqual({ approvers: 'any', fourEyes: false, deadlineMinutes: 15, escalate: true, escalationEmails: [], onDeadline: 'abandon' });
  });

  it("a pair's override replaces only the fields it sets; bad stored JSON falls back to defaults", () => {
    const customer = { approvers: 'customer', deadlineMinutes: 30, onDeadline: 'proceed' };
    expect(effectiveApprovalPolicy(customer, {})).toMatchObject({ approvers: 'customer', deadlineMinutes: 30, onDeadline: 'proceed', fourEyes: false });
    expect(effectiveApprovalPolicy(customer, { fourEyes: true, deadlineMinutes: 5 })).toMatchObject({ approvers: 'customer', deadlineMinutes: 5, fourEyes: true });
    expect(effectiveApprovalPolicy({ approvers: 'nobody' }, { deadlineMinutes: -1 })).toEqual(defaultApprovalPolicy);
    expect(effectiveApprovalPolicy(null, undefined)).toEqual(defaultApprovalPolicy);
  });

  it('who may answer follows the approvers setting', () => {
    expect(sideMayApprove(policy({ approvers: 'msp' }), 'customer')).toBe(false);
    expect(sideMayApprove(policy({ approvers: 'msp' }), 'msp')).toBe(true);
    expect(sideMayApprove(policy({ approvers: 'customer' }), 'msp')).toBe(false);
    expect(sideMayApprove(policy({ approvers: 'any' }), 'customer')).toBe(true);
  });

  it('one approval decides without four eyes; four eyes needs two different people', () => {
    expect(approvalState(policy(), [{ userId: 'a', side: 'customer', decision: 'approved' }])).toEqual({ decision: 'approved', approvals: 1, needed: 1 });
    const four = policy({ fourEyes: true });
    expect(approvalState(four, [{ userId: 'a', side: 'msp', decision: 'approved' }])).toEqual({ decision: 'pending', approvals: 1, needed: 2 });
    expect(approvalState(four, [{ userId: 'a', side: 'msp', decision: 'approved' }, { userId: 'a', side: 'msp', decision: 'approved' }]).decision).toBe('pending');
    expect(approvalState(four, [{ userId: 'a', side: 'msp', decision: 'approved' }, { userId: 'b', side: 'customer', decision: 'approved' }]).decision).toBe('approved');
  });

  it('a rejection rejects; votes from sides the policy does not allow do not count', () => {
    expect(approvalState(policy({ fourEyes: true }), [{ userId: 'a', side: 'msp', decision: 'approved' }, { userId: 'b', side: 'msp', decision: 'rejected' }]).decision).toBe('rejected');
    expect(approvalState(policy({ approvers: 'msp' }), [{ userId: 'c', side: 'customer', decision: 'approved' }]).decision).toBe('pending');
    expect(approvalState(policy({ approvers: 'msp' }), [{ userId: 'c', side: 'customer', decision: 'rejected' }]).decision).toBe('pending');
  });

  it('the clock escalates once at half-time and decides at the deadline', () => {
    const a = { createdAt: 0, deadlineAt: 15 * 60_000, escalatedAt: null };
    expect(approvalClock(7 * 60_000, a, policy())).toBe('wait');
    expect(approvalClock(7.5 * 60_000, a, policy())).toBe('escalate');
    expect(approvalClock(8 * 60_000, { ...a, escalatedAt: 7.5 * 60_000 }, policy())).toBe('wait');
    expect(approvalClock(8 * 60_000, a, policy({ escalate: false }))).toBe('wait');
    expect(approvalClock(15 * 60_000, a, policy())).toBe('deadline');
  });

  it('states itself in one sentence', () => {
    expect(describeApprovalPolicy(policy())).toBe(
      "Needs approval from an MSP operator or one of the customer's approvers within 15 minutes. At half-time the escalation contacts are notified. If nobody answers by then, the request is abandoned and the pair stays pending.",
    );
    expect(describeApprovalPolicy(policy({ approvers: 'customer', fourEyes: true, deadlineMinutes: 1, escalate: false, onDeadline: 'proceed' }))).toBe(
      'Needs approval from two different customer approvers within 1 minute. If nobody answers by then, the failover runs.',
    );
  });
});
