// The approvals' clock (a maintenance task every few seconds): at half-time an open request is
// escalated once; at its deadline it expires, and the policy it was made under says whether the
// failover then runs or the request is abandoned (the pair stays failover-pending).
import { emitEvent, withTenant, type Db, type TenantTx } from '@tandem/db';
import { approvalClock, describeApprovalPolicy, effectiveApprovalPolicy } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { approvalPageUrl, linksFor, staffWithRoles, type Person } from './people.ts';

interface Due {
  approvalId: string;
  organizationId: string;
  customerId: string;
  operationId: string;
}

/** How often the clock looks (an escalation or deadline is acted on within this). */
export const APPROVAL_CLOCK_EVERY_MS = 5_000;

export type StartOperation = (job: OperationJob) => Promise<unknown>;

export async function runApprovalClock(
  db: Db,
  now: Date,
  startOperation?: StartOperation,
  /** Tests: only these organizations' requests (a clock run at a made-up time must not touch other tests' requests). */
  organizationIds?: string[],
): Promise<{ due: number; escalated: number; proceeded: number; abandoned: number }> {
  // SECURITY DEFINER reader across tenants; each request is then handled in its own organization.
  const all = await db.$queryRaw<Due[]>`SELECT * FROM approvals_due(${now}::timestamp)`;
  const due = organizationIds ? all.filter((d) => organizationIds.includes(d.organizationId)) : all;
  const out = { due: due.length, escalated: 0, proceeded: 0, abandoned: 0 };
  for (const d of due) {
    // Escalation contacts who are staff are found in an organization-level read first.
    const admins = await staffWithRoles(db, d.organizationId, ['owner', 'admin']);
    let start: OperationJob | null = null;
    const result = await withTenant(
      { organizationId: d.organizationId, customerId: null, userId: null },
      async (tx) => {
        const a = await tx.approval.findUnique({
          where: { id: d.approvalId },
          include: { operation: { select: { id: true, status: true, pair: { select: { id: true, name: true, customer: { select: { name: true } } } } } } },
        });
        if (!a || a.decision !== 'pending') return null;
        const policy = effectiveApprovalPolicy(a.policy, {});
        const pair = a.operation.pair;
        const names = { customerName: pair?.customer.name, pairName: pair?.name };
        const base = { organizationId: a.organizationId, customerId: a.customerId, pairId: a.pairId, at: now, subject: { kind: 'approval' as const, id: a.id, name: pair?.name ?? 'Failover approval' }, ...names };
        const step = approvalClock(now.getTime(), { createdAt: a.createdAt.getTime(), deadlineAt: a.deadlineAt.getTime(), escalatedAt: a.escalatedAt?.getTime() ?? null }, policy);
        if (step === 'wait') return null;

        if (step === 'escalate') {
          const { count } = await tx.approval.updateMany({ where: { id: a.id, escalatedAt: null, decision: 'pending' }, data: { escalatedAt: now } });
          if (count === 0) return null;
          const recipients = await escalationRecipients(tx, a, policy.escalationEmails, admins);
          // What detection saw when the request was made, for the escalation e-mail.
          const seen = a.pairId ? await tx.pairEvent.findFirst({ where: { pairId: a.pairId, kind: 'detection', at: { lte: a.createdAt } }, orderBy: { at: 'desc' }, select: { message: true } }) : null;
          await emitEvent(tx, {
            ...base,
            type: 'approval.escalated',
            severity: 'warning',
            kind: 'operation',
            message: `Nobody has answered the failover approval yet (half the time is gone); the escalation contacts were notified. Deadline ${a.deadlineAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
            recipients,
            dedupeKey: `approval.escalated:${a.id}`,
            data: { approvalId: a.id, operationId: a.operationId, deadlineAt: a.deadlineAt.toISOString(), policyStatement: describeApprovalPolicy(policy), url: approvalPageUrl(a.id), pairName: pair?.name, customerName: pair?.customer.name, ...(seen ? { reason: seen.message } : {}) },
          });
          return 'escalated' as const;
        }

        // The deadline: the request expires; the policy decides what becomes of the failover.
        const { count } = await tx.approval.updateMany({ where: { id: a.id, decision: 'pending' }, data: { decision: 'expired', decidedAt: now, comment: `No answer by the deadline (policy: ${policy.onDeadline})` } });
        if (count === 0) return null;
        const data = { approvalId: a.id, operationId: a.operationId, decision: 'expired', onDeadline: policy.onDeadline };
        if (policy.onDeadline === 'proceed') {
          const moved = await tx.operation.updateMany({ where: { id: a.operationId, status: 'awaiting_approval' }, data: { status: 'pending', error: null } });
          await emitEvent(tx, { ...base, type: 'approval.decided', severity: 'warning', kind: 'operation', message: 'Nobody answered by the deadline: the failover runs as the policy says.', data });
          if (moved.count > 0) start = { operationId: a.operationId, organizationId: a.organizationId, customerId: a.customerId };
          return 'proceeded' as const;
        }
        await tx.operation.updateMany({ where: { id: a.operationId, status: 'awaiting_approval' }, data: { status: 'cancelled', error: 'Nobody approved the failover by the deadline', finishedAt: now } });
        await emitEvent(tx, {
          ...base,
          type: 'approval.decided',
          severity: 'warning',
          kind: 'operation',
          message: 'Nobody answered by the deadline: the failover request is abandoned as the policy says. The pair stays failover-pending; an operator can still start the failover from the pair page.',
          data,
        });
        return 'abandoned' as const;
      },
      db,
    );
    if (result) out[result]++;
    // After the commit, as every operation reaches the queue (a lost enqueue is re-queued at worker start).
    if (start && startOperation) await startOperation(start);
  }
  return out;
}

/** The policy's escalation addresses (with links for those who are users that may open the page), else the organization's owners and admins. */
async function escalationRecipients(tx: TenantTx, a: { id: string; organizationId: string; customerId: string; deadlineAt: Date }, emails: string[], admins: Person[]) {
  const scope = { organizationId: a.organizationId, customerId: a.customerId, approvalId: a.id, expiresAt: a.deadlineAt };
  if (emails.length === 0) return linksFor(tx, scope, admins);
  const wanted = new Set(emails.map((e) => e.toLowerCase()));
  // Known people get a link only if they can reach the page (staff of this organization, users of this customer).
  const customerUsers = await tx.customerMembership.findMany({ where: { customerId: a.customerId }, select: { user: { select: { id: true, email: true, name: true } } } });
  const staff = await tx.orgMembership.findMany({ select: { user: { select: { id: true, email: true, name: true } } } });
  const known = new Map<string, Person>();
  for (const m of [...staff, ...customerUsers]) if (wanted.has(m.user.email.toLowerCase())) known.set(m.user.email.toLowerCase(), { userId: m.user.id, email: m.user.email, name: m.user.name });
  const withLinks = await linksFor(tx, scope, [...known.values()]);
  const others = [...wanted].filter((e) => !known.has(e)).map((email) => ({ email }));
  return [...withLinks, ...others];
}
