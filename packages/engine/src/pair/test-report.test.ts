import { describe, expect, it } from 'vitest';
import { buildTestReport, testReportSchema, type TestReportInput, type TestReportStep } from './test-report.ts';

const t = (s: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, s));
const step = (position: number, kind: string, over: Partial<TestReportStep> = {}): TestReportStep => ({
  position,
  kind,
  description: `${kind} ${position}`,
  params: {},
  status: 'succeeded',
  startedAt: t(position * 2),
  finishedAt: t(position * 2 + 1),
  error: null,
  output: {},
  ...over,
});
const lag = (position: number, moment: string, lagSeconds: number | null, over: Partial<TestReportStep> = {}) =>
  step(position, 'test.lag', { params: { moment }, output: { lagSeconds, at: t(position).toISOString() }, ...over });
const probe = (position: number, index: number, passed: boolean, over: Partial<TestReportStep> = {}) =>
  step(position, 'test.probe', {
    params: { index, probe: { kind: 'files-match', sample: 20 } },
    status: passed ? 'succeeded' : 'failed',
    output: { passed, summary: passed ? '20 of 20 compared files match' : '1 of 20 compared files differ', detail: passed ? '' : 'a.txt' },
    error: passed ? null : '1 of 20 compared files differ',
    ...over,
  });

const passingSteps = (): TestReportStep[] => [
  step(0, 'agents.check'),
  lag(1, 'before', 0),
  step(2, 'test.copy', { output: { path: '/scratch/x', method: 'reflink', copies: [], files: 12, bytes: 4096, durationMs: 40 } }),
  probe(3, 0, true),
  probe(4, 1, true),
  lag(5, 'during', 2),
  step(6, 'test.teardown', { output: { removed: ['files'] } }),
  lag(7, 'after', 0),
];

const input = (steps: TestReportStep[], over: Partial<TestReportInput> = {}): TestReportInput => ({
  operation: { id: '00000000-0000-4000-8000-0000000000a1', createdAt: t(0), startedAt: t(0), error: null },
  steps,
  pair: { id: '00000000-0000-4000-8000-0000000000b1', name: 'Files', application: 'file_server', method: 'file', source: 'fs01', target: 'fs02' },
  customer: { id: '00000000-0000-4000-8000-0000000000c1', name: 'Acme' },
  startedBy: { kind: 'user', name: 'Olive Operator', email: 'olive@example.com' },
  settings: { name: 'Files', testSettings: { probes: [] } },
  finishedAt: t(30),
  ...over,
});

describe('buildTestReport', () => {
  it('a passing test: copy, every probe, lag before/during/after, the timeline with timings', () => {
    const r = buildTestReport(input(passingSteps()));
    expect(testReportSchema.parse(r)).toEqual(r);
    expect(r.result).toBe('passed');
    expect(r.error).toBeNull();
    expect(r.cleanedUp).toBe(true);
    expect(r.durationMs).toBe(30_000);
    expect(r.copy).toEqual({ kind: 'files', method: 'reflink', bytes: 4096, files: 12, durationMs: 40 });
    expect(r.lag).toEqual({ before: 0, during: 2, after: 0 });
    expect(r.probes.map((p) => [p.index, p.passed, p.durationMs])).toEqual([
      [0, true, 1000],
      [1, true, 1000],
    ]);
    expect(r.timeline).toHaveLength(8);
    expect(r.timeline[2]).toMatchObject({ kind: 'test.copy', status: 'succeeded', durationMs: 1000, startedAt: t(4).toISOString() });
    expect(r.startedBy).toEqual({ kind: 'user', name: 'Olive Operator', email: 'olive@example.com' });
    expect(r.settings).toEqual({ name: 'Files', testSettings: { probes: [] } });
  });

  it('a failed probe fails the test but the other probes are reported', () => {
    const steps = passingSteps();
    steps[3] = probe(3, 0, false);
    const r = buildTestReport(input(steps));
    expect(r.result).toBe('failed');
    expect(r.error).toMatch(/^1 of 2 probes failed: 1 of 20 compared files differ/);
    expect(r.probes.map((p) => p.passed)).toEqual([false, true]);
    expect(r.probes[0]!.detail).toBe('a.txt');
  });

  it('no copy: probes not run, the copy step’s error; the teardown still counts', () => {
    const steps = passingSteps();
    steps[2] = step(2, 'test.copy', { status: 'failed', error: 'No space left on device', output: null });
    steps[3] = step(3, 'test.probe', { status: 'skipped', params: { index: 0, probe: { kind: 'files-match', sample: 20 } }, output: null, startedAt: null, finishedAt: null });
    const r = buildTestReport(input(steps.slice(0, 4).concat(steps.slice(5))));
    expect(r.result).toBe('failed');
    expect(r.error).toBe('test.copy 2: No space left on device');
    expect(r.copy).toBeNull();
    expect(r.probes[0]).toMatchObject({ passed: false, summary: 'Not run', durationMs: null });
    expect(r.cleanedUp).toBe(true);
  });

  it('a test refused before it planned a step: failed with the refusal, nothing copied and nothing left', () => {
    const r = buildTestReport(input([], { operation: { ...input([]).operation, error: 'A test failover needs a protected pair' } }));
    expect(r).toMatchObject({ result: 'failed', error: 'A test failover needs a protected pair', copy: null, probes: [], timeline: [], cleanedUp: true });
  });

  it('a teardown that failed: not cleaned up, failed, even with every probe passing', () => {
    const steps = passingSteps();
    steps[6] = step(6, 'test.teardown', { status: 'failed', error: 'agent offline' });
    const r = buildTestReport(input(steps));
    expect(r.cleanedUp).toBe(false);
    expect(r.result).toBe('failed');
    expect(r.error).toMatch(/agent offline/);
  });

  it('the runner’s own error wins (a worker restart mid-test); a drill is who started it', () => {
    const steps = passingSteps();
    steps[4] = probe(4, 1, true, { status: 'failed', output: null, error: 'Interrupted' });
    const r = buildTestReport(input(steps, { operation: { id: '00000000-0000-4000-8000-0000000000a1', createdAt: t(0), startedAt: null, error: 'The worker stopped' }, startedBy: { kind: 'drill', name: 'Monthly drill', email: null } }));
    expect(r.error).toBe('The worker stopped');
    expect(r.result).toBe('failed');
    expect(r.probes[1]).toMatchObject({ passed: false, summary: 'Failed: Interrupted' });
    expect(r.startedBy.kind).toBe('drill');
  });

  it('a PostgreSQL copy and a lag that could not be measured', () => {
    const steps = passingSteps();
    steps[2] = step(2, 'test.postgresql-copy', { output: { dataDir: '/scratch/pg', port: 40001, bytes: 1 << 20, durationMs: 900, standbyCounts: {} } });
    steps[5] = lag(5, 'during', null);
    steps[7] = lag(7, 'after', 3, { status: 'skipped', error: 'agent offline' });
    const r = buildTestReport(input(steps));
    expect(r.copy).toEqual({ kind: 'postgresql', method: 'base backup', bytes: 1 << 20, files: null, durationMs: 900 });
    expect(r.lag).toEqual({ before: 0, during: null, after: null });
    expect(r.result).toBe('passed');
  });
});
