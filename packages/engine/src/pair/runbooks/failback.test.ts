import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import type { DnsRRset } from '../../dns/records.ts';
import { transition } from '../lifecycle.ts';
import type { PairStatus } from '../status.ts';
import type { Runbook } from '../plans.ts';
import { failbackDnsQuestions } from './dns-plan.ts';
import { planFailback, recordedFailoverState, type FailbackPlanInput } from './failback.ts';
import { planFailover } from './failover.ts';
import { A, CNAME, MX, PTR, readBack, rr, settings, source, target } from './test-fixtures.ts';

const s = settings({
  dns: {
    records: [
      { zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' },
      { zone: 'corp.example.com', name: 'files.corp.example.com', type: 'CNAME' },
      { zone: 'corp.example.com', name: 'corp.example.com', type: 'MX' },
      { zone: '0.0.10.in-addr.arpa', name: '5.0.0.10.in-addr.arpa', type: 'PTR' },
    ],
  },
});
const before: DnsRRset[] = [
  rr('fs01.corp.example.com', 'A', 3600, [A('10.0.0.5')]),
  // Already at the target before the failover: the failover leaves it alone, so the failback must too.
  rr('files.corp.example.com', 'CNAME', 300, [CNAME('fs02.corp.example.com')]),
  rr('corp.example.com', 'MX', 3600, [MX(10, 'fs01.corp.example.com')]),
  rr('5.0.0.10.in-addr.arpa', 'PTR', 3600, [PTR('fs01.corp.example.com')]),
  rr('6.0.0.10.in-addr.arpa', 'PTR', 0, []),
];
const failover = planFailover({
  pairId: 'p',
  pairName: 'Main file server',
  method: 'file',
  settings: s,
  source: source(),
  target: target(),
  mode: 'immediate',
  dnsAnswers: before,
});
const recorded = recordedFailoverState(failover.steps);
// What the zone holds after the failover: each changed RRset at its after-state.
const afterFailover: DnsRRset[] = before.map((b) => {
  const c = recorded.dnsChanges.find((x) => x.name === b.name && x.type === b.type);
  return c ? rr(c.name, c.type, c.after.ttl, c.after.records) : b;
});

const input = (over: Partial<FailbackPlanInput> = {}): FailbackPlanInput => ({
  pairId: 'p',
  pairName: 'Main file server',
  method: 'file',
  settings: s,
  source: source(),
  target: target(),
  restoreFirst: true,
  reprotect: true,
  failover: recorded,
  dnsAnswers: afterFailover,
  ...over,
});
const kinds = (r: Runbook) =>
  r.steps.map(
    (x, n) =>
      `${n === r.pointOfNoReturn ? '| ' : ''}${x.kind}${'side' in x.params ? ` ${x.params.side}` : ''}${'event' in x.params ? ` ${x.params.event}` : ''}`,
  );

/** Applies the runbook's lifecycle events from `from`; the status it ends in (or the refusal). */
function walk(r: Runbook, from: PairStatus): string {
  let status = from;
  for (const x of r.steps) {
    if (x.kind !== 'pair.set-state') continue;
    const t = transition(status, x.params.event);
    if ('refusal' in t) return `refused ${x.params.event}: ${t.refusal}`;
    status = t.status;
  }
  return status;
}

describe('planFailback', () => {
  const enableFile = [
    'replication.check-set',
    'replication.start target',
    'replication.start source',
    'monitor.start source',
    'monitor.start target',
    'pair.set-state replication.started',
  ];
  it.each([
    [
      'restore first, re-protect',
      input(),
      [
        'agents.check',
        'pair.set-state restore.started',
        'replication.restore',
        'pair.set-state restore.completed',
        'services.stop target',
        'replication.restore',
        '| dns.apply',
        'services.start source',
        'pair.set-state failback.succeeded',
        ...enableFile,
      ],
      'mirroring',
    ],
    [
      'no restore, no re-protect',
      input({ restoreFirst: false, reprotect: false }),
      [
        'agents.check',
        'pair.set-state failback.started',
        'services.stop target',
        '| dns.apply',
        'services.start source',
        'pair.set-state failback.succeeded',
      ],
      'unprotected',
    ],
    [
      'restore first only',
      input({ reprotect: false }),
      [
        'agents.check',
        'pair.set-state restore.started',
        'replication.restore',
        'pair.set-state restore.completed',
        'services.stop target',
        'replication.restore',
        '| dns.apply',
        'services.start source',
        'pair.set-state failback.succeeded',
      ],
      'unprotected',
    ],
    [
      're-protect only, with hooks and monitoring off',
      input({
        restoreFirst: false,
        monitoring: false,
        settings: { ...s, hooks: { ...s.hooks, beforeFailback: 'exit 0', afterFailback: 'exit 0' } },
      }),
      [
        'agents.check',
        'pair.set-state failback.started',
        'hook.run source',
        'services.stop target',
        '| dns.apply',
        'services.start source',
        'hook.run source',
        'pair.set-state failback.succeeded',
        'replication.check-set',
        'replication.start target',
        'replication.start source',
        'pair.set-state replication.started',
      ],
      'mirroring',
    ],
  ])('%s', (_, i, expected, endsIn) => {
    const r = planFailback(i);
    expect(kinds(r)).toEqual(expected);
    expect(walk(r, 'failed_over')).toBe(endsIn);
    expect(readBack(r)).toEqual(r.steps);
    expect(r.steps[0]).toMatchObject({ params: { sides: ['source', 'target'] } });
  });

  it('reverts exactly the RRsets the failover changed, from what they hold now to the recorded before-state', () => {
    expect(failbackDnsQuestions(recorded.dnsChanges).map((q) => `${q.name} ${q.type}`)).toEqual([
      'fs01.corp.example.com A',
      'corp.example.com MX',
      '5.0.0.10.in-addr.arpa PTR',
      '6.0.0.10.in-addr.arpa PTR',
    ]);
    const step = planFailback(input()).steps.find((x) => x.kind === 'dns.apply');
    expect(step?.kind === 'dns.apply' && step.params.changes).toEqual(
      recorded.dnsChanges.map((c) => ({ ...c, before: c.after, after: c.before })),
    );
    // The PTR the failover created goes away again (absent), and its TTL is back where it was.
    expect(step?.kind === 'dns.apply' && step.params.changes.at(-1)).toEqual({
      zone: '0.0.10.in-addr.arpa',
      name: '6.0.0.10.in-addr.arpa',
      type: 'PTR',
      before: { ttl: 60, records: [PTR('fs01.corp.example.com')] },
      after: { ttl: 0, records: [] },
    });
  });

  it('reverts from what the zone holds now, and leaves an RRset that is already back alone', () => {
    const now = afterFailover.map((a) =>
      a.name === 'fs01.corp.example.com'
        ? rr(a.name, 'A', 3600, [A('10.0.0.5')])
        : a.type === 'MX'
          ? rr(a.name, 'MX', 30, [MX(5, 'other.corp.example.com')])
          : a,
    );
    const step = planFailback(input({ dnsAnswers: now })).steps.find((x) => x.kind === 'dns.apply');
    expect(step?.kind === 'dns.apply' && step.params.changes.map((c) => [c.name, c.type, c.before, c.after])).toEqual([
      [
        'corp.example.com',
        'MX',
        { ttl: 30, records: [MX(5, 'other.corp.example.com')] },
        { ttl: 3600, records: [MX(10, 'fs01.corp.example.com')] },
      ],
      ['5.0.0.10.in-addr.arpa', 'PTR', { ttl: 60, records: [] }, { ttl: 3600, records: [PTR('fs01.corp.example.com')] }],
      ['6.0.0.10.in-addr.arpa', 'PTR', { ttl: 60, records: [PTR('fs01.corp.example.com')] }, { ttl: 0, records: [] }],
    ]);
  });

  it('refuses a DNS failback without a recorded failover', () => {
    expect(() => planFailback(input({ failover: null }))).toThrow(AppError);
    expect(() => planFailback(input({ failover: null }))).toThrow(/No recorded failover to reverse/);
  });

  it('moves the addresses back: off the target, then onto the source interface they came from', () => {
    const id = settings({ failover: { type: 'identity', identity: { addresses: [{ address: '10.0.0.5', prefix: 24 }] } } });
    const fo = planFailover({
      pairId: 'p',
      pairName: 'n',
      method: 'file',
      settings: id,
      source: source(),
      target: target(),
      mode: 'immediate',
      dnsAnswers: null,
    });
    const rec = recordedFailoverState(fo.steps);
    expect(rec).toEqual({
      dnsChanges: [],
      addresses: [{ address: '10.0.0.5', prefix: 24, interface: 'eth0', sourceInterface: 'eth0' }],
    });
    const r = planFailback(input({ settings: id, failover: rec, dnsAnswers: null, restoreFirst: false, reprotect: false }));
    expect(kinds(r)).toEqual([
      'agents.check',
      'pair.set-state failback.started',
      'services.stop target',
      '| address.ensure target',
      'address.ensure source',
      'services.start source',
      'pair.set-state failback.succeeded',
    ]);
    expect(r.steps.slice(3, 5).map((x) => x.params)).toEqual([
      { side: 'target', address: '10.0.0.5', prefix: 24, interface: 'eth0', present: false, force: false },
      { side: 'source', address: '10.0.0.5', prefix: 24, interface: 'eth0', present: true, force: false },
    ]);
    // No recorded failover: identity goes back by the settings.
    expect(
      kinds(planFailback(input({ settings: id, failover: null, dnsAnswers: null, restoreFirst: false, reprotect: false }))),
    ).toContain('| address.ensure target');
    // A source that can no longer hold the address is refused before anything moves.
    const away = source({ interfaces: [{ name: 'eth9', addresses: [{ address: '172.16.0.5', prefix: 24 }] }] });
    expect(() =>
      planFailback(
        input({
          settings: id,
          source: away,
          failover: { ...rec, addresses: [{ ...rec.addresses[0]!, sourceInterface: null }] },
          dnsAnswers: null,
        }),
      ),
    ).toThrow(/fs01 has no interface in the subnet of 10\.0\.0\.5\/24/);
  });

  const pg = settings({
    application: 'postgresql',
    replicationSet: null,
    failover: { services: ['postgresql'], extraServices: ['pgbouncer'] },
    connection: {
      route: '10.0.0.6',
      targetRoot: '/',
      database: {
        sourceDataDir: '/var/lib/postgresql/16/main',
        sourcePort: 5432,
        targetDataDir: '/var/lib/postgresql/16/main',
        targetPort: 5433,
        sourceAddress: '10.0.0.5',
      },
    },
    dns: { records: [{ zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' }] },
  });
  const pgFailover = recordedFailoverState(
    planFailover({
      pairId: 'p',
      pairName: 'n',
      method: 'postgresql_streaming',
      settings: pg,
      source: source(),
      target: target(),
      mode: 'immediate',
      dnsAnswers: [rr('fs01.corp.example.com', 'A', 60, [A('10.0.0.5')])],
    }).steps,
  );
  const pgInput = (over: Partial<FailbackPlanInput>) =>
    input({
      method: 'postgresql_streaming',
      settings: pg,
      failover: pgFailover,
      dnsAnswers: [rr('fs01.corp.example.com', 'A', 60, [A('10.0.0.6')])],
      ...over,
    });

  it.each([
    [
      'restore first (controlled switchover) and re-protect without a new base backup',
      pgInput({}),
      [
        'agents.check',
        'pair.set-state restore.started',
        'postgresql.follow source',
        'postgresql.wait-caught-up source',
        '| postgresql.stop target',
        'postgresql.promote source',
        'postgresql.follow target',
        'pair.set-state restore.completed',
        'services.stop target',
        'dns.apply',
        'services.start source',
        'pair.set-state failback.succeeded',
        'monitor.start source',
        'monitor.start target',
        'pair.set-state standby.streaming',
      ],
      'protected',
    ],
    [
      'without restore: the target stops, the old primary serves, re-protect clones again',
      pgInput({ restoreFirst: false }),
      [
        'agents.check',
        'pair.set-state failback.started',
        'services.stop target',
        '| postgresql.stop target',
        'postgresql.promote source',
        'dns.apply',
        'services.start source',
        'pair.set-state failback.succeeded',
        'postgresql.prepare-source',
        'postgresql.clone-standby',
        'monitor.start source',
        'monitor.start target',
        'pair.set-state standby.streaming',
      ],
      'protected',
    ],
  ])('PostgreSQL: %s', (_, i, expected, endsIn) => {
    const r = planFailback(i);
    expect(kinds(r)).toEqual(expected);
    expect(walk(r, 'failed_over')).toBe(endsIn);
    expect(readBack(r)).toEqual(r.steps);
  });

  it('PostgreSQL after a restore: only the extra services stop on the target (its database now runs the standby)', () => {
    expect(planFailback(pgInput({})).steps.find((x) => x.kind === 'services.stop')?.params).toMatchObject({
      side: 'target',
      services: ['pgbouncer'],
    });
    expect(planFailback(pgInput({ restoreFirst: false })).steps.find((x) => x.kind === 'services.stop')?.params).toMatchObject({
      services: ['postgresql', 'pgbouncer'],
    });
  });
});

describe('the failover runbook walks the lifecycle', () => {
  it.each(['protected', 'failover_pending'] as const)('from %s to failed over', (from) => {
    expect(walk(failover, from)).toBe('failed_over');
  });
});
