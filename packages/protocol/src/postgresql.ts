import { z } from 'zod';

// PostgreSQL streaming replication: the arguments and results of the agent's postgresql.* actions
// (apps/agent/src/replication/postgresql/ carries them out). Names (roles, slots) are restricted to
// what needs no quoting anywhere: SQL, pg_hba.conf, conninfo. Paths are POSIX (the agent side runs
// on Linux). Validation messages name the field and the rule, never the value, so a password is
// never echoed. No Node.js built-ins here: the web app imports this package too.

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** Role and slot names: what PostgreSQL allows for slots, and needs no quoting in pg_hba.conf. */
export const pgNameSchema = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'use 1-63 lowercase letters, digits and underscores (not starting with a digit)');

/** `.` and `..` resolved, repeated and trailing slashes removed (as path.posix.normalize, for an absolute path). */
function normalizeAbsolute(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** An absolute POSIX path, normalized; never `/` itself. */
export const pgAbsolutePathSchema = z
  .string()
  .min(2, 'must be an absolute path')
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !/[\0\r\n]/.test(p), 'cannot contain NUL or line breaks')
  .transform(normalizeAbsolute)
  .refine((p) => p !== '/', 'cannot be /');

export const pgPortSchema = z.number().int().min(1).max(65535);

export const pgHostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9._:%-]+$/, 'must be a host name or an IP address');

/** A password: it only ever reaches a private .pgpass and postgresql.auto.conf (0600) on the agent. */
export const pgSecretSchema = z
  .string()
  .min(1, 'cannot be empty')
  .max(1024)
  .refine((p) => !/[\0\r\n]/.test(p), 'cannot contain NUL or line breaks');

export const pgEndpointSchema = z.strictObject({ host: pgHostSchema, port: pgPortSchema });

const instanceFields = {
  dataDir: pgAbsolutePathSchema.optional(),
  port: pgPortSchema.optional(),
  socketDir: pgAbsolutePathSchema.optional(),
  /** Directory holding psql, pg_ctl…; default: the running postmaster's, else by PG_VERSION. */
  binDir: pgAbsolutePathSchema.optional(),
  /** Database role psql connects as over the socket (peer/trust); default: the owner's OS user name. */
  dbUser: pgNameSchema.optional(),
};
const instanceGiven = (i: { dataDir?: string | undefined; port?: number | undefined; socketDir?: string | undefined }) =>
  i.dataDir !== undefined || (i.port !== undefined && i.socketDir !== undefined);
const instanceMessage = 'give dataDir, or port and socketDir';

/** A local running instance: its data directory (found through postmaster.pid), or its port and socket directory. */
export const pgInstanceSchema = z.strictObject(instanceFields).refine(instanceGiven, instanceMessage);
export type PgInstanceSpec = z.input<typeof pgInstanceSchema>;

const ipv4 = z.ipv4();
const ipv6 = z.ipv6();

/** An IP address or CIDR, normalized to `addr/bits` (pg_hba.conf form). */
export const pgCidrSchema = z
  .string()
  .max(64)
  .transform((s, c) => {
    const [addr = '', bits, ...rest] = s.split('/');
    const family = ipv4.safeParse(addr).success ? 4 : ipv6.safeParse(addr).success ? 6 : 0;
    const max = family === 6 ? 128 : 32;
    const n = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!family || rest.length > 0 || !(n >= 0 && n <= max)) {
      c.addIssue({ code: 'custom', message: 'must be an IP address or CIDR (e.g. 10.0.0.5 or 10.0.0.0/24)' });
      return z.NEVER;
    }
    return `${addr}/${n}`;
  });

// ---------------------------------------------------------------------------------------------
// Time limits. A command can run at most MAX_COMMAND_TIMEOUT_MS (1 h, actions.ts); the long
// operations (base backup, pg_rewind) are bounded so that, with the stop/start/wait around them,
// they end inside one command. postgresqlCommandTimeoutMs (actions.ts) gives the command timeout.

/** Upper bound of `timeoutMs` (pg_basebackup / pg_rewind) in clone-standby and rewind-or-reclone. */
export const PG_OPERATION_TIMEOUT_MAX_MS = 50 * 60_000;
/** Upper bound of `waitForStreamingMs`. */
export const PG_WAIT_FOR_STREAMING_MAX_MS = 5 * 60_000;
/** What clone-standby and rewind-or-reclone spend around the long step: stop (≤ 130 s), start (≤ 130 s), psql checks. */
export const PG_STANDBY_OVERHEAD_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------
// postgresql.prepare-source: role, settings, slot and pg_hba.conf on the source (idempotent).

export const pgPrepareSourceArgsSchema = z
  .strictObject({
    ...instanceFields,
    replicationUser: pgNameSchema,
    password: pgSecretSchema.optional(),
    slotName: pgNameSchema,
    /** The standby's address as the source sees it (IP or CIDR). */
    targetAddress: pgCidrSchema,
    authMethod: z.enum(['scram-sha-256', 'md5']).default('scram-sha-256'),
    allowRewind: z.boolean().default(true),
    walLogHints: z.boolean().default(false),
    /** Restart with `pg_ctl restart -m fast` when a setting needs it (else restartRequired says so). */
    allowRestart: z.boolean().default(false),
    /** wal_keep_size in MB (reload only): WAL kept for pg_rewind after a failover. Unchanged when absent. */
    walKeepSizeMB: z.number().int().min(0).max(1_048_576).optional(),
  })
  .refine(instanceGiven, instanceMessage);
export type PgPrepareSourceArgs = z.input<typeof pgPrepareSourceArgsSchema>;

export const pgSettingChangeSchema = z.strictObject({
  name: z.string(),
  from: z.string(),
  to: z.string(),
  /** Takes effect only after a restart (else at the reload prepare-source does). */
  needsRestart: z.boolean(),
});
export type PgSettingChange = z.infer<typeof pgSettingChangeSchema>;

export const pgPrepareSourceResultSchema = z.strictObject({
  dataDir: z.string(),
  port: z.number().int(),
  version: z.string(),
  inRecovery: z.boolean(),
  role: z.strictObject({ name: z.string(), created: z.boolean(), altered: z.boolean(), passwordChanged: z.boolean() }),
  slot: z.strictObject({ name: z.string(), created: z.boolean() }).nullable(),
  settings: z.record(z.string(), z.string()),
  /** Written with ALTER SYSTEM; they take effect at the next restart. */
  changedSettings: z.array(pgSettingChangeSchema),
  restartRequired: z.boolean(),
  restarted: z.boolean(),
  hba: z.strictObject({ file: z.string(), changed: z.boolean(), lines: z.array(z.string()) }),
  rewindGrants: z.boolean(),
  /** pg_rewind can later be used on this instance (data checksums or wal_log_hints on, as running). */
  rewindCapable: z.boolean(),
  /** Replication can start now (settings in effect and slot present). */
  ready: z.boolean(),
  warnings: z.array(z.string()),
});
export type PgPrepareSourceResult = z.infer<typeof pgPrepareSourceResultSchema>;

// ---------------------------------------------------------------------------------------------
// postgresql.clone-standby: a local data directory becomes a streaming standby (base backup).

export const pgStandbyOptionsShape = {
  /** The local data directory that becomes the standby (a non-empty one is moved aside, never deleted). */
  dataDir: pgAbsolutePathSchema,
  /** Port the standby listens on. */
  port: pgPortSchema,
  socketDir: pgAbsolutePathSchema.optional(),
  listenAddresses: z.string().regex(/^[A-Za-z0-9.:*, _-]*$/).max(512).optional(),
  /** OS user that owns a new data directory (an existing one keeps its owner). */
  osUser: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/).default('postgres'),
  binDir: pgAbsolutePathSchema.optional(),
  /** The primary to stream from. */
  source: pgEndpointSchema,
  replicationUser: pgNameSchema,
  password: pgSecretSchema.optional(),
  slotName: pgNameSchema,
  sslmode: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).default('prefer'),
  /** postgres arguments to start with instead of the old server's (postmaster.opts). */
  startOptions: z.array(z.string().max(4096).refine((s) => !/[\0\r\n]/.test(s))).max(64).optional(),
  logFile: pgAbsolutePathSchema.optional(),
  waitForStreamingMs: z.number().int().min(0).max(PG_WAIT_FOR_STREAMING_MAX_MS).default(30_000),
  /** Bound on pg_basebackup (and pg_rewind) itself; it must end inside one command (see above). */
  timeoutMs: z.number().int().min(1_000).max(PG_OPERATION_TIMEOUT_MAX_MS).default(PG_OPERATION_TIMEOUT_MAX_MS),
};

export const pgCloneStandbyArgsSchema = z.strictObject(pgStandbyOptionsShape);
export type PgCloneStandbyArgs = z.input<typeof pgCloneStandbyArgsSchema>;

const standbyStartFields = {
  dataDir: z.string(),
  port: z.number().int(),
  inRecovery: z.boolean(),
  streaming: z.boolean(),
  logFile: z.string(),
  warnings: z.array(z.string()),
};
/** A standby configured and started (the part clone-standby and rewind-or-reclone share). */
export const pgStandbyStartResultSchema = z.strictObject(standbyStartFields);
export type PgStandbyStartResult = z.infer<typeof pgStandbyStartResultSchema>;

export const pgCloneStandbyResultSchema = z.strictObject({
  ...standbyStartFields,
  /** Where the previous data directory went (`<dir>.tandem-old-<UTC timestamp>`), or null. */
  movedAsideTo: z.string().nullable(),
  stoppedPreviousServer: z.boolean(),
  durationMs: z.number(),
});
export type PgCloneStandbyResult = z.infer<typeof pgCloneStandbyResultSchema>;

// ---------------------------------------------------------------------------------------------
// postgresql.status: either side of a pair (one query).

export const pgStatusArgsSchema = z.strictObject({ instance: pgInstanceSchema });
export type PgStatusArgs = z.input<typeof pgStatusArgsSchema>;

const lsn = z.string().nullable();
const seconds = z.number().nullable();

export const pgStandbyConnectionSchema = z.strictObject({
  pid: z.number().int(),
  user: z.string().nullable(),
  applicationName: z.string(),
  clientAddr: z.string().nullable(),
  state: z.string(),
  syncState: z.string(),
  sentLsn: lsn,
  writeLsn: lsn,
  flushLsn: lsn,
  replayLsn: lsn,
  lagBytes: z.number().nullable(),
  writeLagSeconds: seconds,
  flushLagSeconds: seconds,
  replayLagSeconds: seconds,
  /** replay_lag, or 0 when it is NULL and the standby has replayed everything. */
  lagSeconds: seconds,
});
export type PgStandbyConnection = z.infer<typeof pgStandbyConnectionSchema>;

export const pgSlotStatusSchema = z.strictObject({
  name: z.string(),
  active: z.boolean(),
  restartLsn: lsn,
  retainedBytes: z.number().nullable(),
  walStatus: z.string().nullable(),
});
export type PgSlotStatus = z.infer<typeof pgSlotStatusSchema>;

export const pgReplicationStatusSchema = z.strictObject({
  role: z.enum(['primary', 'standby']),
  dataDir: z.string(),
  port: z.number().int(),
  version: z.string(),
  checkedAt: z.string(),
  timeline: z.number().int().nullable(),
  /** Standbys streaming from this server (on a standby: cascading ones). */
  standbys: z.array(pgStandbyConnectionSchema),
  slots: z.array(pgSlotStatusSchema),
  primary: z.strictObject({ currentLsn: z.string() }).nullable(),
  standby: z
    .strictObject({
      receiveLsn: lsn,
      replayLsn: lsn,
      lastReplayTimestamp: z.string().nullable(),
      /** max(received, primary's last reported end) - replayed. */
      lagBytes: z.number().nullable(),
      /** now - last replayed commit, or 0 when everything received is replayed. */
      lagSeconds: seconds,
      receiver: z
        .strictObject({
          status: z.string(),
          senderHost: z.string().nullable(),
          senderPort: z.number().int().nullable(),
          slotName: z.string().nullable(),
          latestEndLsn: lsn,
          latestEndTime: z.string().nullable(),
        })
        .nullable(),
    })
    .nullable(),
});
export type PgReplicationStatus = z.infer<typeof pgReplicationStatusSchema>;

// ---------------------------------------------------------------------------------------------
// postgresql.promote: a standby becomes a primary (an existing primary is reported, not an error;
// a stopped instance given by its data directory is started first, as it last ran).

export const pgPromoteArgsSchema = z.strictObject({
  instance: pgInstanceSchema,
  /** Bound on each step (pg_promote's wait, leaving recovery, the CHECKPOINT). */
  timeoutMs: z.number().int().min(1_000).max(15 * 60_000).default(60_000),
});
export type PgPromoteArgs = z.input<typeof pgPromoteArgsSchema>;

export const pgPromoteResultSchema = z.strictObject({
  promoted: z.boolean(),
  alreadyPrimary: z.boolean(),
  /** It was stopped and was started first (the desired state is a running primary). */
  started: z.boolean().default(false),
  timeline: z.number().int().nullable(),
  durationMs: z.number(),
});
export type PgPromoteResult = z.infer<typeof pgPromoteResultSchema>;

// ---------------------------------------------------------------------------------------------
// postgresql.rewind-or-reclone: a former primary becomes a standby of the new primary.

export const pgRewindOrRecloneArgsSchema = z.strictObject({
  ...pgStandbyOptionsShape,
  /** Default: the port the old primary ran on (postmaster.pid / postmaster.opts). */
  port: pgStandbyOptionsShape.port.optional(),
  /** auto: pg_rewind when possible, else (or when it fails) a re-clone; rewind: never re-clone; reclone: skip pg_rewind. */
  mode: z.enum(['auto', 'rewind', 'reclone']).default('auto'),
  /** Create the slot on the new primary first (over a replication connection). */
  createSlot: z.boolean().default(true),
  /** Role pg_rewind connects as (database postgres); default the replication role. */
  rewindUser: pgNameSchema.optional(),
  rewindPassword: pgSecretSchema.optional(),
  /** Slots of this server from its time as primary to drop once it runs as a standby (inactive ones only): they would hold WAL here for good. */
  dropSlots: z.array(pgNameSchema).max(16).default([]),
});
export type PgRewindOrRecloneArgs = z.input<typeof pgRewindOrRecloneArgsSchema>;

export const pgRewindOrRecloneResultSchema = z.strictObject({
  ...standbyStartFields,
  method: z.enum(['rewind', 'reclone']),
  /** Why pg_rewind was not tried (mode reclone, or neither checksums nor wal_log_hints). */
  rewindSkipped: z.string().nullable(),
  /** pg_rewind's failure when a re-clone followed (mode auto). */
  rewindError: z.string().nullable(),
  stoppedPreviousServer: z.boolean(),
  movedAsideTo: z.string().nullable(),
  slotCreated: z.boolean().nullable(),
  /** Of dropSlots, those that were there and were dropped. */
  droppedSlots: z.array(z.string()).default([]),
  durationMs: z.number(),
});
export type PgRewindOrRecloneResult = z.infer<typeof pgRewindOrRecloneResultSchema>;

// ---------------------------------------------------------------------------------------------
// postgresql.stop: stop an instance cleanly (pg_ctl stop -m fast) so that writes stop, for a
// controlled switchover. A stopped instance is reported, not an error. The result carries the
// control file's last checkpoint (after a clean stop: the shutdown checkpoint, the last WAL
// record), so the caller can check that a standby received everything.

export const pgStopArgsSchema = z.strictObject({
  dataDir: pgAbsolutePathSchema,
  binDir: pgAbsolutePathSchema.optional(),
  /** fast: roll back open transactions, write a shutdown checkpoint; immediate: no checkpoint (crash recovery at the next start). */
  mode: z.enum(['fast', 'immediate']).default('fast'),
  timeoutMs: z.number().int().min(1_000).max(10 * 60_000).default(120_000),
});
export type PgStopArgs = z.input<typeof pgStopArgsSchema>;

export const pgStopResultSchema = z.strictObject({
  dataDir: z.string(),
  /** This call stopped a running server. */
  stopped: z.boolean(),
  alreadyStopped: z.boolean(),
  /** pg_controldata's "Database cluster state" (e.g. "shut down", "shut down in recovery"). */
  clusterState: z.string().nullable(),
  /** pg_controldata's "Latest checkpoint location". */
  checkpointLsn: z.string().nullable(),
  timeline: z.number().int().nullable(),
  durationMs: z.number(),
});
export type PgStopResult = z.infer<typeof pgStopResultSchema>;
