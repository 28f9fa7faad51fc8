import type { CheckDef } from '../model.ts';

// The `topology` family (catalogue §2–§4).
export const topologyChecks: CheckDef[] = [];
