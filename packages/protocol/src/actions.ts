import { z } from 'zod';
import {
  clusterConfigReadArgsSchema,
  clusterConfigReadResultSchema,
  clusterConfigReplaceArgsSchema,
  clusterConfigReplaceResultSchema,
  clusterResourceEnsureArgsSchema,
  clusterResourceEnsureResultSchema,
  clusterStackEnsureArgsSchema,
  clusterStackEnsureResultSchema,
} from './cluster.ts';
import {
  pgTestCopyCreateArgsSchema,
  pgTestCopyCreateResultSchema,
  pgTestCopyQueryArgsSchema,
  pgTestCopyQueryResultSchema,
  testCopyCreateArgsSchema,
  testCopyCreateResultSchema,
  testCopyListArgsSchema,
  testCopyListResultSchema,
  testCopyRemoveArgsSchema,
  testCopyRemoveResultSchema,
  testFilesHashArgsSchema,
  testFilesHashResultSchema,
  testPathsExistArgsSchema,
  testPathsExistResultSchema,
  testTcpProbeArgsSchema,
  testTcpProbeResultSchema,
} from './drill.ts';
import { absolutePathSchema, replicationRuleSchema, replicationSetSchema } from '@tandem/engine';
import { validationActionArgs, validationActionResults } from './validation.ts';
import {
  PG_STANDBY_OVERHEAD_MS,
  pgCloneStandbyArgsSchema,
  pgCloneStandbyResultSchema,
  pgPrepareSourceArgsSchema,
  pgPrepareSourceResultSchema,
  pgPromoteArgsSchema,
  pgPromoteResultSchema,
  pgReplicationStatusSchema,
  pgRewindOrRecloneArgsSchema,
  pgRewindOrRecloneResultSchema,
  pgStatusArgsSchema,
  pgStopArgsSchema,
  pgStopResultSchema,
} from './postgresql.ts';
import {
  addressEnsureArgsSchema,
  addressEnsureResultSchema,
  dnsApplyArgsSchema,
  dnsApplyResultSchema,
  dnsQueryArgsSchema,
  dnsQueryResultSchema,
  dnsTransferArgsSchema,
  dnsTransferResultSchema,
  serviceEnsureArgsSchema,
  serviceStartupModeArgsSchema,
} from './failover.ts';

// Actions the control plane can ask an agent to carry out. Each has validated arguments, a
// timeout, and a typed result. (Collectors and executors live in apps/agent.)

const serviceName = z
  .string()
  .min(1)
  .max(256)
  // "$" appears in Windows instance services (MSSQL$NAME); the agent refuses option-like names.
  .regex(/^[A-Za-z0-9@._:+$\- ]+$/, 'Service names may use letters, digits, spaces and @ . _ : + - $');

/** Hook files live in the agent's hooks directory; names cannot leave it. */
const hookName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Hook names may use letters, digits, . _ - and must not start with a dot');

// ---- file replication ----

const absolutePath = absolutePathSchema;
export { replicationRuleSchema, replicationSetSchema };

const hostSchema = z.string().min(1).max(255);
const portSchema = z.number().int().min(1).max(65_535);
/** Port 0 lets the target pick a free port (tests); the source always names one. */
const listenPortSchema = z.number().int().min(0).max(65_535);
/** The default data-channel port the target listens on. */
export const DEFAULT_REPLICATION_PORT = 6320;

/** What both ends of a file pair's transfer are told, by replication.start and replication.restore alike. */
const pairTransferFields = {
  /** 32 bytes in base64 are 43 characters and one "=". */
  key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'the key is 32 bytes in base64'),
  source: replicationSetSchema,
  targetRoot: absolutePath(),
  listen: z.strictObject({ host: hostSchema.optional(), port: listenPortSchema.default(DEFAULT_REPLICATION_PORT) }).optional(),
  connect: z.strictObject({ host: hostSchema, port: portSchema.default(DEFAULT_REPLICATION_PORT) }).optional(),
  mode: z.enum(['full', 'checksum', 'differences']).default('checksum'),
  orphans: z.enum(['keep', 'delete', 'move-aside']).default('delete'),
  compression: z.enum(['off', 'fast', 'best']).default('off'),
  bandwidthLimitBps: z.number().int().positive().optional(),
};

/**
 * Starts (or, for a pair already running with other arguments, restarts) one side of a file pair.
 * Both agents get the same arguments except `role`; the control plane sends it to the target
 * first (it must listen before the source connects; the source retries anyway).
 * - `key`: the per-pair 32-byte pre-shared key of the data channel (TLS-PSK), base64.
 * - `source.roots`: absolute directories on the source. The target keeps each root under
 *   `targetRoot` at the root's own path: `/srv/data` → `<targetRoot>/srv/data`; a Windows root
 *   `C:\data` → `<targetRoot>/C/data`; a UNC root `\\host\share\x` → `<targetRoot>/UNC/host/share/x`.
 * - `route`: `direct` (default): the target listens and the source connects to it. `relay`: both
 *   agents dial the gateway's relay (RELAY_PATH, relay.ts) instead, for sites that cannot reach
 *   each other; the TLS-PSK session still runs agent to agent inside it.
 * - `listen` (role target, route direct): where the target accepts the source (default all
 *   interfaces, 6320); `connect` (role source, route direct): the target's route address.
 * - `mode`: how the initial mirror compares (later resumes always use `differences` + block deltas).
 * - `bandwidthLimitBps`: wire bytes per second for the whole pair (shared out between its roots).
 * - `inPlaceMinBytes`: block deltas of files at least this big are written into the target's file
 *   itself instead of a copy renamed over it (no full-file copy; a reader of the target may see a
 *   change half applied). Unset: every file is replaced atomically.
 * The agent persists the arguments (mode 0600, they hold the key) and resumes the pair after a restart.
 */
export const replicationStartArgsSchema = z
  .strictObject({
    pairId: z.uuid(),
    role: z.enum(['source', 'target']),
    ...pairTransferFields,
    route: z.enum(['direct', 'relay']).default('direct'),
    inPlaceMinBytes: z.number().int().positive().optional(),
  })
  .refine((a) => a.role !== 'source' || a.route === 'relay' || a.connect, { message: 'a source needs "connect" (the target\'s address) unless the route is "relay"', path: ['connect'] });
export type ReplicationStartArgs = z.infer<typeof replicationStartArgsSchema>;

/**
 * `replication.restore` (failback): the pair's data flows back, from the original TARGET's copy to
 * the original SOURCE, with the mirror engine (same modes, rules, orphan policies and progress).
 * Both agents get the same arguments except `role`: `receiver` on the pair's source machine (it
 * listens, so it is sent first) and `sender` on the pair's target machine (it connects to the
 * receiver's address, `connect`). Direct route only for now. The pair's replication must be
 * stopped on the agent first (refused otherwise: the source's watcher would send the restored files
 * straight back). Returns at once; `replication.status` reports the progress and the outcome
 * (`restore`). A restore cut short (an agent restarted, the connection dropped) ends `failed` and
 * is run again; in checksum mode the second run sends only what still differs.
 * - `mode` default `checksum` (the source usually still holds most of the data); `orphans` default
 *   `delete`: what was deleted on the replica while it was live goes on the source too. Only paths
 *   the set's rules select are ever touched on the receiver: excluded files stay as they are.
 */
export const replicationRestoreArgsSchema = z
  .strictObject({
    pairId: z.uuid(),
    role: z.enum(['receiver', 'sender']),
    ...pairTransferFields,
  })
  .refine((a) => a.role !== 'sender' || a.connect, { message: 'a sender needs "connect" (the receiver\'s address)', path: ['connect'] });
export type ReplicationRestoreArgs = z.infer<typeof replicationRestoreArgsSchema>;

/** A restore's progress on one agent (see replicationRestoreArgsSchema). */
export const replicationRestoreStateSchema = z.strictObject({
  role: z.enum(['receiver', 'sender']),
  state: z.enum(['running', 'done', 'failed']),
  startedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  /** Sender: what is left of the current round, all roots together (0 on the receiver). */
  bytesLeft: z.number().int().nonnegative(),
  filesLeft: z.number().int().nonnegative(),
  /** Sender: file content bytes sent (0 on the receiver). */
  bytesSent: z.number().int().nonnegative(),
  /** Sender: files sent; receiver: files written. */
  filesApplied: z.number().int().nonnegative(),
  /** Entries on the receiver that the copy no longer has, handled by the orphan policy. */
  orphans: z.number().int().nonnegative(),
  errors: z.array(z.string().max(2000)).max(50),
});
export type ReplicationRestoreState = z.infer<typeof replicationRestoreStateSchema>;

export const replicationStatusSchema = z.strictObject({
  pairId: z.uuid(),
  /** Whether this agent runs the pair at all. */
  running: z.boolean(),
  role: z.enum(['source', 'target']).nullable(),
  /** source: starting | mirror | continuous | disconnected (worst of its roots); target: listening. */
  state: z.enum(['not-running', 'starting', 'mirror', 'continuous', 'disconnected', 'listening']),
  connected: z.boolean(),
  at: z.number().int(),
  mirrorBytesLeft: z.number().int().nonnegative(),
  mirrorFilesLeft: z.number().int().nonnegative(),
  queueBytes: z.number().int().nonnegative(),
  queueFiles: z.number().int().nonnegative(),
  throughputBps: z.number().nonnegative(),
  /** Seconds since the oldest change not yet applied on the target; null before the mirror completed (or on a target). */
  lagSeconds: z.number().nonnegative().nullable(),
  /** Target: the port it listens on. */
  port: z.number().int().nullable(),
  /** Target: changes applied by continuous sessions since the agent started. */
  changesApplied: z.number().int().nonnegative(),
  errors: z.array(z.string().max(2000)).max(50),
  /** The latest restore on this agent since it started (running or finished), if any. */
  restore: replicationRestoreStateSchema.nullable(),
});
export type ReplicationStatus = z.infer<typeof replicationStatusSchema>;

/** A path relative to a replication root, `/`-separated (as verify reports it). */
const replicationRelPath = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'paths cannot contain NUL');

/**
 * `replication.verify` (SOURCE agent of a running pair only): compares every root (or only `paths`
 * and what lies below them, relative to each root) with the target's copy, content and metadata,
 * over the pair's data channel. Nothing is written. Meaningful when lag is 0 (changes still queued
 * show up as differences). `differing` holds at most MAX_VERIFY_DIFFERING entries (`truncated`).
 */
export const replicationVerifyArgsSchema = z.strictObject({
  pairId: z.uuid(),
  paths: z.array(replicationRelPath).max(10_000).optional(),
});
export const MAX_VERIFY_DIFFERING = 1000;
export const replicationDifferenceSchema = z.strictObject({
  /** The source root the path belongs to. */
  root: z.string(),
  /** Relative to the root, `/`-separated. */
  path: z.string(),
  kind: z.enum(['missing', 'extra', 'content', 'metadata']),
  detail: z.string().nullable(),
});
export type ReplicationDifference = z.infer<typeof replicationDifferenceSchema>;
export const replicationVerifyResultSchema = z.strictObject({
  checkedFiles: z.number().int().nonnegative(),
  checkedBytes: z.number().nonnegative(),
  differing: z.array(replicationDifferenceSchema).max(MAX_VERIFY_DIFFERING),
  /** More differences than `differing` holds. */
  truncated: z.boolean(),
});
export type ReplicationVerifyResult = z.infer<typeof replicationVerifyResultSchema>;

/**
 * `replication.resend` (SOURCE agent of a running pair only): queues these paths (e.g. verify's
 * `differing`) into the continuous engine, which probes the target and sends what differs
 * (blocks, metadata, a missing directory, a deletion). `queued`: how many were accepted (paths
 * outside the replication set are skipped).
 */
export const replicationResendArgsSchema = z.strictObject({
  pairId: z.uuid(),
  items: z.array(z.strictObject({ root: z.string().min(1).max(4096), path: replicationRelPath })).max(10_000),
});

/**
 * `replication.check-set` (source agent): whether each root of a replication set exists and is a
 * directory, before enabling protection.
 */
export const replicationCheckSetResultSchema = z.strictObject({
  roots: z.array(z.strictObject({ root: z.string(), exists: z.boolean(), directory: z.boolean(), error: z.string().max(2000).nullable() })).max(64),
});

// ---- failure monitor ----

/** The source agent answers probes; the target agent sends them and reports what it sees. */
export const monitorStartArgsSchema = z
  .strictObject({
    pairId: z.uuid(),
    role: z.enum(['source', 'target']),
    /** The pair's key, base64 (probes and answers are HMAC-signed with it). */
    key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'the key is 32 bytes in base64'),
    method: z.enum(['agent', 'icmp']).default('agent'),
    /** Source: the UDP port to answer on (0 = any free port, for tests). Target: the port to probe. */
    port: listenPortSchema,
    /** Target only: the source addresses to probe. */
    addresses: z.array(hostSchema).max(16).default([]),
    intervalMs: z.number().int().min(100).max(3_600_000).default(5000),
    missed: z.number().int().min(1).max(100).default(5),
    trigger: z.enum(['all', 'any']).default('all'),
  })
  .refine((a) => a.role === 'source' || a.addresses.length > 0, { message: 'a target needs addresses to probe', path: ['addresses'] })
  .refine((a) => a.role === 'source' || a.port > 0, { message: 'a target needs the port to probe', path: ['port'] });
export type MonitorStartArgs = z.infer<typeof monitorStartArgsSchema>;

export const monitorAddressStateSchema = z.strictObject({
  address: z.string().max(255),
  reachable: z.boolean(),
  /** Probes in a row without an answer. */
  missed: z.number().int().nonnegative(),
  lastOkAt: z.number().int().nullable(),
});
export type MonitorAddressState = z.infer<typeof monitorAddressStateSchema>;

export const monitorStatusSchema = z.strictObject({
  pairId: z.uuid(),
  running: z.boolean(),
  role: z.enum(['source', 'target']).nullable(),
  /** Source: the UDP port it answers on. */
  port: z.number().int().nullable(),
  /** Target: ok while the trigger condition is not met, lost once it is. */
  state: z.enum(['ok', 'lost']).nullable(),
  addresses: z.array(monitorAddressStateSchema).max(16),
});
export type MonitorStatus = z.infer<typeof monitorStatusSchema>;

export const actionArgs = {
  'service.start': z.strictObject({ name: serviceName }),
  'service.stop': z.strictObject({ name: serviceName }),
  'service.enable': z.strictObject({ name: serviceName }),
  'service.disable': z.strictObject({ name: serviceName }),
  'service.status': z.strictObject({ name: serviceName }),
  'service.ensure': serviceEnsureArgsSchema,
  'service.set-startup-mode': serviceStartupModeArgsSchema,
  'dns.query': dnsQueryArgsSchema,
  'dns.transfer': dnsTransferArgsSchema,
  'dns.apply': dnsApplyArgsSchema,
  'address.ensure': addressEnsureArgsSchema,
  'hook.write': z.strictObject({ name: hookName, content: z.string().max(256 * 1024) }),
  'hook.run': z.strictObject({
    name: hookName,
    args: z.array(z.string().max(4096)).max(64).default([]),
    timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  }),
  'facts.collect': z.strictObject({}),
  'credential.rotate': z.strictObject({ credential: z.string().min(32).max(256) }),
  'replication.start': replicationStartArgsSchema,
  'replication.stop': z.strictObject({ pairId: z.uuid() }),
  'replication.status': z.strictObject({ pairId: z.uuid() }),
  'replication.verify': replicationVerifyArgsSchema,
  'replication.resend': replicationResendArgsSchema,
  'replication.check-set': z.strictObject({ source: replicationSetSchema }),
  'replication.restore': replicationRestoreArgsSchema,
  'monitor.start': monitorStartArgsSchema,
  'monitor.stop': z.strictObject({ pairId: z.uuid() }),
  'monitor.status': z.strictObject({ pairId: z.uuid() }),
  // PostgreSQL streaming replication (postgresql.ts). Send these with the command timeout
  // postgresqlCommandTimeoutMs(action, args) gives: AgentBus.send otherwise waits only
  // DEFAULT_COMMAND_TIMEOUT_MS (30 s), and when a command times out the agent answers "timed
  // out" while the operation itself goes on to its own end.
  'postgresql.prepare-source': pgPrepareSourceArgsSchema,
  'postgresql.clone-standby': pgCloneStandbyArgsSchema,
  'postgresql.status': pgStatusArgsSchema,
  'postgresql.promote': pgPromoteArgsSchema,
  'postgresql.rewind-or-reclone': pgRewindOrRecloneArgsSchema,
  'postgresql.stop': pgStopArgsSchema,
  // Test failover (drill.ts): copies in the agent's scratch area, read-only probes.
  'test.copy-create': testCopyCreateArgsSchema,
  'test.copy-remove': testCopyRemoveArgsSchema,
  'test.copy-list': testCopyListArgsSchema,
  'test.files-hash': testFilesHashArgsSchema,
  'test.paths-exist': testPathsExistArgsSchema,
  'test.tcp-probe': testTcpProbeArgsSchema,
  'postgresql.test-copy-create': pgTestCopyCreateArgsSchema,
  'postgresql.test-copy-query': pgTestCopyQueryArgsSchema,
  // Clusters (cluster.ts).
  'cluster.resource-ensure': clusterResourceEnsureArgsSchema,
  'cluster.stack-ensure': clusterStackEnsureArgsSchema,
  'cluster.config-read': clusterConfigReadArgsSchema,
  'cluster.config-replace': clusterConfigReplaceArgsSchema,
  // The validation catalogue (validation.ts).
  ...validationActionArgs,
} as const;
export type ActionName = keyof typeof actionArgs;
export const actionNames = Object.keys(actionArgs) as ActionName[];
export type ActionArgs<A extends ActionName> = z.infer<(typeof actionArgs)[A]>;
/** What a sender passes for an action (defaults not yet applied). */
export type ActionInput<A extends ActionName> = z.input<(typeof actionArgs)[A]>;

export const serviceStateSchema = z.strictObject({
  name: z.string(),
  state: z.enum(['running', 'stopped', 'starting', 'stopping', 'failed', 'unknown', 'not-found']),
  startMode: z.enum(['auto', 'manual', 'disabled', 'unknown']),
});
export type ServiceState = z.infer<typeof serviceStateSchema>;

/** Output captured from a hook is bounded: at most this many bytes of each stream are kept. */
export const HOOK_OUTPUT_LIMIT = 64 * 1024;

export const hookRunResultSchema = z.strictObject({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  durationMs: z.number(),
});

/** start-like commands: done, and the port listened on (null when nothing listens). */
const startedResultSchema = z.strictObject({ started: z.literal(true), port: z.number().int().nullable() });

export const actionResults = {
  'service.start': serviceStateSchema,
  'service.stop': serviceStateSchema,
  'service.enable': serviceStateSchema,
  'service.disable': serviceStateSchema,
  'service.status': serviceStateSchema,
  'service.ensure': serviceStateSchema,
  'service.set-startup-mode': serviceStateSchema,
  'dns.query': dnsQueryResultSchema,
  'dns.transfer': dnsTransferResultSchema,
  'dns.apply': dnsApplyResultSchema,
  'address.ensure': addressEnsureResultSchema,
  'hook.write': z.strictObject({ path: z.string(), bytes: z.number().int() }),
  'hook.run': hookRunResultSchema,
  'facts.collect': z.strictObject({ collectedAt: z.string() }),
  'credential.rotate': z.strictObject({ saved: z.literal(true) }),
  'replication.start': startedResultSchema,
  'replication.stop': z.strictObject({ stopped: z.boolean() }),
  'replication.status': replicationStatusSchema,
  'replication.verify': replicationVerifyResultSchema,
  'replication.resend': z.strictObject({ queued: z.number().int().nonnegative() }),
  'replication.check-set': replicationCheckSetResultSchema,
  'replication.restore': startedResultSchema,
  'monitor.start': startedResultSchema,
  'monitor.stop': z.strictObject({ stopped: z.boolean() }),
  'monitor.status': monitorStatusSchema,
  'postgresql.prepare-source': pgPrepareSourceResultSchema,
  'postgresql.clone-standby': pgCloneStandbyResultSchema,
  'postgresql.status': pgReplicationStatusSchema,
  'postgresql.promote': pgPromoteResultSchema,
  'postgresql.rewind-or-reclone': pgRewindOrRecloneResultSchema,
  'postgresql.stop': pgStopResultSchema,
  'test.copy-create': testCopyCreateResultSchema,
  'test.copy-remove': testCopyRemoveResultSchema,
  'test.copy-list': testCopyListResultSchema,
  'test.files-hash': testFilesHashResultSchema,
  'test.paths-exist': testPathsExistResultSchema,
  'test.tcp-probe': testTcpProbeResultSchema,
  'postgresql.test-copy-create': pgTestCopyCreateResultSchema,
  'postgresql.test-copy-query': pgTestCopyQueryResultSchema,
  'cluster.resource-ensure': clusterResourceEnsureResultSchema,
  'cluster.stack-ensure': clusterStackEnsureResultSchema,
  'cluster.config-read': clusterConfigReadResultSchema,
  'cluster.config-replace': clusterConfigReplaceResultSchema,
  ...validationActionResults,
} as const satisfies Record<ActionName, z.ZodType>;
export type ActionResult<A extends ActionName> = z.infer<(typeof actionResults)[A]>;

/** Default and largest timeouts for a command, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const MAX_COMMAND_TIMEOUT_MS = 3_600_000;

type PostgresqlAction = Extract<ActionName, `postgresql.${string}`>;

/**
 * The command timeout (AgentBus.send's `timeoutMs`) a postgresql.* action needs, from its
 * arguments (as given to send: defaults are applied here), at most MAX_COMMAND_TIMEOUT_MS:
 * - status: 60 s (finding the instance and one query, 30 s each at most);
 * - prepare-source: 5 min (a few psql calls, and with allowRestart a `pg_ctl restart`, ≤ 140 s);
 * - promote: 3 × timeoutMs + 60 s (pg_promote's wait, leaving recovery, CHECKPOINT);
 * - clone-standby: timeoutMs (pg_basebackup; default and maximum 50 min) + waitForStreamingMs
 *   + 5 min (stop, start): with the defaults 55.5 min;
 * - rewind-or-reclone: like clone-standby (plus the slot and a CHECKPOINT); in mode auto a failed
 *   pg_rewind is followed by a base backup, both bounded by timeoutMs, so the worst case may
 *   exceed the 1 h a command can last: the result is then lost (the agent finishes the work),
 *   give a smaller timeoutMs when that matters (≤ 20 min keeps auto inside one command);
 * - stop: timeoutMs (pg_ctl's wait) + 60 s.
 */
export function postgresqlCommandTimeoutMs<A extends PostgresqlAction>(action: A, args: z.input<(typeof actionArgs)[A]>): number {
  const clamp = (ms: number) => Math.min(MAX_COMMAND_TIMEOUT_MS, ms);
  const parsed = actionArgs[action].safeParse(args);
  // Invalid arguments are refused before they are sent (AgentBus.send); any timeout will do.
  if (!parsed.success) return DEFAULT_COMMAND_TIMEOUT_MS;
  const a = parsed.data as { timeoutMs?: number; waitForStreamingMs?: number; mode?: string };
  switch (action) {
    case 'postgresql.status':
      return 60_000;
    case 'postgresql.prepare-source':
      return 5 * 60_000;
    case 'postgresql.promote':
      return clamp(3 * a.timeoutMs! + 60_000);
    case 'postgresql.clone-standby':
      return clamp(a.timeoutMs! + a.waitForStreamingMs! + PG_STANDBY_OVERHEAD_MS);
    case 'postgresql.rewind-or-reclone':
      // + the slot (≤ 60 s) and a CHECKPOINT on the new primary (≤ 120 s); in mode auto a
      // pg_rewind then a base backup, with a second stop and start.
      return clamp((a.mode === 'auto' ? 2 : 1) * (a.timeoutMs! + PG_STANDBY_OVERHEAD_MS) + a.waitForStreamingMs! + 3 * 60_000);
    case 'postgresql.stop':
      // pg_ctl's wait, then pg_controldata.
      return clamp(a.timeoutMs! + 60_000);
    case 'postgresql.test-copy-create':
      // the base backup, then start and promote (≤ 5 min).
      return clamp(a.timeoutMs! + PG_STANDBY_OVERHEAD_MS);
    case 'postgresql.test-copy-query':
      return clamp(a.timeoutMs! + 30_000);
    case 'postgresql.set-settings':
      // ALTER SYSTEM and a reload, or a restart of the standby (pg_ctl's wait).
      return 3 * 60_000;
  }
}
