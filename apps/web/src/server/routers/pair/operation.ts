// One operation in full, for the failover/failback dialogs and the step timeline: what was asked,
// the planned diff, every step with its output and timing. Live pages are told of each change
// through pair.live (the worker publishes after every step it records) and read this again.
import { z } from 'zod';
import { OperationKind, OperationStatus, StepStatus } from '@tandem/db';
import { idSchema, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';

// The engine's describeChanges items, as the worker stores them in Operation.changes.
const changeItemSchema = z.object({
  position: z.number().int(),
  kind: z.enum(['dns', 'address', 'service', 'database', 'hook', 'replication', 'state', 'check']),
  side: z.enum(['source', 'target', 'dns']).nullable(),
  summary: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
  pastPointOfNoReturn: z.boolean(),
});

const outcomeSchema = z.object({
  lagAtCutoverSeconds: z.number().nullable().default(null),
  warnings: z.array(z.string()).default([]),
  nextSteps: z.array(z.string()).default([]),
});

export const operationDetailOutput = z.object({
  id: z.string(),
  pairId: z.string().nullable(),
  kind: z.enum(OperationKind),
  status: z.enum(OperationStatus),
  dryRun: z.boolean(),
  options: z.record(z.string(), z.unknown()),
  /** null until the worker has planned the operation. */
  changes: z.array(changeItemSchema).nullable(),
  pointOfNoReturn: z.number().int().nullable(),
  outcome: outcomeSchema.nullable(),
  error: z.string().nullable(),
  requestedBy: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  steps: z.array(
    z.object({
      position: z.number().int(),
      phase: z.string(),
      kind: z.string(),
      description: z.string(),
      status: z.enum(StepStatus),
      /** What the step's agent answered (a hook's exit code, stdout and stderr; DNS outcomes); never a secret. */
      output: z.unknown(),
      error: z.string().nullable(),
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      attempts: z.number().int(),
    }),
  ),
});

// Agent answers carry no secrets by contract; this is the second belt: a field with one of these
// names never leaves the server, wherever it sits.
const secretKeys = /^(secret|secretEnc|password|tsig|account|pairKey|pairKeyEnc|token|credential)$/i;
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !secretKeys.test(k)).map(([k, v]) => [k, withoutSecrets(v)]));
  }
  return value;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Any member who may read the pair may read its operations: row-level security limits customer
 * users to their own customer's (anything else is NOT_FOUND).
 */
export const pairOperation = memberProcedure
  .input(z.object({ operationId: idSchema }))
  .output(operationDetailOutput)
  .query(async ({ ctx, input }) => {
    const op = await ctx.db.operation.findUnique({ where: { id: input.operationId }, include: { steps: { orderBy: { position: 'asc' } } } });
    if (!op) throw notFound('Operation');
    let requestedBy = 'Tandem (automatic)';
    if (op.requestedById) {
      const user = await ctx.db.user.findUnique({ where: { id: op.requestedById }, select: { name: true } });
      // Customer users do not see the MSP's staff (row-level security): they see who in general.
      requestedBy = user?.name ?? (ctx.actor.kind === 'customer' ? 'Your service provider' : 'A former member');
    }
    const changes = op.changes === null ? null : z.array(changeItemSchema).safeParse(op.changes);
    const outcome = op.outcome === null ? null : outcomeSchema.safeParse(op.outcome);
    if (changes && !changes.success) console.error(`[pair.operation] operation ${op.id} has changes of an unexpected shape`, changes.error.issues[0]);
    return {
      id: op.id,
      pairId: op.pairId,
      kind: op.kind,
      status: op.status,
      dryRun: op.dryRun,
      options: (withoutSecrets(op.options) ?? {}) as Record<string, unknown>,
      changes: changes?.success ? changes.data : null,
      pointOfNoReturn: op.pointOfNoReturn,
      outcome: outcome?.success ? outcome.data : null,
      error: op.error,
      requestedBy,
      createdAt: op.createdAt.toISOString(),
      startedAt: iso(op.startedAt),
      finishedAt: iso(op.finishedAt),
      steps: op.steps.map((s) => ({
        position: s.position,
        phase: s.phase,
        kind: s.kind,
        description: s.description,
        status: s.status,
        output: withoutSecrets(s.output),
        error: s.error,
        startedAt: iso(s.startedAt),
        finishedAt: iso(s.finishedAt),
        attempts: s.attempts,
      })),
    };
  });
