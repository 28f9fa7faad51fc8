import { describe, expect, it } from 'vitest';
import { firingOutcome, type FiringCase } from './core-cases.ts';
import { evaluateChecks } from '../evaluate.ts';
import { withFacts } from '../fixtures.ts';
import type { CatalogueMethod, CheckDef } from '../model.ts';
import { sqlserverTargetPaths, type SqlInstance } from '../apps/sqlserver.ts';
import { sqlserverChecks } from './sqlserver.ts';
import { sqlDb, sqlDirectory, sqlFacts, sqlInstance, sqlSnapshot } from './sqlserver.fixture.ts';

const check = (id: string): CheckDef => {
  const c = sqlserverChecks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
};

/** The pair with the source and/or target default instance bent. */
const bent = (method: CatalogueMethod, src: Partial<SqlInstance> = {}, tgt: Partial<SqlInstance> = {}) => sqlSnapshot(method, sqlFacts('source', method, src), sqlFacts('target', method, tgt));
const base = (m: CatalogueMethod) => sqlInstance('source', m);
const tbase = (m: CatalogueMethod) => sqlInstance('target', m);

type Case = FiringCase;

const dbSales = (m: CatalogueMethod, over: Parameters<typeof sqlDb>[1]) => [...base(m).databases.filter((d) => d.name !== 'Sales'), sqlDb('Sales', over)];

const firing: Case[] = [
  { id: 'sqlserver.version-mismatch', name: 'instance: older CU on the target', snap: bent('instance', {}, { version: '16.0.4125.3', servicingLevel: 'CU13' }), subject: 'instance=MSSQLSERVER', status: 'error-manual', guidance: /servicing level/ },
  { id: 'sqlserver.version-mismatch', name: 'database: older target', snap: bent('database', {}, { version: '15.0.4365.2' }), subject: 'instance=MSSQLSERVER', status: 'error-manual' },
  { id: 'sqlserver.instance-missing-on-target', name: 'no instance of that name', snap: sqlSnapshot('instance', undefined, { domain: 'corp.example.com', instances: [sqlInstance('target', 'instance', { name: 'OTHER', serviceName: 'MSSQL$OTHER' })] }), subject: 'instance=MSSQLSERVER', status: 'error-manual', side: 'target' },
  { id: 'sqlserver.service-account-unsuitable', name: 'machine-local account on the source', snap: bent('instance', { serviceAccount: '.\\sqlsvc' }), subject: 'instance=MSSQLSERVER', status: 'error-manual', side: 'source' },
  {
    id: 'sqlserver.service-account-unsuitable',
    name: 'different domains with virtual accounts',
    snap: sqlSnapshot('instance', { domain: 'corp.example.com', instances: [base('instance')].map((i) => ({ ...i, serviceAccount: 'NT Service\\MSSQLSERVER' })) }, { domain: 'dr.example.net', instances: [{ ...tbase('instance'), serviceAccount: 'NT Service\\MSSQLSERVER' }] }),
    subject: 'instance=MSSQLSERVER',
    status: 'error-manual',
    side: 'target',
  },
  { id: 'sqlserver.service-spn-rights-missing', name: 'write denied, tested directory credential', snap: withFacts(sqlSnapshot(), { directory: { rights: [{ principal: 'CORP\\sql-b$', object: 'CORP\\svc-sql', right: 'write SPN', allowed: false }] }, vault: [{ id: 'dir-1', purpose: 'directory', kind: 'ad', expiresAt: null, lastTest: { at: 1, ok: true, error: null }, rights: [] }] }), subject: 'account=CORP\\svc-sql', status: 'error-fixable', plan: 'directory.grant' },
  { id: 'sqlserver.service-spn-rights-missing', name: 'write denied, no directory credential', snap: withFacts(sqlSnapshot(), { directory: { rights: [{ principal: 'CORP\\sql-b$', object: 'CORP\\svc-sql', right: 'write SPN', allowed: false }] } }), subject: 'account=CORP\\svc-sql', status: 'error-manual', guidance: /domain administrator/ },
  { id: 'sqlserver.system-database-deselected', name: 'only Sales selected', snap: withFacts(sqlSnapshot(), { pair: { selection: { databases: ['Sales', 'tempdb'] } } }), subject: 'database=master', status: 'error-fixable', plan: 'pair.set', count: 3 },
  { id: 'sqlserver.target-database-online', name: 'instance: target instance running', snap: withFacts(sqlSnapshot('instance', undefined, sqlFacts('target', 'instance', { databases: dbSales('instance', {}) })), { target: { services: [{ name: 'MSSQLSERVER', state: 'running', startMode: 'auto', account: null, definitionDigest: null, definition: null, dependencies: [] }] } }), subject: 'instance=MSSQLSERVER', status: 'error-fixable', side: 'target', plan: 'service.stop' },
  { id: 'sqlserver.target-database-online', name: 'database: Sales attached on the target', snap: bent('database', {}, { databases: dbSales('database', {}) }), subject: 'database=Sales', status: 'error-fixable', side: 'target', plan: 'detach' },
  {
    id: 'sqlserver.name-collision',
    name: 'another pair writes the same file',
    snap: withFacts(sqlSnapshot('database'), { replication: { connections: [{ id: 'c-9', pairId: 'other', sourceServerId: 'x', targetServerId: '00000000-0000-4000-8000-00000000000b', paths: ['D:\\Data\\Sales.mdf'], method: 'database', active: true }] } }),
    subject: 'file=D:\\Data\\Sales.mdf',
    status: 'error-manual',
    side: 'target',
  },
  { id: 'sqlserver.config-value-differs', name: 'MAXDOP differs', snap: bent('database', {}, { config: [{ name: 'max degree of parallelism', value: 8 }, ...base('database').config.slice(1)] }), subject: 'option=max degree of parallelism', status: 'warning-fixable', plan: 'set-config' },
  { id: 'sqlserver.config-value-differs', name: 'option on the source only, same version', snap: bent('database', { config: [...base('database').config, { name: 'ADR cleaner retry timeout (min)', value: 15 }] }), subject: 'option=ADR cleaner retry timeout (min)', status: 'warning-manual', guidance: /one side only/ },
  { id: 'sqlserver.fulltext-differs', name: 'default path differs', snap: bent('instance', {}, { fulltext: { ...base('instance').fulltext!, defaultPath: 'E:\\FT' } }), subject: 'instance=MSSQLSERVER', status: 'error-fixable', plan: 'set-fulltext' },
  { id: 'sqlserver.auth-mode-differs', name: 'Windows-only target', snap: bent('instance', {}, { authMode: 'windows' }), subject: 'instance=MSSQLSERVER', status: 'error-fixable', plan: 'set-registry' },
  { id: 'sqlserver.agent-config-differs', name: 'mail profile differs', snap: bent('instance', {}, { agent: { ...base('instance').agent!, settings: { ...base('instance').agent!.settings, mailProfile: 'Other' } } }), subject: 'agent=MSSQLSERVER', status: 'warning-fixable', plan: 'set-agent' },
  { id: 'sqlserver.agent-config-differs', name: 'database: job missing', snap: bent('database', {}, { agent: { ...base('database').agent!, jobs: [] } }), subject: 'job=Nightly backup', status: 'warning-manual', guidance: /script/ },
  { id: 'sqlserver.language-differs', name: 'default language differs', snap: bent('database', {}, { languages: { default: 'Deutsch', available: ['us_english', 'Deutsch'] } }), subject: 'language=default', status: 'warning-fixable', plan: 'set-config' },
  { id: 'sqlserver.language-differs', name: 'login language missing on the target', snap: bent('database', {}, { languages: { default: 'us_english', available: ['us_english'] } }), subject: 'language=Deutsch', status: 'warning-manual', guidance: /not installed/ },
  { id: 'sqlserver.linked-server-differs', name: 'missing on the target', snap: bent('database', {}, { linkedServers: [] }), subject: 'linked-server=REPORTS', status: 'warning-fixable', plan: 'recreate-linked-server' },
  {
    id: 'sqlserver.linked-server-differs',
    name: 'remote user without a stored secret',
    snap: bent('database', { linkedServers: [{ ...base('database').linkedServers[0]!, remoteLogins: [{ localLogin: 'app_rw', remoteUser: 'report_reader' }] }] }),
    subject: 'linked-server=REPORTS',
    status: 'warning-manual',
    guidance: /vault/,
  },
  { id: 'sqlserver.backup-device-differs', name: 'database: device missing', snap: bent('database', {}, { backupDevices: [] }), subject: 'device=nightly', status: 'warning-manual' },
  { id: 'sqlserver.backup-device-differs', name: 'instance: path unreachable', snap: withFacts(sqlSnapshot(), { target: { paths: [{ path: 'D:\\Backup', exists: false, type: null, owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume: 'D:\\' }] } }), subject: 'device=nightly', status: 'warning-manual' },
  { id: 'sqlserver.login-differs', name: 'login missing', snap: bent('database', {}, { logins: base('database').logins.filter((l) => l.name !== 'app_rw') }), subject: 'login=app_rw', status: 'error-fixable', plan: 'copy-login' },
  { id: 'sqlserver.login-differs', name: 'password differs', snap: bent('database', {}, { logins: base('database').logins.map((l) => (l.name === 'app_rw' ? { ...l, passwordHashDigest: 'other' } : l)) }), subject: 'login=app_rw', status: 'error-fixable', plan: 'copy-login' },
  { id: 'sqlserver.server-role-differs', name: 'role missing', snap: bent('database', {}, { serverRoles: base('database').serverRoles.filter((r) => r.fixed) }), subject: 'role=monitoring', status: 'warning-fixable', plan: 'create-server-role' },
  { id: 'sqlserver.server-role-differs', name: 'member missing', snap: bent('database', {}, { serverRoles: base('database').serverRoles.map((r) => ({ ...r, members: r.fixed ? r.members : [] })) }), subject: 'member=monitoring/app_rw', status: 'warning-manual', guidance: /on purpose/ },
  { id: 'sqlserver.database-principal-differs', name: 'no login with the user SID', snap: bent('database', {}, { logins: base('database').logins.filter((l) => l.name !== 'app_rw') }), subject: 'user=Sales/app_rw', status: 'warning-fixable', plan: 'copy-login' },
  { id: 'sqlserver.registry-value-differs', name: 'TCP/IP off on the target', snap: bent('instance', {}, { registry: base('instance').registry.map((r) => (r.key === 'SuperSocketNetLib\\Tcp' ? { ...r, value: 0 } : r)) }), subject: 'registry=SuperSocketNetLib\\Tcp\\Enabled', status: 'error-fixable', plan: 'set-registry' },
  {
    id: 'sqlserver.registry-value-differs',
    name: 'value off the allow-list',
    snap: bent('instance', { registry: [...base('instance').registry, { key: 'MSSQLServer', name: 'ErrorReportingEnabled', value: 1 }] }, { registry: [...base('instance').registry, { key: 'MSSQLServer', name: 'ErrorReportingEnabled', value: 0 }] }),
    subject: 'registry=MSSQLServer\\ErrorReportingEnabled',
    status: 'error-manual',
    guidance: /allow-listed/,
  },
  { id: 'sqlserver.registry-value-missing', name: 'audit level only on the source', snap: bent('instance', {}, { registry: base('instance').registry.filter((r) => r.name !== 'AuditLevel') }), subject: 'registry=MSSQLServer\\AuditLevel', status: 'warning-manual' },
  { id: 'sqlserver.startup-parameters-differ', name: 'trace flag missing on the target', snap: bent('instance', {}, { startupParams: base('instance').startupParams.filter((p) => p !== '-T1117') }), subject: 'instance=MSSQLSERVER', status: 'error-fixable', plan: 'set-startup-params' },
  { id: 'sqlserver.replication-config-differs', name: 'source is a publisher', snap: bent('database', { replication: { publisher: true, distributor: false, subscriber: false, publications: ['SalesPub'] } }), subject: 'instance=MSSQLSERVER', status: 'warning-manual' },
  { id: 'sqlserver.tde-key-unavailable', name: 'database: certificate missing on the target', snap: bent('database', { databases: dbSales('database', { tde: { encryptorType: 'certificate', encryptorThumbprint: '0xAB12' } }), certificates: [{ name: 'TDECert', thumbprint: '0xAB12', hasPrivateKey: true }] }), subject: 'database=Sales', status: 'error-manual', side: 'target' },
  { id: 'sqlserver.tde-key-unavailable', name: 'instance: master key only under the service master key', snap: bent('instance', { databases: dbSales('instance', { tde: { encryptorType: 'certificate', encryptorThumbprint: '0xAB12' } }), masterKey: { passwordProtected: false } }), subject: 'database=Sales', status: 'error-manual', side: 'target' },
  { id: 'sqlserver.availability-group-member', name: 'Sales in AG1', snap: bent('instance', { databases: dbSales('instance', { availabilityGroup: 'AG1' }) }), subject: 'database=Sales', status: 'warning-manual', side: 'source' },
  { id: 'sqlserver.recovery-model-not-full', name: 'simple recovery', snap: bent('log-shipping', { databases: dbSales('log-shipping', { recoveryModel: 'simple' }) }), subject: 'database=Sales', status: 'error-manual', side: 'source' },
  { id: 'sqlserver.log-chain-broken', name: 'target database recovered', snap: bent('log-shipping', {}, { databases: dbSales('log-shipping', {}) }), subject: 'database=Sales', status: 'error-manual', side: 'target', guidance: /Re-seed/ },
  { id: 'sqlserver.log-chain-broken', name: 'backup share unreachable', snap: withFacts(sqlSnapshot('log-shipping'), { target: { paths: [{ path: '\\\\files-a\\logship', exists: false, type: null, owner: null, uid: null, gid: null, mode: null, usedBytes: null, volume: null }] } }), subject: 'database=Sales', status: 'error-manual', side: 'target' },
  {
    id: 'sqlserver.log-chain-broken',
    name: 'a log backup is missing',
    snap: bent('log-shipping', {
      logShipping: {
        primaries: [
          {
            database: 'Sales',
            backupShare: '\\\\files-a\\logship',
            backups: [
              { file: 'Sales_1.trn', firstLsn: '1000', lastLsn: '2000' },
              { file: 'Sales_3.trn', firstLsn: '2500', lastLsn: '3000' },
            ],
          },
        ],
        secondaries: [],
      },
    }),
    subject: 'database=Sales',
    status: 'error-manual',
    side: 'target',
  },
];

describe('sqlserver checks (catalogue §2.15)', () => {
  it('holds the 25 sqlserver checks of the catalogue', () => {
    expect(sqlserverChecks).toHaveLength(25);
    expect(sqlserverChecks.every((c) => c.family === 'sqlserver' && c.appliesTo.includes('sqlserver'))).toBe(true);
  });

  it.each(['instance', 'database', 'log-shipping'] as const)('finds nothing wrong with the healthy %s pair', (method) => {
    const results = evaluateChecks(sqlserverChecks, sqlSnapshot(method));
    expect(results.filter((r) => r.status !== 'good').map((r) => `${r.checkId}/${r.side}: ${r.unknown?.reason ?? r.findings[0]?.message}`)).toEqual([]);
    // Every check of the family runs in at least one method.
    expect(results.length).toBeGreaterThan(0);
  });

  it('runs every check on at least one healthy method', () => {
    const ran = new Set((['instance', 'database', 'log-shipping'] as const).flatMap((m) => evaluateChecks(sqlserverChecks, sqlSnapshot(m)).map((r) => r.checkId)));
    expect([...ran].sort()).toEqual(sqlserverChecks.map((c) => c.id).sort());
  });

  it('every check has a firing case below', () => {
    expect([...new Set(firing.map((c) => c.id))].sort()).toEqual(sqlserverChecks.map((c) => c.id).sort());
  });

  it.each(firing.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => {
    const { actual, expected, finding } = firingOutcome(sqlserverChecks, c);
    expect(actual).toEqual(expected);
    if (c.status.endsWith('fixable')) expect(finding!.phase).toBe(check(c.id).fix.kind === 'manual' ? null : (check(c.id).fix as { phase: number }).phase);
  });

  it('never puts a password hash digest in the evidence', () => {
    const snap = bent('database', {}, { logins: base('database').logins.map((l) => (l.name === 'app_rw' ? { ...l, passwordHashDigest: 'other' } : l)) });
    const [r] = evaluateChecks([check('sqlserver.login-differs')], snap);
    expect(r!.findings[0]!.evidence.differs).toEqual(['passwordHash']);
    expect(JSON.stringify(r!.findings)).not.toMatch(/pwd-digest|other/);
  });

  it('plans absolute values: the login copy names the login and its SID, the auth fix the mode number', () => {
    const [login] = evaluateChecks([check('sqlserver.login-differs')], bent('database', {}, { logins: [] }));
    expect(login!.findings.find((f) => f.subject === 'login=app_rw')!.plan![0]).toMatchObject({ action: 'app', app: 'sqlserver', op: 'copy-login', node: 'target', params: { instance: 'MSSQLSERVER', login: 'app_rw', sid: '0x0A1B' } });
    const [auth] = evaluateChecks([check('sqlserver.auth-mode-differs')], bent('instance', {}, { authMode: 'windows' }));
    expect(auth!.findings[0]!.plan![0]).toMatchObject({ params: { name: 'LoginMode', value: 2 }, before: 'windows', after: 'mixed' });
    const [sel] = evaluateChecks([check('sqlserver.system-database-deselected')], withFacts(sqlSnapshot(), { pair: { selection: { databases: ['Sales'] } } }));
    expect(sel!.findings[0]!.plan![0]).toMatchObject({ action: 'pair.set', key: 'selection.databases', value: ['Sales', 'master', 'model', 'msdb'] });
  });

  it('a newer target suppresses one-sided options and registry values in the database method', () => {
    const newer = { version: '17.0.1000.7', config: [...base('database').config, { name: 'new option', value: 1 }], registry: [...base('database').registry, { key: 'MSSQLServer', name: 'NewValue', value: 1 }] };
    const results = evaluateChecks([check('sqlserver.config-value-differs'), check('sqlserver.registry-value-missing'), check('sqlserver.version-mismatch')], bent('database', {}, newer));
    expect(results.map((r) => r.status)).toEqual(['good', 'good', 'good']);
    // …but not in the instance method, where the versions must match.
    const inst = evaluateChecks([check('sqlserver.registry-value-missing')], bent('instance', {}, newer));
    expect(inst[0]!.findings.map((f) => f.subject)).toEqual(['registry=MSSQLServer\\NewValue']);
  });

  it('maps source paths through the pair\'s path map before comparing startup parameters', () => {
    const root = 'C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL';
    const snap = withFacts(bent('instance', {}, { startupParams: [`-dE:\\SQL\\DATA\\master.mdf`, `-eE:\\SQL\\Log\\ERRORLOG`, `-lE:\\SQL\\DATA\\mastlog.ldf`, '-T1117'] }), { pair: { pathMap: [{ from: root, to: 'E:\\SQL' }] } });
    expect(evaluateChecks([check('sqlserver.startup-parameters-differ')], snap)[0]!.status).toBe('good');
  });

  it('a fix that changes the target is blocked while the pair is protected', () => {
    const snap = withFacts(bent('database', {}, { logins: [] }), { pair: { protected: true, state: 'protected' } });
    const f = evaluateChecks([check('sqlserver.login-differs')], snap)[0]!.findings[0]!;
    expect(f.status).toBe('error-fixable');
    expect(f.blockedReason).toMatch(/Disable protection/);
  });

  it('is unknown when the SQL Server facts are missing or malformed', () => {
    const missing = withFacts(sqlSnapshot(), { source: { apps: { sqlserver: undefined }, failures: { sqlserver: 'the sqlserver module is not loaded' } } });
    const [r] = evaluateChecks([check('sqlserver.version-mismatch')], missing);
    expect(r!.status).toBe('unknown');
    expect(r!.unknown!.reason).toMatch(/sqlserver module is not loaded/);
    const malformed = sqlSnapshot('instance', { domain: null, instances: [{ name: 'MSSQLSERVER' }] });
    const [m] = evaluateChecks([check('sqlserver.version-mismatch')], malformed);
    expect(m!.status).toBe('unknown');
    expect(m!.unknown!.reason).toMatch(/SQL Server facts are malformed/);
  });

  it('treats a node without SQL Server (null facts) as having no instance', () => {
    const [r] = evaluateChecks([check('sqlserver.instance-missing-on-target')], sqlSnapshot('instance', undefined, null));
    expect(r!.findings.map((f) => f.subject)).toEqual(['instance=MSSQLSERVER']);
  });

  it('runs only the instance-method checks for a SharePoint pair', () => {
    const snap = withFacts(sqlSnapshot(), { pair: { app: 'sharepoint', application: 'sharepoint' } });
    const ids = new Set(evaluateChecks(sqlserverChecks, snap).map((r) => r.checkId));
    expect(ids.has('sqlserver.version-mismatch')).toBe(true);
    expect(ids.has('sqlserver.login-differs')).toBe(false);
  });

  it('keeps the directory rights of other objects out of the SPN check', () => {
    const snap = withFacts(sqlSnapshot(), { directory: { ...sqlDirectory(), rights: [{ principal: 'CORP\\sql-b$', object: 'CN=sql-a,OU=Servers,DC=corp,DC=example,DC=com', right: 'write SPN', allowed: false }] } });
    expect(evaluateChecks([check('sqlserver.service-spn-rights-missing')], snap)[0]!.status).toBe('good');
  });

  it('names the target paths its checks read (backup-device folders, log-shipping shares) for the facts request', () => {
    const snap = sqlSnapshot('log-shipping');
    expect(sqlserverTargetPaths(snap.pair, snap.source!.apps.sqlserver)).toEqual(['D:\\Backup', '\\\\files-a\\logship']);
    expect(sqlserverTargetPaths(snap.pair, { nonsense: true })).toEqual([]);
  });
});

describe('sqlserver.service-spn-rights-missing without a directory probe', () => {
  it('is hidden when the plan needs no directory action and no probe ran', () => {
    const snap = withFacts(sqlSnapshot(), { directory: undefined });
    expect(evaluateChecks([check('sqlserver.service-spn-rights-missing')], snap)).toEqual([]);
    const withName = withFacts(snap, { pair: { identity: { takeName: true } } });
    expect(evaluateChecks([check('sqlserver.service-spn-rights-missing')], withName)[0]!.status).toBe('unknown');
  });
});
