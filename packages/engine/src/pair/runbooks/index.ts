export * from './common.ts';
export * from './options.ts';
export * from './dns-plan.ts';
export * from './failover.ts';
export * from './describe.ts';
