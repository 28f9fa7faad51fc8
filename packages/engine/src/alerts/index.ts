export * from './events.ts';
export * from './approval-policy.ts';
export * from './message.ts';
export * from './backoff.ts';
