// Every message between agents and the control plane, as zod schemas shared by both sides.
export * from './actions.ts';
export * from './envelope.ts';
export * from './facts.ts';
export * from './messages.ts';
export * from './postgresql.ts';
export * from './relay.ts';
export * from './failover.ts';
export * from './runbook-server.ts';
export * from './drill.ts';
export * from './cluster.ts';
export * from './validation.ts';
