import type { CheckDef } from '../model.ts';

// The `mariadb` family (catalogue §2–§4).
export const mariadbChecks: CheckDef[] = [];
