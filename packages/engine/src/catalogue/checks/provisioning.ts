import type { CheckDef } from '../model.ts';

// The `provisioning` family (catalogue §2–§4).
export const provisioningChecks: CheckDef[] = [];
