// The detection sweep: every few seconds, for every watched pair of every tenant, combine the
// target agent's last report with the control plane's view of the source agent (engine rules)
// and record what changed.
import { publishPairChange } from '@tandem/agent-bus/live';
import { withTenant, type Db } from '@tandem/db';
import { evaluateDetection, failoverSettingsSchema, type AddressEvidence, type MonitoringStatus, type PairStatus, type TargetState, type Verdict } from '@tandem/engine';

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

export async function sweepDetection(db: Db, now: Date = new Date()): Promise<{ watched: number; changed: number }> {
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
        }
        await tx.pairMonitor.upsert({
          where: { pairId: row.pairId },
          create: { pairId: row.pairId, organizationId: row.organizationId, customerId: row.customerId, verdict: outcome.verdict, verdictSince: now },
          update: outcome.verdict === row.verdict ? {} : { verdict: outcome.verdict, verdictSince: now },
        });
        for (const e of outcome.events) {
          await tx.pairEvent.create({
            data: { organizationId: row.organizationId, customerId: row.customerId, pairId: row.pairId, at: now, kind: e.kind, severity: e.severity, message: e.message, evidence: e.evidence as object },
          });
        }
      },
      db,
    );
    void publishPairChange(row, row.pairId, pairChanges ? 'status' : outcome.events.length > 0 ? 'event' : 'monitor');
  }
  return { watched: rows.length, changed };
}
