import type { CheckDef } from '../model.ts';

// The `cluster` family (catalogue §2–§4).
export const clusterChecks: CheckDef[] = [];
