import { ruleEventLabels, type EventType, type RuleEventType, type TenantEvent } from './events.ts';
import {
  LINK_PLACEHOLDER,
  type RenderedEmail,
  type RenderedMessage,
  type RenderedWebhook,
  type WebhookPreset,
} from './message.ts';
import type { DeliveryTarget } from './rules.ts';

// Turns an event into the message one target receives: an e-mail (subject, plain text and an HTML
// twin with inline styles only, so mail clients show it as written) or a webhook body in one of
// the presets. Rendering happens once, at fan-out; every attempt sends the stored result.
//
// Presets: standard (our own JSON, signed by the sender), slack (incoming webhook: text + blocks),
// teams (incoming webhook / Workflows: an Adaptive Card 1.4 wrapped in a "message" with one
// attachment — the legacy MessageCard is not used), pagerduty (Events v2; the sender adds the
// routing_key from the channel's sealed secret, so it is never stored with the message).

export interface RenderOptions {
  /** The portal's public URL; links are built on it. */
  portalUrl: string;
  /** The "resolved" variant (the event cleared an open alert). */
  resolved: boolean;
}

const extraLabels: Partial<Record<EventType, string>> = {
  'agent.online': 'Agent back online',
  'source.back': 'Source back',
  'lag.ok': 'Lag back within the RPO',
  'validation.clear': 'Validation errors cleared',
  'credential.renewed': 'Credential renewed',
  'test.done': 'Test failover done',
  'approval.requested': 'Approval requested',
  'approval.escalated': 'Approval escalated',
  'approval.decided': 'Approval decided',
  'invitation.sent': 'Invitation',
  'alert.test': 'Test message',
  'pair.event': 'Pair event',
};

export function eventLabel(type: EventType): string {
  return ruleEventLabels[type as RuleEventType] ?? extraLabels[type] ?? type;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function absolute(portalUrl: string, pathOrUrl: string): string {
  if (/^https?:\/\//.test(pathOrUrl)) return pathOrUrl;
  return `${portalUrl.replace(/\/+$/, '')}/${pathOrUrl.replace(/^\/+/, '')}`;
}

/** The portal page an event is about. */
export function eventUrl(event: TenantEvent, portalUrl: string): string {
  const data = event.payload.data ?? {};
  const approvalId = str(data.approvalId) ?? (event.payload.subject?.kind === 'approval' ? event.payload.subject.id : undefined);
  let path = '/dashboard';
  if (event.type === 'report.monthly' && str(data.url)) return absolute(portalUrl, str(data.url)!);
  if (event.type.startsWith('approval.') && approvalId) path = `/approvals/${approvalId}`;
  else if (event.pairId && event.customerId) path = `/customers/${event.customerId}/pairs/${event.pairId}`;
  else if (event.payload.subject?.kind === 'credential') path = '/credentials';
  else if (event.customerId) path = `/customers/${event.customerId}`;
  return absolute(portalUrl, path);
}

/** "2026-12-07 03:00 UTC" (messages are read anywhere; UTC is unambiguous). */
export function formatUtc(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return String(at);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** What an e-mail says, before it is laid out as text and HTML. */
interface EmailContent {
  subject: string;
  heading: string;
  tone: 'alert' | 'warning' | 'ok' | 'neutral';
  paragraphs: string[];
  facts: [string, string][];
  /** Bulleted lines (monthly report summary). */
  bullets: string[];
  button?: { label: string; href: string };
  note?: string;
}

function names(event: TenantEvent): [string, string][] {
  const facts: [string, string][] = [];
  if (event.payload.customerName) facts.push(['Customer', event.payload.customerName]);
  if (event.payload.pairName) facts.push(['Pair', event.payload.pairName]);
  else if (event.payload.subject && event.payload.subject.kind !== 'customer')
    facts.push([capitalize(event.payload.subject.kind), event.payload.subject.name]);
  return facts;
}

function capitalize(s: string) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function subjectName(event: TenantEvent) {
  return event.payload.pairName ?? event.payload.subject?.name ?? event.payload.customerName ?? 'Tandem';
}

function approvalContent(event: TenantEvent, link: string): EmailContent {
  const data = event.payload.data ?? {};
  const pair = subjectName(event);
  const escalated = event.type === 'approval.escalated';
  const facts = names(event);
  const deadline = str(data.deadlineAt);
  if (deadline) facts.push(['Decide by', formatUtc(deadline)]);
  const paragraphs = [
    escalated
      ? `A failover of ${pair} has been waiting for a decision and is now half-way to its deadline. You are the next contact.`
      : `A failover of ${pair} is waiting for your approval.`,
    // What failed, when the emitter says so (data.reason); otherwise the event's own line.
    str(data.reason) ? `What happened: ${str(data.reason)}` : event.message,
  ];
  const policy = str(data.policyStatement);
  if (policy) paragraphs.push(`Policy: ${policy}`);
  return {
    subject: escalated ? `Escalation: failover of ${pair} still awaits approval` : `Approval needed: failover of ${pair}`,
    heading: escalated ? 'A failover still awaits approval' : 'A failover awaits your approval',
    tone: 'warning',
    paragraphs,
    facts,
    bullets: [],
    button: { label: 'Review and approve', href: link },
    note: 'The page shows what the failover would change. You will be asked to sign in; the link works once and expires.',
  };
}

function emailContent(event: TenantEvent, target: DeliveryTarget, opts: RenderOptions): EmailContent {
  const data = event.payload.data ?? {};
  const url = eventUrl(event, opts.portalUrl);
  const personalLink = target.channelId === null && target.linkEnc ? LINK_PLACEHOLDER : undefined;
  const label = eventLabel(event.type);
  switch (event.type) {
    case 'approval.requested':
    case 'approval.escalated':
      return approvalContent(event, personalLink ?? url);
    case 'approval.decided':
      return {
        subject: `Failover of ${subjectName(event)}: ${str(data.decision) ?? 'decided'}`,
        heading: 'Approval decided',
        tone: data.decision === 'rejected' ? 'warning' : 'ok',
        paragraphs: [event.message],
        facts: names(event),
        bullets: [],
        button: { label: 'Open in Tandem', href: personalLink ?? url },
      };
    case 'invitation.sent': {
      const to = str(data.organizationName) ?? event.payload.customerName ?? 'Tandem';
      return {
        subject: `You are invited to ${to} on Tandem`,
        heading: `You are invited to ${to}`,
        tone: 'neutral',
        paragraphs: [event.message],
        facts: [],
        bullets: [],
        button: { label: 'Accept the invitation', href: personalLink ?? absolute(opts.portalUrl, '/') },
        note: 'The link works once and expires. If you did not expect this invitation, ignore this e-mail.',
      };
    }
    case 'report.monthly': {
      const month = str(data.month);
      const summary = Array.isArray(data.summary) ? data.summary.filter((l): l is string => typeof l === 'string') : [];
      return {
        subject: `Monthly report${event.payload.customerName ? ` for ${event.payload.customerName}` : ''}${month ? `: ${month}` : ''}`,
        heading: `Monthly report${month ? ` — ${month}` : ''}`,
        tone: 'neutral',
        paragraphs: [event.message, ...(event.customerId && month ? ['The full report is attached as a PDF.'] : [])],
        facts: names(event),
        bullets: summary,
        button: { label: 'Open the report', href: url },
      };
    }
    case 'alert.test':
      return {
        subject: 'Tandem test message',
        heading: 'Test message',
        tone: 'neutral',
        // A channel's test, or the mail server test addressed to a person (its message says so).
        paragraphs: [
          target.channelId
            ? `This is a test message from Tandem${target.name ? ` for the channel "${target.name}"` : ''}. If you can read it, the channel works.`
            : event.message,
        ],
        facts: [],
        bullets: [],
      };
    default: {
      const facts = names(event);
      facts.push(['Severity', event.severity], ['When', formatUtc(event.createdAt)]);
      const where = event.payload.pairName ?? event.payload.customerName;
      return {
        subject: opts.resolved
          ? `Resolved: ${label}${where ? ` — ${where}` : ''}`
          : `[${capitalize(event.severity)}] ${label}${where ? ` — ${where}` : ''}`,
        heading: opts.resolved ? `Resolved: ${label}` : label,
        tone: opts.resolved ? 'ok' : event.severity === 'error' ? 'alert' : event.severity === 'warning' ? 'warning' : 'neutral',
        paragraphs: [event.message],
        facts,
        bullets: [],
        button: { label: 'Open in Tandem', href: url },
      };
    }
  }
}

const toneColour: Record<EmailContent['tone'], string> = {
  alert: '#b42318',
  warning: '#b54708',
  ok: '#067647',
  neutral: '#344054',
};

function emailText(c: EmailContent): string {
  const lines = [c.heading, ''];
  for (const p of c.paragraphs) lines.push(p, '');
  for (const [k, v] of c.facts) lines.push(`${k}: ${v}`);
  if (c.facts.length) lines.push('');
  for (const b of c.bullets) lines.push(`- ${b}`);
  if (c.bullets.length) lines.push('');
  if (c.button) lines.push(`${c.button.label}: ${c.button.href}`, '');
  if (c.note) lines.push(c.note, '');
  lines.push('-- ', 'Tandem');
  return lines.join('\n');
}

function emailHtml(c: EmailContent): string {
  const e = escapeHtml;
  const colour = toneColour[c.tone];
  const font = 'font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;';
  const parts: string[] = [];
  parts.push(`<h1 style="${font}margin:0 0 16px;font-size:20px;line-height:28px;color:${colour};">${e(c.heading)}</h1>`);
  for (const p of c.paragraphs)
    parts.push(`<p style="${font}margin:0 0 12px;font-size:15px;line-height:22px;color:#101828;">${e(p)}</p>`);
  if (c.facts.length) {
    const rows = c.facts
      .map(
        ([k, v]) =>
          `<tr><td style="${font}padding:4px 16px 4px 0;font-size:14px;color:#667085;white-space:nowrap;">${e(k)}</td><td style="${font}padding:4px 0;font-size:14px;color:#101828;">${e(v)}</td></tr>`,
      )
      .join('');
    parts.push(
      `<table role="presentation" cellpadding="0" cellspacing="0" style="margin:4px 0 16px;border-collapse:collapse;">${rows}</table>`,
    );
  }
  if (c.bullets.length) {
    parts.push(
      `<ul style="${font}margin:0 0 16px;padding-left:20px;font-size:14px;line-height:22px;color:#101828;">${c.bullets.map((b) => `<li>${e(b)}</li>`).join('')}</ul>`,
    );
  }
  if (c.button) {
    parts.push(
      `<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 16px;"><tr><td style="border-radius:6px;background:#175cd3;">` +
        `<a href="${e(c.button.href)}" style="${font}display:inline-block;padding:12px 24px;font-size:16px;font-weight:600;color:#ffffff;text-decoration:none;border-radius:6px;">${e(c.button.label)}</a>` +
        `</td></tr></table>`,
    );
  }
  if (c.note) parts.push(`<p style="${font}margin:0 0 12px;font-size:13px;line-height:20px;color:#667085;">${e(c.note)}</p>`);
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(c.subject)}</title></head>` +
    `<body style="margin:0;padding:0;background:#f2f4f7;">` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f2f4f7;"><tr><td align="center" style="padding:24px 12px;">` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:8px;border-top:4px solid ${colour};">` +
    `<tr><td style="padding:24px;">${parts.join('')}</td></tr></table>` +
    `<p style="${font}margin:12px 0 0;font-size:12px;color:#98a2b3;">Sent by Tandem</p>` +
    `</td></tr></table></body></html>`
  );
}

export function renderEmail(event: TenantEvent, target: DeliveryTarget, opts: RenderOptions): RenderedEmail {
  const c = emailContent(event, target, opts);
  const email: RenderedEmail = { kind: 'email', subject: c.subject, text: emailText(c), html: emailHtml(c) };
  // The monthly report travels as a PDF too: its readers need not have a portal login.
  const month = str(event.payload.data?.month);
  if (event.type === 'report.monthly' && event.customerId && month) email.attachments = [{ kind: 'monthly-report', customerId: event.customerId, month }];
  return email;
}

function title(event: TenantEvent, resolved: boolean): string {
  const label = eventLabel(event.type);
  const where = event.payload.pairName ?? event.payload.customerName;
  return `${resolved ? 'Resolved: ' : ''}${label}${where ? ` — ${where}` : ''}`;
}

function standardBody(event: TenantEvent, opts: RenderOptions): Record<string, unknown> {
  return {
    type: event.type,
    id: String(event.id),
    timestamp: event.createdAt.toISOString(),
    organizationId: event.organizationId,
    customerId: event.customerId,
    pairId: event.pairId,
    severity: event.severity,
    message: event.message,
    resolved: opts.resolved,
    subject: event.payload.subject ?? null,
    data: event.payload.data ?? {},
    url: eventUrl(event, opts.portalUrl),
  };
}

/** Slack mrkdwn treats &, < and > as markup. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function slackBody(event: TenantEvent, opts: RenderOptions): Record<string, unknown> {
  const icon = opts.resolved
    ? ':white_check_mark:'
    : event.severity === 'error'
      ? ':red_circle:'
      : event.severity === 'warning'
        ? ':warning:'
        : ':information_source:';
  const head = title(event, opts.resolved);
  const url = eventUrl(event, opts.portalUrl);
  const context = [
    event.payload.customerName && `Customer: ${event.payload.customerName}`,
    `Severity: ${event.severity}`,
    formatUtc(event.createdAt),
  ].filter(Boolean) as string[];
  return {
    text: `${icon} ${head}: ${event.message}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${slackEscape(head)}*\n${slackEscape(event.message)}` } },
      { type: 'context', elements: context.map((t) => ({ type: 'mrkdwn', text: slackEscape(t) })) },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Tandem' }, url }] },
    ],
  };
}

function teamsBody(event: TenantEvent, opts: RenderOptions): Record<string, unknown> {
  const facts = names(event).map(([t, v]) => ({ title: t, value: v }));
  facts.push({ title: 'Severity', value: event.severity }, { title: 'When', value: formatUtc(event.createdAt) });
  const color = opts.resolved
    ? 'Good'
    : event.severity === 'error'
      ? 'Attention'
      : event.severity === 'warning'
        ? 'Warning'
        : 'Default';
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: title(event, opts.resolved), weight: 'Bolder', size: 'Medium', color, wrap: true },
            { type: 'TextBlock', text: event.message, wrap: true },
            { type: 'FactSet', facts },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open in Tandem', url: eventUrl(event, opts.portalUrl) }],
        },
      },
    ],
  };
}

const criticalTypes = new Set<EventType>(['source.lost', 'failover.failed']);

function pagerDutyBody(event: TenantEvent, opts: RenderOptions): Record<string, unknown> {
  const severity = event.severity === 'error' ? (criticalTypes.has(event.type) ? 'critical' : 'error') : event.severity;
  const url = eventUrl(event, opts.portalUrl);
  return {
    event_action: opts.resolved ? 'resolve' : 'trigger',
    // The condition key ties a trigger to its resolve; one-off events get their own incident.
    dedup_key: event.payload.condition?.key ?? `tandem-event-${String(event.id)}`,
    payload: {
      summary: title(event, opts.resolved).concat(`: ${event.message}`).slice(0, 1024),
      source: subjectName(event),
      severity,
      timestamp: event.createdAt.toISOString(),
      component: event.payload.subject?.kind,
      group: event.payload.customerName,
      class: event.type,
      custom_details: {
        message: event.message,
        customer: event.payload.customerName ?? null,
        pair: event.payload.pairName ?? null,
        eventId: String(event.id),
        ...(event.payload.data ?? {}),
      },
    },
    links: [{ href: url, text: 'Open in Tandem' }],
  };
}

export function renderWebhook(event: TenantEvent, preset: WebhookPreset, opts: RenderOptions): RenderedWebhook {
  const body =
    preset === 'slack'
      ? slackBody(event, opts)
      : preset === 'teams'
        ? teamsBody(event, opts)
        : preset === 'pagerduty'
          ? pagerDutyBody(event, opts)
          : standardBody(event, opts);
  return { kind: 'webhook', preset, body };
}

/** The message for one target of a delivery plan. */
export function renderMessage(event: TenantEvent, target: DeliveryTarget, opts: RenderOptions): RenderedMessage {
  return target.kind === 'email' ? renderEmail(event, target, opts) : renderWebhook(event, target.preset ?? 'standard', opts);
}
