import {
  clearingEvents,
  ruleEventTypes,
  type EventSeverity,
  type EventType,
  type RuleEventType,
  type TenantEvent,
} from './events.ts';
import { emailChannelConfigSchema, webhookChannelConfigSchema, type WebhookPreset } from './message.ts';

// Who hears about an event. The dispatcher loads the organization's rules, channels, the open
// alert of the event's condition and the maintenance windows in force, and this decides — without
// I/O — what happens to the condition and which channels or people get a message.
//
// Semantics:
// - Rules: an organization default (customerId null) applies to every customer that has no enabled
//   rule of its own for the same channel. A customer's own rules for a channel replace the defaults
//   for that channel entirely (so a customer can also narrow what a channel receives for them);
//   other channels keep the defaults.
// - A rule matches when the event type is in rule.events and the severity is at least
//   rule.minSeverity. Disabled rules and disabled channels count as absent.
// - Conditions: one open alert per condition key. An opening event with its alert already open is a
//   duplicate and sends nothing. A clearing event resolves the open alert and sends "resolved" to
//   the channels the opening message went to, whatever the severity (a muted opening reached no
//   channel, so its "resolved" reaches none either); with no open alert it sends nothing.
// - Maintenance windows (the customer's, or the event's pair's) in force at the event's time mute
//   channel messages; the alert still opens and resolves. Messages addressed to people (approval
//   requests, invitations) and channel tests are never muted.
// - alert.test goes only to data.channelId (with no channel named: the mail server test, to its
//   recipients). approval.* and invitation.sent go only to
//   payload.recipients. report.monthly goes to channels with a rule for it and to any recipients.

export type ChannelKind = 'email' | 'webhook';

export interface RuleRow {
  id: string;
  customerId: string | null;
  channelId: string;
  events: readonly string[];
  minSeverity: EventSeverity;
  enabled: boolean;
}

export interface ChannelRow {
  id: string;
  kind: ChannelKind;
  name: string;
  config: unknown;
  enabled: boolean;
}

export interface OpenAlertRow {
  id: string;
  conditionKey: string;
  /** Channels the alert's opening message went to (its "resolved" goes there too). */
  openedChannelIds: readonly string[];
}

export interface WindowRow {
  id: string;
  customerId: string;
  pairId: string | null;
  startsAt: Date;
  endsAt: Date;
}

export type ConditionEffect =
  | { kind: 'none' }
  | { kind: 'open'; key: string }
  | { kind: 'duplicate'; key: string; alertId: string }
  | { kind: 'resolve'; key: string; alertId: string }
  /** A clear with nothing open: nothing to resolve, nothing to send. */
  | { kind: 'stale-clear'; key: string };

export interface DeliveryTarget {
  /** Null for a message addressed to a person. */
  channelId: string | null;
  kind: ChannelKind;
  /** E-mail address or webhook URL. */
  recipient: string;
  preset?: WebhookPreset;
  name?: string;
  /** Sealed one-time link of a person (copied onto the delivery). */
  linkEnc?: string;
}

export interface DeliveryPlan {
  condition: ConditionEffect;
  /** The message is the "resolved" variant. */
  resolved: boolean;
  targets: DeliveryTarget[];
  /** Window ids that muted channel messages (empty when nothing was muted). */
  mutedBy: string[];
  /** Channel targets dropped by the mute. */
  mutedTargets: number;
}

export interface DeliveryPlanInput {
  event: TenantEvent;
  rules: readonly RuleRow[];
  channels: readonly ChannelRow[];
  /** The open alert with the event's condition key, if any. */
  openAlert: OpenAlertRow | null;
  windows: readonly WindowRow[];
}

const severityRank: Record<EventSeverity, number> = { info: 0, warning: 1, error: 2 };

export function severityAtLeast(severity: EventSeverity, min: EventSeverity): boolean {
  return severityRank[severity] >= severityRank[min];
}

const directTypes = new Set<EventType>(['approval.requested', 'approval.escalated', 'approval.decided', 'invitation.sent']);

function isRuleEventType(type: string): type is RuleEventType {
  return (ruleEventTypes as readonly string[]).includes(type);
}

/** The rules that govern this customer's messages on each channel (customer rules replace defaults per channel). */
export function effectiveRules(rules: readonly RuleRow[], customerId: string | null): RuleRow[] {
  const enabled = rules.filter((r) => r.enabled && (r.customerId === null || r.customerId === customerId));
  const overridden = new Set(enabled.filter((r) => r.customerId !== null).map((r) => r.channelId));
  return enabled.filter((r) => r.customerId !== null || !overridden.has(r.channelId));
}

/** Channels whose effective rules take `type` at `severity` (severity null: any). */
export function matchingChannelIds(
  rules: readonly RuleRow[],
  customerId: string | null,
  type: RuleEventType,
  severity: EventSeverity | null,
): string[] {
  const ids = new Set<string>();
  for (const r of effectiveRules(rules, customerId)) {
    if (r.events.includes(type) && (severity === null || severityAtLeast(severity, r.minSeverity))) ids.add(r.channelId);
  }
  return [...ids];
}

/** One target per e-mail address or one per webhook; a channel with unreadable settings gets none. */
export function channelTargets(channel: ChannelRow): DeliveryTarget[] {
  if (channel.kind === 'email') {
    const cfg = emailChannelConfigSchema.safeParse(channel.config);
    if (!cfg.success) return [];
    return [...new Set(cfg.data.addresses.map((a) => a.toLowerCase()))].map((recipient) => ({
      channelId: channel.id,
      kind: 'email' as const,
      recipient,
      name: channel.name,
    }));
  }
  const cfg = webhookChannelConfigSchema.safeParse(channel.config);
  if (!cfg.success) return [];
  return [{ channelId: channel.id, kind: 'webhook', recipient: cfg.data.url, preset: cfg.data.preset, name: channel.name }];
}

/** Windows in force at `at` for the event's customer (whole customer, or the event's pair). */
export function activeWindows(
  windows: readonly WindowRow[],
  event: Pick<TenantEvent, 'customerId' | 'pairId'>,
  at: Date,
): WindowRow[] {
  if (!event.customerId) return [];
  const t = at.getTime();
  return windows.filter(
    (w) =>
      w.customerId === event.customerId &&
      (w.pairId === null || w.pairId === event.pairId) &&
      w.startsAt.getTime() <= t &&
      t < w.endsAt.getTime(),
  );
}

function directTargets(event: TenantEvent): DeliveryTarget[] {
  const seen = new Set<string>();
  const out: DeliveryTarget[] = [];
  for (const r of event.payload.recipients ?? []) {
    const email = r.email.toLowerCase();
    if (seen.has(email)) continue;
    seen.add(email);
    out.push({ channelId: null, kind: 'email', recipient: email, name: r.name, linkEnc: r.linkEnc });
  }
  return out;
}

function conditionEffect(event: TenantEvent, openAlert: OpenAlertRow | null): ConditionEffect {
  const c = event.payload.condition;
  if (!c) return { kind: 'none' };
  const open = openAlert && openAlert.conditionKey === c.key ? openAlert : null;
  if (c.state === 'open') return open ? { kind: 'duplicate', key: c.key, alertId: open.id } : { kind: 'open', key: c.key };
  return open ? { kind: 'resolve', key: c.key, alertId: open.id } : { kind: 'stale-clear', key: c.key };
}

export function planDelivery(input: DeliveryPlanInput): DeliveryPlan {
  const { event, rules, channels } = input;
  const condition = conditionEffect(event, input.openAlert);
  const plan: DeliveryPlan = { condition, resolved: condition.kind === 'resolve', targets: [], mutedBy: [], mutedTargets: 0 };
  const byId = new Map(channels.map((c) => [c.id, c]));
  const enabledChannels = (ids: Iterable<string>) =>
    [...ids].map((id) => byId.get(id)).filter((c): c is ChannelRow => c !== undefined && c.enabled);

  if (event.type === 'alert.test') {
    // A test goes to the channel it names, enabled or not: the operator is checking it. With no
    // channel it is the mail server test, addressed to the person in its recipients.
    const channelId = event.payload.data?.channelId;
    const channel = typeof channelId === 'string' ? byId.get(channelId) : undefined;
    plan.targets = channel ? channelTargets(channel) : channelId === undefined ? directTargets(event) : [];
    return plan;
  }
  if (directTypes.has(event.type)) {
    plan.targets = directTargets(event);
    return plan;
  }
  if (event.type === 'report.monthly') {
    const ids = matchingChannelIds(rules, event.customerId, 'report.monthly', event.severity);
    plan.targets = [...enabledChannels(ids).flatMap(channelTargets), ...directTargets(event)];
    return plan;
  }
  if (condition.kind === 'duplicate' || condition.kind === 'stale-clear') return plan;

  let channelIds: string[];
  if (condition.kind === 'resolve') {
    channelIds = [...new Set(input.openAlert?.openedChannelIds ?? [])];
  } else {
    const cleared = clearingEvents[event.type];
    if (cleared) {
      // A clearing event that names no condition: its "resolved" goes where the cleared type's
      // rules point, whatever its severity.
      channelIds = matchingChannelIds(rules, event.customerId, cleared, null);
      plan.resolved = true;
    } else if (isRuleEventType(event.type)) {
      channelIds = matchingChannelIds(rules, event.customerId, event.type, event.severity);
    } else {
      return plan; // history lines (pair.event) and the like
    }
  }
  const targets = enabledChannels(channelIds).flatMap(channelTargets);
  const muting = activeWindows(input.windows, event, event.createdAt);
  if (muting.length > 0) {
    plan.mutedBy = muting.map((w) => w.id);
    plan.mutedTargets = targets.length;
    return plan;
  }
  plan.targets = targets;
  return plan;
}
