// A pending failover of a pair with manual intervention: an Operation that waits for approval,
// its Approval (the effective policy copied in and stated), a link for each person who may answer,
// and the events that tell the pair's history, alerting and those people. All in the caller's
// transaction (the sweep's, which moved the pair), so one pending episode makes one request.
import { emitEvent, type Db, type TenantTx } from '@tandem/db';
import { describeApprovalPolicy, effectiveApprovalPolicy, operationInFlightStatuses, requiredApprovals } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';
import { approvalPageUrl, approversFor, linksFor } from './people.ts';

export interface PendingPair {
  pairId: string;
  organizationId: string;
  customerId: string;
}

/**
 * Creates the awaiting operation and its approval request. Returns the job that plans it (the
 * approval page shows the plan's diff), or null when another operation is already in flight.
 * `reason`: what detection saw, stated in the request's e-mail.
 */
export async function requestFailoverApproval(db: Db, tx: TenantTx, row: PendingPair, mode: 'graceful' | 'immediate', now: Date, reason?: string): Promise<OperationJob | null> {
  const pair = await tx.protectionPair.findUnique({
    where: { id: row.pairId },
    select: { name: true, approvalPolicy: true, customer: { select: { name: true, approvalPolicy: true } } },
  });
  if (!pair) return null;
  const inFlight = await tx.operation.count({ where: { pairId: row.pairId, status: { in: [...operationInFlightStatuses] } } });
  if (inFlight > 0) {
    await emitEvent(tx, {
      organizationId: row.organizationId,
      customerId: row.customerId,
      pairId: row.pairId,
      kind: 'operation',
      severity: 'warning',
      at: now,
      message: 'No approval was requested for the failover: another operation is under way on this pair. Start the failover from the pair page once it finishes.',
    });
    return null;
  }
  const policy = effectiveApprovalPolicy(pair.customer.approvalPolicy, pair.approvalPolicy);
  const statement = describeApprovalPolicy(policy);
  const deadlineAt = new Date(now.getTime() + policy.deadlineMinutes * 60_000);
  const op = await tx.operation.create({
    data: { organizationId: row.organizationId, customerId: row.customerId, pairId: row.pairId, kind: 'failover', status: 'awaiting_approval', dryRun: false, options: { mode }, requestedById: null },
  });
  const approval = await tx.approval.create({
    data: {
      organizationId: row.organizationId,
      customerId: row.customerId,
      operationId: op.id,
      pairId: row.pairId,
      policy: policy as never,
      requiredApprovals: requiredApprovals(policy),
      deadlineAt,
      createdAt: now,
    },
  });
  const people = await approversFor(db, tx, row, policy);
  const recipients = await linksFor(tx, { ...row, approvalId: approval.id, expiresAt: deadlineAt }, people);
  const names = { customerName: pair.customer.name, pairName: pair.name };
  const data = { approvalId: approval.id, operationId: op.id, deadlineAt: deadlineAt.toISOString(), policyStatement: statement, ...(reason ? { reason } : {}) };
  await emitEvent(tx, {
    organizationId: row.organizationId,
    customerId: row.customerId,
    pairId: row.pairId,
    type: 'failover.pending',
    severity: 'warning',
    kind: 'operation',
    at: now,
    message: `A ${mode} failover of "${pair.name}" awaits approval until ${deadlineAt.toISOString().slice(0, 16).replace('T', ' ')} UTC. ${statement}`,
    subject: { kind: 'pair', id: row.pairId, name: pair.name },
    ...names,
    data,
  });
  await emitEvent(tx, {
    organizationId: row.organizationId,
    customerId: row.customerId,
    pairId: row.pairId,
    type: 'approval.requested',
    severity: 'warning',
    history: false,
    at: now,
    message: `Approval requested: fail over "${pair.name}" (${pair.customer.name})`,
    subject: { kind: 'approval', id: approval.id, name: pair.name },
    ...names,
    recipients,
    data: { ...data, pairName: pair.name, customerName: pair.customer.name, url: approvalPageUrl(approval.id) },
  });
  return { operationId: op.id, organizationId: row.organizationId, customerId: row.customerId };
}

/**
 * Withdraws the pair's pending request (the source came back, say): the awaiting operation is
 * cancelled and its approval expires, with a history line saying why. Returns whether one was open.
 */
export async function withdrawPendingApproval(tx: TenantTx, pair: PendingPair, reason: string, now: Date): Promise<boolean> {
  const pending = await tx.approval.findMany({ where: { pairId: pair.pairId, decision: 'pending' }, select: { id: true, operationId: true } });
  if (pending.length === 0) return false;
  for (const a of pending) {
    // Conditional: a decision that landed meanwhile wins.
    const { count } = await tx.approval.updateMany({ where: { id: a.id, decision: 'pending' }, data: { decision: 'expired', decidedAt: now, comment: reason } });
    if (count === 0) continue;
    await tx.operation.updateMany({ where: { id: a.operationId, status: 'awaiting_approval' }, data: { status: 'cancelled', error: reason, finishedAt: now } });
    await emitEvent(tx, {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId: pair.pairId,
      type: 'approval.decided',
      kind: 'operation',
      at: now,
      message: `The approval request was withdrawn: ${reason}`,
      subject: { kind: 'approval', id: a.id, name: 'Failover approval' },
      data: { approvalId: a.id, operationId: a.operationId, decision: 'expired', reason },
    });
  }
  return true;
}
