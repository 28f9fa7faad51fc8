import type { ReplicationMethod } from './settings.ts';
import type { PairStatus, MonitoringStatus } from './status.ts';

// Enabling and disabling protection as lists of steps (data). The worker executes them in
// order through the agents and records each one; a step may be marked optional when its failure
// must not stop the rest (an offline agent cannot be told to stop, but the pair still disables).

export type Side = 'source' | 'target';

export type PlannedStep =
  | { kind: 'agents.check'; description: string; params: { sides: Side[] } }
  | { kind: 'replication.check-set'; description: string; params: Record<string, never> }
  | { kind: 'replication.start'; description: string; params: { side: Side } }
  | { kind: 'replication.stop'; description: string; params: { side: Side }; optional: true }
  | { kind: 'postgresql.prepare-source'; description: string; params: Record<string, never> }
  | { kind: 'postgresql.clone-standby'; description: string; params: Record<string, never> }
  | { kind: 'monitor.start'; description: string; params: { side: Side } }
  | { kind: 'monitor.stop'; description: string; params: { side: Side }; optional: true }
  | { kind: 'pair.set-state'; description: string; params: { status?: PairStatus; monitoringStatus?: MonitoringStatus } };
export type StepKind = PlannedStep['kind'];

export interface PlanInput {
  method: ReplicationMethod;
  sourceHostname: string;
  targetHostname: string;
  route: string;
  port: number;
  /** relay: the data channel goes through the gateway instead of route:port (default direct). */
  routeMode?: 'direct' | 'relay';
  /** Start the failure monitor too (the default); off enables replication alone. */
  monitoring: boolean;
}

export function planEnable(p: PlanInput): PlannedStep[] {
  const check: PlannedStep = { kind: 'agents.check', description: `Check that the agents on ${p.sourceHostname} and ${p.targetHostname} are online and can replicate`, params: { sides: ['source', 'target'] } };
  const steps: PlannedStep[] =
    p.method === 'postgresql_streaming'
      ? [
          check,
          { kind: 'postgresql.prepare-source', description: `Prepare PostgreSQL on ${p.sourceHostname}: replication role, slot and access for ${p.route}`, params: {} },
          { kind: 'postgresql.clone-standby', description: `Make PostgreSQL on ${p.targetHostname} a streaming standby (base backup; the old data directory is kept aside)`, params: {} },
        ]
      : [
          check,
          { kind: 'replication.check-set', description: `Check the replication set on ${p.sourceHostname}: every directory exists`, params: {} },
          p.routeMode === 'relay'
            ? { kind: 'replication.start', description: `Open the data channel on ${p.targetHostname} (through the gateway relay)`, params: { side: 'target' } }
            : { kind: 'replication.start', description: `Open the data channel on ${p.targetHostname} (${p.route}:${p.port})`, params: { side: 'target' } },
          { kind: 'replication.start', description: `Connect from ${p.sourceHostname}${p.routeMode === 'relay' ? ' through the gateway relay' : ''} and start the initial mirror`, params: { side: 'source' } },
        ];
  if (p.monitoring) {
    steps.push(
      { kind: 'monitor.start', description: `Let ${p.sourceHostname} answer failure probes`, params: { side: 'source' } },
      { kind: 'monitor.start', description: `Start probing the source from ${p.targetHostname}`, params: { side: 'target' } },
    );
  }
  // A file pair mirrors in the background; a standby is complete once the clone step returns.
  steps.push(
    p.method === 'postgresql_streaming'
      ? { kind: 'pair.set-state', description: 'Mark the pair as protected (the standby is streaming)', params: { status: 'protected', monitoringStatus: p.monitoring ? 'watching' : 'off' } }
      : { kind: 'pair.set-state', description: 'Mark the pair as mirroring (it becomes protected when the mirror finishes)', params: { status: 'mirroring', monitoringStatus: p.monitoring ? 'watching' : 'off' } },
  );
  return steps;
}

export function planDisable(p: Pick<PlanInput, 'sourceHostname' | 'targetHostname'>): PlannedStep[] {
  return [
    { kind: 'monitor.stop', description: `Stop probing from ${p.targetHostname}`, params: { side: 'target' }, optional: true },
    { kind: 'monitor.stop', description: `Stop answering probes on ${p.sourceHostname}`, params: { side: 'source' }, optional: true },
    { kind: 'replication.stop', description: `Stop replication on ${p.sourceHostname}`, params: { side: 'source' }, optional: true },
    { kind: 'replication.stop', description: `Close the data channel on ${p.targetHostname}`, params: { side: 'target' }, optional: true },
    { kind: 'pair.set-state', description: 'Mark the pair as unprotected (its configuration is kept)', params: { status: 'unprotected', monitoringStatus: 'off' } },
  ];
}

/** The AES-GCM context that binds a sealed pair key to its pair (a copied ciphertext does not open). */
export const pairKeyContext = (pairId: string) => `pair:${pairId}:key`;
