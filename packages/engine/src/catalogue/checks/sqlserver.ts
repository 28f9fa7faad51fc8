import type { CheckDef } from '../model.ts';

// The `sqlserver` family (catalogue §2–§4).
export const sqlserverChecks: CheckDef[] = [];
