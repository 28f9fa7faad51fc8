// Scheduled validation (issue item 9): every minute, the pairs due for a new run in every tenant
// (the organization's interval passed since the last run, or an agent of the pair reconnected:
// the gateway then sets the pair's validationDueAt 30 s ahead)
// get a validate operation. The cross-tenant read is a SECURITY DEFINER function; each run is
// created in its pair's tenant, under the pair's row lock, only while nothing else runs on it.
import { publishPairChange } from '@tandem/agent-bus/live';
import { emitEvent, withTenant, type Db } from '@tandem/db';
import { operationInFlightStatuses } from '@tandem/engine';
import type { OperationJob } from '@tandem/jobs';

export const VALIDATION_SWEEP_EVERY_MS = 60_000;

interface DueRow {
  pairId: string;
  organizationId: string;
  customerId: string;
  trigger: 'scheduled' | 'reconnect';
}

const utc = (d: Date) => d.toISOString().slice(0, -1);

export interface ValidationsStarted {
  due: number;
  started: number;
}

export async function startDueValidations(db: Db, now: Date, startOperation: (job: OperationJob) => Promise<unknown>, onlyOrganizationId?: string): Promise<ValidationsStarted> {
  const due = await db.$queryRaw<DueRow[]>`SELECT * FROM validations_due(${utc(now)}::timestamp)`;
  const result: ValidationsStarted = { due: due.length, started: 0 };
  for (const row of due) {
    if (onlyOrganizationId && row.organizationId !== onlyOrganizationId) continue;
    const operationId = await withTenant(
      { organizationId: row.organizationId, customerId: row.customerId, userId: null },
      async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM "ProtectionPair" WHERE id = ${row.pairId} FOR UPDATE`;
        const busy = await tx.operation.findFirst({ where: { pairId: row.pairId, status: { in: [...operationInFlightStatuses] } }, select: { id: true } });
        if (busy) return null;
        // The request is taken now; the run clears it when it finishes (a later reconnect sets it again).
        await tx.protectionPair.updateMany({ where: { id: row.pairId, validationDueAt: { lte: now } }, data: { validationDueAt: null } });
        const op = await tx.operation.create({
          data: { organizationId: row.organizationId, customerId: row.customerId, pairId: row.pairId, kind: 'validate', options: { trigger: row.trigger }, requestedById: null },
        });
        await emitEvent(tx, {
          organizationId: row.organizationId,
          customerId: row.customerId,
          pairId: row.pairId,
          kind: 'operation',
          message: row.trigger === 'reconnect' ? 'Tandem started a validation run: an agent of this pair reconnected' : 'Tandem started a scheduled validation run',
        });
        return op.id;
      },
      db,
    );
    if (!operationId) continue;
    await startOperation({ operationId, organizationId: row.organizationId, customerId: row.customerId });
    void publishPairChange(row, row.pairId, 'operation');
    result.started++;
  }
  return result;
}
