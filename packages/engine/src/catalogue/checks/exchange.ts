import type { CheckDef } from '../model.ts';

// The `exchange` family (catalogue §2–§4).
export const exchangeChecks: CheckDef[] = [];
