export * from './plans.ts';
export * from './diff.ts';
export * from './secrets.ts';
