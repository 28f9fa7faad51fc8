import { describe, expect, it } from 'vitest';
import type { EventSeverity, EventType, TenantEvent, TenantEventPayload } from './events.ts';
import { LINK_PLACEHOLDER, renderedMessageSchema } from './message.ts';
import { eventUrl, renderEmail, renderMessage, renderWebhook } from './render.ts';
import type { DeliveryTarget } from './rules.ts';

const portalUrl = 'https://portal.example.test/';
const at = new Date('2026-12-07T03:00:00Z');

function event(
  type: EventType,
  payload: TenantEventPayload = {},
  severity: EventSeverity = 'error',
  pairId: string | null = 'pair-1',
): TenantEvent {
  return {
    id: 7n,
    organizationId: 'org-1',
    customerId: 'cust-1',
    pairId,
    type,
    severity,
    message: 'Source <fs01> stopped answering & the target took over',
    payload: { customerName: 'Contoso Dental', pairName: 'FS01 → FS02', ...payload },
    createdAt: at,
  };
}

const channel: DeliveryTarget = { channelId: 'mail', kind: 'email', recipient: 'ops@example.test', name: 'Ops' };
const person: DeliveryTarget = { channelId: null, kind: 'email', recipient: 'ann@example.test', linkEnc: 'sealed' };

const approvalPayload: TenantEventPayload = {
  subject: { kind: 'approval', id: 'appr-1', name: 'FS01 → FS02' },
  data: {
    approvalId: 'appr-1',
    deadlineAt: '2026-12-07T03:15:00Z',
    policyStatement: 'A customer approver decides. After 15 minutes the failover proceeds.',
  },
};

describe('renderEmail', () => {
  const cases: {
    name: string;
    event: TenantEvent;
    target: DeliveryTarget;
    resolved?: boolean;
    subject: RegExp;
    text: (string | RegExp)[];
    absent?: string[];
  }[] = [
    {
      name: 'an alert names what happened, the customer, the pair and links to the pair',
      event: event('source.lost'),
      target: channel,
      subject: /^\[Error\] Source lost — FS01 → FS02$/,
      text: [
        'Customer: Contoso Dental',
        'Pair: FS01 → FS02',
        'Severity: error',
        'When: 2026-12-07 03:00 UTC',
        'https://portal.example.test/customers/cust-1/pairs/pair-1',
      ],
    },
    {
      name: 'the resolved variant says so',
      event: event('source.back', {}, 'info'),
      target: channel,
      resolved: true,
      subject: /^Resolved: Source back — FS01 → FS02$/,
      text: ['Resolved: Source back'],
    },
    {
      name: 'an approval request to a person carries the policy, the deadline and the one-time link placeholder',
      event: event(
        'approval.requested',
        { ...approvalPayload, data: { ...approvalPayload.data, reason: 'FS01 stopped answering' } },
        'warning',
      ),
      target: person,
      subject: /^Approval needed: failover of FS01 → FS02$/,
      text: [
        'A customer approver decides.',
        'Decide by: 2026-12-07 03:15 UTC',
        `Review and approve: ${LINK_PLACEHOLDER}`,
        'What happened: FS01 stopped answering',
      ],
      absent: ['/approvals/appr-1'],
    },
    {
      name: 'an approval request without a personal link points at the approval page',
      event: event('approval.requested', approvalPayload, 'warning'),
      target: { ...person, linkEnc: undefined },
      subject: /^Approval needed/,
      text: ['Review and approve: https://portal.example.test/approvals/appr-1', 'Source <fs01> stopped answering'],
      absent: [LINK_PLACEHOLDER],
    },
    {
      name: 'an escalation says it is the next contact',
      event: event('approval.escalated', approvalPayload, 'warning'),
      target: person,
      subject: /^Escalation: failover of FS01 → FS02 still awaits approval$/,
      text: ['next contact', LINK_PLACEHOLDER],
    },
    {
      name: 'an invitation carries the link placeholder',
      event: event('invitation.sent', { data: { organizationName: 'Northwind MSP' } }, 'info', null),
      target: person,
      subject: /^You are invited to Northwind MSP on Tandem$/,
      text: [`Accept the invitation: ${LINK_PLACEHOLDER}`],
    },
    {
      name: 'a monthly report lists its summary and links to the report',
      event: event(
        'report.monthly',
        {
          data: {
            month: '2026-11',
            summary: ['3 pairs protected', 'Lag within the RPO 99.8% of the time'],
            url: '/customers/cust-1/reports/2026-11',
          },
        },
        'info',
        null,
      ),
      target: channel,
      subject: /^Monthly report for Contoso Dental: 2026-11$/,
      text: [
        '- 3 pairs protected',
        '- Lag within the RPO 99.8% of the time',
        'https://portal.example.test/customers/cust-1/reports/2026-11',
      ],
    },
    {
      name: 'a channel test names the channel',
      event: event('alert.test', { data: { channelId: 'mail' } }, 'info', null),
      target: channel,
      subject: /^Tandem test message$/,
      text: ['for the channel "Ops"'],
    },
    {
      name: 'the mail server test to a person says what it tests',
      event: {
        ...event('alert.test', { data: { smtp: true } }, 'info', null),
        message: 'Test e-mail from Tandem: the mail server settings work',
      },
      target: { channelId: null, kind: 'email', recipient: 'admin@example.test' },
      subject: /^Tandem test message$/,
      text: ['the mail server settings work'],
      absent: ['the channel works'],
    },
  ];

  it.each(cases)('$name', (c) => {
    const m = renderEmail(c.event, c.target, { portalUrl, resolved: c.resolved ?? false });
    expect(renderedMessageSchema.parse(m)).toEqual(m);
    expect(m.subject).toMatch(c.subject);
    for (const t of c.text)
      expect(m.text).toMatch(typeof t === 'string' ? new RegExp(t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : t);
    for (const t of c.absent ?? []) {
      expect(m.text).not.toContain(t);
      expect(m.html).not.toContain(t);
    }
    // The HTML twin is self-contained: inline styles only, no scripts, stylesheets or remote images.
    expect(m.html).toMatch(/^<!DOCTYPE html>/);
    expect(m.html).not.toMatch(/<script|<link|<style|<img/i);
    // What came from the event is escaped.
    expect(m.html).not.toContain('<fs01>');
  });

  it('puts the link placeholder in the big button of an approval e-mail', () => {
    const m = renderEmail(event('approval.requested', approvalPayload, 'warning'), person, { portalUrl, resolved: false });
    expect(m.html).toContain(`href="${LINK_PLACEHOLDER}"`);
    expect(m.html).toContain('Review and approve</a>');
    expect(m.html).toContain('Source &lt;fs01&gt; stopped answering &amp; the target took over');
  });
});

describe('renderWebhook', () => {
  it('standard: our own JSON with every field', () => {
    const e = event('source.lost', { subject: { kind: 'pair', id: 'pair-1', name: 'FS01 → FS02' }, data: { lagSeconds: 12 } });
    expect(renderWebhook(e, 'standard', { portalUrl, resolved: false })).toEqual({
      kind: 'webhook',
      preset: 'standard',
      body: {
        type: 'source.lost',
        id: '7',
        timestamp: '2026-12-07T03:00:00.000Z',
        organizationId: 'org-1',
        customerId: 'cust-1',
        pairId: 'pair-1',
        severity: 'error',
        message: e.message,
        resolved: false,
        subject: { kind: 'pair', id: 'pair-1', name: 'FS01 → FS02' },
        data: { lagSeconds: 12 },
        url: 'https://portal.example.test/customers/cust-1/pairs/pair-1',
      },
    });
  });

  it('slack: text and blocks, with mrkdwn markup escaped and a link button', () => {
    const { body } = renderWebhook(event('failover.started', {}, 'warning'), 'slack', { portalUrl, resolved: false });
    expect(body.text).toContain('Failover started — FS01 → FS02');
    const blocks = body.blocks as { type: string; text?: { text: string }; elements?: { url?: string }[] }[];
    expect(blocks.map((b) => b.type)).toEqual(['section', 'context', 'actions']);
    expect(blocks[0]!.text!.text).toContain('Source &lt;fs01&gt; stopped answering &amp;');
    expect(blocks[2]!.elements![0]!.url).toBe('https://portal.example.test/customers/cust-1/pairs/pair-1');
  });

  it('teams: an Adaptive Card in a message attachment', () => {
    const { body } = renderWebhook(event('failover.succeeded', {}, 'info'), 'teams', { portalUrl, resolved: false });
    expect(body.type).toBe('message');
    const [att] = body.attachments as {
      contentType: string;
      content: { type: string; version: string; body: { type: string; text?: string }[]; actions: { url: string }[] };
    }[];
    expect(att!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(att!.content.type).toBe('AdaptiveCard');
    expect(att!.content.body[0]!.text).toBe('Failover succeeded — FS01 → FS02');
    expect(att!.content.actions[0]!.url).toContain('/pairs/pair-1');
  });

  const pd: { name: string; event: TenantEvent; resolved: boolean; action: string; dedup: string; severity: string }[] = [
    {
      name: 'a condition triggers under its key',
      event: event('source.lost', { condition: { key: 'source.lost:pair-1', state: 'open' } }),
      resolved: false,
      action: 'trigger',
      dedup: 'source.lost:pair-1',
      severity: 'critical',
    },
    {
      name: 'its clear resolves the same key',
      event: event('source.back', { condition: { key: 'source.lost:pair-1', state: 'clear' } }, 'info'),
      resolved: true,
      action: 'resolve',
      dedup: 'source.lost:pair-1',
      severity: 'info',
    },
    {
      name: 'a one-off event gets its own key',
      event: event('lag.high', {}, 'warning'),
      resolved: false,
      action: 'trigger',
      dedup: 'tandem-event-7',
      severity: 'warning',
    },
    {
      name: 'an error that is not critical stays an error',
      event: event('validation.errors'),
      resolved: false,
      action: 'trigger',
      dedup: 'tandem-event-7',
      severity: 'error',
    },
  ];
  it.each(pd)('pagerduty: $name', (c) => {
    const { body } = renderWebhook(c.event, 'pagerduty', { portalUrl, resolved: c.resolved });
    expect(body).not.toHaveProperty('routing_key');
    expect(body.event_action).toBe(c.action);
    expect(body.dedup_key).toBe(c.dedup);
    const payload = body.payload as Record<string, unknown>;
    expect(payload).toMatchObject({ severity: c.severity, source: 'FS01 → FS02', timestamp: '2026-12-07T03:00:00.000Z' });
    expect(String(payload.summary).length).toBeLessThanOrEqual(1024);
    expect(payload.custom_details).toMatchObject({ customer: 'Contoso Dental', eventId: '7' });
  });
});

describe('links and dispatch', () => {
  it.each([
    { name: 'pair', e: event('lag.high'), url: 'https://portal.example.test/customers/cust-1/pairs/pair-1' },
    { name: 'customer', e: event('agent.offline', {}, 'error', null), url: 'https://portal.example.test/customers/cust-1' },
    { name: 'approval', e: event('approval.decided', approvalPayload), url: 'https://portal.example.test/approvals/appr-1' },
    {
      name: 'report (absolute url kept)',
      e: event('report.monthly', { data: { url: 'https://elsewhere.example.test/r' } }),
      url: 'https://elsewhere.example.test/r',
    },
  ])('$name', ({ e, url }) => expect(eventUrl(e, portalUrl)).toBe(url));

  it('a monthly report e-mail names its PDF to attach (made when sent); other e-mails carry none', () => {
    const report = event('report.monthly', { data: { month: '2026-11', url: '/customers/cust-1/reports/2026-11' } });
    const email = renderMessage(report, channel, { portalUrl, resolved: false });
    expect(email).toMatchObject({ kind: 'email', attachments: [{ kind: 'monthly-report', customerId: report.customerId, month: '2026-11' }] });
    expect(renderMessage(event('lag.high'), channel, { portalUrl, resolved: false })).not.toHaveProperty('attachments');
    const hook = renderMessage(report, { channelId: 'h', kind: 'webhook', recipient: 'https://h.example.test', preset: 'standard' }, { portalUrl, resolved: false });
    expect(hook).not.toHaveProperty('attachments');
  });

  it('renders e-mail for e-mail targets and the preset for webhooks', () => {
    expect(renderMessage(event('lag.high'), channel, { portalUrl, resolved: false }).kind).toBe('email');
    const hook = renderMessage(
      event('lag.high'),
      { channelId: 'h', kind: 'webhook', recipient: 'https://h.example.test', preset: 'slack' },
      { portalUrl, resolved: false },
    );
    expect(hook).toMatchObject({ kind: 'webhook', preset: 'slack' });
  });
});
