import { z } from 'zod';
import type { ReplicationMethod } from './settings.ts';
import { lifecycleEvents } from './lifecycle.ts';
import { monitoringStatuses } from './status.ts';

// Enabling and disabling protection as lists of steps (data). The worker executes them in
// order through the agents and records each one; a step may be marked optional when its failure
// must not stop the rest (an offline agent cannot be told to stop, but the pair still disables).

export const sideSchema = z.enum(['source', 'target']);
export type Side = z.infer<typeof sideSchema>;

const step = <K extends string, P extends z.ZodType>(kind: K, params: P) => z.strictObject({ kind: z.literal(kind), description: z.string().min(1).max(1000), params });
const noParams = z.strictObject({});
const onSide = z.strictObject({ side: sideSchema });
/** Stopping is best effort: an agent that is gone cannot be told, and the rest still runs. */
const bestEffort = { optional: z.literal(true) };

/** One step of an operation, as planned here and as stored with the operation (see stepFromRow). */
export const plannedStepSchema = z.discriminatedUnion('kind', [
  step('agents.check', z.strictObject({ sides: z.array(sideSchema).min(1).max(2) })),
  step('replication.check-set', noParams),
  step('replication.start', onSide),
  step('replication.stop', onSide).extend(bestEffort),
  step('postgresql.prepare-source', noParams),
  step('postgresql.clone-standby', noParams),
  step('monitor.start', onSide),
  step('monitor.stop', onSide).extend(bestEffort),
  // The status is never named here: the step applies a lifecycle event, and the lifecycle says
  // which status follows from the one the pair is in when the step runs.
  step('pair.set-state', z.strictObject({ event: z.enum(lifecycleEvents), monitoringStatus: z.enum(monitoringStatuses).optional() })),
  // Compares both sides by content hash; its output is the agent's verify result (the portal shows it).
  step('replication.verify', noParams),
  // Monitoring on/off leaves the status alone: only the monitoring status changes, if still enabled.
  step('pair.set-monitoring', z.strictObject({ monitoringStatus: z.enum(['watching', 'off']) })),
]);
export type PlannedStep = z.infer<typeof plannedStepSchema>;
export type StepKind = PlannedStep['kind'];
/** The parameters of each kind of step. */
export type StepParams = { [K in StepKind]: Extract<PlannedStep, { kind: K }>['params'] };

/** A step as an OperationStep row holds it: `optional` is kept inside `params`. */
export interface StoredStep {
  kind: string;
  description: string;
  params: unknown;
}

/** Values a step's stored parameters hold (JSON). */
type StoredParam = string | boolean | readonly string[] | undefined;

export function stepToRow(s: PlannedStep): { kind: StepKind; description: string; params: Record<string, StoredParam> } {
  return { kind: s.kind, description: s.description, params: { ...s.params, optional: 'optional' in s ? s.optional : false } };
}

/**
 * Reads a stored step back through the schema, so the worker never runs a step whose
 * parameters are missing or of the wrong shape (a row written by another version, or edited).
 */
export function stepFromRow(row: StoredStep): { ok: true; step: PlannedStep } | { ok: false; error: string } {
  if (typeof row.params !== 'object' || row.params === null || Array.isArray(row.params)) return { ok: false, error: 'its parameters are not an object' };
  const { optional, ...params } = row.params as Record<string, unknown>;
  const parsed = plannedStepSchema.safeParse({ kind: row.kind, description: row.description, params, ...(optional === true ? { optional } : {}) });
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error).replace(/\s*\n\s*/g, ' ') };
  return { ok: true, step: parsed.data };
}

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
      ? { kind: 'pair.set-state', description: 'Mark the pair as protected (the standby is streaming)', params: { event: 'standby.streaming', monitoringStatus: p.monitoring ? 'watching' : 'off' } }
      : { kind: 'pair.set-state', description: 'Mark the pair as mirroring (it becomes protected when the mirror finishes)', params: { event: 'replication.started', monitoringStatus: p.monitoring ? 'watching' : 'off' } },
  );
  return steps;
}

export function planDisable(p: Pick<PlanInput, 'sourceHostname' | 'targetHostname'>): PlannedStep[] {
  return [
    { kind: 'monitor.stop', description: `Stop probing from ${p.targetHostname}`, params: { side: 'target' }, optional: true },
    { kind: 'monitor.stop', description: `Stop answering probes on ${p.sourceHostname}`, params: { side: 'source' }, optional: true },
    { kind: 'replication.stop', description: `Stop replication on ${p.sourceHostname}`, params: { side: 'source' }, optional: true },
    { kind: 'replication.stop', description: `Close the data channel on ${p.targetHostname}`, params: { side: 'target' }, optional: true },
    { kind: 'pair.set-state', description: 'Mark the pair as unprotected (its configuration is kept)', params: { event: 'replication.stopped', monitoringStatus: 'off' } },
  ];
}

/** Verify on demand, run by the source agent (it asks the target for its side); one long step. */
export function planVerify(p: Pick<PlanInput, 'sourceHostname' | 'targetHostname'>): PlannedStep[] {
  return [
    { kind: 'replication.verify', description: `Compare the files on ${p.sourceHostname} and ${p.targetHostname} by content hash`, params: {} },
  ];
}

/**
 * Failure monitoring on or off while replication keeps running. On: both agents must start
 * their side (the runner stops both again if either fails). Off: stopping is best effort, an
 * agent that is gone forgets the monitor when told again.
 */
export function planMonitoring(p: Pick<PlanInput, 'sourceHostname' | 'targetHostname'>, enabled: boolean): PlannedStep[] {
  if (enabled) {
    return [
      { kind: 'agents.check', description: `Check that the agents on ${p.sourceHostname} and ${p.targetHostname} are online`, params: { sides: ['source', 'target'] } },
      { kind: 'monitor.start', description: `Let ${p.sourceHostname} answer failure probes`, params: { side: 'source' } },
      { kind: 'monitor.start', description: `Start probing the source from ${p.targetHostname}`, params: { side: 'target' } },
      { kind: 'pair.set-monitoring', description: 'Mark failure monitoring as on', params: { monitoringStatus: 'watching' } },
    ];
  }
  return [
    { kind: 'monitor.stop', description: `Stop probing from ${p.targetHostname}`, params: { side: 'target' }, optional: true },
    { kind: 'monitor.stop', description: `Stop answering probes on ${p.sourceHostname}`, params: { side: 'source' }, optional: true },
    { kind: 'pair.set-monitoring', description: 'Mark failure monitoring as off', params: { monitoringStatus: 'off' } },
  ];
}

/** The AES-GCM context that binds a sealed pair key to its pair (a copied ciphertext does not open). */
export const pairKeyContext = (pairId: string) => `pair:${pairId}:key`;
