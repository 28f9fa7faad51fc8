import type { CheckDef } from '../model.ts';

// The `sharepoint` family (catalogue §2–§4).
export const sharepointChecks: CheckDef[] = [];
