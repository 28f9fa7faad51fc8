import type { CheckDef } from '../model.ts';

// The `readiness` family (catalogue §2–§4).
export const readinessChecks: CheckDef[] = [];
