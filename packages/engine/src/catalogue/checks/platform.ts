import type { CheckDef } from '../model.ts';

// The `platform` family (catalogue §2–§4).
export const platformChecks: CheckDef[] = [];
