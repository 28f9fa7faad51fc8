// PostgreSQL streaming replication, agent side: prepare the source, clone the target into a hot
// standby, report lag on either side, promote, and rewind (or re-clone) a former primary.
// Each function validates its input with the protocol's zod schema (packages/protocol/src/postgresql.ts)
// and throws PostgresReplicationError (with a code) on failure. actions.ts runs them as the agent's
// postgresql.* actions.
export { type InstanceSpec, type PgContext, type PgErrorCode, PostgresReplicationError } from './context.ts';
export { scramVerifier } from './scram.ts';
export { prepareSource, type PrepareSourceInput, type PrepareSourceResult } from './source.ts';
export { cloneTarget, type CloneTargetInput, type CloneTargetResult } from './clone.ts';
export { replicationStatus, type ReplicationStatus, type ReplicationStatusInput } from './status.ts';
export {
  promote,
  rewindCapability,
  rewindOrReclone,
  type PromoteInput,
  type PromoteResult,
  type RewindCapability,
  type RewindOrRecloneInput,
  type RewindOrRecloneResult,
} from './failover.ts';
export { controlState, stopInstance, type StopInput, type StopResult } from './stop.ts';
export { runPostgresqlAction, type PostgresqlActionName } from './actions.ts';
