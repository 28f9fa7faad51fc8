import { z } from 'zod';
import type { ReplicationMethod } from './settings.ts';
import { lifecycleEvents } from './lifecycle.ts';
import { monitoringStatuses } from './status.ts';
import { dnsChangeSchema, dnsNameSchema, dnsRecordTypeSchema, dnsServerSchema } from '../dns/records.ts';
import type { PairSettings } from './settings.ts';
import { probeSchema } from './testing.ts';

// Enabling and disabling protection as lists of steps (data). The worker executes them in
// order through the agents and records each one; a step may be marked optional when its failure
// must not stop the rest (an offline agent cannot be told to stop, but the pair still disables).

export const sideSchema = z.enum(['source', 'target']);
export type Side = z.infer<typeof sideSchema>;

// `optional: true` marks a best-effort step: its failure is recorded (skipped) and the rest runs.
// `cleanup: true` marks a teardown step: it runs even after an earlier step failed (a test
// failover always removes its copy), and a run resumed after a crash runs it too.
const step = <K extends string, P extends z.ZodType>(kind: K, params: P) =>
  z.strictObject({ kind: z.literal(kind), description: z.string().min(1).max(1000), params, optional: z.literal(true).optional(), cleanup: z.literal(true).optional() });
const noParams = z.strictObject({});
const onSide = z.strictObject({ side: sideSchema });

const serviceList = z.array(z.string().min(1).max(256).regex(/^[A-Za-z0-9@._:+$\- ]+$/)).max(200);
export const hookPoints = ['beforeFailover', 'afterFailover', 'beforeFailback', 'afterFailback', 'beforeRestore', 'afterRestore'] as const;
export type HookPoint = (typeof hookPoints)[number];

/** One step of an operation, as planned here and as stored with the operation (see stepFromRow). */
export const plannedStepSchema = z.discriminatedUnion('kind', [
  step('agents.check', z.strictObject({ sides: z.array(sideSchema).min(1).max(2) })),
  step('replication.check-set', noParams),
  step('replication.start', onSide),
  step('replication.stop', onSide),
  step('postgresql.prepare-source', noParams),
  step('postgresql.clone-standby', noParams),
  step('monitor.start', onSide),
  step('monitor.stop', onSide),
  // The status is never named here: the step applies a lifecycle event, and the lifecycle says
  // which status follows from the one the pair is in when the step runs.
  step('pair.set-state', z.strictObject({ event: z.enum(lifecycleEvents), monitoringStatus: z.enum(monitoringStatuses).optional() })),
  // Compares both sides by content hash; its output is the agent's verify result (the portal shows it).
  step('replication.verify', noParams),
  // Monitoring on/off leaves the status alone: only the monitoring status changes, if still enabled.
  step('pair.set-monitoring', z.strictObject({ monitoringStatus: z.enum(['watching', 'off']) })),

  // ---- failover and failback runbooks (planFailover / planFailback) ----
  // Every step states a desired state, so running it twice changes nothing the second time.
  /** Writes the pair's hook script to the agent (hook.write) and runs it (hook.run); output kept with the step. */
  step('hook.run', z.strictObject({ side: sideSchema, hook: z.enum(hookPoints) })),
  /** Services stopped (waited for) and set to this start mode, in the order given. */
  step('services.stop', z.strictObject({ side: sideSchema, services: serviceList, startMode: z.enum(['manual', 'disabled']), timeoutSeconds: z.number().int().min(1).max(3600) })),
  /** Services started in the order given, each waited for until running, then set to start automatically. */
  step('services.start', z.strictObject({ side: sideSchema, services: serviceList, timeoutSeconds: z.number().int().min(1).max(3600) })),
  /** Graceful cut-over: wait until the source's replication queue is empty; records the lag at cut-over. */
  step('replication.drain', z.strictObject({ timeoutSeconds: z.number().int().min(0).max(86_400), onTimeout: z.enum(['proceed', 'abort']) })),
  /** Restore (failback): data flows from the target back to the source; waits until done. */
  step('replication.restore', z.strictObject({ mode: z.enum(['checksum', 'differences', 'full']) })),
  /**
   * RRsets set to their `after` state by the DNS executor's agent, each conditional on `before`
   * (a zone changed since planning is a conflict, never overwritten). `before` is the exact
   * state a failback restores.
   */
  step(
    'dns.apply',
    z.strictObject({
      provider: z.enum(['rfc2136', 'windows']),
      /** The server whose agent sends the updates; null: the target's. */
      executorServerId: z.uuid().nullable(),
      servers: z.array(dnsServerSchema).min(1).max(8),
      /** The dns_tsig (rfc2136) or domain (windows) credential; null: unsigned updates. */
      credentialId: z.uuid().nullable(),
      changes: z.array(dnsChangeSchema).min(1).max(128),
    }),
  ),
  /** An address present on (or absent from) one side; present also announces it (gratuitous ARP / unsolicited NA). */
  step(
    'address.ensure',
    z.strictObject({
      side: sideSchema,
      address: z.string().min(2).max(64),
      prefix: z.number().int().min(0).max(128),
      /** null: the interface whose subnet holds the address (refused when none, unless force). */
      interface: z.string().min(1).max(64).nullable(),
      present: z.boolean(),
      force: z.boolean(),
    }),
  ),
  /** PostgreSQL on this side leaves recovery and accepts writes (no-op when it already does). */
  step('postgresql.promote', onSide),
  /** PostgreSQL on this side becomes a streaming standby of the other side (pg_rewind, else a fresh base backup). */
  step('postgresql.follow', onSide),
  /** Waits until the standby on this side has replayed everything its primary wrote (zero lag). */
  step('postgresql.wait-caught-up', z.strictObject({ side: sideSchema, timeoutSeconds: z.number().int().min(1).max(86_400) })),
  /** Stops writes on this side for a controlled switchover (the instance is stopped cleanly). */
  step('postgresql.stop', onSide),
  /**
   * The records that move at failover get a TTL of at most `ttlSeconds` (each read first; one
   * already that low is left alone), through the pair's DNS executor, server and credential.
   */
  step(
    'dns.lower-ttl',
    z.strictObject({
      records: z.array(z.strictObject({ zone: dnsNameSchema, name: dnsNameSchema, type: dnsRecordTypeSchema })).min(1).max(64),
      ttlSeconds: z.number().int().min(0).max(86_400),
    }),
  ),

  // ---- cluster resources in failover and failback (planFailover / planFailback) ----
  /**
   * A cluster resource or group online (on `node`, or wherever the cluster places it when null)
   * or offline, waited for. Pacemaker through crm_resource/crm_mon; Windows through the
   * FailoverClusters cmdlets.
   */
  step(
    'cluster.resource',
    z.strictObject({
      side: sideSchema,
      stack: z.enum(['pacemaker', 'windows-failover-cluster']),
      resource: z.string().min(1).max(256),
      kind: z.enum(['resource', 'group']),
      state: z.enum(['online', 'offline']),
      node: z.string().min(1).max(256).nullable(),
      timeoutSeconds: z.number().int().min(1).max(3600),
    }),
  ),
  /** The cluster's configuration read on this side's node and kept as a version (before a failover). */
  step('cluster.snapshot', z.strictObject({ side: sideSchema, reason: z.enum(['before_failover', 'before_failback', 'manual']) })),

  // ---- test failover (planTestFailover): the source and the live replica are never touched ----
  /** The replication lag at this moment of the test, kept in the step's output for the report. */
  step('test.lag', z.strictObject({ moment: z.enum(['before', 'during', 'after']) })),
  /**
   * Files: a point-in-time copy of the replica of each source root (kept on the target under
   * targetRoot) into the agent's scratch area, named after the operation (reflink where the
   * filesystem has it, else a plain copy).
   */
  step('test.copy', z.strictObject({ method: z.enum(['auto', 'copy']), roots: z.array(z.string().min(1).max(4096)).min(1).max(64), targetRoot: z.string().min(1).max(4096) })),
  /**
   * PostgreSQL: a temporary copy of the standby (base backup from the standby into scratch,
   * started on a spare port, promoted); `countTables` are counted on the standby at copy time.
   */
  step('test.postgresql-copy', z.strictObject({ countTables: z.array(z.string().min(1).max(260)).max(32) })),
  /** One probe against the copy; its output is the probe's result (passed, what it saw). */
  step('test.probe', z.strictObject({ index: z.number().int().min(0).max(31), probe: probeSchema })),
  /** Removes this operation's copies from the target (files and database); a copy already gone is fine. */
  step('test.teardown', noParams),
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
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type StoredParam = JsonValue;

export function stepToRow(s: PlannedStep): { kind: StepKind; description: string; params: Record<string, StoredParam> } {
  return {
    kind: s.kind,
    description: s.description,
    params: { ...(s.params as unknown as Record<string, StoredParam>), optional: s.optional ?? false, ...(s.cleanup ? { cleanup: true } : {}) },
  };
}

/**
 * A runbook: its steps in order, and the point of no return — the index of the first step after
 * which the operation no longer undoes what ran (clients may already reach the target). A failed
 * step before it undoes the steps that ran (undoSteps); at or after it, the operation stops with
 * the pair in a clear state and says what to do. null: every step can be undone.
 */
export interface Runbook {
  steps: PlannedStep[];
  pointOfNoReturn: number | null;
}

/**
 * Reads a stored step back through the schema, so the worker never runs a step whose
 * parameters are missing or of the wrong shape (a row written by another version, or edited).
 */
export function stepFromRow(row: StoredStep): { ok: true; step: PlannedStep } | { ok: false; error: string } {
  if (typeof row.params !== 'object' || row.params === null || Array.isArray(row.params)) return { ok: false, error: 'its parameters are not an object' };
  const { optional, cleanup, ...params } = row.params as Record<string, unknown>;
  const parsed = plannedStepSchema.safeParse({ kind: row.kind, description: row.description, params, ...(optional === true ? { optional } : {}), ...(cleanup === true ? { cleanup } : {}) });
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
  /** Lower the TTL of the records that move at failover (dnsTtlLowering of the settings). */
  lowerTtl?: StepParams['dns.lower-ttl'] | null;
}

/** What enabling lowers when the pair's settings ask for it: the picked records of a DNS failover. */
export function dnsTtlLowering(s: Pick<PairSettings, 'failover' | 'dns'>): StepParams['dns.lower-ttl'] | null {
  if (!s.failover.enabled || s.failover.type !== 'dns' || !s.dns.lowerTtlOnEnable || s.dns.records.length === 0) return null;
  return { records: s.dns.records.map((r) => ({ zone: r.zone, name: r.name, type: r.type })), ttlSeconds: s.dns.ttlSeconds };
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
  if (p.lowerTtl) {
    // Best effort: a DNS server that cannot be reached must not stop protection (the validation says so).
    const n = p.lowerTtl.records.length;
    steps.push({ kind: 'dns.lower-ttl', description: `Lower the TTL of ${n} DNS record${n === 1 ? '' : 's'} that move at failover to ${p.lowerTtl.ttlSeconds} s, so clients follow a failover quickly`, params: p.lowerTtl, optional: true });
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
