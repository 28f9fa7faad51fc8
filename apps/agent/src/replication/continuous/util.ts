// Small helpers shared by the continuous source and target.

export const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
