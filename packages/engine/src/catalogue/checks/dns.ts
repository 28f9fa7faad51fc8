import type { CheckDef } from '../model.ts';

// The `dns` family (catalogue §2–§4).
export const dnsChecks: CheckDef[] = [];
