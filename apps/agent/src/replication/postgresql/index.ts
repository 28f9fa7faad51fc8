// PostgreSQL streaming replication, agent side: prepare the source, clone the target into a hot
// standby, report lag on either side, promote, and rewind (or re-clone) a former primary.
// Each function validates its input with zod and throws PostgresReplicationError (with a code) on failure.
export { PostgresReplicationError, scramVerifier, type InstanceSpec, type PgContext, type PgErrorCode } from './common.ts';
export { prepareSource, prepareSourceInputSchema, type PrepareSourceInput, type PrepareSourceResult } from './source.ts';
export { cloneTarget, cloneTargetInputSchema, type CloneTargetInput, type CloneTargetResult } from './clone.ts';
export { replicationStatus, replicationStatusInputSchema, type ReplicationStatus, type ReplicationStatusInput } from './status.ts';
export {
  promote,
  promoteInputSchema,
  rewindCapability,
  rewindOrReclone,
  rewindOrRecloneInputSchema,
  type PromoteInput,
  type PromoteResult,
  type RewindCapability,
  type RewindOrRecloneInput,
  type RewindOrRecloneResult,
} from './failover.ts';
