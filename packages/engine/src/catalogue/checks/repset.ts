import type { CheckDef } from '../model.ts';

// The `repset` family (catalogue §2–§4).
export const repsetChecks: CheckDef[] = [];
