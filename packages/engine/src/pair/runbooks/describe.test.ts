import { describe, expect, it } from 'vitest';
import { changeItemSchema, describeChanges } from './describe.ts';
import { planFailover } from './failover.ts';
import { A, CNAME, rr, settings, source, target } from './test-fixtures.ts';

describe('describeChanges: the dry-run diff', () => {
  const s = settings({
    failover: { services: ['smbd'], extraServices: ['clamd'] },
    hooks: { beforeFailover: 'exit 0', afterFailover: 'exit 0' },
    dns: {
      records: [
        { zone: 'corp.example.com', name: 'fs01.corp.example.com', type: 'A' },
        { zone: 'corp.example.com', name: 'files.corp.example.com', type: 'CNAME' },
      ],
    },
  });
  const runbook = planFailover({
    pairId: 'p',
    pairName: 'Main file server',
    method: 'file',
    settings: s,
    source: source(),
    target: target(),
    mode: 'graceful',
    dnsAnswers: [
      rr('fs01.corp.example.com', 'A', 3600, [A('10.0.0.5')]),
      rr('files.corp.example.com', 'CNAME', 300, [CNAME('fs01.corp.example.com')]),
    ],
  });

  it('lists every change in run order, one per RRset and per service, with the point of no return', () => {
    const items = describeChanges(runbook);
    expect(items.map((i) => [i.position, i.kind, i.side, i.summary, i.before, i.after, i.pastPointOfNoReturn])).toEqual([
      [0, 'check', null, 'Check that the agent on fs02 is online (fs01 may be gone)', null, null, false],
      [1, 'state', null, 'Mark “Main file server” as failing over', null, 'Failing over', false],
      [
        2,
        'hook',
        'target',
        'Run the before-failover hook on fs02 (a non-zero exit stops and undoes the operation)',
        null,
        null,
        false,
      ],
      [3, 'service', 'source', 'Stop smbd', null, 'stopped, manual start', false],
      [3, 'service', 'source', 'Stop clamd', null, 'stopped, manual start', false],
      [
        4,
        'replication',
        null,
        'Wait until every queued change from fs01 has reached fs02 (up to 120 s; then abort the failover)',
        null,
        null,
        false,
      ],
      [5, 'replication', 'target', 'Close the data channel on fs02: it no longer accepts data from fs01', null, 'stopped', false],
      [6, 'replication', 'target', 'Stop probing fs01 from fs02', null, 'stopped', false],
      [7, 'replication', 'source', 'Stop replication on fs01 (best effort)', null, 'stopped', false],
      [8, 'replication', 'source', 'Stop answering probes on fs01 (best effort)', null, 'stopped', false],
      [9, 'dns', 'dns', 'fs01.corp.example.com (A) in corp.example.com', '10.0.0.5 (TTL 3600 s)', '10.0.0.6 (TTL 60 s)', true],
      [
        9,
        'dns',
        'dns',
        'files.corp.example.com (CNAME) in corp.example.com',
        'fs01.corp.example.com (TTL 300 s)',
        'fs02.corp.example.com (TTL 60 s)',
        true,
      ],
      [10, 'service', 'target', 'Start smbd', null, 'running, automatic start', true],
      [10, 'service', 'target', 'Start clamd', null, 'running, automatic start', true],
      [11, 'hook', 'target', 'Run the after-failover hook on fs02 (a failure is reported as a warning)', null, null, true],
      [12, 'state', null, 'Mark “Main file server” as failed over: fs02 serves in place of fs01', null, 'Failed over', true],
    ]);
    expect(runbook.pointOfNoReturn).toBe(9);
    // Stored as JSON with the operation and read back through the schema unchanged.
    expect(changeItemSchema.array().parse(JSON.parse(JSON.stringify(items)))).toEqual(items);
  });

  it('marks nothing past the point of no return when there is none', () => {
    expect(describeChanges({ steps: runbook.steps, pointOfNoReturn: null }).some((i) => i.pastPointOfNoReturn)).toBe(false);
  });
});
