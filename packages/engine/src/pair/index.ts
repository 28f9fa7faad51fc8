export * from './replication-set.ts';
export * from './settings.ts';
export * from './defaults.ts';
export * from './status.ts';
export * from './lifecycle.ts';
export * from './plans.ts';
export * from './detection.ts';
export * from './stored.ts';
