export * from './events.ts';
export * from './approval-policy.ts';
export * from './message.ts';
export * from './rules.ts';
export * from './render.ts';
export * from './backoff.ts';
