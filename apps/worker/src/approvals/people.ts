// Who is asked to approve (or told about an escalation), each with their own one-time link to the
// approval page. Links are stored as hashes; the clear link is sealed into the event for the sender.
import { withTenant, type Db, type TenantTx } from '@tandem/db';
import { sideMayApprove, type ApprovalPolicy, type EventRecipient } from '@tandem/engine';
import { randomToken, sealSecret, sha256Hex } from '@tandem/security';
import { workerPublicUrl } from '../env.ts';

export interface Person {
  userId: string;
  email: string;
  name: string;
}

/** The web app's address as people reach it (worker env TANDEM_PUBLIC_URL). */
export const publicUrl = (): string => workerPublicUrl().replace(/\/+$/, '');

export const approvalPageUrl = (approvalId: string) => `${publicUrl()}/approvals/${approvalId}`;

const staffApproverRoles = ['owner', 'admin', 'operator'] as const;

/**
 * Everyone who may answer under `policy`: the customer's approvers and/or the MSP's operators
 * and above. Staff memberships are organization-only rows, so they are read in an
 * organization-level transaction of their own (read-only, committed rows).
 */
export async function approversFor(db: Db, tx: TenantTx, scope: { organizationId: string; customerId: string }, policy: ApprovalPolicy): Promise<Person[]> {
  const people = new Map<string, Person>();
  if (sideMayApprove(policy, 'customer')) {
    const members = await tx.customerMembership.findMany({ where: { customerId: scope.customerId, role: 'approver' }, select: { user: { select: { id: true, email: true, name: true } } } });
    for (const m of members) people.set(m.user.id, { userId: m.user.id, email: m.user.email, name: m.user.name });
  }
  if (sideMayApprove(policy, 'msp')) {
    for (const p of await staffWithRoles(db, scope.organizationId, staffApproverRoles)) people.set(p.userId, p);
  }
  return [...people.values()];
}

/** Staff of the organization with one of `roles`. */
export async function staffWithRoles(db: Db, organizationId: string, roles: readonly ('owner' | 'admin' | 'operator' | 'viewer')[]): Promise<Person[]> {
  const members = await withTenant(
    { organizationId, customerId: null, userId: null },
    (org) => org.orgMembership.findMany({ where: { role: { in: [...roles] } }, select: { user: { select: { id: true, email: true, name: true } } }, orderBy: { createdAt: 'asc' } }),
    db,
  );
  return members.map((m) => ({ userId: m.user.id, email: m.user.email, name: m.user.name }));
}

/**
 * One link per person (valid until `expiresAt`), written in `tx`; returns the event recipients
 * with the sealed link. The token exists in clear only inside the sealed value.
 */
export async function linksFor(
  tx: TenantTx,
  a: { organizationId: string; customerId: string; approvalId: string; expiresAt: Date },
  people: Person[],
): Promise<EventRecipient[]> {
  const out: EventRecipient[] = [];
  for (const p of people) {
    const token = randomToken();
    await tx.approvalLink.create({
      data: { organizationId: a.organizationId, customerId: a.customerId, approvalId: a.approvalId, userId: p.userId, tokenHash: sha256Hex(token), expiresAt: a.expiresAt },
    });
    out.push({ email: p.email, name: p.name, userId: p.userId, linkEnc: sealSecret(`${publicUrl()}/approve/${token}`, 'delivery-link') });
  }
  return out;
}
