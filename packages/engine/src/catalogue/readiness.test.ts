import { describe, expect, it } from 'vitest';
import { evaluateChecks } from './evaluate.ts';
import { NOW, snapshotFixture, withFacts } from './fixtures.ts';
import { findingKey, readinessScore } from './readiness.ts';
import { dnsChecks } from './checks/dns.ts';
import { credentialsChecks } from './checks/credentials.ts';
import { readinessChecks } from './checks/readiness.ts';
import { drillChecks } from './checks/drill.ts';
import type { CheckResult } from './model.ts';
import type { FactsSnapshot } from './snapshot.ts';

const DAY = 86_400_000;
type Patch = Parameters<typeof withFacts<FactsSnapshot>>[1];
const snap = (patch: Patch = {}) => withFacts(snapshotFixture(), patch);
const penalties = (r: ReturnType<typeof readinessScore>) => Object.fromEntries(r.factors.map((f) => [f.key, f.penalty]));
const none = { lag: 0, test: 0, errors: 0, warnings: 0, credentials: 0, 'dns-ttl': 0 };

/** A result with one finding of this severity (the rest of the fields as the evaluator makes them). */
function result(checkId: string, severity: 'error' | 'warning', subject = 'x=1'): CheckResult {
  const status = `${severity}-manual` as const;
  return { checkId: checkId as CheckResult['checkId'], side: 'none', status, findings: [{ checkId: checkId as CheckResult['checkId'], side: 'none', severity, status, subject, message: 'm', evidence: {}, evidenceDigest: '0', plan: null, guidance: 'g', blockedReason: null, privileged: false, phase: null }] };
}
const severityOf = (id: string): 'error' | 'warning' => (id.startsWith('err.') ? 'error' : 'warning');

describe('readiness score', () => {
  it('a healthy pair scores 100 with every factor explained', () => {
    const s = snapshotFixture();
    const results = evaluateChecks([...dnsChecks, ...credentialsChecks, ...readinessChecks, ...drillChecks], s);
    expect(results.length).toBeGreaterThan(20);
    const r = readinessScore(results, s);
    expect(r.score).toBe(100);
    expect(penalties(r)).toEqual(none);
    expect(r.factors.map((f) => f.key)).toEqual(['lag', 'test', 'errors', 'warnings', 'credentials', 'dns-ttl']);
    for (const f of r.factors) expect(f.detail.length).toBeGreaterThan(5);
  });

  it.each([
    ['lag at the RPO', { replication: { lag: { nowSeconds: 900, p95Seconds: 300 } } }, { lag: 25 }],
    ['lag at 75 % of the RPO', { replication: { lag: { nowSeconds: 675, p95Seconds: 300 } } }, { lag: 8 }],
    ['p95 above 80 % of the RPO', { replication: { lag: { nowSeconds: 10, p95Seconds: 800 } } }, { lag: 10 }],
    ['lag but no RPO', { pair: { rpoSeconds: null }, replication: { lag: { nowSeconds: 5000, p95Seconds: 5000 } } }, {}],
    ['never tested', { replication: { drills: [] } }, { test: 20 }],
    ['tested 100 days ago, failed since', { replication: { drills: [{ at: NOW - 100 * DAY, ok: true, configDigest: 'cfg-1' }, { at: NOW - DAY, ok: false, configDigest: 'cfg-1' }] } }, { test: 20 }],
    ['tested 67 days ago (half-way between 45 and 90)', { replication: { drills: [{ at: NOW - 67.5 * DAY, ok: true, configDigest: 'cfg-1' }] } }, { test: 5 }],
    ['a credential failing its test and one expiring', { vault: [{ ...snapshotFixture().vault[0]!, lastTest: { at: NOW, ok: false, error: 'BADKEY' } }, { id: 'd', purpose: 'directory', kind: 'ad', expiresAt: NOW + 3 * DAY, lastTest: null, rights: [] }] }, { credentials: 15 }],
    ['TTL above the maximum', { dns: { records: [{ type: 'A', name: 'files-a.corp.example.com', value: '10.0.0.10', ttl: 900 }] } }, { 'dns-ttl': 5 }],
    ['TTL of a day', { dns: { records: [{ type: 'A', name: 'files-a.corp.example.com', value: '10.0.0.10', ttl: 86_400 }] } }, { 'dns-ttl': 10 }],
    ['identity failover ignores TTL', { pair: { failover: { mode: 'identity' } }, dns: { records: [{ type: 'A', name: 'files-a.corp.example.com', value: '10.0.0.10', ttl: 86_400 }] } }, {}],
  ] as [string, Patch, Partial<typeof none>][])('%s', (_name, patch, expected) => {
    const s = snap(patch);
    const r = readinessScore([], s);
    expect(penalties(r)).toEqual({ ...none, ...expected });
    expect(r.score).toBe(100 - Object.values(expected).reduce((a, b) => a + b, 0));
  });

  it('errors weigh more than warnings, unknown error checks count, acknowledged warnings weigh nothing', () => {
    const unknownErr: CheckResult = { checkId: 'err.c' as CheckResult['checkId'], side: 'none', status: 'unknown', unknown: { reason: 'r', facts: [] }, findings: [] };
    const unknownWarn: CheckResult = { ...unknownErr, checkId: 'warn.d' as CheckResult['checkId'] };
    const results = [result('err.a', 'error'), result('warn.b', 'warning', 'w=1'), result('warn.b', 'warning', 'w=2'), unknownErr, unknownWarn];
    const s = snapshotFixture();
    const r = readinessScore(results, s, { severityOf });
    expect(penalties(r)).toMatchObject({ errors: 15, warnings: 4 });
    expect(r.score).toBe(81);
    const acked = readinessScore(results, s, { severityOf, acknowledged: new Set([findingKey(results[1]!.findings[0]!)]) });
    expect(penalties(acked)).toMatchObject({ errors: 15, warnings: 2 });
    expect(acked.factors.find((f) => f.key === 'warnings')?.detail).toMatch(/1 acknowledged/);
  });

  it('caps each factor and never goes below 0', () => {
    const many = Array.from({ length: 30 }, (_, i) => result('err.a', 'error', `x=${i}`));
    const warns = Array.from({ length: 30 }, (_, i) => result('warn.a', 'warning', `x=${i}`));
    const s = snap({ replication: { drills: [], lag: { nowSeconds: 5000, p95Seconds: 5000 } }, vault: [1, 2, 3].map((i) => ({ id: `c${i}`, purpose: 'app' as const, kind: 'k', expiresAt: NOW - DAY, lastTest: null, rights: [] })) });
    const r = readinessScore([...many, ...warns], s, { severityOf });
    expect(penalties(r)).toMatchObject({ lag: 25, test: 20, errors: 40, warnings: 15, credentials: 20 });
    expect(r.score).toBe(0);
  });

  it('findings a factor already weighs are not counted twice', () => {
    const s = snap({ dns: { records: [{ type: 'A', name: 'files-a.corp.example.com', value: '10.0.0.10', ttl: 900 }] }, vault: [{ ...snapshotFixture().vault[0]!, expiresAt: NOW + DAY }] });
    const results = [...evaluateChecks(dnsChecks, s), ...evaluateChecks(credentialsChecks, s)];
    expect(results.filter((r) => r.status !== 'good').map((r) => r.checkId)).toEqual(['dns.ttl-above-recommended', 'credentials.expiring']);
    expect(penalties(readinessScore(results, s))).toEqual({ ...none, 'dns-ttl': 5, credentials: 5 });
  });
});
