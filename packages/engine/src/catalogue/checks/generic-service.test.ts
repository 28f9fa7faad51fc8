import { describe, expect, it } from 'vitest';
import { appRowOutcome, type AppRow } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import { genericServiceChecks } from './generic-service.ts';
import type { GenericFacts } from '../apps/generic.ts';
import { genericFacts, genericSnapshot } from '../apps/fixtures.ts';

// Table-driven: the healthy generic service pair is good for every generic-service check; each
// row bends one fact and expects exactly these findings.

const byId = (id: string) => genericServiceChecks.find((x) => x.id === id)!;

function patch(side: 'source' | 'target', p: Partial<GenericFacts>, snap = genericSnapshot()): FactsSnapshot {
  const node = snap[side]!;
  return { ...snap, [side]: { ...node, apps: { ...node.apps, generic: { ...(node.apps.generic as GenericFacts), ...p } } } };
}
const withProbes = (probes: { kind: string }[]) => {
  const s = genericSnapshot();
  return { ...s, pair: { ...s.pair, probes } };
};

type Row = AppRow;

const rows: Row[] = [
  {
    name: 'ExecStart and limits differ on the target',
    check: 'generic-service.definition-drift',
    snap: () => patch('target', { digest: 'unit-0000', definition: { ...genericFacts('target').definition, ExecStart: '/opt/inventory/bin/inventory-api', LimitNOFILE: '1024' } }),
    want: [{ subject: 'service=inventory-api', status: 'warning-fixable', side: 'none', plan: [{ action: 'app', node: 'target', app: 'generic-service', op: 'copy-definition', params: { service: 'inventory-api', definitionDigest: 'unit-3f2a', startup: 'disabled' }, before: 'ExecStart, LimitNOFILE' }] }],
  },
  { name: 'a different digest with the same parsed definition (comments) is no drift', check: 'generic-service.definition-drift', snap: () => patch('target', { digest: 'unit-comments' }), want: [] },
  {
    name: 'executable, account, dependency and port',
    check: 'generic-service.prerequisites-missing-on-target',
    snap: () => {
      const s = patch('target', { accounts: { inventory: false } }, patch('source', { dependencies: ['network-online.target', 'redis-server.service'] }));
      const t = s.target!;
      return { ...s, target: { ...t, paths: t.paths!.map((p) => (p.path.endsWith('inventory-api') ? { ...p, exists: false } : p)), listening: [{ protocol: 'tcp', address: '0.0.0.0', port: 8080, process: 'java' }] } };
    },
    want: [
      { subject: 'executable=/opt/inventory/bin/inventory-api', status: 'error-manual', side: 'target', guidance: /Install the program/ },
      { subject: 'account=inventory', status: 'error-manual' },
      { subject: 'dependency=redis-server.service', status: 'error-manual' },
      { subject: 'port=tcp/8080', status: 'error-manual' },
    ],
  },
  {
    name: 'the environment file differs and lives outside the rules',
    check: 'generic-service.external-files-not-replicated',
    snap: () => patch('target', { referencedFiles: genericFacts('target').referencedFiles.map((f) => (f.path === '/etc/inventory/env' ? { ...f, digest: 'env-old' } : f)) }),
    want: [{ subject: 'path=/etc/inventory/env', status: 'warning-fixable', side: 'none', plan: [{ action: 'repset.add-rule', path: '/etc/inventory/env', include: true, recursive: false }] }],
  },
  {
    name: 'the environment file is missing on the target',
    check: 'generic-service.external-files-not-replicated',
    snap: () => {
      const s = genericSnapshot();
      return { ...s, target: { ...s.target!, paths: s.target!.paths!.map((p) => (p.path === '/etc/inventory/env' ? { ...p, exists: false } : p)) } };
    },
    want: [{ subject: 'path=/etc/inventory/env', status: 'warning-fixable', plan: [{ action: 'repset.add-rule', path: '/etc/inventory/env' }] }],
  },
  {
    name: "the target's own unit reports its program missing (no path fact needed)",
    check: 'generic-service.prerequisites-missing-on-target',
    snap: () => {
      const s = patch('target', { executableExists: false });
      return { ...s, target: { ...s.target!, paths: [] } };
    },
    want: [{ subject: 'executable=/opt/inventory/bin/inventory-api', status: 'error-manual' }],
  },
  { name: 'only a files-match probe', check: 'generic-service.health-probe-missing', snap: () => withProbes([{ kind: 'files-match' }]), want: [{ subject: 'probe=service', status: 'warning-manual', side: 'none', guidance: /TCP port/ }] },
  { name: 'a hook probe', check: 'generic-service.health-probe-missing', snap: () => withProbes([{ kind: 'hook' }]), want: [] },
];

describe('generic-service checks', () => {
  it('finds nothing on the healthy generic service pair', () => {
    const results = evaluateChecks(genericServiceChecks, genericSnapshot());
    expect(results.filter((r) => r.status !== 'good').map((r) => [r.checkId, r.unknown?.reason ?? r.findings.map((f) => f.message)])).toEqual([]);
    expect(results).toHaveLength(genericServiceChecks.length);
  });

  it.each(rows)('$check: $name', (row) => {
    const { actual, expected } = appRowOutcome(genericServiceChecks, row);
    expect(actual).toEqual(expected);
  });

  it('is unknown, never a crash, when service facts or the probes are missing', () => {
    const s = genericSnapshot();
    const missing = { ...s, target: { ...s.target!, apps: {}, failures: { generic: 'systemctl show timed out' } } };
    const results = evaluateChecks(genericServiceChecks, missing).filter((r) => byId(r.checkId).facts.includes('T.app.generic'));
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.status).toBe('unknown');
      expect(r.unknown?.reason).toMatch(/timed out/);
    }
    const noProbes = { ...s, pair: { ...s.pair, probes: undefined } };
    const [p] = evaluateChecks([byId('generic-service.health-probe-missing')], noProbes);
    expect(p!.status).toBe('unknown');
    const unasked = patch('target', { accounts: {} });
    const [a] = evaluateChecks([byId('generic-service.prerequisites-missing-on-target')], unasked);
    expect(a!.unknown?.reason).toMatch(/not asked whether the account inventory exists/);
  });
});
