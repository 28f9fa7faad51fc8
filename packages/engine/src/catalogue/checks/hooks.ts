import type { CheckDef } from '../model.ts';

// The `hooks` family (catalogue §2–§4).
export const hooksChecks: CheckDef[] = [];
