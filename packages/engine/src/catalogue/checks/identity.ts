import type { CheckDef } from '../model.ts';

// The `identity` family (catalogue §2–§4).
export const identityChecks: CheckDef[] = [];
