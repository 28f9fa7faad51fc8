import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import type { DnsRRset } from '../../dns/records.ts';
import { dnsQuestions, describeDnsChange } from './dns-plan.ts';
import { planFailover, type FailoverPlanInput } from './failover.ts';
import { A, AAAA, CNAME, MX, PTR, readBack, rr, settings, source, target } from './test-fixtures.ts';

const picked = settings({
  dns: {
    records: [
      { zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' },
      { zone: 'corp.example.com', name: 'files.corp.example.com', type: 'CNAME' },
      { zone: 'corp.example.com', name: 'share.corp.example.com', type: 'CNAME' },
      { zone: 'corp.example.com', name: 'corp.example.com', type: 'MX' },
      { zone: '0.0.10.in-addr.arpa', name: '5.0.0.10.in-addr.arpa', type: 'PTR' },
    ],
  },
});
const zone: DnsRRset[] = [
  rr('fs01.corp.example.com', 'A', 3600, [A('10.0.0.5'), A('10.0.0.50')]),
  rr('files.corp.example.com', 'CNAME', 300, [CNAME('fs01.corp.example.com')]),
  // share → files → fs01: an alias of a moving alias follows it.
  rr('share.corp.example.com', 'CNAME', 300, [CNAME('files.corp.example.com')]),
  rr('corp.example.com', 'MX', 3600, [MX(10, 'fs01.corp.example.com'), MX(20, 'mx2.other.net')]),
  rr('5.0.0.10.in-addr.arpa', 'PTR', 3600, [PTR('fs01.corp.example.com')]),
  rr('6.0.0.10.in-addr.arpa', 'PTR', 3600, [PTR('fs02.corp.example.com')]),
];
const input = (over: Partial<FailoverPlanInput> = {}): FailoverPlanInput => ({
  pairId: '00000000-0000-4000-8000-0000000000f0',
  pairName: 'Main file server',
  method: 'file',
  settings: picked,
  source: source(),
  target: target(),
  mode: 'graceful',
  dnsAnswers: zone,
  ...over,
});
const kinds = (i: FailoverPlanInput) => {
  const r = planFailover(i);
  return r.steps.map(
    (s, n) =>
      `${n === r.pointOfNoReturn ? '| ' : ''}${s.kind}${'side' in s.params ? ` ${s.params.side}` : ''}${s.optional ? '?' : ''}`,
  );
};
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).message;
  }
  throw new Error('not refused');
};

describe('planFailover: the order of the steps', () => {
  const fileFence = ['replication.stop target', 'monitor.stop target?', 'replication.stop source?', 'monitor.stop source?'];
  it.each([
    [
      'graceful, source online',
      input(),
      [
        'agents.check',
        'pair.set-state',
        'services.stop source',
        'replication.drain',
        ...fileFence,
        '| dns.apply',
        'services.start target',
        'pair.set-state',
      ],
    ],
    [
      'immediate: no stop, no drain',
      input({ mode: 'immediate' }),
      ['agents.check', 'pair.set-state', ...fileFence, '| dns.apply', 'services.start target', 'pair.set-state'],
    ],
    [
      'graceful with the source agent offline: nothing to stop or drain',
      input({ source: source({ agentOnline: false }) }),
      ['agents.check', 'pair.set-state', ...fileFence, '| dns.apply', 'services.start target', 'pair.set-state'],
    ],
    [
      'hooks: before (undoable) and after the cut-over',
      input({
        settings: {
          ...picked,
          hooks: { ...picked.hooks, beforeFailover: 'exit 0', afterFailover: 'echo done', beforeFailback: 'x' },
        },
      }),
      [
        'agents.check',
        'pair.set-state',
        'hook.run target',
        'services.stop source',
        'replication.drain',
        ...fileFence,
        '| dns.apply',
        'services.start target',
        'hook.run target',
        'pair.set-state',
      ],
    ],
    [
      'a blank hook script is no hook',
      input({ settings: { ...picked, hooks: { ...picked.hooks, beforeFailover: '  \n' } } }),
      [
        'agents.check',
        'pair.set-state',
        'services.stop source',
        'replication.drain',
        ...fileFence,
        '| dns.apply',
        'services.start target',
        'pair.set-state',
      ],
    ],
    [
      'no services configured',
      input({ mode: 'immediate', settings: { ...picked, failover: { ...picked.failover, services: [], extraServices: [] } } }),
      ['agents.check', 'pair.set-state', ...fileFence, '| dns.apply', 'pair.set-state'],
    ],
    [
      'DNS already at the target: no DNS step, the point of no return moves to the next step',
      input({
        mode: 'immediate',
        settings: settings({ dns: { records: [{ zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' }] } }),
        dnsAnswers: [rr('fs01.corp.example.com', 'A', 60, [A('10.0.0.6')])],
      }),
      ['agents.check', 'pair.set-state', ...fileFence, '| services.start target', 'pair.set-state'],
    ],
  ])('%s', (_, i, expected) => {
    expect(kinds(i)).toEqual(expected);
    const r = planFailover(i);
    expect(readBack(r)).toEqual(r.steps);
    expect(r.steps[1]!.params).toEqual({ event: 'failover.started' });
    expect(r.steps.at(-1)!.params).toEqual({ event: 'failover.succeeded', monitoringStatus: 'off' });
  });

  it('checks only the target agent, stops the source’s services (manual start) and drains with the pair’s deadline', () => {
    const s = {
      ...picked,
      failover: { ...picked.failover, drainTimeoutSeconds: 45, onDrainTimeout: 'proceed' as const, serviceTimeoutSeconds: 30 },
    };
    const r = planFailover(input({ settings: s }));
    expect(r.steps[0]).toMatchObject({ kind: 'agents.check', params: { sides: ['target'] } });
    expect(r.steps[2]).toEqual({
      kind: 'services.stop',
      description: 'Stop smbd, nmbd and clamd on fs01 and set them to manual start',
      params: { side: 'source', services: ['smbd', 'nmbd', 'clamd'], startMode: 'manual', timeoutSeconds: 30 },
    });
    expect(r.steps[3]).toMatchObject({ kind: 'replication.drain', params: { timeoutSeconds: 45, onTimeout: 'proceed' } });
    expect(r.steps[3]!.description).toMatch(/up to 45 s; then proceed/);
    expect(r.steps.find((x) => x.kind === 'services.start')).toMatchObject({
      params: { side: 'target', services: ['smbd', 'nmbd', 'clamd'], timeoutSeconds: 30 },
    });
  });
});

describe('planFailover: DNS', () => {
  it('asks for the picked records plus the PTR of the target address their reverse lookup moves to', () => {
    expect(dnsQuestions(picked, source(), target())).toEqual([
      { zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' },
      { zone: 'corp.example.com', name: 'files.corp.example.com', type: 'CNAME' },
      { zone: 'corp.example.com', name: 'share.corp.example.com', type: 'CNAME' },
      { zone: 'corp.example.com', name: 'corp.example.com', type: 'MX' },
      { zone: '0.0.10.in-addr.arpa', name: '5.0.0.10.in-addr.arpa', type: 'PTR' },
      { zone: '0.0.10.in-addr.arpa', name: '6.0.0.10.in-addr.arpa', type: 'PTR' },
    ]);
    // None picked: the A and AAAA of the source's name.
    expect(dnsQuestions(settings(), source(), target())).toEqual([
      { zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' },
      { zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'AAAA' },
    ]);
    expect(
      dnsQuestions(
        settings({ failover: { type: 'identity', identity: { addresses: [{ address: '10.0.0.5', prefix: 24 }] } } }),
        source(),
        target(),
      ),
    ).toEqual([]);
  });

  it('plans the exact before → after of every RRset that moves, with the TTL lowered', () => {
    const step = planFailover(input()).steps.find((s) => s.kind === 'dns.apply');
    expect(step?.kind === 'dns.apply' && step.params).toEqual({
      provider: 'rfc2136',
      executorServerId: null,
      servers: [
        { host: '10.0.0.2', port: 53 },
        { host: '10.0.0.3', port: 5353 },
      ],
      credentialId: '00000000-0000-4000-8000-0000000000aa',
      changes: [
        {
          zone: 'corp.example.com',
          name: 'fs01.corp.example.com',
          type: 'A',
          before: { ttl: 3600, records: [A('10.0.0.5'), A('10.0.0.50')] },
          after: { ttl: 60, records: [A('10.0.0.6'), A('10.0.0.50')] },
        },
        {
          zone: 'corp.example.com',
          name: 'files.corp.example.com',
          type: 'CNAME',
          before: { ttl: 300, records: [CNAME('fs01.corp.example.com')] },
          after: { ttl: 60, records: [CNAME('fs02.corp.example.com')] },
        },
        {
          zone: 'corp.example.com',
          name: 'corp.example.com',
          type: 'MX',
          before: { ttl: 3600, records: [MX(10, 'fs01.corp.example.com'), MX(20, 'mx2.other.net')] },
          after: { ttl: 60, records: [MX(10, 'fs02.corp.example.com'), MX(20, 'mx2.other.net')] },
        },
        {
          zone: '0.0.10.in-addr.arpa',
          name: '5.0.0.10.in-addr.arpa',
          type: 'PTR',
          before: { ttl: 3600, records: [PTR('fs01.corp.example.com')] },
          after: { ttl: 60, records: [] },
        },
        {
          zone: '0.0.10.in-addr.arpa',
          name: '6.0.0.10.in-addr.arpa',
          type: 'PTR',
          before: { ttl: 3600, records: [PTR('fs02.corp.example.com')] },
          after: { ttl: 60, records: [PTR('fs02.corp.example.com'), PTR('fs01.corp.example.com')] },
        },
      ],
    });
  });

  it('describes a change as an operator reads it', () => {
    const r = planFailover(
      input({
        settings: settings({
          dns: { ttlSeconds: 300, records: [{ zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' }] },
        }),
        dnsAnswers: [rr('fs01.corp.example.com', 'A', 300, [A('10.0.0.5')])],
      }),
    );
    expect(r.steps.find((s) => s.kind === 'dns.apply')?.description).toBe(
      'Point fs01.corp.example.com (A) at 10.0.0.6 instead of 10.0.0.5 (clients reach fs02)',
    );
    const ptr = {
      zone: 'z',
      name: '6.0.0.10.in-addr.arpa',
      type: 'PTR' as const,
      before: { ttl: 0, records: [] },
      after: { ttl: 60, records: [PTR('fs01.corp.example.com')] },
    };
    expect(describeDnsChange(ptr)).toBe('Create 6.0.0.10.in-addr.arpa (PTR) pointing at fs01.corp.example.com');
    expect(describeDnsChange({ ...ptr, before: ptr.after, after: ptr.before })).toBe(
      'Remove 6.0.0.10.in-addr.arpa (PTR) (it points at fs01.corp.example.com)',
    );
  });

  it('creates the target address’s PTR when it does not exist, with the pair’s TTL', () => {
    const answers = zone.map((a) => (a.name === '6.0.0.10.in-addr.arpa' ? rr(a.name, 'PTR', 0, []) : a));
    const step = planFailover(input({ dnsAnswers: answers })).steps.find((s) => s.kind === 'dns.apply');
    expect(step?.kind === 'dns.apply' && step.params.changes.at(-1)).toMatchObject({
      before: { records: [] },
      after: { ttl: 60, records: [PTR('fs01.corp.example.com')] },
    });
  });

  it('none picked: moves the A of the source’s name; an absent AAAA is no error', () => {
    const r = planFailover(
      input({
        settings: settings(),
        dnsAnswers: [rr('fs01.corp.example.com', 'A', 120, [A('10.0.0.5')]), rr('fs01.corp.example.com', 'AAAA', 0, [])],
      }),
    );
    const step = r.steps.find((s) => s.kind === 'dns.apply');
    expect(step?.kind === 'dns.apply' && step.params.changes).toEqual([
      {
        zone: 'corp.example.com',
        name: 'fs01.corp.example.com',
        type: 'A',
        before: { ttl: 120, records: [A('10.0.0.5')] },
        after: { ttl: 60, records: [A('10.0.0.6')] },
      },
    ]);
  });

  it('maps IPv6 addresses in AAAA records and treats two spellings of one address alike', () => {
    const s = settings({
      dns: {
        addressMap: [{ source: 'fd00::5', target: 'fd00::6' }],
        records: [{ zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'AAAA' }],
      },
    });
    const step = planFailover(
      input({ settings: s, dnsAnswers: [rr('fs01.corp.example.com', 'AAAA', 60, [AAAA('fd00:0:0::5')])] }),
    ).steps.find((x) => x.kind === 'dns.apply');
    expect(step?.kind === 'dns.apply' && step.params.changes[0]!.after.records).toEqual([AAAA('fd00::6')]);
  });

  const one = (type: 'A' | 'CNAME' | 'MX' | 'PTR', name: string) =>
    settings({ dns: { records: [{ zone: type === 'PTR' ? '0.0.10.in-addr.arpa' : 'corp.example.com', name, type }] } });
  it.each([
    [
      'an A record holding an address the map does not know',
      one('A', 'fs01.corp.example.com'),
      [rr('fs01.corp.example.com', 'A', 60, [A('10.9.9.9')])],
      target(),
      /fs01\.corp\.example\.com \(A\) holds 10\.9\.9\.9, which is no source address/,
    ],
    [
      'a picked A record that does not exist',
      one('A', 'fs01.corp.example.com'),
      [rr('fs01.corp.example.com', 'A', 0, [])],
      target(),
      /holds no record/,
    ],
    [
      'a CNAME pointing elsewhere',
      one('CNAME', 'www.corp.example.com'),
      [rr('www.corp.example.com', 'CNAME', 60, [CNAME('web.other.net')])],
      target(),
      /points at web\.other\.net, which is neither the source’s name/,
    ],
    [
      'a CNAME while the target has no FQDN',
      one('CNAME', 'files.corp.example.com'),
      [rr('files.corp.example.com', 'CNAME', 60, [CNAME('fs01.corp.example.com')])],
      target({ fqdn: null }),
      /fs02 has no fully qualified name/,
    ],
    [
      'an MX naming another exchange',
      one('MX', 'corp.example.com'),
      [rr('corp.example.com', 'MX', 60, [MX(10, 'mx.other.net')])],
      target(),
      /names mx\.other\.net, not the source/,
    ],
    [
      'a PTR that is not a mapped source address',
      one('PTR', '9.0.0.10.in-addr.arpa'),
      [rr('9.0.0.10.in-addr.arpa', 'PTR', 60, [PTR('x.corp.example.com')])],
      target(),
      /not the reverse name of a source address/,
    ],
    ['a record that was not read', one('A', 'fs01.corp.example.com'), [], target(), /was not read from the DNS server/],
    [
      'no A or AAAA for the source’s name (none picked)',
      settings(),
      [rr('fs01.corp.example.com', 'A', 0, []), rr('fs01.corp.example.com', 'AAAA', 0, [])],
      target(),
      /holds no A or AAAA record for fs01\.corp\.example\.com/,
    ],
    [
      'a DNS server given by name',
      settings({ dns: { servers: ['ns1.corp.example.com'] } }),
      [rr('fs01.corp.example.com', 'A', 60, [A('10.0.0.5')]), rr('fs01.corp.example.com', 'AAAA', 0, [])],
      target(),
      /"ns1\.corp\.example\.com" is not an IP address/,
    ],
  ])('refuses %s with a clear message', (_, s, answers, t, message) => {
    expect(refusal(() => planFailover(input({ settings: s, dnsAnswers: answers, target: t })))).toMatch(message);
  });

  it('refuses a pair whose failover is turned off', () => {
    expect(
      refusal(() => planFailover(input({ settings: { ...picked, failover: { ...picked.failover, enabled: false } } }))),
    ).toMatch(/Failover is turned off/);
  });

  it('refuses to plan without the DNS answers', () => {
    expect(refusal(() => planFailover(input({ dnsAnswers: null })))).toMatch(/not read/);
  });
});

describe('planFailover: identity', () => {
  const identity = (over: { force?: boolean; targetInterface?: string | null; address?: string } = {}) =>
    settings({
      failover: {
        type: 'identity',
        identity: {
          addresses: [{ address: over.address ?? '10.0.0.5', prefix: 24, targetInterface: over.targetInterface ?? null }],
          force: over.force ?? false,
        },
      },
    });

  it('removes the address from the source, then adds it on the target interface in its subnet (the point of no return)', () => {
    const r = planFailover(input({ settings: identity(), dnsAnswers: null, mode: 'immediate' }));
    expect(r.pointOfNoReturn).toBe(6);
    expect(r.steps.slice(6, 8)).toEqual([
      {
        kind: 'address.ensure',
        description: 'Remove 10.0.0.5/24 from fs01 (eth0)',
        params: { side: 'source', address: '10.0.0.5', prefix: 24, interface: 'eth0', present: false, force: false },
      },
      {
        kind: 'address.ensure',
        description: 'Add 10.0.0.5/24 to fs02 on eth0 and announce it',
        params: { side: 'target', address: '10.0.0.5', prefix: 24, interface: 'eth0', present: true, force: false },
      },
    ]);
    expect(readBack(r)).toEqual(r.steps);
  });

  it('makes removing from an offline source best effort', () => {
    const r = planFailover(
      input({ settings: identity(), dnsAnswers: null, source: source({ agentOnline: false, interfaces: null }) }),
    );
    expect(r.steps[r.pointOfNoReturn!]).toMatchObject({
      params: { side: 'source', interface: null, present: false },
      optional: true,
    });
    expect(r.steps[r.pointOfNoReturn!]!.description).toMatch(/best effort: its agent is offline/);
  });

  it.each([
    [
      'no interface in the subnet',
      identity({ address: '172.16.0.5' }),
      target(),
      /fs02 has no interface in the subnet of 172\.16\.0\.5\/24/,
    ],
    ['a named interface outside the subnet', identity({ targetInterface: 'eth1' }), target(), /\(eth1 is not in it\)/],
    ['interfaces never reported', identity(), target({ interfaces: null }), /has not reported its network interfaces/],
  ])('refuses %s unless forced', (_, s, t, message) => {
    expect(refusal(() => planFailover(input({ settings: s, target: t, dnsAnswers: null })))).toMatch(message);
    const forced = planFailover(
      input({
        settings: { ...s, failover: { ...s.failover, identity: { ...s.failover.identity, force: true } } },
        target: t,
        dnsAnswers: null,
      }),
    );
    const add = forced.steps.find((x) => x.kind === 'address.ensure' && x.params.present);
    expect(add).toMatchObject({ params: { force: true } });
    expect(add?.description).toMatch(/forced: no interface in its subnet/);
  });

  it('uses the named interface when it is in the subnet', () => {
    const r = planFailover(input({ settings: identity({ address: '192.168.7.20', targetInterface: 'eth1' }), dnsAnswers: null }));
    expect(r.steps.find((x) => x.kind === 'address.ensure' && x.params.present)).toMatchObject({
      params: { interface: 'eth1', force: false },
    });
  });
});

describe('planFailover: PostgreSQL', () => {
  const pg = settings({
    application: 'postgresql',
    replicationSet: null,
    failover: { services: ['postgresql'], extraServices: [] },
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
  });
  it('stops the old primary (best effort) and promotes the standby before moving the address', () => {
    const dnsAnswers = [rr('fs01.corp.example.com', 'A', 60, [A('10.0.0.5')]), rr('fs01.corp.example.com', 'AAAA', 0, [])];
    expect(kinds(input({ method: 'postgresql_streaming', settings: pg, dnsAnswers }))).toEqual([
      'agents.check',
      'pair.set-state',
      'services.stop source',
      'replication.drain',
      'monitor.stop target?',
      'monitor.stop source?',
      'postgresql.stop source?',
      'postgresql.promote target',
      '| dns.apply',
      'services.start target',
      'pair.set-state',
    ]);
    const r = planFailover(input({ method: 'postgresql_streaming', settings: pg, dnsAnswers, mode: 'immediate' }));
    expect(readBack(r)).toEqual(r.steps);
  });
});
