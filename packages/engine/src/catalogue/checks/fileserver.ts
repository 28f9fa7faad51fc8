import type { CheckDef } from '../model.ts';

// The `fileserver` family (catalogue §2–§4).
export const fileserverChecks: CheckDef[] = [];
