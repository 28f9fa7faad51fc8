import type { CheckDef } from '../model.ts';

// The `generic-service` family (catalogue §2–§4).
export const genericServiceChecks: CheckDef[] = [];
