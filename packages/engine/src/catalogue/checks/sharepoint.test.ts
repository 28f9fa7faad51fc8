import { describe, expect, it } from 'vitest';
import { firingOutcome, type FiringCase } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import { withFacts } from '../fixtures.ts';
import type { CheckDef } from '../model.ts';
import type { FactsSnapshot } from '../snapshot.ts';
import type { SharepointFacts } from '../apps/sharepoint.ts';
import { sharepointChecks } from './sharepoint.ts';
import { sqlserverChecks } from './sqlserver.ts';
import { sqlSnapshot } from './sqlserver.fixture.ts';

// A healthy SharePoint Subscription Edition pair: the source front end in the farm, the target
// installed but unconfigured, the SQL back end protected with the instance method (so the
// sqlserver instance checks run as well and are good on it).

const FARM_CRED = '00000000-0000-4000-8000-0000000000f1';

const spFacts = (side: 'source' | 'target', over: Partial<SharepointFacts> = {}): SharepointFacts => ({
  build: { version: '16.0.17328.20000', cu: '2024-03', languagePacks: ['de-DE', 'en-US'] },
  farm: side === 'source' ? { configDatabase: 'SharePoint_Config', databaseServer: 'SPSQL' } : null,
  services: [
    { name: 'SPTimerV4', displayName: 'SharePoint Timer Service', ports: [] },
    { name: 'SPAdminV4', displayName: 'SharePoint Administration', ports: [] },
    { name: 'OSearch16', displayName: 'SharePoint Server Search', ports: [16500, 16501] },
    { name: 'SPSearchHostController', displayName: 'SharePoint Search Host Controller', ports: [] },
    { name: 'W3SVC', displayName: 'SharePoint Web Services (IIS)', ports: [32843, 32844] },
  ],
  sqlPort: 1433,
  urls: [
    { zone: 'Default', url: 'https://sql-a.corp.example.com' },
    { zone: 'Intranet', url: 'http://sql-a' },
    { zone: 'Internet', url: 'https://portal.corp.example.com/' },
  ],
  ...over,
});

function spSnapshot(src: unknown = spFacts('source'), tgt: unknown = spFacts('target')): FactsSnapshot {
  const base = sqlSnapshot('instance');
  const services = ['MSSQLSERVER', 'SPTimerV4', 'SPAdminV4', 'OSearch16', 'SPSearchHostController', 'W3SVC'].map((name) => ({ name, mustStopOnTarget: true }));
  const firewall = { manager: 'windows' as const, agentManaged: true, ports: [1433, 16500, 16501, 32843, 32844].map((port) => ({ port, protocol: 'tcp' as const, open: true })) };
  return withFacts(base, {
    pair: { app: 'sharepoint', application: 'sharepoint', dns: { sourceName: 'sql-a.corp.example.com', records: [{ type: 'A', name: 'sql-a.corp.example.com' }] }, identity: { takeName: true, hostSpn: true }, services, credentials: [...base.pair.credentials, { purpose: 'farm', credentialId: FARM_CRED }] },
    source: { apps: { sharepoint: src } },
    target: { apps: { sharepoint: tgt }, firewall },
    vault: [...base.vault, { id: FARM_CRED, purpose: 'farm', kind: 'windows_account', expiresAt: null, lastTest: { at: base.now - 60_000, ok: true, error: null }, rights: ['farm administrator'] }],
    dns: { referrers: [{ type: 'CNAME', name: 'portal.corp.example.com', zone: 'corp.example.com', managed: true }] },
  });
}

const check = (id: string): CheckDef => sharepointChecks.find((c) => c.id === id)!;

type Case = FiringCase;

const firing: Case[] = [
  { id: 'sharepoint.version-mismatch', name: 'language pack missing on the target', snap: spSnapshot(undefined, spFacts('target', { build: { version: '16.0.17328.20000', cu: '2024-03', languagePacks: ['en-US'] } })), subject: 'server=sql-b', status: 'error-manual', guidance: /language packs/ },
  { id: 'sharepoint.pair-settings-invalid', name: 'host SPNs not taken over', snap: withFacts(spSnapshot(), { pair: { identity: { hostSpn: false } } }), subject: 'setting=identity.hostSpn', status: 'error-fixable', plan: 'pair.set' },
  { id: 'sharepoint.pair-settings-invalid', name: 'log-shipping method', snap: withFacts(spSnapshot(), { pair: { method: 'log-shipping' } }), subject: 'setting=method', status: 'error-fixable', plan: 'pair.set' },
  { id: 'sharepoint.farm-credential-missing', name: 'no farm credential', snap: withFacts(spSnapshot(), { pair: { credentials: [] } }), subject: 'credential=farm', status: 'error-manual', guidance: /vault/ },
  { id: 'sharepoint.target-already-in-farm', name: 'target in another farm', snap: spSnapshot(undefined, spFacts('target', { farm: { configDatabase: 'Other_Config', databaseServer: 'OTHERSQL' } })), subject: 'server=sql-b', status: 'warning-manual' },
  { id: 'sharepoint.farm-ports-blocked', name: 'service endpoint closed, agent-managed firewall', snap: withFacts(spSnapshot(), { target: { firewall: { ports: [{ port: 1433, protocol: 'tcp', open: true }, { port: 32843, protocol: 'tcp', open: false }] } } }), subject: 'port=32843/tcp', status: 'error-fixable', plan: 'firewall.allow' },
  { id: 'sharepoint.farm-ports-blocked', name: 'SQL port closed, firewall not managed', snap: withFacts(spSnapshot(), { target: { firewall: { agentManaged: false, ports: [{ port: 1433, protocol: 'tcp', open: false }] } } }), subject: 'port=1433/tcp', status: 'error-manual', guidance: /TCP 1433/ },
  { id: 'sharepoint.services-not-listed', name: 'search services not listed', snap: withFacts(spSnapshot(), { pair: { services: [{ name: 'MSSQLSERVER', mustStopOnTarget: true }, { name: 'SPTimerV4', mustStopOnTarget: true }, { name: 'SPAdminV4', mustStopOnTarget: true }, { name: 'W3SVC', mustStopOnTarget: true }] } }), subject: 'service=OSearch16', status: 'warning-fixable', plan: 'pair.set' },
  { id: 'sharepoint.public-url-not-covered', name: 'extranet URL outside the managed zone', snap: spSnapshot(spFacts('source', { urls: [...spFacts('source').urls, { zone: 'Extranet', url: 'https://extranet.partner.example.org' }] })), subject: 'url=extranet.partner.example.org', status: 'warning-manual' },
];

describe('sharepoint checks (catalogue §2.16, §4.12)', () => {
  it('holds the 7 sharepoint checks', () => {
    expect(sharepointChecks).toHaveLength(7);
  });

  it('finds nothing wrong with the healthy SharePoint pair (its sqlserver instance checks included), and runs every check', () => {
    const results = evaluateChecks([...sharepointChecks, ...sqlserverChecks], spSnapshot());
    expect(results.filter((r) => r.status !== 'good').map((r) => `${r.checkId}/${r.side}: ${r.unknown?.reason ?? r.findings[0]?.message}`)).toEqual([]);
    const ran = new Set(results.map((r) => r.checkId));
    for (const c of sharepointChecks) expect(ran.has(c.id), c.id).toBe(true);
    expect(ran.has('sqlserver.startup-parameters-differ')).toBe(true);
  });

  it('every check has a firing case below', () => {
    expect([...new Set(firing.map((c) => c.id))].sort()).toEqual(sharepointChecks.map((c) => c.id).sort());
  });

  it.each(firing.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => {
    const { actual, expected } = firingOutcome(sharepointChecks, c);
    expect(actual).toEqual(expected);
  });

  it('adds every missing service in one absolute list, kept stopped on the target', () => {
    const snap = withFacts(spSnapshot(), { pair: { services: [{ name: 'MSSQLSERVER', mustStopOnTarget: true }] } });
    const [r] = evaluateChecks([check('sharepoint.services-not-listed')], snap);
    expect(r!.findings).toHaveLength(5);
    const plans = r!.findings.map((f) => f.plan![0]);
    expect(new Set(plans.map((p) => JSON.stringify(p))).size).toBe(1);
    expect(plans[0]).toMatchObject({ action: 'pair.set', key: 'services', value: [{ name: 'MSSQLSERVER', mustStopOnTarget: true }, { name: 'SPTimerV4', mustStopOnTarget: true }, { name: 'SPAdminV4', mustStopOnTarget: true }, { name: 'OSearch16', mustStopOnTarget: true }, { name: 'SPSearchHostController', mustStopOnTarget: true }, { name: 'W3SVC', mustStopOnTarget: true }] });
    expect(r!.findings[0]!.phase).toBe(1);
  });

  it('opens a farm port from the source subnet, as a privileged fix blocked while protected', () => {
    const snap = withFacts(spSnapshot(), { pair: { protected: true }, target: { firewall: { ports: [{ port: 16500, protocol: 'tcp', open: false }] } } });
    const f = evaluateChecks([check('sharepoint.farm-ports-blocked')], snap)[0]!.findings[0]!;
    expect(f.plan![0]).toMatchObject({ action: 'firewall.allow', node: 'target', port: 16500, protocol: 'tcp', fromCidr: '10.0.0.0/24' });
    expect(f.privileged).toBe(true);
    expect(f.blockedReason).toMatch(/Disable protection/);
  });

  it('is unknown when the SharePoint facts are missing or malformed', () => {
    const missing = withFacts(spSnapshot(), { source: { apps: { sharepoint: undefined }, failures: { sharepoint: 'SharePoint snap-in not loaded' } } });
    const [r] = evaluateChecks([check('sharepoint.version-mismatch')], missing);
    expect(r!.status).toBe('unknown');
    expect(r!.unknown!.reason).toMatch(/snap-in not loaded/);
    const [m] = evaluateChecks([check('sharepoint.target-already-in-farm')], spSnapshot(undefined, { build: 'x' }));
    expect(m!.status).toBe('unknown');
    expect(m!.unknown!.reason).toMatch(/SharePoint facts are malformed/);
  });
});
