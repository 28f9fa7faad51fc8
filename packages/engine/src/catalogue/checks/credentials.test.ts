import { describe, expect, it } from 'vitest';
import { evaluateChecks } from '../evaluate.ts';
import { NOW, snapshotFixture } from '../fixtures.ts';
import type { VaultEntry } from '../snapshot.ts';
import { credentialsChecks } from './credentials.ts';
import { DAY_MS } from './failover-util.ts';
import { outcome, snap, unknownOutcome, type Case } from './failover-test-util.ts';

function assertCase(c: Case) {
  const o = outcome(credentialsChecks, c);
  expect(o.actual).toEqual(o.expected);
  c.expect.forEach((e, i) => e.also?.(o.findings[i]!));
}

const dnsEntry = snapshotFixture().vault[0]!;
const dir = (over: Partial<VaultEntry> = {}): VaultEntry => ({ id: 'dir-1', purpose: 'directory', kind: 'ad_account', expiresAt: null, lastTest: { at: NOW - 60_000, ok: true, error: null }, rights: ['write servicePrincipalName on OU=Servers'], ...over });
const withDir = (over: Partial<VaultEntry> = {}) => snap({ vault: [dnsEntry, dir(over)], pair: { credentials: [{ purpose: 'dns', credentialId: dnsEntry.id }, { purpose: 'directory', credentialId: 'dir-1' }] } });

const cases: Case[] = [
  { id: 'credentials.missing', name: 'every needed credential stored', snap: withDir(), expect: [] },
  { id: 'credentials.missing', name: 'directory credential never stored', snap: snap({ pair: { credentials: [{ purpose: 'dns', credentialId: dnsEntry.id }, { purpose: 'directory', credentialId: null }] } }), expect: [{ subject: 'credential=directory', status: 'error-manual', guidance: /vault/ }] },
  { id: 'credentials.missing', name: 'named credential deleted from the vault', snap: snap({ vault: [] }), expect: [{ subject: 'credential=dns', status: 'error-manual' }] },
  { id: 'credentials.test-failed', name: 'tests pass', snap: withDir(), expect: [] },
  { id: 'credentials.test-failed', name: 'a failed DNS test is left to dns.provider-not-authorized', snap: snap({ vault: [{ ...dnsEntry, lastTest: { at: NOW, ok: false, error: 'BADKEY' } }] }), expect: [] },
  { id: 'credentials.test-failed', name: 'directory credential rejected', snap: withDir({ lastTest: { at: NOW, ok: false, error: 'LDAP 49: invalid credentials' } }), expect: [{ subject: 'credential=directory:dir-1', status: 'error-manual', also: (f) => expect(f.message).toContain('invalid credentials') }] },
  { id: 'credentials.expiring', name: 'expires in 60 days', snap: withDir({ expiresAt: NOW + 60 * DAY_MS }), expect: [] },
  { id: 'credentials.expiring', name: 'expires in 10 days', snap: withDir({ expiresAt: NOW + 10 * DAY_MS }), expect: [{ subject: 'credential=directory:dir-1', status: 'warning-manual', also: (f) => expect(f.message).toContain('10 day') }] },
  { id: 'credentials.expiring', name: 'already expired', snap: withDir({ expiresAt: NOW - DAY_MS }), expect: [{ subject: 'credential=directory:dir-1', status: 'warning-manual', also: (f) => expect(f.message).toContain('has expired') }] },
  { id: 'credentials.over-privileged', name: 'scoped rights', snap: withDir(), expect: [] },
  { id: 'credentials.over-privileged', name: 'a domain administrator for DNS', snap: snap({ vault: [{ ...dnsEntry, kind: 'ad_account', rights: ['Domain Admins', 'update corp.example.com'] }] }), expect: [{ subject: `credential=dns:${dnsEntry.id}`, status: 'warning-manual', also: (f) => expect(f.evidence.rights).toEqual(['Domain Admins']) }] },
];

describe('credentials checks', () => {
  it('covers every credentials check with a good and a firing case', () => {
    for (const c of credentialsChecks) {
      expect(cases.some((k) => k.id === c.id && k.expect.length === 0), `${c.id} good`).toBe(true);
      expect(cases.some((k) => k.id === c.id && k.expect.length > 0), `${c.id} fires`).toBe(true);
    }
    expect(credentialsChecks).toHaveLength(4);
  });

  it.each(cases.map((c) => [`${c.id}: ${c.name}`, c] as const))('%s', (_name, c) => assertCase(c));

  it('the healthy fixture is all good', () => {
    const results = evaluateChecks(credentialsChecks, snapshotFixture());
    expect(results.map((r) => r.status)).toEqual(['good', 'good', 'good', 'good']);
  });

  it('a missing fact makes the check unknown', () => {
    expect(unknownOutcome(credentialsChecks, 'credentials.expiring', snap({ vault: undefined }))).toEqual([{ status: 'unknown', gate: null, reason: true }]);
  });
});
