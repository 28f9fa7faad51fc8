import type { CheckDef } from '../model.ts';

// The `postgres` family (catalogue §2–§4).
export const postgresChecks: CheckDef[] = [];
