import { describe, expect, it } from 'vitest';
import { firingOutcome, type FiringCase } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import { snapshotFixture, withFacts } from '../fixtures.ts';
import type { CheckDef } from '../model.ts';
import type { DirectoryFacts, FactsSnapshot } from '../snapshot.ts';
import type { ExchangeDatabase, ExchangeFacts } from '../apps/exchange.ts';
import { exchangeChecks } from './exchange.ts';

// A healthy Exchange 2019 pair (two mailbox databases, both selected) and one bent fact per case.

const ORG_DN = 'CN=Contoso,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=corp,DC=example,DC=com';

const db = (name: string, over: Partial<ExchangeDatabase> = {}): ExchangeDatabase => ({
  name,
  publicFolder: false,
  mounted: true,
  edbFilePath: `E:\\Databases\\${name}\\${name}.edb`,
  logFolderPath: `F:\\Logs\\${name}`,
  logPrefix: name === 'DB01' ? 'E00' : 'E01',
  circularLogging: false,
  pageZeroing: false,
  systemPath: null,
  streamingPath: null,
  ...over,
});

const exFacts = (side: 'source' | 'target', over: Partial<ExchangeFacts> = {}): ExchangeFacts => ({
  version: '15.2.1544.4',
  cu: 'CU14',
  roles: ['Mailbox'],
  edition: 'enterprise',
  organization: 'Contoso',
  adminGroup: 'Exchange Administrative Group (FYDIBOHF23SPDLT)',
  databases: side === 'source' ? [db('DB01'), db('DB02')] : [db('DB01', { mounted: false }), db('DB02', { mounted: false })],
  transport: { queueDatabasePath: 'D:\\Queue', pickupDirectory: 'D:\\Pickup', replayDirectory: 'D:\\Replay' },
  receiveBindings: [
    { connector: `Default Frontend EX-${side === 'source' ? 'A' : 'B'}`, address: side === 'source' ? '10.0.0.10' : '10.0.0.20', port: 25 },
    { connector: 'Client Proxy', address: '0.0.0.0', port: 465 },
  ],
  ...over,
});

const directory = (over: Partial<DirectoryFacts> = {}): DirectoryFacts => ({
  reachable: true,
  error: null,
  domain: 'corp.example.com',
  singleLabel: false,
  forestRoot: 'corp.example.com',
  gcByDomain: { 'corp.example.com': true },
  rights: [
    { principal: 'CORP\\ex-b$', object: `CN=Default Offline Address Book,CN=Offline Address Lists,CN=Address Lists Container,${ORG_DN}`, right: 'write property', allowed: true },
    { principal: 'CORP\\ex-b$', object: 'CN=Alice,OU=Staff,DC=corp,DC=example,DC=com', right: 'msExchHomeServerName', allowed: true },
  ],
  exchangeOrg: {
    organization: 'Contoso',
    adminGroup: 'Exchange Administrative Group (FYDIBOHF23SPDLT)',
    servers: [
      { name: 'EX-A', adminGroup: 'Exchange Administrative Group (FYDIBOHF23SPDLT)', domain: 'corp.example.com' },
      { name: 'EX-B', adminGroup: 'Exchange Administrative Group (FYDIBOHF23SPDLT)', domain: 'corp.example.com' },
    ],
  },
  keytabs: [],
  passwordPolicy: null,
  ...over,
});

function exSnapshot(src: unknown = exFacts('source'), tgt: unknown = exFacts('target')): FactsSnapshot {
  const base = snapshotFixture();
  const node = (side: 'source' | 'target', facts: unknown) =>
    withFacts(base[side]!, {
      hostname: side === 'source' ? 'ex-a.corp.example.com' : 'ex-b.corp.example.com',
      os: { family: 'windows', name: 'Windows Server 2022 Standard', version: '10.0.20348', major: '2022', kernel: '10.0.20348', arch: 'x64', domainController: false, libc: null },
      apps: { exchange: facts },
    });
  return withFacts(base, {
    pair: { app: 'exchange', application: 'exchange', method: 'databases', rules: null, selection: { databases: ['DB01', 'DB02'] }, services: [{ name: 'MSExchangeIS', mustStopOnTarget: true }] },
    source: node('source', src),
    target: node('target', tgt),
    directory: directory(),
  });
}

const check = (id: string): CheckDef => exchangeChecks.find((c) => c.id === id)!;
const tested = { id: 'dir-1', purpose: 'directory' as const, kind: 'ad', expiresAt: null, lastTest: { at: 1, ok: true, error: null }, rights: [] };

type Case = FiringCase;

const firing: Case[] = [
  { id: 'exchange.version-mismatch', name: 'older CU on the target', snap: exSnapshot(undefined, exFacts('target', { version: '15.2.1258.12', cu: 'CU13' })), subject: 'server=ex-b.corp.example.com', status: 'error-manual', guidance: /cumulative update/ },
  { id: 'exchange.version-mismatch', name: 'target without the Mailbox role', snap: exSnapshot(undefined, exFacts('target', { roles: ['Edge'] })), subject: 'server=ex-b.corp.example.com', status: 'error-manual' },
  { id: 'exchange.org-placement-mismatch', name: 'different administrative group', snap: withFacts(exSnapshot(), { directory: directory({ exchangeOrg: { ...directory().exchangeOrg!, servers: [directory().exchangeOrg!.servers[0]!, { name: 'EX-B', adminGroup: 'Second AG', domain: 'corp.example.com' }] } }) }), subject: 'server=ex-b.corp.example.com', status: 'error-manual' },
  { id: 'exchange.org-placement-mismatch', name: 'child domain without a global catalog', snap: withFacts(exSnapshot(), { directory: directory({ gcByDomain: { 'corp.example.com': true, 'eu.corp.example.com': false }, exchangeOrg: { ...directory().exchangeOrg!, servers: [directory().exchangeOrg!.servers[0]!, { name: 'EX-B', adminGroup: 'Exchange Administrative Group (FYDIBOHF23SPDLT)', domain: 'eu.corp.example.com' }] } }) }), subject: 'domain=eu.corp.example.com', status: 'error-manual' },
  { id: 'exchange.dc-colocation', name: 'target is a domain controller', snap: withFacts(exSnapshot(), { target: { os: { domainController: true } } }), subject: 'node=ex-b.corp.example.com', status: 'error-manual' },
  { id: 'exchange.edition-capacity', name: 'six mounted databases onto Standard', snap: exSnapshot(exFacts('source', { databases: ['DB01', 'DB02', 'DB03', 'DB04', 'DB05', 'DB06'].map((n) => db(n)) }), exFacts('target', { edition: 'standard' })), subject: 'server=ex-b.corp.example.com', status: 'warning-manual' },
  { id: 'exchange.no-databases-selected', name: 'empty selection', snap: withFacts(exSnapshot(), { pair: { selection: { databases: [] } } }), subject: 'pair=Main file server', status: 'error-manual' },
  { id: 'exchange.partial-selection', name: 'DB02 left out', snap: withFacts(exSnapshot(), { pair: { selection: { databases: ['DB01'] } } }), subject: 'database=DB02', status: 'warning-manual' },
  { id: 'exchange.circular-logging', name: 'circular logging on DB01', snap: exSnapshot(exFacts('source', { databases: [db('DB01', { circularLogging: true }), db('DB02')] })), subject: 'database=DB01', status: 'error-manual' },
  { id: 'exchange.database-missing-on-target', name: 'DB02 not defined on the target', snap: exSnapshot(undefined, exFacts('target', { databases: [db('DB01', { mounted: false })] })), subject: 'database=DB02', status: 'error-fixable', plan: 'copy-database-config' },
  { id: 'exchange.database-layout-mismatch', name: 'log folder elsewhere', snap: exSnapshot(undefined, exFacts('target', { databases: [db('DB01', { mounted: false, logFolderPath: 'G:\\Logs\\DB01' }), db('DB02', { mounted: false })] })), subject: 'database=DB01', status: 'error-fixable', plan: 'set-database-paths' },
  { id: 'exchange.transport-path-mismatch', name: 'queue elsewhere', snap: exSnapshot(undefined, exFacts('target', { transport: { queueDatabasePath: 'C:\\Queue', pickupDirectory: 'D:\\Pickup', replayDirectory: 'D:\\Replay' } })), subject: 'transport=ex-b.corp.example.com', status: 'error-fixable', plan: 'set-transport-paths' },
  { id: 'exchange.page-zeroing-enabled', name: 'page zeroing on DB02', snap: exSnapshot(exFacts('source', { databases: [db('DB01'), db('DB02', { pageZeroing: true })] })), subject: 'database=DB02', status: 'warning-manual' },
  {
    id: 'exchange.failover-rights-missing',
    name: 'address book right denied, tested directory credential',
    snap: withFacts(exSnapshot(), { directory: directory({ rights: [{ ...directory().rights[0]!, allowed: false }] }), vault: [tested] }),
    subject: `right=CORP\\ex-b$ on CN=Default Offline Address Book,CN=Offline Address Lists,CN=Address Lists Container,${ORG_DN}`,
    status: 'error-fixable',
    plan: 'directory.grant',
  },
  {
    id: 'exchange.failover-rights-missing',
    name: 'recipient right denied',
    snap: withFacts(exSnapshot(), { directory: directory({ rights: [{ ...directory().rights[1]!, allowed: false }] }), vault: [tested] }),
    subject: 'right=CORP\\ex-b$ on CN=Alice,OU=Staff,DC=corp,DC=example,DC=com',
    status: 'error-manual',
    guidance: /organisation-wide/,
  },
  { id: 'exchange.smtp-address-mismatch', name: 'mapped target address not bound', snap: withFacts(exSnapshot(), { pair: { ipMap: [{ source: '10.0.0.10', target: '10.0.0.21' }] } }), subject: 'address=10.0.0.21', status: 'warning-manual' },
  { id: 'exchange.smtp-address-not-mapped', name: 'second source binding unmapped', snap: exSnapshot(exFacts('source', { receiveBindings: [...exFacts('source').receiveBindings, { connector: 'Internet', address: '10.0.0.11', port: 25 }] })), subject: 'address=10.0.0.11', status: 'warning-manual', guidance: /MX/ },
];

describe('exchange checks (catalogue §2.14)', () => {
  it('holds the 14 exchange checks', () => {
    expect(exchangeChecks).toHaveLength(14);
  });

  it('finds nothing wrong with the healthy Exchange pair, and runs every check on it', () => {
    const results = evaluateChecks(exchangeChecks, exSnapshot());
    expect(results.filter((r) => r.status !== 'good').map((r) => `${r.checkId}/${r.side}: ${r.unknown?.reason ?? r.findings[0]?.message}`)).toEqual([]);
    expect([...new Set(results.map((r) => r.checkId))].sort()).toEqual(exchangeChecks.map((c) => c.id).sort());
  });

  it('every check has a firing case below', () => {
    expect([...new Set(firing.map((c) => c.id))].sort()).toEqual(exchangeChecks.map((c) => c.id).sort());
  });

  it.each(firing.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => {
    const { actual, expected } = firingOutcome(exchangeChecks, c);
    expect(actual).toEqual(expected);
  });

  it('copies the source layout to the target, dismounted, with absolute paths', () => {
    const snap = exSnapshot(undefined, exFacts('target', { databases: [db('DB01', { mounted: false, edbFilePath: 'C:\\Other\\DB01.edb' }), db('DB02', { mounted: false })] }));
    const f = evaluateChecks([check('exchange.database-layout-mismatch')], snap)[0]!.findings[0]!;
    expect(f.plan![0]).toMatchObject({ action: 'app', app: 'exchange', op: 'set-database-paths', node: 'target', params: { database: 'DB01', edbFilePath: 'E:\\Databases\\DB01\\DB01.edb', logFolderPath: 'F:\\Logs\\DB01', logPrefix: 'E00' }, before: 'C:\\Other\\DB01.edb | F:\\Logs\\DB01 | E00' });
    expect(f.phase).toBe(7);
    const blocked = evaluateChecks([check('exchange.database-layout-mismatch')], withFacts(snap, { pair: { protected: true } }))[0]!.findings[0]!;
    expect(blocked.blockedReason).toMatch(/Disable protection/);
  });

  it('the address-book grant is privileged and may run while protected; without a tested credential it is manual', () => {
    const denied = directory({ rights: [{ ...directory().rights[0]!, allowed: false }] });
    const f = evaluateChecks([check('exchange.failover-rights-missing')], withFacts(exSnapshot(), { directory: denied, vault: [tested], pair: { protected: true } }))[0]!.findings[0]!;
    expect(f.privileged).toBe(true);
    expect(f.blockedReason).toBeNull();
    expect(f.phase).toBe(4);
    const manual = evaluateChecks([check('exchange.failover-rights-missing')], withFacts(exSnapshot(), { directory: denied }))[0]!.findings[0]!;
    expect(manual.status).toBe('error-manual');
  });

  it('paths compare without case or a trailing backslash', () => {
    const snap = exSnapshot(undefined, exFacts('target', { databases: [db('DB01', { mounted: false, logFolderPath: 'f:\\logs\\db01\\' }), db('DB02', { mounted: false })] }));
    expect(evaluateChecks([check('exchange.database-layout-mismatch')], snap)[0]!.status).toBe('good');
  });

  it('is unknown when the Exchange facts are missing or malformed', () => {
    const missing = withFacts(exSnapshot(), { target: { apps: { exchange: undefined }, failures: { exchange: 'Exchange Management Shell not found' } } });
    const [r] = evaluateChecks([check('exchange.version-mismatch')], missing);
    expect(r!.status).toBe('unknown');
    expect(r!.unknown!.reason).toMatch(/Management Shell not found/);
    const [m] = evaluateChecks([check('exchange.version-mismatch')], exSnapshot(undefined, { version: 15 }));
    expect(m!.status).toBe('unknown');
    expect(m!.unknown!.reason).toMatch(/Exchange facts are malformed/);
  });

  it('the SMTP checks run only for DNS failover', () => {
    const snap = withFacts(exSnapshot(), { pair: { failover: { mode: 'identity' }, ipMap: [{ source: '10.0.0.10', target: '10.0.0.21' }] } });
    expect(evaluateChecks([check('exchange.smtp-address-mismatch')], snap)).toEqual([]);
  });
});
