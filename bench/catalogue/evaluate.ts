// The catalogue's evaluation cost: every check over 1,000 pairs' facts snapshots, in CPU
// seconds of this process. The snapshots are the fixtures' healthy pairs of several applications,
// each bent in a few places (a running service, a low volume, a drifted setting, a missing
// record, a stale agent) so that evaluation also builds findings and plans, not only "good".
import { catalogue, evaluateCatalogue, type FactsSnapshot } from '@tandem/engine';
import { snapshotFixture, withFacts } from '../../packages/engine/src/catalogue/fixtures.ts';
import { mariadbSnapshot, postgresSnapshot } from '../../packages/engine/src/catalogue/apps/fixtures.ts';

function bent(i: number): FactsSnapshot {
  const base = [snapshotFixture, postgresSnapshot, mariadbSnapshot][i % 3]!();
  let s = withFacts(base, { pair: { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `pair ${i}` } });
  if (i % 4 === 1 && s.target?.services) {
    s = withFacts(s, { target: { services: s.target.services.map((svc) => ({ ...svc, state: 'running', startMode: 'auto' })) } });
  }
  if (i % 5 === 2 && s.target?.volumes) {
    s = withFacts(s, { target: { volumes: s.target.volumes.map((v) => ({ ...v, freeBytes: 1024 })) } });
  }
  if (i % 7 === 3 && s.dns) s = withFacts(s, { dns: { records: [] } });
  if (i % 11 === 4 && s.source?.agent) s = withFacts(s, { source: { agent: { ...s.source.agent, version: '0.9.0' } } });
  if (i % 13 === 5) s = withFacts(s, { target: undefined });
  return s;
}

export function measureEvaluation(pairs = 1000) {
  const snapshots = Array.from({ length: pairs }, (_, i) => bent(i));
  const before = process.cpuUsage();
  let findings = 0;
  let unknown = 0;
  for (const snap of snapshots) {
    const { results } = evaluateCatalogue(snap);
    for (const r of results) {
      findings += r.findings.length;
      if (r.status === 'unknown') unknown++;
    }
  }
  const used = process.cpuUsage(before);
  return { cpuSeconds: (used.user + used.system) / 1e6, findings, unknown, checks: catalogue.length };
}
