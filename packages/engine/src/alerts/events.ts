import { z } from 'zod';

// The event catalogue: every event a tenant's history or alerting knows, as written to the
// outbox. History lines with no alerting meaning are `pair.event`. Conditions (an agent offline,
// lag above the RPO, …) are opened by one event and cleared by its partner; alerting keeps one
// open alert per condition and sends "resolved" when it clears.

export const eventTypes = [
  'pair.event',
  'agent.offline',
  'agent.online',
  'source.lost',
  'source.back',
  'failover.pending',
  'failover.started',
  'failover.succeeded',
  'failover.failed',
  'lag.high',
  'lag.ok',
  'validation.errors',
  'validation.clear',
  'credential.expiring',
  'credential.renewed',
  'test.overdue',
  'test.done',
  'approval.requested',
  'approval.escalated',
  'approval.decided',
  'invitation.sent',
  'report.monthly',
  'alert.test',
] as const;
export type EventType = (typeof eventTypes)[number];

/** What a rule can subscribe to (the clearing partners follow their condition automatically). */
export const ruleEventTypes = [
  'agent.offline',
  'source.lost',
  'failover.pending',
  'failover.started',
  'failover.succeeded',
  'failover.failed',
  'lag.high',
  'validation.errors',
  'credential.expiring',
  'test.overdue',
  'report.monthly',
] as const satisfies readonly EventType[];
export type RuleEventType = (typeof ruleEventTypes)[number];

export const ruleEventLabels: Record<RuleEventType, string> = {
  'agent.offline': 'Agent offline',
  'source.lost': 'Source lost',
  'failover.pending': 'Failover pending',
  'failover.started': 'Failover started',
  'failover.succeeded': 'Failover succeeded',
  'failover.failed': 'Failover failed',
  'lag.high': 'Lag above the RPO',
  'validation.errors': 'Validation errors appeared',
  'credential.expiring': 'Credential expiring',
  'test.overdue': 'Test failover overdue',
  'report.monthly': 'Monthly report',
};

/** Clearing event → the rule event whose condition it clears (its "resolved" goes where that went). */
export const clearingEvents: Partial<Record<EventType, RuleEventType>> = {
  'agent.online': 'agent.offline',
  'source.back': 'source.lost',
  'lag.ok': 'lag.high',
  'validation.clear': 'validation.errors',
  'credential.renewed': 'credential.expiring',
  'test.done': 'test.overdue',
};

/** The condition key an event opens or clears (one open alert per key). */
export function conditionKey(type: RuleEventType, subjectId: string): string {
  return `${type}:${subjectId}`;
}

export const severitySchema = z.enum(['info', 'warning', 'error']);
export type EventSeverity = z.infer<typeof severitySchema>;

/** What an event is about (shown in messages; links are built from it). */
export const eventSubjectSchema = z.object({
  kind: z.enum(['pair', 'agent', 'server', 'credential', 'customer', 'approval', 'invitation', 'drill', 'organization']),
  id: z.string(),
  name: z.string(),
});
export type EventSubject = z.infer<typeof eventSubjectSchema>;

/** A person an event is addressed to directly (approval requests, escalations, invitations). */
export const eventRecipientSchema = z.object({
  email: z.email(),
  name: z.string().optional(),
  userId: z.string().optional(),
  /** Sealed (server key) one-time link for this person; opened only when the message is sent. */
  linkEnc: z.string().optional(),
});
export type EventRecipient = z.infer<typeof eventRecipientSchema>;

/** The outbox row's payload. */
export const tenantEventPayloadSchema = z.object({
  subject: eventSubjectSchema.optional(),
  /** Names shown in messages: customer and pair. */
  customerName: z.string().optional(),
  pairName: z.string().optional(),
  condition: z.object({ key: z.string(), state: z.enum(['open', 'clear']) }).optional(),
  recipients: z.array(eventRecipientSchema).optional(),
  /** Type-specific details (operationId, approvalId, lagSeconds, month, …). */
  data: z.record(z.string(), z.unknown()).optional(),
});
export type TenantEventPayload = z.infer<typeof tenantEventPayloadSchema>;

/** An outbox event as alerting reads it. */
export interface TenantEvent {
  id: bigint | number | string;
  organizationId: string;
  customerId: string | null;
  pairId: string | null;
  type: EventType;
  severity: EventSeverity;
  message: string;
  payload: TenantEventPayload;
  createdAt: Date;
}
