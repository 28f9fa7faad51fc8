import { z } from 'zod';
import { idSchema, likeLiteral, notFound } from '@tandem/engine';
import { memberProcedure } from '../../trpc';

export const listAuditInput = z.object({
  customerId: idSchema.optional(),
  actorId: idSchema.optional(),
  action: z.string().trim().max(80, 'Action filter is too long').optional(),
  /** Id of the last event of the previous page. */
  cursor: idSchema.optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

export const auditEventOutput = z.object({
  id: z.string(),
  createdAt: z.string(),
  actorId: z.string().nullable(),
  actorLabel: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  customerId: z.string().nullable(),
  summary: z.string(),
  changes: z.unknown().nullable(),
});

/** The audit trail, newest first. Customer users read their own customer's trail only. */
export const listAudit = memberProcedure
  .input(listAuditInput)
  .output(z.object({ events: z.array(auditEventOutput), nextCursor: z.string().nullable() }))
  .query(async ({ ctx, input }) => {
    if (input.customerId) {
      // Another tenant's (or, for a customer user, another customer's) id is NOT_FOUND.
      const customer = await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } });
      if (!customer) throw notFound('Customer');
    }
    const rows = await ctx.db.auditEvent.findMany({
      where: {
        customerId: input.customerId,
        actorId: input.actorId,
        action: input.action ? { startsWith: likeLiteral(input.action) } : undefined,
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: input.limit + 1,
      ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    });
    const page = rows.slice(0, input.limit);
    return {
      events: page.map((e) => ({
        id: e.id,
        createdAt: e.createdAt.toISOString(),
        actorId: e.actorId,
        actorLabel: e.actorLabel,
        action: e.action,
        targetType: e.targetType,
        targetId: e.targetId,
        customerId: e.customerId,
        summary: e.summary,
        changes: e.changes ?? null,
      })),
      nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    };
  });
