import type { CheckDef } from '../model.ts';

// The `drill` family (catalogue §2–§4).
export const drillChecks: CheckDef[] = [];
