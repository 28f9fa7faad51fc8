import { describe, expect, it } from 'vitest';
import { describeChanges } from './describe.ts';
import { planTestFailover, type TestFailoverPlanInput } from './test-failover.ts';
import { readBack, settings } from './test-fixtures.ts';

const files = settings();
const pg = settings({
  application: 'postgresql',
  replicationSet: null,
  connection: {
    route: '10.0.0.6',
    targetRoot: '/',
    database: { sourceDataDir: '/var/lib/pg/main', sourcePort: 5432, targetDataDir: '/var/lib/pg/standby', targetPort: 5433, sourceAddress: '10.0.0.5' },
  },
});
const input = (over: Partial<TestFailoverPlanInput> = {}): TestFailoverPlanInput => ({
  method: 'file',
  settings: files,
  sourceHostname: 'fs01',
  targetHostname: 'fs02',
  status: 'protected',
  targetAgentOnline: true,
  ...over,
});
const kinds = (i: TestFailoverPlanInput) =>
  planTestFailover(i).steps.map((s) => `${s.kind}${'moment' in s.params ? ` ${s.params.moment}` : ''}${s.cleanup ? ' (cleanup)' : ''}${s.optional ? '?' : ''}`);

describe('planTestFailover', () => {
  it('file pair: copies the replica, runs the default probe, tears down always, no point of no return', () => {
    const plan = planTestFailover(input());
    expect(plan.pointOfNoReturn).toBeNull();
    expect(kinds(input())).toEqual(['agents.check', 'test.lag before', 'test.copy', 'test.probe', 'test.lag during', 'test.teardown (cleanup)', 'test.lag after (cleanup)?']);
    expect(plan.steps[2]!.params).toEqual({ method: 'auto', roots: ['/srv/data'], targetRoot: '/' });
    expect(plan.steps[3]!.params).toEqual({ index: 0, probe: { kind: 'files-match', sample: 20 } });
    // Every step survives being stored and read back, the cleanup flag included.
    expect(readBack(plan)).toEqual(plan.steps);
    // Nothing of a test reaches clients: the dry run lists no DNS or address change.
    const changes = describeChanges(plan);
    expect(JSON.stringify(changes)).not.toMatch(/dns\.apply|address\.ensure/);
  });

  it('runs the configured probes in order, each its own step', () => {
    const s = { ...files, testing: { copyMethod: 'copy' as const, probes: [{ kind: 'paths-exist' as const, paths: ['/srv/data/a.txt'] }, { kind: 'hook' as const, script: '#!/bin/sh\nexit 0\n', timeoutSeconds: 5 }] } };
    const plan = planTestFailover(input({ settings: s }));
    const probes = plan.steps.filter((x) => x.kind === 'test.probe');
    expect(probes.map((p) => p.params)).toEqual([
      { index: 0, probe: s.testing.probes[0] },
      { index: 1, probe: s.testing.probes[1] },
    ]);
    expect(probes[0]!.description).toContain('/srv/data/a.txt');
    expect(plan.steps.find((x) => x.kind === 'test.copy')!.params).toMatchObject({ method: 'copy' });
  });

  it('PostgreSQL pair: a temporary copy of the standby, with the tables its row-count probes need counted', () => {
    const s = { ...pg, testing: { copyMethod: 'auto' as const, probes: [{ kind: 'row-count' as const, database: 'app', table: 'orders' }, { kind: 'row-count' as const, database: 'app', table: 'orders' }, { kind: 'sql-rows' as const, database: 'app', query: 'SELECT 1' }] } };
    const plan = planTestFailover(input({ method: 'postgresql_streaming', settings: s }));
    expect(plan.steps.map((x) => x.kind)).toEqual(['agents.check', 'test.lag', 'test.postgresql-copy', 'test.probe', 'test.probe', 'test.probe', 'test.lag', 'test.teardown', 'test.lag']);
    expect(plan.steps[2]!.params).toEqual({ countTables: ['app:orders'] });
    // Default probes of a database: a query returns rows, the copy's port answers.
    const defaults = planTestFailover(input({ method: 'postgresql_streaming', settings: pg })).steps.filter((x) => x.kind === 'test.probe');
    expect(defaults.map((p) => (p.params as { probe: { kind: string } }).probe.kind)).toEqual(['sql-rows', 'tcp']);
  });

  it('refuses a pair that is not protected, an offline target, a pair without a replication set', () => {
    expect(() => planTestFailover(input({ status: 'mirroring' }))).toThrow(/protected pair \(this one is mirroring\)/);
    expect(() => planTestFailover(input({ status: 'failed_over' }))).toThrow(/protected pair/);
    expect(() => planTestFailover(input({ targetAgentOnline: false }))).toThrow(/agent on fs02 must be online/);
    expect(() => planTestFailover(input({ method: 'sql_log_shipping' }))).toThrow(/file and PostgreSQL/);
    expect(() => planTestFailover(input({ settings: { ...files, replicationSet: null } }))).toThrow(/no replication set/);
    expect(() => planTestFailover(input({ method: 'postgresql_streaming', settings: { ...pg, connection: { ...pg.connection, database: null } } }))).toThrow(/which PostgreSQL instances/);
  });
});
