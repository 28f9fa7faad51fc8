import { describe, expect, expectTypeOf, it } from 'vitest';
import { defaultPairSettings } from './defaults.ts';
import {
  dnsTtlLowering,
  planDisable,
  planEnable,
  planMonitoring,
  planVerify,
  plannedStepSchema,
  stepFromRow,
  stepToRow,
  type PlannedStep,
  type StepParams,
} from './plans.ts';

const hosts = { sourceHostname: 'src-1', targetHostname: 'tgt-1' };
const plans = {
  'file, direct, monitored': planEnable({ method: 'file', ...hosts, route: '10.0.0.6', port: 6320, monitoring: true }),
  'file, relay, unmonitored': planEnable({
    method: 'file',
    ...hosts,
    route: '10.0.0.6',
    port: 6320,
    routeMode: 'relay',
    monitoring: false,
  }),
  'postgresql, monitored': planEnable({
    method: 'postgresql_streaming',
    ...hosts,
    route: '10.0.0.6',
    port: 6320,
    monitoring: true,
  }),
  disable: planDisable(hosts),
  verify: planVerify(hosts),
  'monitoring on': planMonitoring(hosts, true),
  'monitoring off': planMonitoring(hosts, false),
};

describe('operation steps are stored and read back through one schema', () => {
  it.each(Object.entries(plans))('every step of the %s plan survives the round trip through its stored row', (_, steps) => {
    for (const s of steps) {
      expect(plannedStepSchema.parse(s)).toEqual(s);
      // The row goes through JSON in the database.
      const row = JSON.parse(JSON.stringify(stepToRow(s))) as unknown as Parameters<typeof stepFromRow>[0];
      expect(stepFromRow(row)).toEqual({ ok: true, step: s });
    }
  });

  it('keeps "optional" (best effort) only on the stop steps', () => {
    const optional = plans.disable.filter((s) => 'optional' in s && s.optional).map((s) => s.kind);
    expect(optional).toEqual(['monitor.stop', 'monitor.stop', 'replication.stop', 'replication.stop']);
    expect(stepToRow(plans.disable[0]!).params).toEqual({ side: 'target', optional: true });
    expect(stepToRow(plans['file, direct, monitored'][0]!).params).toEqual({ sides: ['source', 'target'], optional: false });
  });

  it('plans verify as one source-side step and monitoring on/off as steps that end by recording the new monitoring status', () => {
    expect(plans.verify.map((s) => s.kind)).toEqual(['replication.verify']);
    expect(plans['monitoring on'].map((s) => [s.kind, s.params])).toEqual([
      ['agents.check', { sides: ['source', 'target'] }],
      ['monitor.start', { side: 'source' }],
      ['monitor.start', { side: 'target' }],
      ['pair.set-monitoring', { monitoringStatus: 'watching' }],
    ]);
    // Turning it off is best effort on the agents, but the record is always written.
    expect(plans['monitoring off'].map((s) => [s.kind, 'optional' in s])).toEqual([
      ['monitor.stop', true],
      ['monitor.stop', true],
      ['pair.set-monitoring', false],
    ]);
    expect(stepFromRow({ kind: 'pair.set-monitoring', description: 'x', params: { monitoringStatus: 'source_lost' } })).toMatchObject({ ok: false });
  });

  it('refuses a stored step whose parameters are missing or of the wrong shape, and says where', () => {
    const bad = (kind: string, params: unknown) => stepFromRow({ kind, description: 'x', params });
    const noSide = bad('replication.start', { optional: false });
    expect(noSide).toMatchObject({ ok: false });
    expect(!noSide.ok && noSide.error).toMatch(/params\.side/);
    const errorOf = (r: ReturnType<typeof stepFromRow>) => (r.ok ? null : r.error);
    expect(errorOf(bad('monitor.start', { side: 'middle' }))).toMatch(/side/);
    expect(bad('agents.check', { sides: [] })).toMatchObject({ ok: false });
    expect(errorOf(bad('pair.set-state', { status: 'exploded' }))).toMatch(/status/);
    expect(errorOf(bad('replication.check-set', { side: 'source' }))).toMatch(/side/);
    // Any step may be best effort (a runbook stops a gone source's services that way); it is read back as planned.
    expect(bad('replication.stop', { side: 'source', optional: false })).toMatchObject({ ok: true, step: { kind: 'replication.stop' } });
    expect(bad('replication.stop', { side: 'source', optional: false })).not.toHaveProperty('step.optional');
    expect(bad('replication.start', { side: 'source', optional: true })).toMatchObject({ ok: true, step: { optional: true } });
    expect(bad('replication.start', { side: 'source', optional: 'yes' })).toMatchObject({ ok: true });
    expect(bad('replication.explode', {})).toMatchObject({ ok: false });
    for (const params of [null, 'side=source', ['source'], 42])
      expect(bad('replication.start', params)).toMatchObject({ ok: false });
  });

  it('lowers the TTL of the picked records when enabling, only when the settings ask for it (best effort, before the pair is marked)', () => {
    const server = { id: 's', hostname: 'fs01', osFamily: 'linux' as const, addresses: ['10.0.0.5'], agentStatus: 'online' as const, applications: [], clusterResources: null };
    const base = defaultPairSettings('generic_service', server, { ...server, id: 't', hostname: 'fs02', addresses: ['10.0.0.6'] });
    const records = [{ zone: 'corp.test', name: 'fs01.corp.test', type: 'A' as const }];
    const dns = { ...base.dns, records, ttlSeconds: 60 };
    expect(dnsTtlLowering({ ...base, dns })).toBeNull();
    expect(dnsTtlLowering({ ...base, dns: { ...dns, records: [] , lowerTtlOnEnable: true } })).toBeNull();
    expect(dnsTtlLowering({ ...base, failover: { ...base.failover, type: 'identity' }, dns: { ...dns, lowerTtlOnEnable: true } })).toBeNull();
    const lowering = dnsTtlLowering({ ...base, dns: { ...dns, lowerTtlOnEnable: true } });
    expect(lowering).toEqual({ records, ttlSeconds: 60 });
    const steps = planEnable({ method: 'file', ...hosts, route: '10.0.0.6', port: 6320, monitoring: true, lowerTtl: lowering });
    const at = steps.findIndex((x) => x.kind === 'dns.lower-ttl');
    expect(at).toBe(steps.length - 2);
    expect(steps[at]).toMatchObject({ optional: true, params: { ttlSeconds: 60, records } });
    expect(stepFromRow(stepToRow(steps[at]!))).toEqual({ ok: true, step: steps[at] });
    expect(planEnable({ method: 'file', ...hosts, route: '10.0.0.6', port: 6320, monitoring: true }).some((x) => x.kind === 'dns.lower-ttl')).toBe(false);
  });

  it('types each kind of step with its own parameters', () => {
    expectTypeOf<StepParams['replication.start']>().toEqualTypeOf<{ side: 'source' | 'target' }>();
    expectTypeOf<StepParams['agents.check']>().toEqualTypeOf<{ sides: ('source' | 'target')[] }>();
    expectTypeOf<Extract<PlannedStep, { kind: 'monitor.stop' }>['optional']>().toEqualTypeOf<true | undefined>();
  });
});
