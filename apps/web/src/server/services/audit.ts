import type { TenantTx } from '@tandem/db';
import type { Actor } from '../actor';

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId?: string | null;
  customerId?: string | null;
  summary: string;
  changes?: Record<string, unknown> | null;
}

/** Writes an audit event in the same transaction as the change it records. */
export async function audit(db: TenantTx, actor: Actor, entry: AuditEntry) {
  await db.auditEvent.create({
    data: {
      organizationId: actor.organizationId,
      actorId: actor.userId,
      actorLabel: actor.label,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      // A customer user's actions always belong to their customer (and RLS allows no other).
      customerId: entry.customerId ?? (actor.kind === 'customer' ? actor.customerId : null),
      summary: entry.summary,
      changes: (entry.changes ?? undefined) as never,
    },
  });
}

/** Field-by-field difference of an update, for the audit record. */
export function diff<T extends Record<string, unknown>>(before: T, after: Partial<T>): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, v] of Object.entries(after)) {
    if (v !== undefined && before[k] !== v) out[k] = { from: before[k] ?? null, to: v };
  }
  return out;
}
