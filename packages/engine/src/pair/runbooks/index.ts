// Only what callers need from the shared helpers (the rest stays internal to the planners).
export { sameAddress, sameSubnet, type RunbookCluster, type RunbookServer } from './common.ts';
export { clusterKindOf, namedClusterResources } from './cluster-steps.ts';
export * from './options.ts';
export * from './dns-plan.ts';
export * from './failover.ts';
export * from './describe.ts';
export * from './failback.ts';
export * from './undo.ts';
export * from './discover.ts';
export * from './test-failover.ts';
