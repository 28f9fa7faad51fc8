import type { CheckDef } from '../model.ts';

// The `agent` family (catalogue §2–§4).
export const agentChecks: CheckDef[] = [];
