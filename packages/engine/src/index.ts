// Pure domain logic: no Node, Next, Prisma, ws or BullMQ. Time and I/O come in through arguments.
export * from './errors.ts';
export * from './roles.ts';
export * from './validation.ts';
export * from './text.ts';
export * from './pair/index.ts';
export * from './dns/records.ts';
export * from './cluster/index.ts';
export * from './catalogue/index.ts';
export * from './alerts/index.ts';
export * from './reports/monthly.ts';
