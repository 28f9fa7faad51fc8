import type { CheckDef } from '../model.ts';

// The `credentials` family (catalogue §2–§4).
export const credentialsChecks: CheckDef[] = [];
