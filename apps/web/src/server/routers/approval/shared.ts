// What every approval procedure shares: reading a request as the caller may see it, and who may
// answer it. Access is the tenant's: row-level security limits customer users to their own
// customer, so another tenant's (or customer's) request is simply NOT_FOUND.
import type { TenantTx } from '@tandem/db';
import { effectiveApprovalPolicy, orgRoleAtLeast, sideMayApprove, type ApprovalPolicy, type ApproverSide } from '@tandem/engine';
import type { Actor } from '../../actor';

/** The side the caller answers for, or why they may not answer this request. */
export function voterSide(actor: Actor, policy: ApprovalPolicy): { side: ApproverSide } | { refusal: string } {
  if (actor.kind === 'staff') {
    if (!orgRoleAtLeast(actor.role, 'operator')) return { refusal: 'Only MSP operators (or higher) and the customer’s approvers can answer approval requests' };
    if (!sideMayApprove(policy, 'msp')) return { refusal: 'This request’s policy lets only the customer’s approvers answer it' };
    return { side: 'msp' };
  }
  if (actor.role !== 'approver') return { refusal: 'Your role cannot approve failovers; ask one of your company’s approvers' };
  if (!sideMayApprove(policy, 'customer')) return { refusal: 'This request’s policy lets only MSP operators answer it' };
  return { side: 'customer' };
}

/** The stored policy snapshot, read leniently (bad parts fall back to the defaults). */
export const policyOf = (stored: unknown) => effectiveApprovalPolicy(stored, {});

/** Locks the request's row until the transaction ends, so two answers are counted one after the other. */
export async function lockApproval(db: TenantTx, approvalId: string) {
  await db.$queryRaw`SELECT 1 FROM "Approval" WHERE id = ${approvalId} FOR UPDATE`;
}
