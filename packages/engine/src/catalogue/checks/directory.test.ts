import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { snapshotFixture } from '../fixtures.ts';
import type { DirectoryFacts } from '../snapshot.ts';
import { directoryChecks } from './directory.ts';
import { needsDirectory } from './failover-util.ts';
import { outcome, snap, unknownOutcome, type Case } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(directoryChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

const spnRights = ['read servicePrincipalName', 'write servicePrincipalName', 'validated write servicePrincipalName'];
const directory = (over: Partial<DirectoryFacts> = {}): DirectoryFacts => ({
  reachable: true,
  error: null,
  domain: 'corp.example.com',
  singleLabel: false,
  forestRoot: 'corp.example.com',
  gcByDomain: { 'corp.example.com': true },
  rights: spnRights.map((right) => ({ principal: 'CORP\\FILES-B$', object: 'CN=FILES-A,OU=Servers,DC=corp,DC=example,DC=com', right, allowed: true })),
  exchangeOrg: null,
  keytabs: [
    { host: 'files-a.corp.example.com', principals: ['host/files-a.corp.example.com@CORP.EXAMPLE.COM', 'cifs/files-a.corp.example.com@CORP.EXAMPLE.COM'] },
    { host: 'files-b.corp.example.com', principals: ['host/files-b.corp.example.com@CORP.EXAMPLE.COM', 'host/files-a.corp.example.com@CORP.EXAMPLE.COM', 'cifs/files-a.corp.example.com@CORP.EXAMPLE.COM'] },
  ],
  passwordPolicy: { maxAgeDays: 90 },
  ...over,
});
/** A Windows file server moving its host SPN, with a reachable directory. */
const joined = (over: Partial<DirectoryFacts> = {}, patch: Parameters<typeof snap>[0] = {}) => snap({ pair: { identity: { hostSpn: true } }, directory: directory(over), ...patch });
const denied = directory().rights.map((r) => (r.right.startsWith('read') ? r : { ...r, allowed: false }));
const delegating = { id: 'dir-1', purpose: 'directory' as const, kind: 'ad_account', expiresAt: null, lastTest: null, rights: ['delegate servicePrincipalName rights on OU=Servers'] };

const cases: Case[] = [
  { id: 'directory.unreachable', name: 'bound to a DC', snap: joined(), expect: [] },
  { id: 'directory.unreachable', name: 'cannot bind', snap: joined({ reachable: false, error: 'LDAP bind: invalid credentials' }), expect: [{ subject: 'domain=corp.example.com', status: 'error-manual', also: (f) => expect(f.evidence).toMatchObject({ error: 'LDAP bind: invalid credentials', credentialStored: false }) }] },
  { id: 'directory.unreachable', name: 'the probe could not run', snap: snap({ pair: { identity: { hostSpn: true } }, directory: null, gatherers: { directory: { ok: false, error: 'no domain controller found (SRV _ldap._tcp.dc._msdcs)', ms: 900 } } }), expect: [{ subject: 'domain=unknown', status: 'error-manual' }] },
  { id: 'directory.single-label-domain', name: 'dotted domain', snap: joined(), expect: [] },
  { id: 'directory.single-label-domain', name: 'single-label domain', snap: joined({ domain: 'CORP', singleLabel: true }), expect: [{ subject: 'domain=CORP', status: 'error-manual' }] },
  { id: 'directory.spn-write-denied', name: 'rights held', snap: joined(), expect: [] },
  {
    id: 'directory.spn-write-denied',
    name: 'denied, the credential may not delegate',
    snap: joined({ rights: denied }),
    expect: [{ subject: 'object=CN=FILES-A,OU=Servers,DC=corp,DC=example,DC=com', status: 'error-manual', guidance: /write servicePrincipalName/ }],
  },
  {
    id: 'directory.spn-write-denied',
    name: 'denied, a delegating credential: a privileged grant',
    snap: joined({ rights: denied }, { vault: [...snapshotFixture().vault, delegating] }),
    expect: [
      {
        subject: 'object=CN=FILES-A,OU=Servers,DC=corp,DC=example,DC=com',
        status: 'error-fixable',
        plan: ['directory.grant'],
        also: (f) => {
          expect(f.privileged).toBe(true);
          expect(f.phase).toBe(4);
          expect(f.plan![0]).toMatchObject({ principal: 'CORP\\FILES-B$', rights: ['write servicePrincipalName', 'validated write servicePrincipalName'] });
        },
      },
    ],
  },
  { id: 'directory.keytab-missing', name: 'target keytab holds the source’s keys', snap: joined(), expect: [] },
  {
    id: 'directory.keytab-missing',
    name: 'target keytab lacks cifs/ for the source name',
    snap: joined({ keytabs: [directory().keytabs[0]!, { host: 'files-b.corp.example.com', principals: ['host/files-b.corp.example.com@CORP.EXAMPLE.COM', 'host/files-a.corp.example.com@CORP.EXAMPLE.COM'] }] }),
    expect: [{ subject: 'principal=cifs/files-a.corp.example.com@CORP.EXAMPLE.COM', side: 'target', status: 'warning-manual' }],
  },
];

describe('directory checks', () => {
  it('covers every directory check with a good and a firing case', () => {
    for (const c of directoryChecks) {
      expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(directoryChecks).toHaveLength(4);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('is hidden when the plan needs no directory actions (the healthy fixture)', () => {
    expect(needsDirectory(snapshotFixture())).toBe(false);
    expect(evaluateChecks(directoryChecks, snapshotFixture())).toEqual([]);
    expect(needsDirectory(snap({ pair: { app: 'exchange' } }))).toBe(true);
    expect(needsDirectory(snap({ pair: { dns: { provider: 'windows' } } }))).toBe(true);
  });

  it('SPN rights matter only when SPNs move', () => {
    const s = snap({ pair: { credentials: [{ purpose: 'directory', credentialId: 'dir-1' }] }, directory: directory({ rights: denied }) });
    expect(evaluateChecks(directoryChecks.filter((c) => c.id === 'directory.spn-write-denied'), s).map((r) => r.status)).toEqual(['good']);
  });

  it('a missing fact makes the check unknown', () => {
    expect(unknownOutcome(directoryChecks, 'directory.single-label-domain', snap({ pair: { identity: { hostSpn: true } } }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
  });

  it('an unreachable directory makes the dependants unknown, linked to the gate', () => {
    const results = evaluateChecks(directoryChecks, joined({ reachable: false, error: 'timeout' }));
    expect(results.find((r) => r.checkId === 'directory.unreachable')?.status).toBe('error-manual');
    for (const id of ['directory.single-label-domain', 'directory.spn-write-denied', 'directory.keytab-missing']) {
      const r = results.find((x) => x.checkId === id);
      expect(r, id).toMatchObject({ status: 'unknown', unknown: { gate: 'directory.unreachable' } });
      expect(r?.unknown?.reason).toMatch(/could not bind: timeout/);
    }
  });
});
