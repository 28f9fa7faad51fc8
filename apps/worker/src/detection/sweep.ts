// The detection sweep: every few seconds, for every watched pair of every tenant, combine the
// target agent's last report with the control plane's view of the source agent (engine rules)
// and record what changed.
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent, withTenant, type Db, type TenantTx } from '@tandem/db';
import type { OperationJob } from '@tandem/jobs';
import { requestFailoverApproval, withdrawPendingApproval } from '../approvals/request.ts';
import { automaticFailoverDecision, evaluateDetection, failoverSettingsSchema, failoverStatuses, operationInFlightStatuses, type AddressEvidence, type EventType, type MonitoringStatus, type PairStatus, type TargetState, type Verdict } from '@tandem/engine';
import { conditionChange, pairNames } from '../jobs/alert-conditions.ts';

interface WatchedPair {
  pairId: string;
  organizationId: string;
  customerId: string;
  status: string;
  monitoringStatus: string;
  failoverSettings: unknown;
  sourceAgentStatus: string | null;
  sourceLastSeenAt: Date | null;
  targetAgentStatus: string | null;
  targetState: string;
  targetReportAt: Date | null;
  targetLostSince: Date | null;
  targetEvidence: unknown;
  verdict: string;
  verdictSince: Date | null;
}

const ms = (d: Date | null) => (d ? d.getTime() : null);

function evidenceOf(raw: unknown): AddressEvidence[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((e): e is AddressEvidence => typeof e === 'object' && e !== null && typeof (e as AddressEvidence).address === 'string');
}

/** Hands a created operation to the operations queue (the job id is the operation id). */
export type StartOperation = (job: OperationJob) => Promise<unknown>;

/**
 * With manual intervention on, a lost source waits for a person: an Operation awaiting approval
 * with its Approval request (apps/worker/src/approvals). Returns the job that plans it (the
 * approval page shows the diff), handed to the operations queue after the commit.
 */
export async function failoverAwaitingDecision(db: Db, tx: TenantTx, row: { pairId: string; organizationId: string; customerId: string }, mode: 'graceful' | 'immediate', now: Date, reason?: string): Promise<OperationJob | null> {
  return requestFailoverApproval(db, tx, row, mode, now, reason);
}

/**
 * Manual intervention off: the pair that just became failover-pending starts its failover by
 * itself, as the system (no requesting user), audited. Called inside the transaction that moved
 * the pair, so one pending episode creates one operation; refused while another operation runs.
 */
async function startAutomaticFailover(tx: TenantTx, row: WatchedPair, mode: 'graceful' | 'immediate', now: Date): Promise<OperationJob | null> {
  const inFlight = await tx.operation.count({ where: { pairId: row.pairId, status: { in: [...operationInFlightStatuses] } } });
  const pair = await tx.protectionPair.findUnique({ where: { id: row.pairId }, select: { name: true, target: { select: { hostname: true } } } });
  if (!pair) return null;
  if (inFlight > 0) {
    await emitEvent(tx, {
      organizationId: row.organizationId,
      customerId: row.customerId,
      pairId: row.pairId,
      pairName: pair.name,
      at: now,
      kind: 'operation',
      severity: 'warning',
      message: 'The automatic failover did not start: another operation is under way on this pair. Start the failover from the pair page once it finishes.',
    });
    return null;
  }
  const op = await tx.operation.create({
    data: { organizationId: row.organizationId, customerId: row.customerId, pairId: row.pairId, kind: 'failover', dryRun: false, options: { mode }, requestedById: null },
  });
  const summary = `Started an automatic ${mode} failover of "${pair.name}" to ${pair.target.hostname}: the source was lost and manual intervention is off`;
  await tx.auditEvent.create({
    data: {
      organizationId: row.organizationId,
      customerId: row.customerId,
      actorId: null,
      actorLabel: 'Tandem (automatic failover)',
      action: 'pair.failover.start',
      targetType: 'ProtectionPair',
      targetId: row.pairId,
      summary,
      changes: { operationId: op.id, dryRun: false, options: { mode }, automatic: true },
    },
  });
  // History only: alerting hears "failover started" when the runbook starts (run-operation.ts).
  await emitEvent(tx, { organizationId: row.organizationId, customerId: row.customerId, pairId: row.pairId, pairName: pair.name, at: now, kind: 'operation', severity: 'warning', message: `Tandem ${summary.charAt(0).toLowerCase()}${summary.slice(1)}` });
  return { operationId: op.id, organizationId: row.organizationId, customerId: row.customerId };
}

/** `startOperation`: how automatic failovers reach the operations queue (without it, pairs are only marked). */
export async function sweepDetection(db: Db, now: Date = new Date(), startOperation?: StartOperation): Promise<{ watched: number; changed: number }> {
  // SECURITY DEFINER reader: one query over all tenants; every write below is tenant-scoped.
  const rows = await db.$queryRaw<WatchedPair[]>`SELECT * FROM pairs_under_watch()`;
  let changed = 0;
  for (const row of rows) {
    const failover = failoverSettingsSchema.safeParse(row.failoverSettings);
    if (!failover.success) continue;
    const outcome = evaluateDetection({
      now: now.getTime(),
      status: row.status as PairStatus,
      monitoringStatus: row.monitoringStatus as MonitoringStatus,
      monitor: failover.data.monitor,
      failoverEnabled: failover.data.enabled,
      manualIntervention: failover.data.manualIntervention,
      sourceAgent: { status: row.sourceAgentStatus, lastSeenAt: ms(row.sourceLastSeenAt) },
      targetAgentStatus: row.targetAgentStatus,
      target: { state: row.targetState as TargetState, reportAt: ms(row.targetReportAt), lostSince: ms(row.targetLostSince), evidence: evidenceOf(row.targetEvidence) },
      previousVerdict: row.verdict as Verdict,
    });
    const pairChanges = Object.keys(outcome.pair).length > 0;
    if (!pairChanges && outcome.events.length === 0 && outcome.verdict === row.verdict) continue;
    changed++;
    let started = null as OperationJob | null;
    await withTenant(
      { organizationId: row.organizationId, customerId: row.customerId, userId: null },
      async (tx) => {
        if (pairChanges) {
          // Only if nobody changed the pair since we read it (an operator disabling it, say).
          const { count } = await tx.protectionPair.updateMany({
            where: { id: row.pairId, status: row.status as PairStatus, monitoringStatus: row.monitoringStatus as MonitoringStatus },
            data: outcome.pair,
          });
          if (count === 0) return;
          // The source is back before anyone decided: the pending request is withdrawn.
          if (row.status === 'failover_pending' && outcome.pair.status && outcome.pair.status !== 'failover_pending') {
            await withdrawPendingApproval(tx, row, 'the source is reachable again before anyone decided', now);
          }
          if (outcome.pair.status === 'failover_pending') {
            // Once per pending episode: only the sweep that moved the pair gets here.
            const decision = automaticFailoverDecision({ status: outcome.pair.status, failover: failover.data });
            if (decision.start && startOperation) started = await startAutomaticFailover(tx, row, failover.data.mode, now);
            else if (!decision.start) started = await failoverAwaitingDecision(db, tx, row, failover.data.mode, now, outcome.events.find((e) => e.kind === 'detection')?.message);
          }
        }
        await tx.pairMonitor.upsert({
          where: { pairId: row.pairId },
          create: { pairId: row.pairId, organizationId: row.organizationId, customerId: row.customerId, verdict: outcome.verdict, verdictSince: now },
          update: outcome.verdict === row.verdict ? {} : { verdict: outcome.verdict, verdictSince: now },
        });
        // The detection line of a move into or out of source_lost opens or clears the pair's
        // source.lost condition; every other line is history only. Once a failover is under way
        // the target's probes may answer for the source (its address moves), so only leaving the
        // failover part of the lifecycle clears it then (the pair.set-state step).
        const settled = row.status === 'failover_pending' || !failoverStatuses.includes(row.status as PairStatus);
        const lost = outcome.pair.monitoringStatus === 'source_lost' ? 'open' : outcome.pair.monitoringStatus === 'watching' && row.monitoringStatus === 'source_lost' && settled ? 'clear' : null;
        for (const e of outcome.events) {
          const condition = lost && e.kind === 'detection' ? await conditionChange(tx, 'source.lost', row.pairId, lost) : null;
          const type: EventType = condition ? (lost === 'open' ? 'source.lost' : 'source.back') : 'pair.event';
          await emitEvent(tx, {
            organizationId: row.organizationId,
            customerId: row.customerId,
            pairId: row.pairId,
            at: now,
            kind: e.kind,
            severity: e.severity,
            message: e.message,
            evidence: e.evidence,
            type,
            ...(condition ? { condition, ...(await pairNames(tx, row.pairId)) } : {}),
          });
        }
      },
      db,
    );
    void publishPairChange(row, row.pairId, pairChanges ? 'status' : outcome.events.length > 0 ? 'event' : 'monitor');
    // After the commit: the operation exists before its job does (a lost enqueue is picked up at worker start).
    if (started && startOperation) await startOperation(started);
  }
  return { watched: rows.length, changed };
}
