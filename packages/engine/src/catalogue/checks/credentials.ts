import type { CheckDef } from '../model.ts';
import type { VaultEntry } from '../snapshot.ts';
import { DAY_MS } from './failover-util.ts';

// The `credentials` family (catalogue §4.10): the vault entries the pair's runbooks use (DNS,
// directory, cluster, network, application, farm) exist, pass their test, are not about to
// expire, and hold no more than they need. Metadata only; secrets never reach the engine.

const base = { family: 'credentials', scope: ['pair'] as CheckDef['scope'], appliesTo: ['any'] as CheckDef['appliesTo'] };
const subject = (v: VaultEntry) => `credential=${v.purpose}:${v.id}`;
/** Rights far beyond any runbook's need: directory-wide administrators, account-wide cloud keys. */
const broad = [/\b(domain|enterprise|schema) admins\b/i, /^(builtin\\)?administrators$/i, /administratoraccess/i, /^\*$|"\*"|\*:\*/, /account-wide|whole account|root account/i, /genericall on (the )?domain/i, /^owner$/i];

export const credentialsChecks: CheckDef[] = [
  {
    ...base,
    id: 'credentials.missing',
    title: 'Credential missing',
    detects: 'A credential the pair’s runbooks need (DNS, directory, cluster, network or cloud, application, SharePoint farm) is not in the vault.',
    severity: 'error',
    facts: ['P', 'V'],
    evaluate: (ctx) =>
      ctx.snap.pair.credentials
        .filter((c) => !c.credentialId || !ctx.snap.vault.some((v) => v.id === c.credentialId))
        .map((c) => ({ subject: `credential=${c.purpose}`, message: c.credentialId ? `The ${c.purpose} credential the pair names is no longer in the vault.` : `The pair needs a ${c.purpose} credential, and none is stored.`, evidence: { purpose: c.purpose, credentialId: c.credentialId } })),
    fix: { kind: 'manual', guidance: 'Add the credential to the vault for this pair, then run its test.' },
  },
  {
    ...base,
    id: 'credentials.test-failed',
    title: 'Credential test failed',
    detects: 'The test run during validation failed for a stored credential other than DNS (DNS credentials are judged by dns.provider-not-authorized).',
    severity: 'error',
    facts: ['V'],
    evaluate: (ctx) =>
      ctx.snap.vault
        .filter((v) => v.purpose !== 'dns' && v.lastTest?.ok === false)
        .map((v) => ({ subject: subject(v), message: `The ${v.purpose} credential (${v.kind}) failed its test: ${v.lastTest!.error ?? 'no reason given'}.`, evidence: { purpose: v.purpose, kind: v.kind, error: v.lastTest!.error } })),
    fix: { kind: 'manual', guidance: 'Correct the credential (secret, account, permissions) in the vault and test it again.' },
  },
  {
    ...base,
    id: 'credentials.expiring',
    title: 'Credential about to expire',
    detects: 'A stored credential expires within the tenant’s warning period (14 days by default): a password reaching its maximum age, a token or key expiry, a certificate’s end date.',
    severity: 'warning',
    facts: ['V', 'X'],
    evaluate: (ctx) => {
      const days = ctx.snap.reference.policy.credentialExpiryDays;
      return ctx.snap.vault
        .filter((v) => v.expiresAt !== null && v.expiresAt - ctx.snap.now <= days * DAY_MS)
        .map((v) => {
          const left = Math.floor((v.expiresAt! - ctx.snap.now) / DAY_MS);
          return { subject: subject(v), message: left < 0 ? `The ${v.purpose} credential (${v.kind}) has expired.` : `The ${v.purpose} credential (${v.kind}) expires in ${left} day(s).`, evidence: { purpose: v.purpose, kind: v.kind, expiresAt: new Date(v.expiresAt!).toISOString(), warnDays: days } };
        });
    },
    fix: { kind: 'manual', guidance: 'Rotate the credential in the system that owns it (directory, DNS server, cloud account), then update it in the vault and test it.' },
  },
  {
    ...base,
    id: 'credentials.over-privileged',
    title: 'Credential holds far more than it needs',
    detects: 'Where its rights can be inspected, a stored credential holds far more than its runbook needs, such as a domain administrator used for DNS updates or an account-wide cloud key.',
    severity: 'warning',
    facts: ['V'],
    evaluate: (ctx) =>
      ctx.snap.vault.flatMap((v) => {
        const wide = v.rights.filter((r) => broad.some((re) => re.test(r)));
        return wide.length ? [{ subject: subject(v), message: `The ${v.purpose} credential (${v.kind}) holds ${wide.join(', ')}, far more than its runbook steps need.`, evidence: { purpose: v.purpose, kind: v.kind, rights: wide } }] : [];
      }),
    fix: { kind: 'manual', guidance: 'Replace it with a credential scoped to what the runbook does (for DNS: update rights on the source’s records in one zone; for the cloud: the address and record actions only).' },
  },
];
