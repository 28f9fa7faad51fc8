// Conditions (an agent offline, lag above the RPO, a source lost, …) are opened by one event and
// cleared by its partner, once each. Before emitting either, a writer asks what alerting last
// heard about the condition: the newest outbox event for it that the dispatcher has not handled
// yet or, when there is none, whether an Alert for it is still open. Asking the newest pending
// event first keeps a quick open → clear → open sequence right while the dispatcher lags behind.
import { conditionKey, type RuleEventType } from '@tandem/engine';
import type { TenantTx } from '@tandem/db';

export { conditionKey };

/** Whether the condition counts as open. Holds a per-key lock until commit, so two workers do not both open it. */
export async function conditionIsOpen(tx: TenantTx, key: string): Promise<boolean> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
  const pending = await tx.outboxEvent.findFirst({
    where: { processedAt: null, payload: { path: ['condition', 'key'], equals: key } },
    orderBy: { id: 'desc' },
    select: { payload: true },
  });
  if (pending) return (pending.payload as { condition?: { state?: string } }).condition?.state === 'open';
  return (await tx.alert.count({ where: { conditionKey: key, resolvedAt: null } })) > 0;
}

/**
 * The condition field for an event that wants the condition in `state`, or null when alerting
 * already has it that way (the event is then written as plain history, or not at all).
 */
export async function conditionChange(tx: TenantTx, type: RuleEventType, subjectId: string, state: 'open' | 'clear'): Promise<{ key: string; state: 'open' | 'clear' } | null> {
  const key = conditionKey(type, subjectId);
  const open = await conditionIsOpen(tx, key);
  if (open === (state === 'open')) return null;
  return { key, state };
}

/** Subject and names for an alerting event about a pair (readers often have its id only). */
export async function pairNames(tx: TenantTx, pairId: string) {
  const p = await tx.protectionPair.findUnique({ where: { id: pairId }, select: { name: true, customer: { select: { name: true } } } });
  return p ? { subject: { kind: 'pair' as const, id: pairId, name: p.name }, pairName: p.name, customerName: p.customer.name } : {};
}
