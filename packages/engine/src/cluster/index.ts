export * from './plans.ts';
export * from './diff.ts';
