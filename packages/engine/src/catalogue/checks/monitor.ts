import type { CheckDef } from '../model.ts';

// The `monitor` family (catalogue §2–§4).
export const monitorChecks: CheckDef[] = [];
