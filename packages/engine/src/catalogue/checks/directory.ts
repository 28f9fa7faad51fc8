import type { CheckDef } from '../model.ts';

// The `directory` family (catalogue §2–§4).
export const directoryChecks: CheckDef[] = [];
