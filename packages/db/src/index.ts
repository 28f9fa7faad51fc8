export * from './client.ts';
export * from './tenant.ts';
export { Prisma } from '../generated/prisma/client.ts';
export * from '../generated/prisma/enums.ts';
export type * from '../generated/prisma/client.ts';
export * from './events.ts';
export * from './monthly-report.ts';
