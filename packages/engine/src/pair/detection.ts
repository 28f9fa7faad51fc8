import { failoverStatuses, transition } from './lifecycle.ts';
import type { MonitorSettings } from './settings.ts';
import { pairStatusInfo, type MonitoringStatus, type PairStatus } from './status.ts';

// Two-observer failure detection. The target agent probes the source over the route; the
// control plane watches the source agent's session. A pair moves to failover-pending only when
// both say the source is gone (or the target alone, for pairs configured "target only").

export type TargetState = 'unknown' | 'ok' | 'lost';
export type Verdict = 'none' | 'target' | 'control' | 'both';

export interface AddressEvidence {
  address: string;
  reachable: boolean;
  missed: number;
  lastOkAt: number | null;
}

export interface DetectionInput {
  now: number;
  status: PairStatus;
  monitoringStatus: MonitoringStatus;
  monitor: MonitorSettings;
  failoverEnabled: boolean;
  manualIntervention: boolean;
  sourceAgent: { status: string | null; lastSeenAt: number | null };
  targetAgentStatus: string | null;
  target: { state: TargetState; reportAt: number | null; lostSince: number | null; evidence: AddressEvidence[] };
  previousVerdict: Verdict;
}

export interface DetectionEvent {
  kind: 'detection' | 'monitor';
  severity: 'info' | 'warning' | 'error';
  message: string;
  evidence: Record<string, unknown>;
}

export interface DetectionOutcome {
  verdict: Verdict;
  /** Only the fields that change. */
  pair: { status?: PairStatus; monitoringStatus?: MonitoringStatus; autoFailoverMarked?: boolean };
  events: DetectionEvent[];
}

/** How long the source agent may be silent before the control plane counts it as lost. */
export function controlSilenceMs(m: MonitorSettings): number {
  // Never shorter than 30 s: last-seen times are written in batches, and a short monitor
  // interval must not make a healthy agent look silent.
  return Math.max(m.intervalSeconds * m.missed * 1000, 30_000);
}

/** A target report older than this is not believed (the target agent itself may be gone). */
export function targetReportTtlMs(m: MonitorSettings): number {
  return Math.max(m.intervalSeconds * 3 * 1000, 15_000);
}

export function evaluateDetection(d: DetectionInput): DetectionOutcome {
  const targetFresh = d.target.reportAt !== null && d.now - d.target.reportAt <= targetReportTtlMs(d.monitor) && d.targetAgentStatus === 'online';
  const targetSaysLost = targetFresh && d.target.state === 'lost';
  const src = d.sourceAgent;
  const silentFor = src.lastSeenAt === null ? null : d.now - src.lastSeenAt;
  const controlSaysLost = src.status !== 'online' || silentFor === null || silentFor > controlSilenceMs(d.monitor);

  const verdict: Verdict = targetSaysLost && controlSaysLost ? 'both' : targetSaysLost ? 'target' : controlSaysLost ? 'control' : 'none';
  const sourceLost = verdict === 'both' || (verdict === 'target' && d.monitor.observers === 'target-only');

  const lostAddresses = d.target.evidence.filter((e) => !e.reachable).map((e) => e.address);
  const evidence = {
    observers: d.monitor.observers,
    trigger: d.monitor.trigger,
    target: {
      state: targetFresh ? d.target.state : 'unknown',
      reportedAt: d.target.reportAt === null ? null : new Date(d.target.reportAt).toISOString(),
      lostSince: d.target.lostSince === null ? null : new Date(d.target.lostSince).toISOString(),
      addresses: d.target.evidence.map((e) => ({ ...e, lastOkAt: e.lastOkAt === null ? null : new Date(e.lastOkAt).toISOString() })),
    },
    control: {
      sourceAgentStatus: src.status,
      lastSeenAt: src.lastSeenAt === null ? null : new Date(src.lastSeenAt).toISOString(),
      silentSeconds: silentFor === null ? null : Math.round(silentFor / 1000),
    },
    at: new Date(d.now).toISOString(),
  };

  const out: DetectionOutcome = { verdict, pair: {}, events: [] };
  const wasLost = d.monitoringStatus === 'source_lost';

  if (sourceLost && !wasLost) {
    out.pair.monitoringStatus = 'source_lost';
    const who = verdict === 'both' ? 'both the target and the control plane' : 'the target (this pair trusts the target alone)';
    const where = lostAddresses.length ? ` (no answer from ${lostAddresses.join(', ')})` : '';
    const next = transition(d.status, 'source.lost');
    if ('status' in next && d.failoverEnabled) {
      out.pair.status = next.status;
      out.pair.autoFailoverMarked = !d.manualIntervention;
      const then = d.manualIntervention
        ? 'A failover is waiting for a decision.'
        : 'Manual intervention is off, so the failover to the target starts automatically.';
      out.events.push({ kind: 'detection', severity: 'error', message: `Source lost according to ${who}${where}. ${then}`, evidence });
    } else if ('status' in next) {
      out.events.push({ kind: 'detection', severity: 'error', message: `Source lost according to ${who}${where}. Failover is disabled for this pair, so nothing else happens.`, evidence });
    } else {
      // The lifecycle says why no failover follows in this status (a mirror not finished, a
      // failover already done, …); only a mirroring pair's target copy is incomplete.
      out.events.push({
        kind: 'detection',
        severity: 'error',
        message: `Source lost according to ${who}${where} while the pair was ${pairStatusInfo[d.status].label.toLowerCase()}: ${next.refusal}.`,
        evidence,
      });
    }
  } else if (!sourceLost && wasLost) {
    out.pair.monitoringStatus = 'watching';
    const next = transition(d.status, 'source.back');
    if ('status' in next) {
      out.pair.status = next.status;
      out.pair.autoFailoverMarked = false;
    }
    const message = 'status' in next || !failoverStatuses.includes(d.status) ? 'The source is reachable again before any failover started; back to watching.' : 'The source is reachable again; back to watching.';
    out.events.push({ kind: 'detection', severity: 'info', message, evidence });
  } else if (!sourceLost && verdict !== d.previousVerdict) {
    // One observer alone: worth recording, never acted on.
    if (verdict === 'target') {
      out.events.push({
        kind: 'monitor',
        severity: 'warning',
        message: `The target lost contact with the source${lostAddresses.length ? ` (${lostAddresses.join(', ')})` : ''}, but the control plane still sees the source agent: no failover (a network problem between the sites?).`,
        evidence,
      });
    } else if (verdict === 'control') {
      out.events.push({
        kind: 'monitor',
        severity: 'warning',
        message: targetFresh
          ? 'The control plane lost the source agent, but the target still reaches the source: no failover.'
          : 'The control plane lost the source agent and the target is not reporting: no failover without the target’s view.',
        evidence,
      });
    } else if (verdict === 'none' && d.previousVerdict !== 'none') {
      out.events.push({ kind: 'monitor', severity: 'info', message: 'Both observers see the source again.', evidence });
    }
  }
  return out;
}
