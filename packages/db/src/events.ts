// The one event emitter. Every event — a pair's history line, an agent going offline, an approval
// request — is written through here, inside the caller's transaction: the history row and the
// outbox row commit (or roll back) with the change they report, so alerting sees every committed
// event once and never one that rolled back. The worker's alert dispatcher reads the outbox.
import { tenantEventPayloadSchema, type EventRecipient, type EventSeverity, type EventSubject, type EventType } from '@tandem/engine';
import type { PairEventKind } from '../generated/prisma/enums.ts';
import type { TenantTx } from './tenant.ts';

export interface EmitEvent {
  organizationId: string;
  /** Null only for organization-wide events (an organization-level credential). */
  customerId: string | null;
  /** Set for events about a pair: the pair's history gets the line too (unless `history: false`). */
  pairId?: string | null;
  /** Alerting meaning (default `pair.event`: history only). */
  type?: EventType;
  severity?: EventSeverity;
  message: string;
  /** Pair history: the line's kind (default status). */
  kind?: PairEventKind;
  /** Pair history: evidence shown with the line (detection). */
  evidence?: object;
  /** Write the pair history line (default true when pairId is set). */
  history?: boolean;
  at?: Date;
  subject?: EventSubject;
  customerName?: string;
  pairName?: string;
  /** The condition this event opens or clears (see engine clearingEvents). */
  condition?: { key: string; state: 'open' | 'clear' };
  /** People addressed directly (approval requests, escalations, invitations). */
  recipients?: EventRecipient[];
  data?: Record<string, unknown>;
  /** Once-only events (a month's report, an approval's escalation): a second emit with the key is skipped. */
  dedupeKey?: string;
}

/** Writes the event (history + outbox) in `tx`. Returns false when `dedupeKey` was already used. */
export async function emitEvent(tx: TenantTx, e: EmitEvent): Promise<boolean> {
  const at = e.at ?? new Date();
  const severity = e.severity ?? 'info';
  if (e.dedupeKey) {
    const seen = await tx.outboxEvent.findUnique({ where: { dedupeKey: e.dedupeKey }, select: { id: true } });
    if (seen) return false;
  }
  if (e.pairId && e.customerId && e.history !== false) {
    await tx.pairEvent.create({
      data: { organizationId: e.organizationId, customerId: e.customerId, pairId: e.pairId, at, kind: e.kind ?? 'status', severity, message: e.message, evidence: e.evidence as never },
    });
  }
  const payload = tenantEventPayloadSchema.parse({
    subject: e.subject,
    customerName: e.customerName,
    pairName: e.pairName,
    condition: e.condition,
    recipients: e.recipients,
    data: e.data,
  });
  await tx.outboxEvent.create({
    data: {
      organizationId: e.organizationId,
      customerId: e.customerId,
      pairId: e.pairId ?? null,
      type: e.type ?? 'pair.event',
      severity,
      message: e.message,
      payload: JSON.parse(JSON.stringify(payload)) as never,
      dedupeKey: e.dedupeKey ?? null,
      createdAt: at,
    },
  });
  return true;
}
