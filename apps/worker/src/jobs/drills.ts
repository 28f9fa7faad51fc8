// Scheduled drills: every minute, start the test failovers whose schedule is due, in every
// tenant. A schedule is claimed by moving its due time on with a conditional update, so two
// workers (or a job run twice) start each due drill once.
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent, withTenant, type Db, type TenantTx } from '@tandem/db';
import type { OperationJob } from '@tandem/jobs';
import { nextDrillDue, operationInFlightStatuses } from '@tandem/engine';

export type StartOperation = (job: OperationJob) => Promise<unknown>;

interface DueRow {
  scheduleId: string;
  organizationId: string;
  customerId: string;
}

export interface DrillsStarted {
  due: number;
  /** Schedules this run claimed (another worker took the rest). */
  claimed: number;
  operations: number;
  /** Pairs left out because another operation was under way on them. */
  skippedBusy: number;
}

// The schedule's columns hold UTC without a zone; the time goes in the same way, whatever the session's zone.
const utc = (d: Date) => d.toISOString().slice(0, -1);

const everyText = (days: number) => (days === 1 ? 'daily' : `every ${days} days`);

/** Creates the drill's test failover of one pair, unless something else runs on it (then a warning event). */
async function startPairDrill(
  tx: TenantTx,
  drill: { id: string; organizationId: string; customerId: string; everyDays: number },
  pair: { id: string; name: string },
  now: Date,
) {
  // Held until commit: a request from the portal cannot start another operation meanwhile.
  await tx.$queryRaw`SELECT 1 FROM "ProtectionPair" WHERE id = ${pair.id} FOR UPDATE`;
  const busy = await tx.operation.findFirst({
    where: { pairId: pair.id, status: { in: [...operationInFlightStatuses] } },
    select: { kind: true },
  });
  const base = {
    organizationId: drill.organizationId,
    customerId: drill.customerId,
    pairId: pair.id,
    pairName: pair.name,
    at: now,
    kind: 'operation' as const,
  };
  if (busy) {
    await emitEvent(tx, {
      ...base,
      severity: 'warning',
      message: `The scheduled drill did not start a test failover: another operation (${busy.kind.replace(/_/g, ' ')}) is under way on this pair`,
    });
    return null;
  }
  const op = await tx.operation.create({
    data: {
      organizationId: drill.organizationId,
      customerId: drill.customerId,
      pairId: pair.id,
      kind: 'test_failover',
      dryRun: false,
      options: {},
      requestedById: null,
      drillScheduleId: drill.id,
    },
  });
  const summary = `Started a scheduled test failover of "${pair.name}" (drill ${everyText(drill.everyDays)})`;
  await tx.auditEvent.create({
    data: {
      organizationId: drill.organizationId,
      customerId: drill.customerId,
      actorId: null,
      actorLabel: 'Tandem (scheduled drill)',
      action: 'pair.testFailover.start',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      summary,
      changes: { operationId: op.id, drillScheduleId: drill.id },
    },
  });
  await emitEvent(tx, { ...base, severity: 'info', message: `Tandem ${summary.charAt(0).toLowerCase()}${summary.slice(1)}` });
  return op.id;
}

/**
 * Starts every due drill. Per schedule, in its tenant: claim it (nextDueAt moves to the first due
 * time after now, lastStartedAt = now), then create one test failover per pair (the named pair,
 * or every protected pair of the customer) and hand them to the operations queue after commit.
 * `onlyOrganizationId` limits the run to one organization (tests).
 */
export async function startDueDrills(
  db: Db,
  now: Date,
  startOperation: StartOperation,
  onlyOrganizationId?: string,
): Promise<DrillsStarted> {
  // SECURITY DEFINER reader over every tenant; the writes below are tenant-scoped.
  const due = await db.$queryRaw<DueRow[]>`SELECT * FROM drills_due(${utc(now)}::timestamp)`;
  const result: DrillsStarted = { due: due.length, claimed: 0, operations: 0, skippedBusy: 0 };
  for (const row of due) {
    // (Tests run the job for their own organization only, as the DNS re-assertion does.)
    if (onlyOrganizationId && row.organizationId !== onlyOrganizationId) continue;
    const started: { operationId: string; pairId: string }[] = [];
    await withTenant(
      { organizationId: row.organizationId, customerId: row.customerId, userId: null },
      async (tx) => {
        const drill = await tx.drillSchedule.findUnique({ where: { id: row.scheduleId } });
        if (!drill || !drill.enabled || drill.nextDueAt.getTime() > now.getTime()) return;
        // The claim: only the run that still sees the due time it read moves it on.
        const { count } = await tx.drillSchedule.updateMany({
          where: { id: drill.id, enabled: true, nextDueAt: drill.nextDueAt },
          data: { nextDueAt: nextDrillDue(drill.nextDueAt, drill.everyDays, now), lastStartedAt: now },
        });
        if (count === 0) return;
        result.claimed++;
        const pairs = drill.pairId
          ? await tx.protectionPair.findMany({ where: { id: drill.pairId }, select: { id: true, name: true } })
          : await tx.protectionPair.findMany({
              where: { customerId: drill.customerId, status: 'protected' },
              select: { id: true, name: true },
              orderBy: { name: 'asc' },
            });
        for (const pair of pairs) {
          const operationId = await startPairDrill(tx, drill, pair, now);
          if (operationId) started.push({ operationId, pairId: pair.id });
          else result.skippedBusy++;
        }
      },
      db,
    );
    // After the commit: the operation exists before its job does (a lost enqueue is picked up at worker start).
    for (const s of started) {
      await startOperation({ operationId: s.operationId, organizationId: row.organizationId, customerId: row.customerId });
      void publishPairChange(row, s.pairId, 'operation');
      result.operations++;
    }
  }
  return result;
}
