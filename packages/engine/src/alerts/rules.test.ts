import { describe, expect, it } from 'vitest';
import type { EventSeverity, EventType, TenantEvent, TenantEventPayload } from './events.ts';
import { planDelivery, type ChannelRow, type OpenAlertRow, type RuleRow, type WindowRow } from './rules.ts';

const at = new Date('2026-12-07T03:00:00Z');
const ORG = 'org-1';
const CUST = 'cust-1';
const OTHER = 'cust-2';
const PAIR = 'pair-1';

function event(
  type: EventType,
  opts: { severity?: EventSeverity; payload?: TenantEventPayload; customerId?: string | null; pairId?: string | null } = {},
): TenantEvent {
  return {
    id: 42,
    organizationId: ORG,
    customerId: opts.customerId === undefined ? CUST : opts.customerId,
    pairId: opts.pairId === undefined ? PAIR : opts.pairId,
    type,
    severity: opts.severity ?? 'error',
    message: `${type} happened`,
    payload: opts.payload ?? {},
    createdAt: at,
  };
}

const channels: ChannelRow[] = [
  {
    id: 'mail',
    kind: 'email',
    name: 'Ops mail',
    config: { addresses: ['ops@example.test', 'OPS@example.test', 'noc@example.test'] },
    enabled: true,
  },
  {
    id: 'slack',
    kind: 'webhook',
    name: 'Slack',
    config: { url: 'https://hooks.example.test/slack', preset: 'slack' },
    enabled: true,
  },
  {
    id: 'pd',
    kind: 'webhook',
    name: 'PagerDuty',
    config: { url: 'https://events.example.test/v2', preset: 'pagerduty' },
    enabled: true,
  },
  { id: 'off', kind: 'webhook', name: 'Disabled', config: { url: 'https://off.example.test/' }, enabled: false },
  { id: 'broken', kind: 'email', name: 'Broken', config: { addresses: [] }, enabled: true },
];

let n = 0;
function rule(
  channelId: string,
  events: string[],
  opts: { customerId?: string | null; minSeverity?: EventSeverity; enabled?: boolean } = {},
): RuleRow {
  n += 1;
  return {
    id: `r${n}`,
    customerId: opts.customerId ?? null,
    channelId,
    events,
    minSeverity: opts.minSeverity ?? 'info',
    enabled: opts.enabled ?? true,
  };
}

const win = (id: string, pairId: string | null, startsAt: string, endsAt: string, customerId = CUST): WindowRow => ({
  id,
  customerId,
  pairId,
  startsAt: new Date(startsAt),
  endsAt: new Date(endsAt),
});

const open = (key: string, openedChannelIds: string[]): OpenAlertRow => ({ id: 'alert-1', conditionKey: key, openedChannelIds });
const cond = (state: 'open' | 'clear', key = 'source.lost:pair-1'): TenantEventPayload => ({ condition: { key, state } });

interface Case {
  name: string;
  event: TenantEvent;
  rules: RuleRow[];
  openAlert?: OpenAlertRow;
  windows?: WindowRow[];
  condition: string;
  /** channelId|recipient of every target, sorted. */
  targets: string[];
  resolved?: boolean;
  mutedBy?: string[];
}

const cases: Case[] = [
  {
    name: 'an org default rule sends to every address of an e-mail channel (addresses deduplicated)',
    event: event('failover.started'),
    rules: [rule('mail', ['failover.started'])],
    condition: 'none',
    targets: ['mail|noc@example.test', 'mail|ops@example.test'],
  },
  {
    name: 'a rule for another event type does not match',
    event: event('failover.started'),
    rules: [rule('mail', ['failover.failed'])],
    condition: 'none',
    targets: [],
  },
  {
    name: 'severity below the minimum is dropped; at or above it is sent',
    event: event('lag.high', { severity: 'warning' }),
    rules: [rule('slack', ['lag.high'], { minSeverity: 'error' }), rule('pd', ['lag.high'], { minSeverity: 'warning' })],
    condition: 'none',
    targets: ['pd|https://events.example.test/v2'],
  },
  {
    name: "a customer's own rule for a channel replaces the default for that channel only",
    event: event('failover.started'),
    rules: [
      rule('slack', ['failover.started', 'failover.failed']),
      rule('pd', ['failover.started']),
      rule('slack', ['failover.failed'], { customerId: CUST }),
    ],
    condition: 'none',
    targets: ['pd|https://events.example.test/v2'],
  },
  {
    name: "another customer's rule changes nothing for this customer",
    event: event('failover.started'),
    rules: [rule('slack', ['failover.started']), rule('slack', ['failover.failed'], { customerId: OTHER })],
    condition: 'none',
    targets: ['slack|https://hooks.example.test/slack'],
  },
  {
    name: 'a disabled customer rule does not replace the default',
    event: event('failover.started'),
    rules: [rule('slack', ['failover.started']), rule('slack', [], { customerId: CUST, enabled: false })],
    condition: 'none',
    targets: ['slack|https://hooks.example.test/slack'],
  },
  {
    name: 'disabled channels and channels with unreadable settings get nothing',
    event: event('failover.failed'),
    rules: [rule('off', ['failover.failed']), rule('broken', ['failover.failed'])],
    condition: 'none',
    targets: [],
  },
  {
    name: 'an organization-wide event (no customer) uses only the defaults',
    event: event('credential.expiring', { customerId: null, pairId: null }),
    rules: [rule('slack', ['credential.expiring']), rule('pd', ['credential.expiring'], { customerId: CUST })],
    condition: 'none',
    targets: ['slack|https://hooks.example.test/slack'],
  },
  {
    name: 'history lines go nowhere',
    event: event('pair.event'),
    rules: [rule('slack', ['failover.started'])],
    condition: 'none',
    targets: [],
  },
  {
    name: 'an opening event opens the alert and is sent',
    event: event('source.lost', { payload: cond('open') }),
    rules: [rule('slack', ['source.lost'])],
    condition: 'open',
    targets: ['slack|https://hooks.example.test/slack'],
  },
  {
    name: 'an opening event with its alert already open is a duplicate and sends nothing',
    event: event('source.lost', { payload: cond('open') }),
    rules: [rule('slack', ['source.lost'])],
    openAlert: open('source.lost:pair-1', ['slack']),
    condition: 'duplicate',
    targets: [],
  },
  {
    name: 'a clear resolves and goes where the opening went, whatever its severity or the rules now',
    event: event('source.back', { severity: 'info', payload: cond('clear') }),
    rules: [rule('slack', ['source.lost'], { minSeverity: 'error' }), rule('pd', ['source.lost'])],
    openAlert: open('source.lost:pair-1', ['slack', 'off']),
    condition: 'resolve',
    targets: ['slack|https://hooks.example.test/slack'],
    resolved: true,
  },
  {
    name: 'a clear with nothing open sends nothing',
    event: event('source.back', { severity: 'info', payload: cond('clear') }),
    rules: [rule('slack', ['source.lost'])],
    condition: 'stale-clear',
    targets: [],
  },
  {
    name: 'a clearing event without a condition follows the rules of the type it clears, whatever its severity',
    event: event('lag.ok', { severity: 'info' }),
    rules: [rule('slack', ['lag.high'], { minSeverity: 'error' })],
    condition: 'none',
    targets: ['slack|https://hooks.example.test/slack'],
    resolved: true,
  },
  {
    name: 'a customer-wide maintenance window mutes channels but the alert still opens',
    event: event('source.lost', { payload: cond('open') }),
    rules: [rule('slack', ['source.lost'])],
    windows: [win('w1', null, '2026-12-07T02:00:00Z', '2026-12-07T04:00:00Z')],
    condition: 'open',
    targets: [],
    mutedBy: ['w1'],
  },
  {
    name: "a window for the event's pair mutes; one for another pair, another customer or another time does not",
    event: event('failover.started'),
    rules: [rule('slack', ['failover.started'])],
    windows: [
      win('other-pair', 'pair-2', '2026-12-07T02:00:00Z', '2026-12-07T04:00:00Z'),
      win('other-customer', null, '2026-12-07T02:00:00Z', '2026-12-07T04:00:00Z', OTHER),
      win('ended', null, '2026-12-07T01:00:00Z', '2026-12-07T03:00:00Z'),
      win('this-pair', PAIR, '2026-12-07T03:00:00Z', '2026-12-07T03:30:00Z'),
    ],
    condition: 'none',
    targets: [],
    mutedBy: ['this-pair'],
  },
  {
    name: 'a window that does not cover the event leaves it alone',
    event: event('failover.started'),
    rules: [rule('slack', ['failover.started'])],
    windows: [
      win('ended', null, '2026-12-07T01:00:00Z', '2026-12-07T03:00:00Z'),
      win('later', null, '2026-12-07T03:00:01Z', '2026-12-07T04:00:00Z'),
    ],
    condition: 'none',
    targets: ['slack|https://hooks.example.test/slack'],
  },
  {
    name: 'alert.test goes only to its channel, even a disabled one, and is never muted',
    event: event('alert.test', { payload: { data: { channelId: 'off' } } }),
    rules: [rule('slack', ['failover.started'])],
    windows: [win('w1', null, '2026-12-07T02:00:00Z', '2026-12-07T04:00:00Z')],
    condition: 'none',
    targets: ['off|https://off.example.test/'],
  },
  {
    name: 'the mail server test (alert.test naming no channel) goes to the person it is addressed to',
    event: event('alert.test', { customerId: null, pairId: null, payload: { recipients: [{ email: 'Admin@example.test' }], data: { smtp: true } } }),
    rules: [rule('slack', ['failover.started'])],
    windows: [],
    condition: 'none',
    targets: ['-|admin@example.test'],
  },
  {
    name: 'approval requests go to their recipients only, with their links, never muted',
    event: event('approval.requested', {
      payload: {
        recipients: [
          { email: 'Ann@example.test', userId: 'u1', linkEnc: 'sealed-1' },
          { email: 'bob@example.test', userId: 'u2' },
          { email: 'ann@example.test', userId: 'u1' },
        ],
      },
    }),
    rules: [rule('slack', ['failover.pending'])],
    windows: [win('w1', null, '2026-12-07T02:00:00Z', '2026-12-07T04:00:00Z')],
    condition: 'none',
    targets: ['-|ann@example.test', '-|bob@example.test'],
  },
  {
    name: 'the monthly report goes to channels with a rule for it and to its recipients',
    event: event('report.monthly', { severity: 'info', pairId: null, payload: { recipients: [{ email: 'cfo@example.test' }] } }),
    rules: [rule('mail', ['report.monthly']), rule('slack', ['failover.started'])],
    condition: 'none',
    targets: ['-|cfo@example.test', 'mail|noc@example.test', 'mail|ops@example.test'],
  },
];

describe('planDelivery', () => {
  it.each(cases)('$name', (c) => {
    const plan = planDelivery({
      event: c.event,
      rules: c.rules,
      channels,
      openAlert: c.openAlert ?? null,
      windows: c.windows ?? [],
    });
    expect(plan.condition.kind).toBe(c.condition);
    expect(plan.targets.map((t) => `${t.channelId ?? '-'}|${t.recipient}`).sort()).toEqual(c.targets);
    expect(plan.resolved).toBe(c.resolved ?? false);
    expect(plan.mutedBy).toEqual(c.mutedBy ?? []);
  });

  it("copies a person's sealed link onto their target and keeps the webhook preset", () => {
    const direct = planDelivery({
      event: event('approval.requested', { payload: { recipients: [{ email: 'ann@example.test', linkEnc: 'sealed-1' }] } }),
      rules: [],
      channels,
      openAlert: null,
      windows: [],
    });
    expect(direct.targets).toEqual([
      { channelId: null, kind: 'email', recipient: 'ann@example.test', name: undefined, linkEnc: 'sealed-1' },
    ]);
    const hook = planDelivery({
      event: event('failover.failed'),
      rules: [rule('pd', ['failover.failed'])],
      channels,
      openAlert: null,
      windows: [],
    });
    expect(hook.targets[0]).toMatchObject({ kind: 'webhook', preset: 'pagerduty' });
  });

  it('counts the channel targets a window muted', () => {
    const plan = planDelivery({
      event: event('failover.failed'),
      rules: [rule('mail', ['failover.failed']), rule('slack', ['failover.failed'])],
      channels,
      openAlert: null,
      windows: [win('w1', null, '2026-12-07T00:00:00Z', '2026-12-08T00:00:00Z')],
    });
    expect(plan.mutedTargets).toBe(3);
  });
});
