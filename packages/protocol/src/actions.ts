import { z } from 'zod';

// Actions the control plane can ask an agent to carry out. Each has validated arguments, a
// timeout, and a typed result. (Collectors and executors live in apps/agent.)

const serviceName = z
  .string()
  .min(1)
  .max(256)
  // "$" appears in Windows instance services (MSSQL$NAME); the agent refuses option-like names.
  .regex(/^[A-Za-z0-9@._:+$\- ]+$/, 'Service names may use letters, digits, spaces and @ . _ : + - $');

/** Hook files live in the agent's hooks directory; names cannot leave it. */
const hookName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Hook names may use letters, digits, . _ - and must not start with a dot');

export const actionArgs = {
  'service.start': z.strictObject({ name: serviceName }),
  'service.stop': z.strictObject({ name: serviceName }),
  'service.enable': z.strictObject({ name: serviceName }),
  'service.disable': z.strictObject({ name: serviceName }),
  'service.status': z.strictObject({ name: serviceName }),
  'hook.write': z.strictObject({ name: hookName, content: z.string().max(256 * 1024) }),
  'hook.run': z.strictObject({
    name: hookName,
    args: z.array(z.string().max(4096)).max(64).default([]),
    timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  }),
  'facts.collect': z.strictObject({}),
  'credential.rotate': z.strictObject({ credential: z.string().min(32).max(256) }),
} as const;
export type ActionName = keyof typeof actionArgs;
export const actionNames = Object.keys(actionArgs) as ActionName[];
export type ActionArgs<A extends ActionName> = z.infer<(typeof actionArgs)[A]>;

export const serviceStateSchema = z.strictObject({
  name: z.string(),
  state: z.enum(['running', 'stopped', 'starting', 'stopping', 'failed', 'unknown', 'not-found']),
  startMode: z.enum(['auto', 'manual', 'disabled', 'unknown']),
});
export type ServiceState = z.infer<typeof serviceStateSchema>;

/** Output captured from a hook is bounded: at most this many bytes of each stream are kept. */
export const HOOK_OUTPUT_LIMIT = 64 * 1024;

export const hookRunResultSchema = z.strictObject({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  durationMs: z.number(),
});

export const actionResults = {
  'service.start': serviceStateSchema,
  'service.stop': serviceStateSchema,
  'service.enable': serviceStateSchema,
  'service.disable': serviceStateSchema,
  'service.status': serviceStateSchema,
  'hook.write': z.strictObject({ path: z.string(), bytes: z.number().int() }),
  'hook.run': hookRunResultSchema,
  'facts.collect': z.strictObject({ collectedAt: z.string() }),
  'credential.rotate': z.strictObject({ saved: z.literal(true) }),
} as const satisfies Record<ActionName, z.ZodType>;
export type ActionResult<A extends ActionName> = z.infer<(typeof actionResults)[A]>;

/** Default and largest timeouts for a command, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const MAX_COMMAND_TIMEOUT_MS = 3_600_000;
