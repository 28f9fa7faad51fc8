// Application facts schemas and helpers of the fileserver, postgres, mariadb and generic-service
// families (the agent's collectors and the worker import them through @tandem/engine).
export { mariadbFactsSchema, type MariadbFacts } from './mariadb.ts';
export { fileserverFactsSchema, fileServerShareSchema, aclModes, type FileserverFacts, type FileServerShare } from './fileserver.ts';
export { genericFactsSchema, type GenericFacts } from './generic.ts';
export { postgresLogicalFactsSchema, pairSlotName, type PostgresLogicalFacts } from './postgres.ts';
export { appTargetRequests } from './requests.ts';
export { postgresTargetPaths, postgresDataPaths } from '../checks/postgres.ts';
export { postgresReferencedFiles, standbyMinimums, parityCopied, parityMemory } from '../checks/postgres-parity.ts';
